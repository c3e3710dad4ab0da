/** What the gateway does to every request before moleculer-web routes it or reads its body. */
import { Readable } from "node:stream";
import type { IncomingMessage, ServerResponse } from "node:http";
import { gzipSync } from "node:zlib";
import { prepareRequest, type PreparedRequest } from "../../lib/platform/http";
import { decompressedJsonBodies } from "../../lib/platform/encoded-body";
import { currentRequestId } from "../../lib/platform/logging";

const request = (method: string, headers: Record<string, string> = {}, encrypted = false) =>
	({ method, headers: { ...headers }, socket: { encrypted, remoteAddress: "127.0.0.1" } }) as unknown as PreparedRequest;
const response = () => {
	const headers = new Map<string, string>();
	return { headers, setHeader: (name: string, value: string) => headers.set(name.toLowerCase(), value) } as unknown as ServerResponse & {
		headers: Map<string, string>;
	};
};

describe("every request is prepared before anything can fail", () => {
	it("keeps a caller's well-formed request id and answers with it", () => {
		const req = request("GET", { "x-request-id": "trace-abc.123" });
		const res = response();
		expect(prepareRequest(req, res, { trustProxy: false })).toBe("trace-abc.123");
		expect(req.$requestId).toBe("trace-abc.123");
		expect(res.headers.get("x-request-id")).toBe("trace-abc.123");
	});

	it("replaces a malformed request id with a new one", () => {
		const req = request("GET", { "x-request-id": "bad id with spaces" });
		const res = response();
		const id = prepareRequest(req, res, { trustProxy: false });
		expect(id).toMatch(/^[0-9a-f-]{36}$/);
		expect(req.headers["x-request-id"]).toBe(id);
		expect(res.headers.get("x-request-id")).toBe(id);
	});

	it("sends the security headers, and HSTS only over HTTPS", () => {
		const plain = response();
		prepareRequest(request("GET"), plain, { trustProxy: false });
		expect(plain.headers.get("x-content-type-options")).toBe("nosniff");
		expect(plain.headers.get("content-security-policy")).toContain("default-src 'none'");
		expect(plain.headers.has("strict-transport-security")).toBe(false);
		const secure = response();
		const req = request("GET", {}, true);
		prepareRequest(req, secure, { trustProxy: false });
		expect(req.$secure).toBe(true);
		expect(secure.headers.get("strict-transport-security")).toMatch(/max-age/);
	});

	it("logs what follows under the request id", async () => {
		const id = prepareRequest(request("GET", { "x-request-id": "scope-1" }), response(), { trustProxy: false });
		await Promise.resolve();
		expect(currentRequestId()).toBe(id);
	});

	it("a change never takes parameters from the query string; a read does", () => {
		const post = request("POST");
		prepareRequest(post, response(), { trustProxy: false });
		expect(post.query).toEqual({});
		const get = request("GET");
		prepareRequest(get, response(), { trustProxy: false });
		expect(get.query).toBeUndefined();
	});
});

describe("compressed edge bodies are read before the JSON parser", () => {
	const middleware = decompressedJsonBodies({ maxBytes: 10_000, maxDecodedBytes: 100 });
	const upload = (url: string, body: Buffer, headers: Record<string, string>) =>
		Object.assign(Readable.from([body]), { url: "/relative", originalUrl: url, headers }) as unknown as IncomingMessage & { body?: unknown; _body?: boolean };
	const run = (req: IncomingMessage) => new Promise<unknown>((resolve) => middleware(req, response(), resolve));
	const gzip = { "content-type": "application/json", "content-encoding": "gzip" };

	it("decodes a gzip body on an ingest route and marks it read", async () => {
		const req = upload("/api/v1/ingest/events", gzipSync(Buffer.from('{"events":[]}')), gzip);
		expect(await run(req)).toBeUndefined();
		expect(req.body).toEqual({ events: [] });
		expect(req._body).toBe(true);
	});

	it("passes other routes and uncompressed bodies to the JSON parser untouched", async () => {
		for (const req of [
			upload("/api/v1/auth/login", gzipSync(Buffer.from("{}")), gzip),
			upload("/api/v1/ingest/events", Buffer.from("{}"), { "content-type": "application/json", "content-encoding": "identity" }),
		]) {
			expect(await run(req)).toBeUndefined();
			expect(req._body).toBeUndefined();
			expect(req.readableEnded).toBe(false);
		}
	});

	it("hands a refusal to the next step: past the decompressed limit is 413", async () => {
		const bomb = upload("/api/v1/ingest/events", gzipSync(Buffer.from(`{"x":"${"a".repeat(1000)}"}`)), gzip);
		expect(await run(bomb)).toMatchObject({ code: 413, type: "PAYLOAD_TOO_LARGE", data: { limit: 100 } });
	});
});
