/**
 * A camera's recording: its live segments laid on the wall clock, and the gaps between them (spans of the asked range
 * with no footage to play: the camera sent nothing, or retention removed it), so a player can show both. A range is
 * read a page at a time; each page's gaps cover exactly the time from where the previous page's footage reached, so
 * the pages' gaps together are the gaps of the whole range. No broker in here.
 */
import { CLIP_STATUSES } from "../../entities/clip.entity";
import { invalid } from "../platform/errors";
import { decodeTimeCursor, encodeTimeCursor } from "../platform/pagination";

/** Shorter breaks between segments are rounding in their timing, not missing footage; no player could show them. */
export const GAP_TOLERANCE_MS = 250;

export interface Footage {
	id: string;
	recordedAt: Date;
	durationSec: number;
}

export interface Gap {
	from: Date;
	to: Date;
	seconds: number;
}

export const footageEnd = (f: Footage): Date => new Date(f.recordedAt.getTime() + f.durationSec * 1000);

/**
 * The gaps from `start` through the footage (ordered by start; it may begin before `start` or overlap), and on to
 * `until` when the range ends with this page (null: stop at the footage). `reach` is where the footage reached: the
 * next page's `start`.
 */
export function gapsOf(footage: Footage[], start: Date, until: Date | null): { gaps: Gap[]; reach: Date } {
	const gaps: Gap[] = [];
	const gap = (from: number, to: number) => {
		if (to - from > GAP_TOLERANCE_MS) gaps.push({ from: new Date(from), to: new Date(to), seconds: (to - from) / 1000 });
	};
	let reach = start.getTime();
	for (const f of footage) {
		gap(reach, f.recordedAt.getTime());
		reach = Math.max(reach, footageEnd(f).getTime());
	}
	if (until) {
		gap(reach, until.getTime());
		reach = Math.max(reach, until.getTime());
	}
	return { gaps, reach: new Date(reach) };
}

/**
 * The next page's cursor: the last segment's start and id (where the next page goes on) and how far the footage so
 * far reached (where its gaps begin). Two time cursors joined by a dot, opaque to clients.
 */
export const encodeRecordingCursor = (last: Footage, reach: Date): string =>
	`${encodeTimeCursor(last.recordedAt, last.id)}.${encodeTimeCursor(reach, last.id)}`;

export function decodeRecordingCursor(cursor: string): { at: Date; id: string; reach: Date } {
	const parts = cursor.split(".");
	if (parts.length !== 2) throw invalid("The cursor is not valid", [{ field: "cursor", type: "cursor", message: "Use the nextCursor of a previous page." }]);
	const position = decodeTimeCursor(parts[0]);
	const { at: reach } = decodeTimeCursor(parts[1]);
	return { ...position, reach };
}

/** `from` and `to` of a request, or the 422 saying which is wrong: `from` before `to`, at most `maxHours` apart. */
export function checkRange(from: Date, to: Date, maxHours: number): void {
	const field = (name: string, type: string, message: string) => invalid(message, [{ field: name, type, message }]);
	for (const [name, at] of [
		["from", from],
		["to", to],
	] as const) {
		// PostgreSQL has no year 0, and timestamps beyond 9999 do not round-trip through ISO 8601.
		const year = at.getUTCFullYear();
		if (year < 1 || year > 9999) throw field(name, "dateRange", `'${name}' must be a time between the years 1 and 9999.`);
	}
	if (from.getTime() >= to.getTime()) throw field("to", "dateOrder", "'to' must be after 'from'.");
	if (to.getTime() - from.getTime() > maxHours * 3_600_000)
		throw field("to", "rangeTooLong", `'to' may be at most ${maxHours} hours after 'from' (RECORDING_RANGE_MAX_HOURS); ask for the rest separately.`);
}

/** A camera's recording as a player reads it, for /openapi.json. */
export const RECORDING_SCHEMAS = {
	RecordingPage: {
		type: "object",
		required: ["from", "to", "items", "gaps", "nextCursor"],
		properties: {
			from: { type: "string", format: "date-time" },
			to: { type: "string", format: "date-time", description: "As asked, or the time of the request" },
			items: {
				type: "array",
				description:
					"Live segments overlapping [from, to), by wall-clock start (oldest first); the first may start before `from`. Uploads are not on the timeline, nor clips whose video retention removed.",
				items: {
					type: "object",
					required: ["id", "recordedAt", "endsAt", "durationSec", "status"],
					properties: {
						id: { type: "string", format: "uuid", description: "The clip: its video is GET .../clips/{id}/video" },
						recordedAt: { type: "string", format: "date-time", description: "Wall-clock time of its first frame" },
						endsAt: { type: "string", format: "date-time", description: "recordedAt + durationSec" },
						durationSec: { type: "number" },
						status: { type: "string", enum: [...CLIP_STATUSES], description: "How far detection got; the video plays whatever it is" },
					},
				},
			},
			gaps: {
				type: "array",
				description:
					"Spans of this page with no footage to play (the camera sent nothing, or retention removed it), from where the previous page's footage reached; on the last page, on to `to`. The gaps of all pages together are the range's.",
				items: {
					type: "object",
					required: ["from", "to", "seconds"],
					properties: { from: { type: "string", format: "date-time" }, to: { type: "string", format: "date-time" }, seconds: { type: "number" } },
				},
			},
			nextCursor: { type: "string", nullable: true, description: "Pass as `cursor` for the next page; null on the last" },
		},
	},
	RangeNotSatisfiable: {
		allOf: [{ $ref: "#/components/schemas/Error" }],
		description: "The Range starts past the end of the video; Content-Range says its length (bytes */size).",
	},
};
