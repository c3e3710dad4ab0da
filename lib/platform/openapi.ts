/**
 * Builds the OpenAPI 3.0.3 document from the same fastest-validator schemas that validate requests, plus each
 * action's declared `permission` (security) and `openapi` (summary, responses). No broker in here.
 *
 * Why not moleculer-auto-openapi: it writes numeric min/max as minLength/maxLength, drops `integer`, types
 * nested arrays (zone points) as strings, and cannot derive per-route security from our permission declarations.
 */
import type { Permission } from "./types";

type Schema = Record<string, unknown>;
type Rule = string | Schema | Schema[];

export interface RouteInfo {
	method: string;
	/** Full path with `:param` segments, e.g. /api/v1/orgs/:orgId */
	path: string;
	action: string;
	params?: Record<string, Rule>;
	permission?: Permission;
	/** A streamed upload: the body is the file (raw video/mp4 or multipart), not JSON. */
	upload?: boolean;
	/**
	 * `responses` name a body per status; `schemas` describe those names (JSON Schema), so a body whose figures
	 * need explaining is documented where it is built. A name without a schema is a plain object.
	 */
	openapi?: { summary?: string; description?: string; responses?: Record<string, string | null>; schemas?: Record<string, Schema> };
}

const ERROR_SCHEMA = {
	type: "object",
	required: ["error"],
	properties: {
		error: {
			type: "object",
			required: ["code", "message"],
			properties: {
				code: { type: "string", description: "Machine-readable code, e.g. VALIDATION_FAILED, NOT_FOUND" },
				message: { type: "string" },
				details: { description: "For VALIDATION_FAILED: [{ field, type, message }]" },
				requestId: { type: "string" },
			},
		},
	},
};

const ERROR_RESPONSES: Record<string, string> = {
	400: "Malformed request (e.g. invalid JSON)",
	401: "Not signed in, or the token is expired, revoked or invalid",
	403: "Signed in, but the role does not allow this",
	404: "Not found, or not visible to the caller",
	409: "Conflicts with the current state",
	413: "Request body too large",
	422: "Parameters failed validation; details list each field",
	415: "Unsupported media type (not an MP4 video)",
	429: "Too many attempts; see Retry-After",
	503: "Temporarily unavailable (e.g. the detection backlog is full); see Retry-After",
};

/** fastest-validator rule -> OpenAPI 3.0 schema object. */
export function ruleToSchema(rule: Rule): Schema {
	if (Array.isArray(rule)) return { oneOf: rule.map(ruleToSchema) };
	if (typeof rule === "string") return ruleToSchema(parseShorthand(rule));
	const r = rule as Schema & { type?: string };
	const out: Schema = {};
	switch (r.type) {
		case "string":
			out.type = "string";
			if (typeof r.min === "number") out.minLength = r.min;
			if (typeof r.max === "number") out.maxLength = r.max;
			if (typeof r.length === "number") out.minLength = out.maxLength = r.length;
			if (r.pattern) out.pattern = r.pattern instanceof RegExp ? r.pattern.source : String(r.pattern);
			if (Array.isArray(r.enum)) out.enum = r.enum;
			break;
		case "email":
			Object.assign(out, { type: "string", format: "email" }, typeof r.max === "number" && { maxLength: r.max });
			break;
		case "uuid":
			Object.assign(out, { type: "string", format: "uuid" });
			break;
		case "url":
			Object.assign(out, { type: "string", format: "uri" });
			break;
		case "date":
			Object.assign(out, { type: "string", format: "date-time" });
			break;
		case "number":
			out.type = r.integer ? "integer" : "number";
			if (typeof r.min === "number") out.minimum = r.min;
			if (typeof r.max === "number") out.maximum = r.max;
			if (r.positive) Object.assign(out, { minimum: 0, exclusiveMinimum: true });
			break;
		case "boolean":
			out.type = "boolean";
			break;
		case "enum":
			Object.assign(out, { type: "string", enum: r.values });
			break;
		case "array":
			out.type = "array";
			out.items = r.items ? ruleToSchema(r.items as Rule) : {};
			if (typeof r.min === "number") out.minItems = r.min;
			if (typeof r.max === "number") out.maxItems = r.max;
			if (typeof r.length === "number") out.minItems = out.maxItems = r.length;
			if (r.unique) out.uniqueItems = true;
			break;
		case "object":
			Object.assign(out, objectSchema((r.props ?? r.properties ?? {}) as Record<string, Rule>));
			break;
		case "multi":
			return { oneOf: ((r.rules ?? []) as Rule[]).map(ruleToSchema) };
		default:
			break;
	}
	if (r.$$t) out.description = r.$$t;
	if (r.default !== undefined && typeof r.default !== "function") out.default = r.default;
	if (r.nullable) out.nullable = true;
	return out;
}

const isOptional = (rule: Rule): boolean =>
	typeof rule === "string" ? parseShorthand(rule).optional === true : !Array.isArray(rule) && (rule.optional === true || rule.default !== undefined);

