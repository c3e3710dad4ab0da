import SwaggerParser from "@apidevtools/swagger-parser";
import { startCluster, type Cluster } from "../support/cluster";
import { Client, PASSWORD, signUp } from "../support/http";

let cluster: Cluster;
let api: Client;

beforeAll(async () => {
	cluster = await startCluster({ MAX_JSON_BODY: "2048", CORS_ORIGINS: "https://dashboard.example.com" });
	api = new Client(cluster.url);
});
afterAll(() => cluster?.stop());

describe("errors have one shape and the right status", () => {
	it("422 with per-field details", async () => {
		const res = await api.post("/api/v1/auth/register", { email: "nope", password: 12 });
		expect(res.status).toBe(422);
		expect(res.body.error).toMatchObject({ code: "VALIDATION_FAILED", message: expect.any(String) });
		expect(res.body.error.details).toEqual(
			expect.arrayContaining([expect.objectContaining({ field: "email", type: "email" }), expect.objectContaining({ field: "password", type: "string" })]),
		);
	});

	it("400 for malformed JSON, with security headers and a request id", async () => {
		const res = await api.request("POST", "/api/v1/auth/login", { raw: "{not json", headers: { "content-type": "application/json" } });
		expect(res.status).toBe(400);
		expect(res.body.error.code).toBe("MALFORMED_JSON");
		expect(res.body.error.requestId).toBe(res.headers.get("x-request-id"));
		expect(res.headers.get("x-content-type-options")).toBe("nosniff");
	});

	it("413 for a body over the limit, and nothing is created", async () => {
		const res = await api.post("/api/v1/auth/register", { email: "big@example.com", password: "x".repeat(5000) });
		expect(res.status).toBe(413);
		expect(res.body.error).toMatchObject({ code: "PAYLOAD_TOO_LARGE", details: { limit: 2048 } });
		expect((await api.post("/api/v1/auth/login", { email: "big@example.com", password: "whatever-long-enough" })).status).toBe(401);
	});

	it("404 for an unknown route, 401 without credentials", async () => {
		const missing = await api.get("/api/v1/nothing-here");
		expect(missing.status).toBe(404);
		expect(missing.body.error.code).toBe("ROUTE_NOT_FOUND");
		const anonymous = await api.get("/api/v1/orgs");
		expect(anonymous.status).toBe(401);
		expect(anonymous.body.error.code).toBe("UNAUTHORIZED");
	});

	it("unknown fields are dropped, not stored", async () => {
		const { token } = await signUp(api, "strict");
		const res = await api.post("/api/v1/orgs", { name: "Strict", isSuperAdmin: true, id: "00000000-0000-4000-8000-000000000000" }, { token });
		expect(res.status).toBe(201);
		expect(res.body.id).not.toBe("00000000-0000-4000-8000-000000000000");
	});
});

describe("request ids", () => {
	it("echoes a caller's X-Request-Id and generates one otherwise", async () => {
		const mine = await api.get("/healthz", { headers: { "x-request-id": "trace-abc.123" } });
		expect(mine.headers.get("x-request-id")).toBe("trace-abc.123");
		const generated = await api.get("/healthz");
		expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
		const hostile = await api.get("/healthz", { headers: { "x-request-id": "bad id with spaces" } });
		expect(hostile.headers.get("x-request-id")).not.toBe("bad id with spaces");
	});

	it("errors carry the request id in the body too", async () => {
		const res = await api.get("/api/v1/orgs", { headers: { "x-request-id": "err-trace-1" } });
		expect(res.body.error.requestId).toBe("err-trace-1");
	});
});

