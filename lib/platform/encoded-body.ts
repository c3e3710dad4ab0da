/**
 * JSON request bodies sent compressed (Content-Encoding gzip, deflate or br), for the routes that accept them:
 * read whole (at most `maxBytes` as sent), decompressed to at most `maxDecodedBytes` (a zip bomb stops there, 413),
 * then parsed. body-parser inflates gzip and deflate only, and not br.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { VigilError } from "./errors";

type Decoder = (data: Buffer, options: zlib.ZlibOptions | zlib.BrotliOptions) => Promise<Buffer>;
const DECODERS: Record<string, Decoder> = {
	gzip: promisify(zlib.gunzip),
	"x-gzip": promisify(zlib.gunzip),
	deflate: promisify(zlib.inflate),
	br: promisify(zlib.brotliDecompress),
};

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

/** Paths whose bodies the gateway decompresses itself (edge boxes send large batches compressed). */
export const DECOMPRESSED_ROUTES = /^\/api\/v1\/ingest\//;

export function contentEncoding(req: IncomingMessage): string {
	return String(req.headers["content-encoding"] ?? "")
		.trim()
		.toLowerCase();
}

/**
 * Route middleware, ahead of the JSON parser: a compressed body on DECOMPRESSED_ROUTES is read and parsed here,
 * within its limits, and marked as read (`_body`), so the JSON parser leaves it alone; any other request passes.
 */
export function decompressedJsonBodies(limits: { maxBytes: number; maxDecodedBytes: number }) {
	return (req: IncomingMessage & { originalUrl?: string }, _res: ServerResponse, next: (err?: unknown) => void): void => {
		const encoding = contentEncoding(req);
		// moleculer-web has made `url` relative to the route by now; `originalUrl` is the path as sent.
		if (!encoding || encoding === "identity" || !DECOMPRESSED_ROUTES.test(req.originalUrl ?? req.url ?? "")) return next();
		readEncodedJson(req, limits).then((body) => {
			Object.assign(req, { body, _body: true });
			next();
		}, next);
	};
}

export async function readEncodedJson(req: IncomingMessage, limits: { maxBytes: number; maxDecodedBytes: number }): Promise<object> {
	const encoding = contentEncoding(req);
	const decode = DECODERS[encoding];
	if (!decode) throw new VigilError(`Content-Encoding "${encoding}" is not supported; send gzip, deflate, br or no encoding`, 415, "UNSUPPORTED_ENCODING");
	if (!JSON_TYPE.test(String(req.headers["content-type"] ?? ""))) throw new VigilError("Send the body as application/json", 415, "UNSUPPORTED_MEDIA_TYPE");
	const raw = await readLimited(req, limits.maxBytes);
	let decoded: Buffer;
	try {
		decoded = await decode(raw, { maxOutputLength: limits.maxDecodedBytes });
	} catch (err) {
		if ((err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE")
			throw new VigilError(`The request body is larger than ${limits.maxDecodedBytes} bytes once decompressed`, 413, "PAYLOAD_TOO_LARGE", {
				limit: limits.maxDecodedBytes,
			});
		throw new VigilError(`The request body is not valid ${encoding} data`, 400, "MALFORMED_ENCODING");
	}
	let body: unknown;
	try {
		body = JSON.parse(decoded.toString("utf8"));
	} catch {
		body = undefined;
	}
	if (body === null || typeof body !== "object") throw new VigilError("The request body is not valid JSON", 400, "MALFORMED_JSON");
	return body;
}

/** The whole body, or 413 once it passes `max` bytes (the rest is still read, so the client gets the answer). */
function readLimited(req: IncomingMessage, max: number): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		let over = Number(req.headers["content-length"]) > max;
		let ended = false;
		req.on("data", (chunk: Buffer) => {
			size += chunk.length;
			if (size > max) over = true;
			if (!over) chunks.push(chunk);
		});
		req.on("end", () => {
			ended = true;
			if (over) reject(new VigilError("The request body is too large", 413, "PAYLOAD_TOO_LARGE", { limit: max }));
			else resolve(Buffer.concat(chunks));
		});
		req.on("error", reject);
		req.on("close", () => {
			if (!ended) reject(new VigilError("The request body ended early", 400, "BAD_REQUEST"));
		});
	});
}
