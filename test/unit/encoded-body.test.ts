import { Readable } from "node:stream";
import type { IncomingMessage } from "node:http";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { readEncodedJson } from "../../lib/platform/encoded-body";

const request = (body: Buffer, headers: Record<string, string>) => Object.assign(Readable.from([body]), { headers }) as unknown as IncomingMessage;
const json = { "content-type": "application/json" };
const limits = { maxBytes: 10_000, maxDecodedBytes: 100_000 };
const failure = (p: Promise<unknown>) =>
	p.then(
		() => null,
		(err: { code: number; type: string }) => [err.code, err.type],
	);

describe("compressed JSON bodies", () => {
	const payload = { events: [{ id: "e1" }] };

	it.each([
		["gzip", gzipSync],
		["br", brotliCompressSync],
	])("reads %s", async (encoding, compress) => {
		expect(await readEncodedJson(request(compress(Buffer.from(JSON.stringify(payload))), { ...json, "content-encoding": encoding }), limits)).toEqual(payload);
	});

	it("stops a zip bomb at the decompressed limit: 413", async () => {
		const bomb = gzipSync(Buffer.from(`{"x":"${"a".repeat(1_000_000)}"}`));
		expect(bomb.length).toBeLessThan(limits.maxBytes);
		expect(await failure(readEncodedJson(request(bomb, { ...json, "content-encoding": "gzip" }), limits))).toEqual([413, "PAYLOAD_TOO_LARGE"]);
	});

	it.each([
		["corrupt data", Buffer.from("not gzip at all"), { ...json, "content-encoding": "gzip" }, [400, "MALFORMED_ENCODING"]],
		["an unknown encoding", Buffer.from("{}"), { ...json, "content-encoding": "compress" }, [415, "UNSUPPORTED_ENCODING"]],
		["a body that is not JSON", brotliCompressSync(Buffer.from("hello")), { ...json, "content-encoding": "br" }, [400, "MALFORMED_JSON"]],
		["a body that is not a JSON object", brotliCompressSync(Buffer.from("42")), { ...json, "content-encoding": "br" }, [400, "MALFORMED_JSON"]],
		["another content type", gzipSync(Buffer.from("{}")), { "content-type": "text/plain", "content-encoding": "gzip" }, [415, "UNSUPPORTED_MEDIA_TYPE"]],
		["too many bytes on the wire", Buffer.alloc(20_000), { ...json, "content-encoding": "gzip" }, [413, "PAYLOAD_TOO_LARGE"]],
	])("refuses %s", async (_what, body, headers, expected) => {
		expect(await failure(readEncodedJson(request(body, headers), limits))).toEqual(expected);
	});
});
