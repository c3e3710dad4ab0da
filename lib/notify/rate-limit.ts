/**
 * The notification rate limit, per channel, camera and recipient: the first `limit` alerts of a window are sent
 * at once; later ones in the same window are held and go out together as one digest when the window ends. A
 * window begins with the first alert after the previous one ended, so a steady flood costs at most
 * `limit` messages plus one digest per window.
 */

export interface RateLimit {
	/** Messages sent at once per window. */
	limit: number;
	windowMs: number;
}

/** The current window: when it began (epoch ms) and how many messages it has sent. */
export interface RateWindow {
	start: number;
	sent: number;
}

export type RateDecision =
	| { action: "send"; window: RateWindow }
	/** Hold for the digest of the window that began at `window.start`, due at `digestDueAt`. */
	| { action: "hold"; window: RateWindow; digestDueAt: number };

export function decide(current: RateWindow | null, now: number, { limit, windowMs }: RateLimit): RateDecision {
	if (!current || now >= current.start + windowMs) return { action: "send", window: { start: now, sent: 1 } };
	if (current.sent < limit) return { action: "send", window: { start: current.start, sent: current.sent + 1 } };
	return { action: "hold", window: current, digestDueAt: current.start + windowMs };
}
