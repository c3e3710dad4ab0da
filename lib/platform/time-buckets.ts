/**
 * Time buckets for charts people read in their own time: the last N hours, or the last N days of a store's time
 * zone (a day starts at the store's midnight, so a day with a daylight-saving change is 23 or 25 hours long).
 * Plain dates in, plain dates out; no broker, no database.
 */
export type BucketSize = "hour" | "day";

export interface Buckets {
	/** Start of each bucket, oldest first; the last one holds `now`. */
	starts: Date[];
	/** End of the last bucket (exclusive). */
	end: Date;
}

const HOUR_MS = 3_600_000;

/** Minutes the zone is ahead of UTC at `at` (negative west of Greenwich). */
export function zoneOffsetMinutes(timeZone: string, at: Date): number {
	const parts = new Intl.DateTimeFormat("en-US", {
		timeZone,
		hourCycle: "h23",
		year: "numeric",
		month: "numeric",
		day: "numeric",
		hour: "numeric",
		minute: "numeric",
		second: "numeric",
	}).formatToParts(at);
	const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
	const wall = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
	return Math.round((wall - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
}

/** The zone's calendar date at `at`, as YYYY-MM-DD. */
export function zonedDay(timeZone: string, at: Date): string {
	return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(at);
}

/** The instant the zone's clock reads midnight starting `day` (YYYY-MM-DD). */
export function zonedMidnight(timeZone: string, day: string): Date {
	const [y, m, d] = day.split("-").map(Number);
	const wall = Date.UTC(y, m - 1, d);
	// The offset at midnight may differ from the offset at the guess; the second pass settles it.
	let instant = wall - zoneOffsetMinutes(timeZone, new Date(wall)) * 60_000;
	instant = wall - zoneOffsetMinutes(timeZone, new Date(instant)) * 60_000;
	return new Date(instant);
}

/** The last `count` buckets up to and including `now`. */
export function lastBuckets(size: BucketSize, count: number, now: Date, timeZone = "UTC"): Buckets {
	if (size === "hour") {
		const current = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
		const starts = Array.from({ length: count }, (_, i) => new Date(current - (count - 1 - i) * HOUR_MS));
		return { starts, end: new Date(current + HOUR_MS) };
	}
	const today = zonedDay(timeZone, now);
	const [y, m, d] = today.split("-").map(Number);
	// Calendar arithmetic on UTC dates: every date from count-1 days back to tomorrow, then each one's midnight.
	const day = (back: number) => new Date(Date.UTC(y, m - 1, d - back)).toISOString().slice(0, 10);
	const starts = Array.from({ length: count }, (_, i) => zonedMidnight(timeZone, day(count - 1 - i)));
	return { starts, end: zonedMidnight(timeZone, day(-1)) };
}

/** Index of the bucket holding `at`, or -1 outside them all. */
export function bucketOf(buckets: Buckets, at: Date): number {
	const t = at.getTime();
	const { starts, end } = buckets;
	if (!starts.length || t < starts[0].getTime() || t >= end.getTime()) return -1;
	let lo = 0;
	let hi = starts.length - 1;
	while (lo < hi) {
		const mid = (lo + hi + 1) >> 1;
		if (starts[mid].getTime() <= t) lo = mid;
		else hi = mid - 1;
	}
	return lo;
}
