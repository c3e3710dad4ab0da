/**
 * A browser sends the session cookie with cross-site requests too: state changes it authenticates must come
 * from Vigil's own origin, and never take their parameters from the query string. (With CORS_ORIGINS set,
 * moleculer-web's CORS check also answers other origins; the dashboard origin is tested in gateway.test.ts.)
 */
import { startCluster, type Cluster } from "../support/cluster";
import { Client, PASSWORD, signUp, type RequestOptions } from "../support/http";

const EVIL = "https://evil.example.net";
/** What a hostile page's auto-submitted form would send: everything in the query, the cookie attached by the browser. */
const SMUGGLED = "name=pwned&kind=webhook&config%5Burl%5D=http%3A%2F%2F127.0.0.1%3A9%2Fhook";

let cluster: Cluster;
let api: Client;
let browser: Client;
let token: string;
let channels: string;

beforeAll(async () => {
	// Private webhook targets allowed, so a smuggled loopback URL would be accepted if the parameters got through.
	cluster = await startCluster({ NOTIFY_ALLOW_PRIVATE_URLS: "true" });
	api = new Client(cluster.url);
	const owner = await signUp(api, "csrf-owner");
	token = owner.token;
	const org = await api.post("/api/v1/orgs", { name: "Cookie Shop" }, { token });
	channels = `/api/v1/orgs/${org.body.id}/notification-channels`;
	browser = new Client(cluster.url, true);
	expect((await browser.post("/api/v1/auth/login", { email: owner.email, password: PASSWORD })).status).toBe(200);
});
afterAll(() => cluster?.stop());

const formPost = (client: Client, path: string, headers: Record<string, string>, options: RequestOptions = {}) =>
	client.request("POST", path, { raw: "", ...options, headers: { "content-type": "text/plain", ...headers } });
const channelNames = async () => (await api.get(channels, { token })).body.items.map((c: { name: string }) => c.name);

describe("cookie-authenticated changes from another site", () => {
	it("a cross-site form post with the victim's cookie is refused with 403 CSRF_REJECTED and creates nothing", async () => {
		const res = await formPost(browser, `${channels}?${SMUGGLED}`, { origin: EVIL, "sec-fetch-site": "cross-site" });
		expect(res.status).toBe(403);
		expect(res.body.error.code).toBe("CSRF_REJECTED");
		const opaque = await formPost(browser, `${channels}?${SMUGGLED}`, { origin: "null" });
		expect(opaque.body.error.code).toBe("CSRF_REJECTED");
		// Barrier: a legitimate change made afterwards is visible, the forged one is not.
		expect(
			(await browser.post(channels, { name: "legit", kind: "webhook", config: { url: "http://127.0.0.1:9/legit" } }, { headers: { origin: cluster.url } }))
				.status,
		).toBe(201);
		expect(await channelNames()).toEqual(["legit"]);
	});

	it("cross-site fetch metadata without an Origin is refused too", async () => {
		const res = await browser.post("/api/v1/orgs", { name: "Forged" }, { headers: { "sec-fetch-site": "cross-site" } });
		expect(res.status).toBe(403);
		expect(res.body.error.code).toBe("CSRF_REJECTED");
		expect((await browser.post("/api/v1/orgs", { name: "Sibling" }, { headers: { "sec-fetch-site": "same-site" } })).status).toBe(403);
	});

	it("signing out and refreshing with cookies from another site are refused", async () => {
		expect((await browser.post("/api/v1/auth/refresh", {}, { headers: { origin: EVIL } })).body.error.code).toBe("CSRF_REJECTED");
		expect((await browser.post("/api/v1/auth/logout", {}, { headers: { origin: EVIL } })).status).toBe(403);
		expect((await browser.get("/api/v1/auth/me")).status).toBe(200);
	});

	it("reads are not refused (CORS keeps their answers from other sites)", async () => {
		expect((await browser.get("/api/v1/auth/me", { headers: { origin: EVIL, "sec-fetch-site": "cross-site" } })).status).toBe(200);
	});
});

describe("what still works", () => {
	it("the same origin and same-origin fetch metadata", async () => {
		expect((await browser.post("/api/v1/orgs", { name: "Same origin" }, { headers: { origin: cluster.url, "sec-fetch-site": "same-origin" } })).status).toBe(
			201,
		);
		expect((await browser.post("/api/v1/orgs", { name: "Fetch metadata" }, { headers: { "sec-fetch-site": "same-origin" } })).status).toBe(201);
	});

	it("a non-browser client with a cookie jar (no Origin, no Sec-Fetch-Site)", async () => {
		expect((await browser.post("/api/v1/orgs", { name: "curl -b jar" })).status).toBe(201);
	});

	it("Bearer clients, whatever Origin they send", async () => {
		expect((await api.post("/api/v1/orgs", { name: "Bearer" }, { token, headers: { origin: EVIL } })).status).toBe(201);
	});
});

describe("the query string never fills a change's parameters", () => {
	it("a POST whose parameters are only in the query string creates nothing, even for a trusted caller", async () => {
		const before = await channelNames();
		const res = await formPost(api, `${channels}?${SMUGGLED}`, {}, { token });
		expect(res.status).toBe(422);
		expect(await channelNames()).toEqual(before);
	});

	it("the query string cannot override a field of the body", async () => {
		const res = await api.post(`/api/v1/orgs?name=${encodeURIComponent("From the query")}`, { name: "From the body" }, { token });
		expect(res.status).toBe(201);
		expect(res.body.name).toBe("From the body");
	});

	it("GET still reads its query string", async () => {
		const res = await api.get(`${channels}?unknown=1`, { token });
		expect(res.status).toBe(200);
	});
});