function objectSchema(props: Record<string, Rule>): Schema {
	const properties: Record<string, Schema> = {};
	const required: string[] = [];
	for (const [name, rule] of Object.entries(props)) {
		if (name.startsWith("$$")) continue;
		properties[name] = ruleToSchema(rule);
		if (!isOptional(rule)) required.push(name);
	}
	return { type: "object", properties, ...(required.length && { required }) };
}

function parseShorthand(text: string): Schema {
	const [type, ...flags] = text.split("|").map((s) => s.trim());
	const rule: Schema = { type };
	for (const flag of flags) {
		const [key, value] = flag.split(":");
		rule[key] = value === undefined ? true : Number.isNaN(Number(value)) ? value : Number(value);
	}
	return rule;
}

const pathParams = (path: string) => [...path.matchAll(/:(\w+)/g)].map((m) => m[1]);

export function buildOpenApi(routes: RouteInfo[], info: { title: string; version: string; description?: string }): Schema {
	const paths: Record<string, Record<string, Schema>> = {};
	const schemas: Record<string, Schema> = { Error: ERROR_SCHEMA, Object: { type: "object", additionalProperties: true } };
	const tags = new Set<string>();

	for (const route of [...routes].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method))) {
		const method = route.method.toLowerCase();
		const openapiPath = route.path.replace(/:(\w+)/g, "{$1}");
		const params = route.params ?? {};
		const inPath = pathParams(route.path);
		const tag = route.action.split(".")[0];
		tags.add(tag);

		const parameters: Schema[] = inPath.map((name) => ({
			name,
			in: "path",
			required: true,
			schema: params[name] ? ruleToSchema(params[name]) : { type: "string" },
		}));
		const rest = Object.fromEntries(Object.entries(params).filter(([name]) => !name.startsWith("$$") && !inPath.includes(name)));
		const operation: Schema = {
			operationId: route.action,
			tags: [tag],
			summary: route.openapi?.summary ?? route.action,
			...(route.openapi?.description && { description: route.openapi.description }),
			parameters,
		};
		if (route.upload) {
			operation.requestBody = {
				required: true,
				content: {
					"video/mp4": { schema: { type: "string", format: "binary" } },
					"multipart/form-data": { schema: { type: "object", required: ["file"], properties: { file: { type: "string", format: "binary" } } } },
				},
			};
		} else if (method === "get" || method === "delete") {
			for (const [name, rule] of Object.entries(rest)) parameters.push({ name, in: "query", required: !isOptional(rule), schema: ruleToSchema(rule) });
		} else if (Object.keys(rest).length) {
			const schemaName = `${route.action}.body`;
			schemas[schemaName] = objectSchema(rest);
			operation.requestBody = { required: true, content: { "application/json": { schema: { $ref: `#/components/schemas/${schemaName}` } } } };
		}

		const scope = route.permission?.scope ?? "public";
		operation.security = scope === "public" ? [] : [{ bearerAuth: [] }, { cookieAuth: [] }];
		Object.assign(schemas, route.openapi?.schemas);
		operation.responses = responsesFor(route, scope, Object.keys(rest).length > 0 || inPath.length > 0);
		(paths[openapiPath] ??= {})[method] = operation;
	}

	return {
		openapi: "3.0.3",
		info,
		servers: [{ url: "/" }],
		tags: [...tags].sort().map((name) => ({ name })),
		paths,
		components: {
			schemas,
			responses: Object.fromEntries(
				Object.entries(ERROR_RESPONSES).map(([status, description]) => [
					`Error${status}`,
					{ description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
				]),
			),
			securitySchemes: {
				bearerAuth: {
					type: "http",
					scheme: "bearer",
					bearerFormat: "JWT",
					description: "Access token from /api/v1/auth/login, or a store service token (vst_...)",
				},
				cookieAuth: { type: "apiKey", in: "cookie", name: "vigil_access", description: "httpOnly cookie set by /api/v1/auth/login" },
			},
		},
	};
}

function responsesFor(route: RouteInfo, scope: string, hasParams: boolean): Schema {
	const responses: Schema = {};
	const declared = route.openapi?.responses ?? { 200: "Object" };
	for (const [status, name] of Object.entries(declared)) {
		responses[status] =
			name === null
				? { description: "No content" }
				: name.includes("/")
					? // A media type (image/jpeg, video/mp4): the body is the file.
						{ description: name, content: { [name]: { schema: { type: "string", format: "binary" } } } }
					: {
							description: name,
							content: { "application/json": { schema: { $ref: `#/components/schemas/${route.openapi?.schemas?.[name] ? name : "Object"}` } } },
						};
	}
	const errors = ["400", "413"];
	if (hasParams) errors.push("422");
	if (scope !== "public") errors.push("401", "403");
	if (scope === "org" || scope === "store" || route.path.includes(":")) errors.push("404");
	if (["post", "patch", "put"].includes(route.method.toLowerCase())) errors.push("409");
	if (route.action === "auth.login") errors.push("429");
	if (route.upload) errors.push("415", "503");
	for (const status of errors) responses[status] = { $ref: `#/components/responses/Error${status}` };
	return responses;
}
