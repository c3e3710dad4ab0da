/**
 * The gateway serves the built dashboard at `/` next to the API. Builds nothing itself: a tiny stand-in for
 * dashboard/dist is written to a temporary folder and DASHBOARD_DIR points at it.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCluster, type Cluster } from "../support/cluster";
import { Client, PASSWORD, signUp } from "../support/http";

const PARTNER = "https://partner.example.com";
const INDEX = '<!doctype html><html><head><script type="module" src="/assets/app-abc123.js"></script></head><body><div id="app"></div></body></html>';
const SCRIPT = "document.getElementById('app').textContent = 'Vigil';";

let cluster: Cluster;
let api: Client;
let folder: string;
let dist: string;

beforeAll(async () => {
	folder = mkdtempSync(join(tmpdir(), "vigil-dashboard-"));
	dist = join(folder, "dist");
	mkdirSync(join(dist, "assets"), { recursive: true });
	writeFileSync(join(dist, "index.html"), INDEX);
	writeFileSync(join(dist, "assets", "app-abc123.js"), SCRIPT);
	writeFileSync(join(dist, "assets", "app-abc123.css"), "body { margin: 0 }");
	writeFileSync(join(dist, "favicon.svg"), '<svg xmlns="http://www.w3.org/2000/svg"/>');
	// Next to the dashboard's folder, where only a path escaping it could reach.
	writeFileSync(join(folder, "secret.txt"), "not for browsers");
	cluster = await startCluster({ DASHBOARD_DIR: dist, CORS_ORIGINS: PARTNER });
	api = new Client(cluster.url);
});
afterAll(async () => {
	await cluster?.stop();
	rmSync(folder, { recursive: true, force: true });
});

/** A request with its path sent exactly as written (fetch would normalize `..` away before sending). */
function rawRequest(
	method: string,
	path: string,
	headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
	const { hostname, port } = new URL(cluster.url);
	return new Promise((resolve, reject) => {
		const req = request({ host: hostname, port, method, path, headers }, (res) => {
			let body = "";
			res.setEncoding("utf8");
			res.on("data", (chunk) => (body += chunk));
			res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
		});
		req.on("error", reject);
		req.end();
	});
}

