/**
 * One error type per meaning. Each carries an HTTP status (as Moleculer's numeric `code`), a machine-readable
 * code (as `type`) and optional details (as `data`); the gateway maps them once to `{ error: {...} }`.
 * They survive the NATS transporter because only code, type and data are read.
 */
import { Errors } from "moleculer";

export class VigilError extends Errors.MoleculerClientError {
	constructor(message: string, status: number, code: string, details?: unknown) {
		super(message, status, code, details);
	}
}

export const notFound = (what: string) => new VigilError(`${what} not found`, 404, "NOT_FOUND");
export const unauthorized = (message = "Authentication required", code = "UNAUTHORIZED") => new VigilError(message, 401, code);
export const forbidden = (message = "You do not have permission to do this") => new VigilError(message, 403, "FORBIDDEN");
export const conflict = (message: string, code = "CONFLICT") => new VigilError(message, 409, code);
export const tooManyRequests = (message: string, retryAfterSeconds: number) =>
	new VigilError(message, 429, "RATE_LIMITED", { retryAfter: Math.max(1, Math.ceil(retryAfterSeconds)) });
/** A well-formed request whose content breaks a rule; details are `[{ field, message, type }]`. */
export const invalid = (message: string, details: { field: string; message: string; type?: string }[] = []) =>
	new VigilError(message, 422, "VALIDATION_FAILED", details);
