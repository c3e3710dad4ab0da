/**
 * Webhook signatures: `X-Vigil-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>` with the Unix
 * time in `X-Vigil-Timestamp`. Signing the timestamp with the body lets a receiver refuse replays of old
 * messages; `verifyWebhook` is what a receiver (and our tests) runs.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const WEBHOOK_HEADERS = {
	timestamp: "x-vigil-timestamp",
	signature: "x-vigil-signature",
	delivery: "x-vigil-delivery",
	event: "x-vigil-event",
} as const;

/** How far a receiver should let a timestamp drift from its own clock (5 min, as Stripe and Slack do). */
export const DEFAULT_TOLERANCE_SEC = 300;

export const newSigningSecret = (): string => `whsec_${randomBytes(32).toString("base64url")}`;

export function signWebhook(secret: string, timestamp: number, body: string): string {
	return `v1=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** The headers of one webhook request (the body must be sent byte for byte as signed). */
export function webhookHeaders(secret: string, body: string, delivery: string, event: string, now = Date.now()): Record<string, string> {
	const timestamp = Math.floor(now / 1000);
	return {
		"content-type": "application/json",
		"user-agent": "Vigil-Webhook/1",
		[WEBHOOK_HEADERS.timestamp]: String(timestamp),
		[WEBHOOK_HEADERS.signature]: signWebhook(secret, timestamp, body),
		[WEBHOOK_HEADERS.delivery]: delivery,
		[WEBHOOK_HEADERS.event]: event,
	};
}

export type Verification = { ok: true } | { ok: false; reason: "missing" | "stale" | "mismatch" };

/** Checks a received request: the signature over the raw body, and a timestamp within `toleranceSec` of now. */
export function verifyWebhook(
	secret: string,
	headers: Record<string, string | string[] | undefined>,
	rawBody: string,
	toleranceSec = DEFAULT_TOLERANCE_SEC,
	now = Date.now(),
): Verification {
	const timestamp = Number(headers[WEBHOOK_HEADERS.timestamp]);
	const signature = String(headers[WEBHOOK_HEADERS.signature] ?? "");
	if (!Number.isInteger(timestamp) || !signature) return { ok: false, reason: "missing" };
	if (Math.abs(now / 1000 - timestamp) > toleranceSec) return { ok: false, reason: "stale" };
	const expected = Buffer.from(signWebhook(secret, timestamp, rawBody));
	const given = Buffer.from(signature);
	return given.length === expected.length && timingSafeEqual(given, expected) ? { ok: true } : { ok: false, reason: "mismatch" };
}