describe("the dashboard page", () => {
	it("/ answers index.html, never cached without revalidation, under a policy that allows no inline script", async () => {
		const res = await fetch(`${cluster.url}/`);
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
		expect(res.headers.get("cache-control")).toBe("no-cache");
		const csp = res.headers.get("content-security-policy") ?? "";
		expect(csp).toContain("script-src 'self'");
		expect(csp).toContain("default-src 'self'");
		expect(csp).toContain("frame-ancestors 'none'");
		expect(csp).not.toContain("unsafe-inline");
		expect(res.headers.get("x-content-type-options")).toBe("nosniff");
		expect(res.headers.get("x-request-id")).toBeTruthy();
		expect(await res.text()).toBe(INDEX);
	});

	it("the page's own routes (a reload on /stores/...) answer index.html too", async () => {
		for (const path of ["/stores/0b8f0f3e-6a7e-4c55-9d7c-3c1f0c1a2b3c/cameras", "/sign-in", "/alerts/"]) {
			const res = await fetch(cluster.url + path);
			expect(res.status).toBe(200);
			expect(res.headers.get("cache-control")).toBe("no-cache");
			expect(await res.text()).toBe(INDEX);
		}
	});

	it("a browser's copy is revalidated with its ETag: 304 while the build is the same", async () => {
		const first = await fetch(`${cluster.url}/`);
		const etag = first.headers.get("etag") as string;
		expect(etag).toBeTruthy();
		expect((await fetch(`${cluster.url}/`, { headers: { "if-none-match": etag } })).status).toBe(304);
	});

	it("HEAD answers the headers without a body", async () => {
		const page = await rawRequest("HEAD", "/");
		expect(page.status).toBe(200);
		expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
		expect(page.headers["content-length"]).toBe(String(Buffer.byteLength(INDEX)));
		expect(page.body).toBe("");
		const script = await rawRequest("HEAD", "/assets/app-abc123.js");
		expect(script.status).toBe(200);
		expect(script.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
		expect(script.body).toBe("");
	});
});

describe("built files", () => {
	it("hashed files under /assets/ are cached for a year, immutably, with their content type", async () => {
		const script = await fetch(`${cluster.url}/assets/app-abc123.js`);
		expect(script.status).toBe(200);
		expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
		expect(script.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
		expect(await script.text()).toBe(SCRIPT);
		const style = await fetch(`${cluster.url}/assets/app-abc123.css`);
		expect(style.headers.get("content-type")).toBe("text/css; charset=utf-8");
	});

	it("unhashed files beside index.html are revalidated", async () => {
		const icon = await fetch(`${cluster.url}/favicon.svg`);
		expect(icon.status).toBe(200);
		expect(icon.headers.get("content-type")).toBe("image/svg+xml");
		expect(icon.headers.get("cache-control")).toBe("no-cache");
	});

	it("a missing file is a JSON 404, not the page", async () => {
		for (const path of ["/assets/app-000000.js", "/favicon.ico", "/assets/nothing"]) {
			const res = await api.get(path);
			expect(res.status).toBe(404);
			expect(res.headers.get("content-type")).toContain("application/json");
			expect(res.body.error.code).toBe("ROUTE_NOT_FOUND");
		}
	});

	it("no path leaves the dashboard's folder", async () => {
		for (const path of [
			"/../secret.txt",
			"/assets/../../secret.txt",
			"/assets/..%2f..%2fsecret.txt",
			"/%2e%2e/secret.txt",
			"/assets/%2e%2e%5c%2e%2e%5csecret.txt",
			"/assets/app-abc123.js%00.html",
			"/.%2e/secret.txt",
		]) {
			const res = await rawRequest("GET", path);
			expect([400, 404]).toContain(res.status);
			expect(res.body).not.toContain("not for browsers");
		}
	});
});

describe("the API and the gateway's other pages are unchanged", () => {
	it("unknown API paths stay JSON 404s, whatever the method", async () => {
		for (const path of ["/api/v1/nothing-here", "/api/v2/orgs", "/api", "/docs/nothing/here"]) {
			const res = await api.get(path);
			expect(res.status).toBe(404);
			expect(res.body.error.code).toBe("ROUTE_NOT_FOUND");
		}
		expect((await api.post("/", {})).status).toBe(404);
		expect((await api.post("/stores/x", {})).status).toBe(404);
	});

	it("/healthz, /readyz, /metrics, /openapi.json and /docs answer as before", async () => {
		expect((await api.get("/healthz")).body).toEqual({ status: "ok" });
		expect((await api.get("/readyz")).status).toBe(200);
		expect((await api.get("/openapi.json")).body.openapi).toBe("3.0.3");
		const metrics = await fetch(`${cluster.url}/metrics`);
		expect(metrics.status).toBe(200);
		expect(await metrics.text()).toContain("# HELP");
		const docs = await fetch(`${cluster.url}/docs`);
		expect(docs.headers.get("content-security-policy")).toContain("'unsafe-inline'");
		expect(await docs.text()).toContain("swagger-ui");
		expect((await api.get("/api/v1/orgs")).body.error.code).toBe("UNAUTHORIZED");
	});
});

describe("with CORS_ORIGINS set", () => {
	it("the dashboard's own writes (Origin of this gateway) are allowed next to the listed origins", async () => {
		const { email } = await signUp(api, "own-origin");
		const browser = new Client(cluster.url, true);
		const signIn = await browser.post(
			"/api/v1/auth/login",
			{ email, password: PASSWORD },
			{ headers: { origin: cluster.url, "sec-fetch-site": "same-origin" } },
		);
		expect(signIn.status).toBe(200);
		const own = await browser.post("/api/v1/orgs", { name: "Own origin" }, { headers: { origin: cluster.url, "sec-fetch-site": "same-origin" } });
		expect(own.status).toBe(201);
		const listed = await browser.post("/api/v1/orgs", { name: "Partner" }, { headers: { origin: PARTNER, "sec-fetch-site": "cross-site" } });
		expect(listed.status).toBe(201);
		expect(listed.headers.get("access-control-allow-origin")).toBe(PARTNER);
		const other = await browser.post("/api/v1/orgs", { name: "Forged" }, { headers: { origin: "https://evil.example.net", "sec-fetch-site": "cross-site" } });
		expect(other.status).toBe(403);
		// Same port, another host name: not this gateway's origin.
		const lookalike = await browser.post("/api/v1/orgs", { name: "Lookalike" }, { headers: { origin: cluster.url.replace("127.0.0.1", "localhost") } });
		expect(lookalike.status).toBe(403);
		const names = (await browser.get("/api/v1/orgs")).body.items.map((o: { name: string }) => o.name).sort();
		expect(names).toEqual(["Own origin", "Partner"]);
	});

	it("the page's module scripts (fetched with an Origin) load from its own origin", async () => {
		const res = await fetch(`${cluster.url}/assets/app-abc123.js`, { headers: { origin: cluster.url } });
		expect(res.status).toBe(200);
	});
});

describe("without a build", () => {
	it("/ says the dashboard is not built and how to build it: a page for browsers, JSON for programs", async () => {
		renameSync(join(dist, "index.html"), join(dist, "index.html.away"));
		try {
			const json = await api.get("/");
			expect(json.status).toBe(503);
			expect(json.body.error.code).toBe("DASHBOARD_NOT_BUILT");
			expect(json.body.error.message).toContain("npm run build");
			const page = await fetch(`${cluster.url}/stores/x`, { headers: { accept: "text/html,application/xhtml+xml" } });
			expect(page.status).toBe(503);
			expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
			expect(await page.text()).toContain("npm run build");
			expect((await api.get("/healthz")).status).toBe(200);
		} finally {
			renameSync(join(dist, "index.html.away"), join(dist, "index.html"));
		}
		expect((await fetch(`${cluster.url}/`)).status).toBe(200);
	});
});
