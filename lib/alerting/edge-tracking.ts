/**
 * Replays an edge box's detection events for one camera through the same tracker as clip detections, so the
 * same alert rules apply. Events that carry the box's own track id stay one track (the box already tracked
 * them: each track id gets its own tracker that matches every event of it, confirmed from the first one);
 * the others are associated by IoU like a clip's detections, one frame per distinct event time.
 *
 * A track's key must survive re-evaluation over a sliding window (a later window may no longer hold the
 * track's first event). Each evaluation therefore stores the key on the events it used, and the next one
 * reuses the key found on the track's events; a track seen for the first time is keyed by its first event:
 * `box:<track id>:<first event id>` or `auto:<first event id>`. No broker in here.
 */
import { Tracker, type Track, type TrackerOptions, type Zone } from "../vision/tracker";
import type { Box, Detection } from "../vision/types";

export interface EdgeObservation {
	/** Unique id of the stored event (handed to the tracker as the detection's ref). */
	ref: string;
	/** The box's id for the event, used in new track keys. */
	eventId: string;
	time: Date;
	className: string;
	score: number;
	box: Box;
	trackId: string | null;
	plate: string | null;
	/** Key stored by an earlier evaluation, if any. */
	trackKey: string | null;
}

export interface EdgeTrackUpdate {
	/** Which tracker track this is, within this replay. */
	handle: string;
	/** The track as of this frame (times in seconds after `start`). */
	track: Track;
}

export interface EdgeReplay {
	/** Epoch milliseconds of the first frame; track times count seconds from here. */
	start: number;
	/** Every update of a confirmed track, frame by frame, as a clip replay sees them. */
	updates: EdgeTrackUpdate[];
	/** handle -> stable track key. */
	keys: Map<string, string>;
	/** handle -> the plate most read on the track's events (the latest on a tie), or null. */
	plates: Map<string, string | null>;
	/** Event ref -> key, for the events whose stored key is missing or different. */
	assign: Map<string, string>;
}

/** The box tracked these already: every event of one track id is the same object, confirmed at once. */
const BOX_TRACK_OPTIONS: Partial<TrackerOptions> = { minHits: 1, minIou: 0, highThreshold: 0, lowThreshold: 0 };

export function replayEdgeEvents(observations: EdgeObservation[], zones: Zone[]): EdgeReplay {
	const events = [...observations].sort((a, b) => a.time.getTime() - b.time.getTime() || a.ref.localeCompare(b.ref));
	const byRef = new Map(events.map((e) => [e.ref, e]));
	const start = events.length ? events[0].time.getTime() : 0;
	const classIds = new Map<string, number>();
	const detection = (e: EdgeObservation): Detection => {
		if (!classIds.has(e.className)) classIds.set(e.className, classIds.size);
		return { classId: classIds.get(e.className)!, className: e.className, score: e.score, box: e.box, ref: e.ref };
	};

	const frames = new Map<number, EdgeObservation[]>();
	for (const e of events) (frames.get(e.time.getTime()) ?? frames.set(e.time.getTime(), []).get(e.time.getTime())!).push(e);
	const auto = new Tracker(zones);
	const boxTrackers = new Map<string, Tracker>();
	const refsOf = new Map<string, Set<string>>();
	const groupOf = new Map<string, string>();
	const updates: EdgeTrackUpdate[] = [];
	const seen = (handle: string, track: Track, group?: string) => {
		updates.push({ handle, track });
		const refs = refsOf.get(handle) ?? refsOf.set(handle, new Set()).get(handle)!;
		for (const ref of [track.firstRef, track.lastRef]) if (ref) refs.add(ref);
		if (group !== undefined) groupOf.set(handle, group);
	};

	let index = 0;
	for (const [ms, found] of frames) {
		const frame = { index: index++, time: (ms - start) / 1000 };
		for (const track of auto.update(frame, found.filter((e) => e.trackId === null).map(detection)).updated) seen(`auto#${track.id}`, track);
		// One event per box track and frame: the best, should a box send two.
		const best = new Map<string, EdgeObservation>();
		for (const e of found) {
			if (e.trackId === null) continue;
			const other = best.get(e.trackId);
			if (!other || e.score > other.score) best.set(e.trackId, e);
		}
		for (const [trackId, e] of best) {
			const tracker = boxTrackers.get(trackId) ?? boxTrackers.set(trackId, new Tracker(zones, BOX_TRACK_OPTIONS)).get(trackId)!;
			for (const track of tracker.update(frame, [detection(e)]).updated) seen(`box#${trackId}#${track.id}`, track, trackId);
		}
	}

	// A box track's events all belong to it, confirmed or not.
	const groupRefs = new Map<string, EdgeObservation[]>();
	for (const e of events) if (e.trackId !== null) (groupRefs.get(e.trackId) ?? groupRefs.set(e.trackId, []).get(e.trackId)!).push(e);
	const keys = new Map<string, string>();
	const plates = new Map<string, string | null>();
	const assign = new Map<string, string>();
	for (const [handle, refs] of refsOf) {
		const group = groupOf.get(handle);
		const own = group !== undefined ? groupRefs.get(group)! : [...refs].map((r) => byRef.get(r)!).sort((a, b) => a.time.getTime() - b.time.getTime());
		const first = byRef.get(updates.find((u) => u.handle === handle)!.track.firstRef!)!;
		const stored = own.find((e) => e.trackKey !== null)?.trackKey;
		const key = stored ?? (group !== undefined ? `box:${group}:${own[0].eventId}` : `auto:${first.eventId}`);
		keys.set(handle, key);
		plates.set(handle, commonest(own.map((e) => e.plate)));
		for (const e of own) if (e.trackKey !== key && !assign.has(e.ref)) assign.set(e.ref, key);
	}
	return { start, updates, keys, plates, assign };
}

/** The most frequent non-null value; the latest of those on a tie. */
function commonest(values: (string | null)[]): string | null {
	const counts = new Map<string, number>();
	let best: string | null = null;
	for (const v of values) {
		if (v === null) continue;
		counts.set(v, (counts.get(v) ?? 0) + 1);
		if (best === null || counts.get(v)! >= counts.get(best)!) best = v;
	}
	return best;
}
