import { inSchedule, localTime, trackSatisfies } from "../../lib/alerting/rules";
import type { Track } from "../../lib/vision/tracker";
import { aTrack } from "../support/tracks";

const track = (over: Partial<Track> = {}): Track => aTrack({ id: 1, zonesEntered: ["door"], ...over });
const rule = { classes: ["person"], minScore: 0.5, zoneIds: [], minDurationSec: 0, schedule: null };

describe("alert rules", () => {
	it("reads the local day and time in the camera's time zone", () => {
		// 2026-11-22 is a Sunday; 23:30 UTC is 00:30 on Monday in Paris.
		expect(localTime(new Date("2026-11-22T23:30:00Z"), "Europe/Paris")).toEqual({ day: 1, minutes: 30 });
		expect(localTime(new Date("2026-11-22T23:30:00Z"), "America/New_York")).toEqual({ day: 0, minutes: 18 * 60 + 30 });
	});

	it("a night window past midnight belongs to the day it starts", () => {
		const fridayNights = { days: [5], start: "22:00", end: "06:00" };
		expect(inSchedule(fridayNights, new Date("2026-11-27T23:00:00Z"), "UTC")).toBe(true); // Friday 23:00
		expect(inSchedule(fridayNights, new Date("2026-11-28T05:59:00Z"), "UTC")).toBe(true); // Saturday 05:59
		expect(inSchedule(fridayNights, new Date("2026-11-28T06:00:00Z"), "UTC")).toBe(false);
		expect(inSchedule(fridayNights, new Date("2026-11-28T23:00:00Z"), "UTC")).toBe(false); // Saturday night
		expect(inSchedule(null, new Date(), "UTC")).toBe(true);
	});

	it("class, score, zones and duration must all hold", () => {
		const at = new Date("2026-11-22T12:00:00Z");
		expect(trackSatisfies(rule, track(), at, "UTC")).toBe(true);
		expect(trackSatisfies(rule, track({ className: "car" }), at, "UTC")).toBe(false);
		expect(trackSatisfies(rule, track({ maxScore: 0.4 }), at, "UTC")).toBe(false);
		expect(trackSatisfies({ ...rule, zoneIds: ["till"] }, track(), at, "UTC")).toBe(false);
		expect(trackSatisfies({ ...rule, zoneIds: ["till", "door"] }, track(), at, "UTC")).toBe(true);
		expect(trackSatisfies({ ...rule, minDurationSec: 5 }, track(), at, "UTC")).toBe(false);
		expect(trackSatisfies({ ...rule, classes: [] }, track({ className: "dog" }), at, "UTC")).toBe(true);
		// A learned threshold may raise the bar above the rule's own minimum.
		expect(trackSatisfies(rule, track({ maxScore: 0.7 }), at, "UTC", 0.75)).toBe(false);
	});
});
