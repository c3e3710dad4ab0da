/**
 * Login throttle rows (`login_throttles`): one failure counter per key (an account from one address, an address,
 * an account from everywhere, or an address's sign-ups), counted over a fixed window. The auth service decides
 * when a count locks or slows; this module reads and renews the rows. No broker in here.
 */
import { In, type EntityManager } from "typeorm";
import { LoginThrottle } from "../../entities";

/** A row whose window has passed starts a new one; a lock that has run out is lifted (one still running is kept). */
export function renewWindow(row: LoginThrottle, now: Date, windowMs: number): LoginThrottle {
	if (now.getTime() - row.windowStartedAt.getTime() > windowMs) {
		row.failures = 0;
		row.windowStartedAt = now;
	}
	if (row.lockedUntil && row.lockedUntil.getTime() <= now.getTime()) row.lockedUntil = null;
	return row;
}

/**
 * The throttle rows of `keys`, created if missing and locked for this transaction (in key order, so two attempts
 * never deadlock), each renewed for `now`. Rows belong to an account or an address, never to an organization,
 * so `tx` is a plain transaction's entity manager.
 */
export async function lockThrottleRows(tx: EntityManager, keys: string[], now: Date, windowMs: number): Promise<Map<string, LoginThrottle>> {
	const sorted = [...keys].sort();
	await tx
		.createQueryBuilder()
		.insert()
		.into(LoginThrottle)
		.values(sorted.map((key) => ({ key, failures: 0, windowStartedAt: now, lockedUntil: null })))
		.orIgnore()
		.execute();
	const rows = await tx.find(LoginThrottle, { where: { key: In(sorted) }, order: { key: "ASC" }, lock: { mode: "pessimistic_write" } });
	return new Map(rows.map((row) => [row.key, renewWindow(row, now, windowMs)]));
}
