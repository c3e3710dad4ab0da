import { buildOpenApi, ruleToSchema } from "../../lib/platform/openapi";

describe("OpenAPI from validation schemas", () => {
	it("maps fastest-validator rules to JSON schema faithfully", () => {
		expect(ruleToSchema({ type: "number", min: 0.1, max: 30 })).toEqual({ type: "number", minimum: 0.1, maximum: 30 });
		expect(ruleToSchema({ type: "number", integer: true, min: 1 })).toEqual({ type: "integer", minimum: 1 });
		expect(ruleToSchema({ type: "string", min: 1, max: 10, pattern: /^a+$/ })).toEqual({ type: "string", minLength: 1, maxLength: 10, pattern: "^a+$" });
		expect(ruleToSchema({ type: "array", items: { type: "array", length: 2, items: { type: "number", min: 0, max: 1 } } })).toEqual({
			type: "array",
			items: { type: "array", minItems: 2, maxItems: 2, items: { type: "number", minimum: 0, maximum: 1 } },
		});
		expect(ruleToSchema({ type: "enum", values: ["a", "b"], default: "a" })).toEqual({ type: "string", enum: ["a", "b"], default: "a" });
		expect(ruleToSchema("string|optional")).toEqual({ type: "string" });
		expect(ruleToSchema({ type: "uuid", nullable: true, $$t: "Id" })).toEqual({ type: "string", format: "uuid", nullable: true, description: "Id" });
	});

	it("puts path parameters in the path, GET params in the query and others in the body", () => {
		const doc = buildOpenApi(
			[
				{
					method: "GET",
					path: "/api/v1/orgs/:orgId/things",
					action: "thing.list",
					params: { orgId: { type: "uuid" }, limit: { type: "number", optional: true } },
					permission: { scope: "org" },
				},
				{
					method: "POST",
					path: "/api/v1/orgs/:orgId/things",
					action: "thing.create",
					params: { orgId: { type: "uuid" }, name: { type: "string" } },
					permission: { scope: "org" },
					openapi: { responses: { 201: "Thing" } },
				},
			],
			{ title: "t", version: "1" },
		) as any;
		const list = doc.paths["/api/v1/orgs/{orgId}/things"].get;
		expect(list.parameters).toEqual([
			{ name: "orgId", in: "path", required: true, schema: { type: "string", format: "uuid" } },
			{ name: "limit", in: "query", required: false, schema: { type: "number" } },
		]);
		const create = doc.paths["/api/v1/orgs/{orgId}/things"].post;
		expect(doc.components.schemas["thing.create.body"]).toEqual({ type: "object", properties: { name: { type: "string" } }, required: ["name"] });
		expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(["201", "401", "403", "404", "422"]));
	});
});
