/** HTTP details the gateway needs: cookies, client address, and the one mapping from errors to responses. */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { requestScope } from "./logging";
import type { CookieToSet } from "./types";

export function parseCookies(header: string | undefined): Record<string, string> {
	const out: Record<string, string> = {};
	for (const part of (header ?? "").split(";")) {
		const eq = part.indexOf("=");
		if (eq < 1) continue;
		const name = part.slice(0, eq).trim();
		const raw = part.slice(eq + 1).trim();
		try {
			out[name] = decodeURIComponent(raw);
		} catch {
			out[name] = raw;
		}
	}
	return out;
}

export function serializeCookie(cookie: CookieToSet, secure: boolean): string {
	const parts = [`${cookie.name}=${encodeURIComponent(cookie.value)}`, `Path=${cookie.path}`, `Max-Age=${cookie.maxAge}`, "HttpOnly", "SameSite=Lax"];
	if (cookie.maxAge === 0) parts.push("Expires=Thu, 01 Jan 1970 00:00:00 GMT");
	if (secure) parts.push("Secure");
	return parts.join("; ");
}

export function isSecureRequest(req: IncomingMessage, trustProxy: boolean): boolean {
	if ((req.socket as { encrypted?: boolean }).encrypted) return true;
	return (
		trustProxy &&
		String(req.headers["x-forwarded-proto"] ?? "")
			.split(",")[0]
			.trim() === "https"
	);
}

export function clientIp(req: IncomingMessage, trustProxy: boolean): string | undefined {
	if (trustProxy) {
		const forwarded = String(req.headers["x-forwarded-for"] ?? "")
			.split(",")[0]
			.trim();
		if (forwarded) return forwarded;
	}
	return req.socket.remoteAddress ?? undefined;
}

/** Methods a browser may send cross-site without asking; they must not change anything. */
export const isSafeMethod = (method: string | undefined) => method === "GET" || method === "HEAD" || method === "OPTIONS";

/**
 * Cross-site request forgery check for a state-changing request that a cookie authenticates. Allowed: an
 * Origin of this host (the Host header) or one of CORS_ORIGINS; without Origin, a Sec-Fetch-Site of
 * same-origin or none. With neither header the caller is not a browser (browsers send Origin on every
 * cross-site POST, PUT, PATCH and DELETE) — curl with a cookie jar, say — and it is allowed. Returns why a request
 * is refused, or undefined.
 */
