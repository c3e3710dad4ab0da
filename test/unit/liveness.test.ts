import { livenessOf } from "../../lib/operations/liveness";

const now = new Date("2025-06-01T12:00:00Z");
const ago = (s: number) => new Date(now.getTime() - s * 1000);
const t = { staleAfter: 120, offlineAfter: 600 };

describe("camera liveness", () => {
	it.each([
		[0, "online"],
		[119, "online"],
		[120, "stale"],
		[599, "stale"],
		[600, "offline"],
		[86400, "offline"],
	])("seen %i s ago: %s", (seconds, status) => {
		expect(livenessOf(ago(seconds), now, t)).toEqual({ status, lastSeenAt: ago(seconds) });
	});

	it("never seen: unknown", () => {
		expect(livenessOf(null, now, t)).toEqual({ status: "unknown", lastSeenAt: null });
	});

	it("offline wins when the thresholds are set the wrong way round", () => {
		expect(livenessOf(ago(100), now, { staleAfter: 300, offlineAfter: 60 }).status).toBe("offline");
	});
});
