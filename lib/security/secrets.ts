/** Secrets at rest and opaque tokens: AES-256-GCM sealing, random tokens, one-way token hashes, URL masking. */
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from "node:crypto";

const VERSION = "v1";

/** Encrypts with a fresh 96-bit nonce; output `v1.<iv>.<tag>.<ciphertext>` in base64url. */
export function seal(key: Buffer, plaintext: string): string {
	const iv = randomBytes(12);
	const cipher = createCipheriv("aes-256-gcm", key, iv);
	const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
	return [VERSION, iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), data.toString("base64url")].join(".");
}

/** Decrypts what `seal` made; throws if the key is wrong or the text was altered. */
export function unseal(key: Buffer, sealed: string): string {
	const [version, iv, tag, data] = sealed.split(".");
	if (version !== VERSION || !iv || !tag || data === undefined) throw new Error("Not a sealed secret");
	const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
	decipher.setAuthTag(Buffer.from(tag, "base64url"));
	return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString("utf8");
}

/** A random token with a recognisable prefix (so leaked tokens are easy to grep for and tell apart). */
export const newToken = (prefix: string, bytes = 32): string => `${prefix}_${randomBytes(bytes).toString("base64url")}`;

/** Tokens are high-entropy, so a plain sha256 is enough to make a stored hash useless to a thief. */
export const hashToken = (token: string): string => createHash("sha256").update(token).digest("hex");

export function safeEqual(a: string, b: string): boolean {
	const ab = Buffer.from(a),
		bb = Buffer.from(b);
	return ab.length === bb.length && timingSafeEqual(ab, bb);
}

const SECRET_QUERY_KEYS = /pass|pwd|token|key|secret|auth|sig/i;

/** Hides the password of a URL and secret-looking query values: `rtsp://admin:****@cam.local/stream`. */
export function maskUrl(raw: string): string {
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		return "****";
	}
	if (url.password) url.password = "****";
	for (const key of [...url.searchParams.keys()]) if (SECRET_QUERY_KEYS.test(key)) url.searchParams.set(key, "****");
	return url.toString().replace(/%2A%2A%2A%2A/g, "****");
}
