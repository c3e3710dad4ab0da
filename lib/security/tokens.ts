/**
 * Access tokens: HS256 JWTs, algorithm pinned on both sign and verify (no `alg: none`, no RS/HS confusion),
 * with issuer, audience and type checked. They carry the user's token version so a password change ends them.
 */
import { createSecretKey, type KeyObject, randomUUID } from "node:crypto";
import jwt from "jsonwebtoken";

const ISSUER = "vigil";
const AUDIENCE = "vigil-api";
const ALGORITHM = "HS256";

/**
 * Given the secret as a string, jsonwebtoken first tries it as a PEM public key (createPublicKey, about 0.4 ms)
 * on every sign and verify; a secret KeyObject made once skips that (about 0.02 ms). Kept per secret (a process
 * has one; tests a few).
 */
const keys = new Map<string, KeyObject>();
function signingKey(secret: string): KeyObject {
	let key = keys.get(secret);
	if (!key) {
		key = createSecretKey(Buffer.from(secret, "utf8"));
		keys.set(secret, key);
	}
	return key;
}

export interface AccessClaims {
	sub: string;
	ver: number;
}

export function signAccessToken(secret: string, claims: AccessClaims, ttlSeconds: number): string {
	return jwt.sign({ ver: claims.ver, typ: "access" }, signingKey(secret), {
		algorithm: ALGORITHM,
		subject: claims.sub,
		issuer: ISSUER,
		audience: AUDIENCE,
		expiresIn: ttlSeconds,
		jwtid: randomUUID(),
	});
}

export type AccessCheck = { ok: true; claims: AccessClaims } | { ok: false; reason: "TOKEN_EXPIRED" | "TOKEN_INVALID" };

export function verifyAccessToken(secret: string, token: string): AccessCheck {
	try {
		const payload = jwt.verify(token, signingKey(secret), { algorithms: [ALGORITHM], issuer: ISSUER, audience: AUDIENCE, complete: false });
		if (typeof payload !== "object" || payload.typ !== "access" || typeof payload.sub !== "string" || typeof payload.ver !== "number")
			return { ok: false, reason: "TOKEN_INVALID" };
		return { ok: true, claims: { sub: payload.sub, ver: payload.ver } };
	} catch (err) {
		return { ok: false, reason: err instanceof jwt.TokenExpiredError ? "TOKEN_EXPIRED" : "TOKEN_INVALID" };
	}
}

export const ACCESS_COOKIE = "vigil_access";
export const REFRESH_COOKIE = "vigil_refresh";
/** The refresh cookie goes only to the auth routes: it is never sent along with ordinary API calls. */
export const REFRESH_COOKIE_PATH = "/api/v1/auth";
export const REFRESH_PREFIX = "vrt";
export const SERVICE_TOKEN_PREFIX = "vst";
