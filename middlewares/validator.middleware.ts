/**
 * Parameter validation (fastest-validator), registered by us instead of by the broker so that it runs
 * *inside* the permission check: an anonymous or foreign caller learns 401/404, never which fields are wrong.
 * (Moleculer places user middlewares innermost, so the built-in validator would run first.)
 */
import { Validators, type Middleware, type ServiceBroker } from "moleculer";

/** Moleculer accepts a middleware factory called with the broker; its typings only know objects. */
export const ValidatorMiddleware = function createValidator(broker: ServiceBroker): Middleware {
	// New-style custom checkers: `custom(value, errors)` (see services/schemas.ts).
	const Fastest = Validators.Fastest as unknown as new (options: object) => InstanceType<typeof Validators.Fastest>;
	const validator = new Fastest({ useNewCustomCheckerFunction: true });
	validator.init(broker);
	return (validator.middleware as unknown as (b: ServiceBroker) => Middleware)(broker);
} as unknown as Middleware;