describe("browser safety", () => {
	it("sends security headers on API responses", async () => {
		const res = await api.get("/healthz");
		expect(res.headers.get("x-frame-options")).toBe("DENY");
		expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
		expect(res.headers.get("referrer-policy")).toBe("no-referrer");
	});

	it("CORS: an allowed origin may call with credentials, another origin gets no grant", async () => {
		const allowed = await api.request("OPTIONS", "/api/v1/auth/login", {
			headers: { origin: "https://dashboard.example.com", "access-control-request-method": "POST" },
		});
		expect(allowed.headers.get("access-control-allow-origin")).toBe("https://dashboard.example.com");
		expect(allowed.headers.get("access-control-allow-credentials")).toBe("true");
		const other = await api.request("OPTIONS", "/api/v1/auth/login", {
			headers: { origin: "https://evil.example.net", "access-control-request-method": "POST" },
		});
		expect(other.headers.get("access-control-allow-origin")).toBeNull();
	});

	it("a cookie-authenticated change from the allowed dashboard origin works; from another site it is refused", async () => {
		const { email } = await signUp(api, "dashboard");
		const browser = new Client(cluster.url, true);
		expect((await browser.post("/api/v1/auth/login", { email, password: PASSWORD })).status).toBe(200);
		const fromDashboard = await browser.post(
			"/api/v1/orgs",
			{ name: "From the dashboard" },
			{ headers: { origin: "https://dashboard.example.com", "sec-fetch-site": "cross-site" } },
		);
		expect(fromDashboard.status).toBe(201);
		const forged = await browser.post("/api/v1/orgs", { name: "Forged" }, { headers: { origin: "https://evil.example.net", "sec-fetch-site": "cross-site" } });
		expect(forged.status).toBe(403);
		const mine = await browser.get("/api/v1/orgs");
		expect(mine.body.items.map((o: { name: string }) => o.name)).toEqual(["From the dashboard"]);
	});
});

describe("health, metrics and documentation", () => {
	it("/healthz and /readyz report ok with every dependency checked", async () => {
		expect((await api.get("/healthz")).body).toEqual({ status: "ok" });
		const ready = await api.get("/readyz");
		expect(ready.status).toBe(200);
		expect(ready.body.checks).toMatchObject({ auth: "ok", tenancy: "ok", camera: "ok" });
	});

	it("/metrics exposes request counters in Prometheus format", async () => {
		await api.get("/healthz");
		const res = await api.get("/metrics");
		expect(res.status).toBe(200);
		expect(res.body).toContain("vigil_http_requests_total");
		expect(res.body).toMatch(/vigil_http_request_duration_seconds_bucket\{[^}]*route="\/healthz"/);
	});

	it("/openapi.json is a valid OpenAPI document listing every route with its parameters", async () => {
		const doc = (await api.get("/openapi.json")).body;
		await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeTruthy();
		const createCamera = doc.paths["/api/v1/orgs/{orgId}/stores/{storeId}/cameras"].post;
		expect(createCamera.parameters.map((p: { name: string }) => p.name)).toEqual(["orgId", "storeId"]);
		const body = doc.components.schemas[createCamera.requestBody.content["application/json"].schema.$ref.split("/").pop()];
		expect(body.required).toEqual(["name"]);
		expect(body.properties.sampleFps).toMatchObject({ type: "number", minimum: 0.1, maximum: 30 });
		expect(createCamera.security).toEqual([{ bearerAuth: [] }, { cookieAuth: [] }]);
		expect(doc.paths["/api/v1/auth/login"].post.security).toEqual([]);
		const zoneBody = doc.components.schemas["camera.createZone.body"];
		expect(zoneBody.properties.points.items).toMatchObject({ type: "array", minItems: 2, maxItems: 2, items: { type: "number", minimum: 0, maximum: 1 } });
		expect(doc.components.securitySchemes.cookieAuth).toMatchObject({ type: "apiKey", in: "cookie", name: "vigil_access" });
	});

	it("/docs serves Swagger UI from the package, not a CDN", async () => {
		const page = await api.get("/docs");
		expect(page.status).toBe(200);
		expect(page.body).toContain("/docs/swagger-ui-bundle.js");
		expect(page.body).not.toMatch(/https?:\/\//);
		const bundle = await fetch(`${cluster.url}/docs/swagger-ui-bundle.js`);
		expect(bundle.status).toBe(200);
		expect((await api.get("/docs/..%2Fpackage.json")).status).toBe(404);
	});
});
