import type { LoginThrottle } from "../../entities";
import { renewWindow } from "../../lib/security/login-throttle";

const WINDOW = 15 * 60_000;
const now = new Date("2026-03-01T12:00:00Z");
const ago = (ms: number) => new Date(now.getTime() - ms);
const row = (over: Partial<LoginThrottle> = {}) =>
	({ key: "account:a@example.com", failures: 4, windowStartedAt: ago(60_000), lockedUntil: null, ...over }) as LoginThrottle;

describe("a throttle row's window", () => {
	it("failures within the window keep counting", () => {
		expect(renewWindow(row(), now, WINDOW)).toMatchObject({ failures: 4, windowStartedAt: ago(60_000) });
	});

	it("once the window has passed, counting starts afresh from now", () => {
		expect(renewWindow(row({ windowStartedAt: ago(WINDOW + 1) }), now, WINDOW)).toMatchObject({ failures: 0, windowStartedAt: now });
	});

	it("a lock still running is kept even when its window has passed; one that has run out is lifted", () => {
		const running = new Date(now.getTime() + 30_000);
		expect(renewWindow(row({ windowStartedAt: ago(WINDOW + 1), lockedUntil: running }), now, WINDOW).lockedUntil).toEqual(running);
		expect(renewWindow(row({ lockedUntil: now }), now, WINDOW).lockedUntil).toBeNull();
		expect(renewWindow(row({ lockedUntil: ago(1) }), now, WINDOW).lockedUntil).toBeNull();
	});
});
