/** Does a tracked object satisfy an alert rule? Plain functions: class, score, zones, duration, schedule. */
import type { Schedule } from "../../entities/alert-rule.entity";
import type { Track } from "../vision/tracker";

export interface RuleCriteria {
	classes: string[];
	minScore: number;
	zoneIds: string[];
	minDurationSec: number;
	schedule: Schedule | null;
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** Day of week (0 = Sunday) and minutes after midnight of an instant, in a time zone. */
export function localTime(at: Date, timezone: string): { day: number; minutes: number } {
	const parts = Object.fromEntries(
		new Intl.DateTimeFormat("en-US", { timeZone: timezone, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
			.formatToParts(at)
			.map((p) => [p.type, p.value]),
	);
	return { day: WEEKDAYS.indexOf(parts.weekday), minutes: Number(parts.hour) * 60 + Number(parts.minute) };
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Inside the schedule's days and daily window? A window past midnight (22:00-06:00) belongs to the day it starts. */
export function inSchedule(schedule: Schedule | null, at: Date, timezone: string): boolean {
	if (!schedule) return true;
	const { day, minutes } = localTime(at, timezone);
	const start = toMinutes(schedule.start),
		end = toMinutes(schedule.end);
	if (start <= end) return schedule.days.includes(day) && minutes >= start && minutes < end;
	if (minutes >= start) return schedule.days.includes(day);
	return minutes < end && schedule.days.includes((day + 6) % 7);
}

/** Everything but the cooldown, which depends on other alerts. `minScore` may be raised by a learned threshold. */
export function trackSatisfies(rule: RuleCriteria, track: Track, occurredAt: Date, timezone: string, minScore = rule.minScore): boolean {
	if (rule.classes.length && !rule.classes.includes(track.className)) return false;
	if (track.maxScore < minScore) return false;
	if (rule.zoneIds.length && !rule.zoneIds.some((z) => track.zonesEntered.includes(z))) return false;
	if (track.lastTime - track.firstTime < rule.minDurationSec) return false;
	return inSchedule(rule.schedule, occurredAt, timezone);
}