export function crossSiteRefusal(req: IncomingMessage, allowedOrigins: readonly string[]): string | undefined {
	const origin = req.headers.origin;
	if (origin !== undefined) {
		if (allowedOrigins.includes(origin)) return undefined;
		let host: string | undefined;
		try {
			host = new URL(origin).host;
		} catch {
			return "The Origin header is not a valid origin";
		}
		return host && host === req.headers.host ? undefined : `Requests from ${origin} may not use this session`;
	}
	const site = req.headers["sec-fetch-site"];
	if (site === undefined || site === "same-origin" || site === "none") return undefined;
	return `A ${String(site)} request may not use this session`;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** A caller's X-Request-Id is kept if it is a sane token, so traces line up across systems. */
export const acceptableRequestId = (value: unknown): value is string => typeof value === "string" && REQUEST_ID.test(value);

/** What the gateway notes on a request before anything else reads it. */
export interface PreparedRequest extends IncomingMessage {
	$startedAt?: bigint;
	$requestId?: string;
	$secure?: boolean;
	query?: object;
}

/**
 * First step of every request, before routing and body parsing can fail (a 413, malformed JSON): its request id,
 * security headers and logging scope, so every answer carries them. Returns the request id.
 */
export function prepareRequest(req: PreparedRequest, res: ServerResponse, options: { trustProxy: boolean }): string {
	req.$startedAt = process.hrtime.bigint();
	const requestId = acceptableRequestId(req.headers["x-request-id"]) ? req.headers["x-request-id"] : randomUUID();
	req.$requestId = requestId;
	// Whatever reads the header later sees the vetted id, not the caller's.
	req.headers["x-request-id"] = requestId;
	req.$secure = isSecureRequest(req, options.trustProxy);
	res.setHeader("X-Request-Id", requestId);
	for (const [name, value] of Object.entries(API_SECURITY_HEADERS)) res.setHeader(name, value);
	if (req.$secure) res.setHeader("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
	// What follows in this request's asynchronous flow (routing, body parsing, the call) logs under its id.
	requestScope.enterWith({ requestId });
	// moleculer-web merges the query string over the body: a cross-site form could then smuggle
	// body parameters (`?kind=webhook&config[url]=...`) into a POST. Only safe methods read the query.
	if (!isSafeMethod(req.method)) req.query = {};
	return requestId;
}

export interface ErrorResponse {
	status: number;
	body: { error: { code: string; message: string; details?: unknown; requestId?: string } };
	headers: Record<string, string>;
}

interface AnyError {
	name?: string;
	message?: string;
	code?: unknown;
	type?: unknown;
	data?: unknown;
	status?: unknown;
	statusCode?: unknown;
	limit?: unknown;
}

/** Every error the gateway can meet, as one JSON shape: `{ error: { code, message, details } }`. */
export function toErrorResponse(err: AnyError, context: { requestId?: string; bodyLimit?: number } = {}): ErrorResponse {
	const { requestId } = context;
	const headers: Record<string, string> = {};
	const respond = (status: number, code: string, message: string, details?: unknown): ErrorResponse => ({
		status,
		headers,
		body: { error: { code, message, ...(details !== undefined && details !== null && { details }), ...(requestId && { requestId }) } },
	});

	// body-parser (before any action runs)
	if (typeof err.type === "string" && err.type.startsWith("entity.")) {
		if (err.type === "entity.too.large") return respond(413, "PAYLOAD_TOO_LARGE", "The request body is too large", { limit: err.limit ?? context.bodyLimit });
		if (err.type === "entity.parse.failed") return respond(400, "MALFORMED_JSON", "The request body is not valid JSON");
		if (err.type === "entity.verify.failed") return respond(400, "BAD_REQUEST", "The request body was rejected");
	}
	if (err.type === "encoding.unsupported" || err.type === "charset.unsupported")
		return respond(415, "UNSUPPORTED_ENCODING", err.message ?? "Unsupported content encoding");

	if (err.type === "VALIDATION_ERROR" && Array.isArray(err.data)) {
		const details = (err.data as { field?: string; type?: string; message?: string }[]).map((d) => ({ field: d.field, type: d.type, message: d.message }));
		return respond(422, "VALIDATION_FAILED", "Some parameters are not valid", details);
	}
	if (err.type === "NOT_FOUND" && err.name === "NotFoundError") return respond(404, "ROUTE_NOT_FOUND", "No such route");
	if (err.name === "ServiceNotFoundError") return respond(404, "ROUTE_NOT_FOUND", "No such route");
	if (err.name === "ServiceNotAvailableError" || err.name === "RequestTimeoutError" || err.name === "RequestRejectedError")
		return respond(503, "SERVICE_UNAVAILABLE", "A service needed for this request is unavailable; try again shortly");

	const status = typeof err.code === "number" ? err.code : Number(err.status ?? err.statusCode);
	const retryAfter = (err.data as { retryAfter?: number } | undefined)?.retryAfter;
	if ((status === 429 || status === 503) && retryAfter) headers["Retry-After"] = String(retryAfter);
	// A range past the end of a file: the answer says how long the file is.
	const size = (err.data as { size?: number } | undefined)?.size;
	if (status === 416 && typeof size === "number") headers["Content-Range"] = `bytes */${size}`;
	if (status >= 400 && status < 500) {
		const code = typeof err.type === "string" && err.type ? err.type : defaultCode(status);
		return respond(status, code, err.message ?? defaultCode(status), err.data);
	}
	if (status === 503) return respond(503, typeof err.type === "string" ? err.type : "SERVICE_UNAVAILABLE", err.message ?? "Unavailable", err.data);
	return respond(500, "INTERNAL", "Something went wrong on our side; the request id helps us find it");
}

function defaultCode(status: number): string {
	return (
		{
			400: "BAD_REQUEST",
			401: "UNAUTHORIZED",
			403: "FORBIDDEN",
			404: "NOT_FOUND",
			405: "METHOD_NOT_ALLOWED",
			409: "CONFLICT",
			413: "PAYLOAD_TOO_LARGE",
			415: "UNSUPPORTED_MEDIA_TYPE",
			416: "RANGE_NOT_SATISFIABLE",
			422: "VALIDATION_FAILED",
			429: "RATE_LIMITED",
		}[status] ?? "BAD_REQUEST"
	);
}

/** Sent on every response. The API returns JSON only, so the policy forbids everything a page could load. */
export const API_SECURITY_HEADERS: Record<string, string> = {
	"X-Content-Type-Options": "nosniff",
	"X-Frame-Options": "DENY",
	"Referrer-Policy": "no-referrer",
	"Cross-Origin-Opener-Policy": "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
	"Permissions-Policy": "camera=(), microphone=(), geolocation=()",
	"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
};

/** Swagger UI needs its own scripts, styles and images from this origin. */
export const DOCS_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";
