import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
	CACHE_IMMUTABLE,
	CACHE_REVALIDATE,
	contentType,
	DASHBOARD_CSP,
	dashboardTarget,
	type DashboardOutcome,
	projectDashboardDir,
	serveDashboard,
} from "../../lib/platform/static-files";

describe("which file a path means", () => {
	it("/ and the page's own routes are the page (index.html)", () => {
		for (const path of ["/", "/stores", "/stores/3f2a/cameras", "/alerts/", "/sign-in"]) expect(dashboardTarget(path)).toEqual({ kind: "page" });
	});

	it("hashed files under assets/ are cached for ever, other files revalidated", () => {
		expect(dashboardTarget("/assets/index-B3x9Qz.js")).toEqual({ kind: "file", relative: "assets/index-B3x9Qz.js", cacheControl: CACHE_IMMUTABLE });
		expect(dashboardTarget("/assets/fonts/inter-1a2b.woff2")).toMatchObject({ relative: "assets/fonts/inter-1a2b.woff2", cacheControl: CACHE_IMMUTABLE });
		expect(dashboardTarget("/favicon.svg")).toEqual({ kind: "file", relative: "favicon.svg", cacheControl: CACHE_REVALIDATE });
		expect(dashboardTarget("/assets/no-extension")).toMatchObject({ kind: "file" });
		expect(CACHE_IMMUTABLE).toBe("public, max-age=31536000, immutable");
		expect(CACHE_REVALIDATE).toBe("no-cache");
	});

	it("percent-encoded names are decoded", () => {
		expect(dashboardTarget("/assets/logo%20dark-1a2b.svg")).toMatchObject({ relative: "assets/logo dark-1a2b.svg" });
	});

	it("paths of the gateway's own routes are never the dashboard's", () => {
		for (const path of ["/api", "/api/v1/nothing", "/docs/x/y", "/healthz/x", "/readyz/", "/metrics/x", "/openapi.json/x"])
			expect(dashboardTarget(path)).toEqual({ kind: "none" });
	});

	it("nothing can name a file outside the folder, a dotfile, or a mangled path", () => {
		for (const path of [
			"/../secret",
			"/assets/../../secret.txt",
			"/assets/..%2F..%2Fsecret.txt",
			"/%2e%2e/secret.txt",
			"/assets/%2e%2e%5csecret.txt",
			"/assets/a%5cb.js",
			"/assets/app.js%00.html",
			"/.env",
			"/assets/.hidden.js",
			"/assets//app.js",
			"/assets/%E0%A4%A.js",
		])
			expect(dashboardTarget(path)).toEqual({ kind: "none" });
	});
});

describe("content types", () => {
	it.each([
		["index.html", "text/html; charset=utf-8"],
		["assets/app-1a2b.js", "text/javascript; charset=utf-8"],
		["assets/app-1a2b.css", "text/css; charset=utf-8"],
		["assets/app-1a2b.js.map", "application/json; charset=utf-8"],
		["favicon.svg", "image/svg+xml"],
		["assets/logo-1a2b.PNG", "image/png"],
		["assets/inter-1a2b.woff2", "font/woff2"],
		["assets/model.bin", "application/octet-stream"],
	])("%s is %s", (file, type) => expect(contentType(file)).toBe(type));
});

describe("the page's content security policy", () => {
	it("allows nothing inline and nothing from other origins", () => {
		const directives = Object.fromEntries(
			DASHBOARD_CSP.split(";")
				.map((d) => d.trim().split(/\s+/) as [string, ...string[]])
				.map(([k, ...v]) => [k, v]),
		);
		expect(directives["default-src"]).toEqual(["'self'"]);
		expect(directives["script-src"]).toEqual(["'self'"]);
		expect(directives["style-src"]).toEqual(["'self'"]);
		expect(directives["connect-src"]).toEqual(["'self'"]);
		expect(directives["frame-ancestors"]).toEqual(["'none'"]);
		expect(directives["base-uri"]).toEqual(["'none'"]);
		expect(DASHBOARD_CSP).not.toMatch(/unsafe|https?:|\*/);
	});
});

describe("serving from a folder", () => {
	let folder: string;
	let dist: string;
	let server: Server;
	let url: string;
	let outcomes: DashboardOutcome[];

	beforeAll(async () => {
		folder = mkdtempSync(join(tmpdir(), "vigil-static-"));
		dist = join(folder, "dist");
		mkdirSync(join(dist, "assets"), { recursive: true });
		writeFileSync(join(dist, "index.html"), "<!doctype html><title>Vigil</title>");
		writeFileSync(join(dist, "assets", "app-1a2b.js"), "export {};");
		writeFileSync(join(folder, "secret.txt"), "outside");
		symlinkSync(join(folder, "secret.txt"), join(dist, "assets", "escape.js"));
		outcomes = [];
		server = createServer((req, res) => {
			serveDashboard(dist, req, res, (req.url ?? "/").split("?")[0]).then((outcome) => {
				outcomes.push(outcome);
				if (outcome !== "served") res.writeHead(outcome === "not-built" ? 503 : 404).end(outcome);
			});
		});
		await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
		url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});
	afterAll(async () => {
		await new Promise((resolve) => server.close(resolve));
		rmSync(folder, { recursive: true, force: true });
	});

	it("answers a file with its type, cache policy and length; HTML under the page's policy", async () => {
		const page = await fetch(`${url}/stores/1`);
		expect(page.status).toBe(200);
		expect(page.headers.get("content-security-policy")).toBe(DASHBOARD_CSP);
		expect(page.headers.get("cache-control")).toBe(CACHE_REVALIDATE);
		const script = await fetch(`${url}/assets/app-1a2b.js`);
		expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
		expect(script.headers.get("content-length")).toBe("10");
		expect(script.headers.get("content-security-policy")).toBeNull();
		expect(await script.text()).toBe("export {};");
	});

	it("a link that points outside the folder is not followed", async () => {
		const res = await fetch(`${url}/assets/escape.js`);
		expect(res.status).toBe(404);
		expect(await res.text()).not.toContain("outside");
	});

	it("writes nothing for other methods, missing files, or a folder without index.html", async () => {
		expect((await fetch(`${url}/`, { method: "POST" })).status).toBe(404);
		expect((await fetch(`${url}/assets/gone-0000.js`)).status).toBe(404);
		expect((await fetch(`${url}/assets`)).status).toBe(404);
		rmSync(join(dist, "index.html"));
		expect((await fetch(`${url}/`)).status).toBe(503);
		expect(outcomes.slice(-4)).toEqual(["not-found", "not-found", "not-found", "not-built"]);
	});
});

describe("where the dashboard is built", () => {
	it("the project's dashboard/dist, from sources and from dist/ alike", () => {
		expect(projectDashboardDir()).toBe(join(__dirname, "..", "..", "dashboard", "dist"));
	});
});
