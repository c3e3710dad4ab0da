/**
 * Media storage behind one small interface. Keys are generated here, never taken from user input, and checked
 * on every access, so no request can reach outside the storage root.
 */
import { createHash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

export interface StoredObject {
	key: string;
	size: number;
	sha256: string;
}

export interface Storage {
	/** Streams `body` into a new object; `maxBytes` aborts (and removes the partial object) when exceeded. */
	put(kind: "clips" | "snapshots", extension: string, body: Readable, maxBytes?: number): Promise<StoredObject>;
	/** The object's bytes, or only `range.start`..`range.end` (inclusive) of them. */
	get(key: string, range?: { start: number; end: number }): Readable;
	delete(key: string): Promise<void>;
	/** A local file path for tools such as ffmpeg that need one. */
	localPath(key: string): string;
	size(key: string): Promise<number>;
}

export class TooLargeError extends Error {
	constructor(readonly limit: number) {
		super(`Content larger than ${limit} bytes`);
		this.name = "TooLargeError";
	}
}

const KEY = /^(clips|snapshots)\/[0-9a-f]{2}\/[0-9a-f-]{36}\.(mp4|jpg)$/;

export class LocalStorage implements Storage {
	constructor(private readonly root: string) {}

	async put(kind: "clips" | "snapshots", extension: string, body: Readable, maxBytes = Infinity): Promise<StoredObject> {
		const id = randomUUID();
		const key = `${kind}/${id.slice(0, 2)}/${id}.${extension}`;
		const file = this.localPath(key);
		await mkdir(dirname(file), { recursive: true });
		const hash = createHash("sha256");
		let size = 0;
		const meter = new Transform({
			transform(chunk: Buffer, _enc, done) {
				size += chunk.length;
				if (size > maxBytes) return done(new TooLargeError(maxBytes));
				hash.update(chunk);
				done(null, chunk);
			},
		});
		try {
			await pipeline(body, meter, createWriteStream(file, { flags: "wx", mode: 0o600 }));
		} catch (err) {
			await rm(file, { force: true });
			throw err;
		}
		return { key, size, sha256: hash.digest("hex") };
	}

	get(key: string, range?: { start: number; end: number }): Readable {
		return createReadStream(this.localPath(key), range);
	}

	async delete(key: string): Promise<void> {
		await rm(this.localPath(key), { force: true });
	}

	async size(key: string): Promise<number> {
		return (await stat(this.localPath(key))).size;
	}

	localPath(key: string): string {
		if (!KEY.test(key)) throw new Error(`Not a storage key: ${key}`);
		return join(this.root, key);
	}
}

/** The node's media store: `DATA_DIR/media` (nodes that share clips share this directory). */
export const mediaStorage = (dataDir: string): Storage => new LocalStorage(join(dataDir, "media"));
