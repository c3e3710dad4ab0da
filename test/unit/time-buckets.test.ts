import { bucketOf, lastBuckets, zonedDay, zonedMidnight, zoneOffsetMinutes } from "../../lib/platform/time-buckets";

describe("time buckets", () => {
	it("knows a zone's offset, summer and winter", () => {
		expect(zoneOffsetMinutes("Europe/Paris", new Date("2026-01-15T12:00:00Z"))).toBe(60);
		expect(zoneOffsetMinutes("Europe/Paris", new Date("2026-07-15T12:00:00Z"))).toBe(120);
		expect(zoneOffsetMinutes("America/New_York", new Date("2026-01-15T12:00:00Z"))).toBe(-300);
		expect(zoneOffsetMinutes("UTC", new Date("2026-01-15T12:00:00Z"))).toBe(0);
	});

	it("finds the zone's date and its midnight", () => {
		expect(zonedDay("Asia/Tokyo", new Date("2026-03-01T16:00:00Z"))).toBe("2026-03-02");
		expect(zonedMidnight("Asia/Tokyo", "2026-03-02").toISOString()).toBe("2026-03-01T15:00:00.000Z");
		expect(zonedMidnight("America/Los_Angeles", "2026-07-04").toISOString()).toBe("2026-07-04T07:00:00.000Z");
	});

	it("cuts the last hours on the hour, the current one last", () => {
		const b = lastBuckets("hour", 24, new Date("2026-12-02T13:47:00Z"));
		expect(b.starts).toHaveLength(24);
		expect(b.starts[23].toISOString()).toBe("2026-12-02T13:00:00.000Z");
		expect(b.starts[0].toISOString()).toBe("2026-12-01T14:00:00.000Z");
		expect(b.end.toISOString()).toBe("2026-12-02T14:00:00.000Z");
		expect(bucketOf(b, new Date("2026-12-02T13:59:59Z"))).toBe(23);
		expect(bucketOf(b, new Date("2026-12-01T14:00:00Z"))).toBe(0);
		expect(bucketOf(b, new Date("2026-12-01T13:59:59Z"))).toBe(-1);
		expect(bucketOf(b, new Date("2026-12-02T14:00:00Z"))).toBe(-1);
	});

	it("cuts days at the store's midnight, through a daylight-saving change", () => {
		// Paris moved its clocks forward on 29 March 2026: that day lasted 23 hours.
		const b = lastBuckets("day", 3, new Date("2026-03-30T10:00:00Z"), "Europe/Paris");
		expect(b.starts.map((s) => s.toISOString())).toEqual(["2026-03-27T23:00:00.000Z", "2026-03-28T23:00:00.000Z", "2026-03-29T22:00:00.000Z"]);
		expect(b.end.toISOString()).toBe("2026-03-30T22:00:00.000Z");
		expect(b.starts[2].getTime() - b.starts[1].getTime()).toBe(23 * 3_600_000);
		// 00:30 in Paris on the 29th is the 29th's bucket, though it is still the 28th in UTC.
		expect(bucketOf(b, new Date("2026-03-28T23:30:00Z"))).toBe(1);
	});
});
