/**
 * Parameter validation (fastest-validator), registered by us instead of by the broker so that it runs
 * *inside* the permission check: an anonymous or foreign caller learns 401/404, never which fields are wrong.
 * (Moleculer places user middlewares innermost, so the built-in validator would run first.)
 *
 * After fastest-validator accepts the parameters, one more pass rejects what it lets through but the database
 * cannot store: NUL characters and unpaired surrogates in strings, null where the schema does not say
 * `nullable: true` (fastest-validator's `optional: true` accepts null), numbers a PostgreSQL `real` cannot hold
 * and dates outside the years 1..9999. Every action gets this from its schema alone.
 */
import { Validators, type Middleware, type ServiceBroker } from "moleculer";

/** One finding, shaped like fastest-validator's own so the gateway maps both alike. */
export interface ParamIssue {
	type: string;
	field: string;
	message: string;
	actual?: unknown;
}

type Rule = Record<string, unknown> & { type?: string };
type Checker = ((params: unknown, options?: unknown) => true | ParamIssue[] | Promise<true | ParamIssue[]>) & { async?: boolean };

/** Smallest normal and largest finite float4: a non-zero score of 1e-71 underflows a `real` column. */
const FLOAT4_MIN = 1.1754943508222875e-38;
const FLOAT4_MAX = 3.4028234663852886e38;
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** `"uuid|optional"` and `[ruleA, ruleB]` read as rule objects. */
function normalize(rule: unknown): Rule {
	if (Array.isArray(rule)) return { type: "multi", rules: rule };
	if (typeof rule === "string") {
		const [type, ...flags] = rule.split("|").map((s) => s.trim());
		return Object.fromEntries([["type", type], ...flags.map((f) => [f.split(":")[0], f.includes(":") ? f.split(":")[1] : true])]);
	}
	return (rule ?? {}) as Rule;
}

/** The string problems of any value, at any depth (object keys included). */
function stringIssues(value: unknown, field: string, out: ParamIssue[]): void {
	if (typeof value === "string") {
		if (value.includes("\u0000")) out.push({ type: "stringNul", field, message: `The '${field}' field must not contain NUL characters.` });
		else if (UNPAIRED_SURROGATE.test(value))
			out.push({ type: "stringSurrogate", field, message: `The '${field}' field must be valid Unicode (no unpaired surrogates).` });
	} else if (Array.isArray(value)) value.forEach((v, i) => stringIssues(v, `${field}[${i}]`, out));
	else if (value !== null && typeof value === "object" && !(value instanceof Date)) {
		for (const [key, v] of Object.entries(value)) {
			stringIssues(key, `${field}.<key>`, out);
			stringIssues(v, `${field}.${key}`, out);
		}
	}
}

function ruleIssues(value: unknown, raw: unknown, field: string, out: ParamIssue[]): void {
	if (value === undefined) return;
	const rule = normalize(raw);
	if (value === null) {
		if (rule.nullable !== true) out.push({ type: "nullable", field, message: `The '${field}' field must not be null; leave it out instead.` });
		return;
	}
	switch (rule.type) {
		// Left to the action, which checks each item on its own (an edge batch rejects only its bad events).
		case "any":
			return;
		case "number":
			if (typeof value !== "number") return;
			if (rule.integer ? !Number.isSafeInteger(value) : value !== 0 && !(Math.abs(value) >= FLOAT4_MIN && Math.abs(value) <= FLOAT4_MAX))
				out.push({
					type: "numberRange",
					field,
					actual: value,
					message: rule.integer
						? `The '${field}' field must be an integer within ±${Number.MAX_SAFE_INTEGER}.`
						: `The '${field}' field must be 0 or between ${FLOAT4_MIN} and ${FLOAT4_MAX} in magnitude.`,
				});
			return;
		case "date":
			if (value instanceof Date && !(value.getUTCFullYear() >= 1 && value.getUTCFullYear() <= 9999))
				out.push({ type: "dateRange", field, actual: value, message: `The '${field}' field must be a date between the years 1 and 9999.` });
			return;
		case "array":
			if (Array.isArray(value) && rule.items !== undefined) value.forEach((v, i) => ruleIssues(v, rule.items, `${field}[${i}]`, out));
			else stringIssues(value, field, out);
			return;
		case "object": {
			const props = (rule.props ?? rule.properties) as Record<string, unknown> | undefined;
			if (props && value !== null && typeof value === "object") objectIssues(value as Record<string, unknown>, props, `${field}.`, out);
			else stringIssues(value, field, out);
			return;
		}
		default:
			stringIssues(value, field, out);
	}
}

function objectIssues(value: Record<string, unknown>, schema: Record<string, unknown>, prefix: string, out: ParamIssue[]): void {
	for (const [name, rule] of Object.entries(schema)) if (!name.startsWith("$$")) ruleIssues(value[name], rule, prefix + name, out);
	// Without `$$strict: "remove"` unknown fields reach the action too: their strings are checked alike.
	if (schema.$$strict !== "remove") for (const [name, v] of Object.entries(value)) if (!(name in schema)) stringIssues(v, prefix + name, out);
}

/** What fastest-validator accepted but PostgreSQL would refuse, for parameters already checked (and converted). */
export function storageIssues(params: unknown, schema: Record<string, unknown>): ParamIssue[] {
	const out: ParamIssue[] = [];
	if (params !== null && typeof params === "object") objectIssues(params as Record<string, unknown>, schema, "", out);
	return out;
}

type FastestInstance = InstanceType<typeof Validators.Fastest> & { compile(schema: object): Checker };
const Fastest = Validators.Fastest as unknown as new (options: object) => FastestInstance;

/** fastest-validator with the storage checks after it; also used where an action checks items on its own. */
export class VigilValidator extends Fastest {
	constructor() {
		// New-style custom checkers: `custom(value, errors)` (see services/schemas.ts).
		super({ useNewCustomCheckerFunction: true });
	}

	override compile(schema: Record<string, unknown>): Checker {
		const check = super.compile(schema) as Checker;
		// The checker converts the parameters in place (dates, numbers), so the storage checks read the result.
		const finish = (params: unknown, result: true | ParamIssue[]) => {
			if (result !== true) return result;
			const issues = storageIssues(params, schema);
			return issues.length ? issues : true;
		};
		const wrapped: Checker = (params, options) => {
			const result = check(params, options);
			return check.async ? (result as Promise<true | ParamIssue[]>).then((r) => finish(params, r)) : finish(params, result as true | ParamIssue[]);
		};
		wrapped.async = check.async;
		return wrapped;
	}
}

/** Moleculer accepts a middleware factory called with the broker; its typings only know objects. */
export const ValidatorMiddleware = function createValidator(broker: ServiceBroker): Middleware {
	const validator = new VigilValidator();
	validator.init(broker);
	return (validator.middleware as unknown as (b: ServiceBroker) => Middleware)(broker);
} as unknown as Middleware;
