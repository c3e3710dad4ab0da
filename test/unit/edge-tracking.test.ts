import { replayEdgeEvents, type EdgeObservation } from "../../lib/alerting/edge-tracking";
import { Tracker } from "../../lib/vision/tracker";
import type { Box } from "../../lib/vision/types";

const T0 = Date.parse("2025-06-01T12:00:00Z");
let n = 0;
/** An event `s` seconds after T0; ids sort in creation order. */
function event(s: number, box: Box, more: Partial<EdgeObservation> = {}): EdgeObservation {
	n++;
	return {
		ref: `ref-${String(n).padStart(4, "0")}`,
		eventId: `e${n}`,
		time: new Date(T0 + s * 1000),
		className: "person",
		score: 0.9,
		box,
		trackId: null,
		plate: null,
		trackKey: null,
		...more,
	};
}
/** A person walking right, one event per second. */
const walking = (from: number, count: number, y = 0.3): EdgeObservation[] =>
	Array.from({ length: count }, (_, k) => event(from + k, [0.1 + 0.02 * (from + k), y, 0.2 + 0.02 * (from + k), y + 0.3]));

const handles = (replay: ReturnType<typeof replayEdgeEvents>) => new Set(replay.updates.map((u) => u.handle));

describe("replaying edge events through the tracker", () => {
	it("follows a walking person like a clip's detections: one track, confirmed at its third event, keyed by its first", () => {
		const events = walking(0, 6);
		const replay = replayEdgeEvents(events, []);
		expect(handles(replay).size).toBe(1);
		expect(replay.updates.map((u) => u.track.hits)).toEqual([3, 4, 5, 6]);
		expect([...replay.keys.values()]).toEqual([`auto:${events[0].eventId}`]);
		expect(replay.updates[0].track).toMatchObject({ firstTime: 0, lastTime: 2 });
		expect(replay.start).toBe(T0);
	});

	it("keeps two people apart and never confirms a one-off detection", () => {
		const replay = replayEdgeEvents([...walking(0, 5, 0.1), ...walking(0, 5, 0.6), event(2, [0.8, 0.8, 0.9, 0.95], { className: "dog" })], []);
		expect(replay.keys.size).toBe(2);
		expect(replay.updates.every((u) => u.track.className === "person")).toBe(true);
	});

	it("keeps a box's track id one track, however far its box jumps, from its first event", () => {
		const jumps = [
			event(0, [0, 0, 0.1, 0.1], { trackId: "7" }),
			event(1, [0.8, 0.8, 0.9, 0.9], { trackId: "7", score: 0.3 }),
			event(2, [0.4, 0.4, 0.5, 0.5], { trackId: "7" }),
		];
		const replay = replayEdgeEvents(jumps, []);
		expect(handles(replay).size).toBe(1);
		expect(replay.updates.map((u) => u.track.hits)).toEqual([1, 2, 3]);
		expect([...replay.keys.values()]).toEqual([`box:7:${jumps[0].eventId}`]);
		// Every event of the box track is stored with the key, even one the tracker would call noise.
		expect([...replay.assign.keys()].sort()).toEqual(jumps.map((e) => e.ref).sort());
	});

	it("finds a track's key again when a later window no longer holds its first events", () => {
		const events = walking(0, 10);
		const first = replayEdgeEvents(events.slice(0, 6), []);
		const stored = events.map((e) => ({ ...e, trackKey: first.assign.get(e.ref) ?? null }));
		const later = replayEdgeEvents(stored.slice(3), []);
		expect([...later.keys.values()]).toEqual([...first.keys.values()]);
		expect([...later.keys.values()]).toEqual([`auto:${events[0].eventId}`]);
	});

	it("gives a box track id used again later (no stored key in the window) a new key", () => {
		const before = replayEdgeEvents([event(0, [0, 0, 0.1, 0.1], { trackId: "1" })], []);
		const after = replayEdgeEvents([event(500, [0, 0, 0.1, 0.1], { trackId: "1" })], []);
		expect([...before.keys.values()][0]).not.toBe([...after.keys.values()][0]);
	});

	it("puts events of the same instant in one frame, and one event per box track and frame", () => {
		const replay = replayEdgeEvents(
			[
				event(0, [0, 0, 0.1, 0.1], { trackId: "a" }),
				event(0, [0.5, 0.5, 0.6, 0.6], { trackId: "a", score: 0.95 }),
				event(1, [0.5, 0.5, 0.6, 0.6], { trackId: "a" }),
			],
			[],
		);
		expect(replay.updates.map((u) => [u.track.hits, u.track.lastTime])).toEqual([
			[1, 0],
			[2, 1],
		]);
		expect(replay.updates[0].track.box).toEqual([0.5, 0.5, 0.6, 0.6]);
	});

	it("reports zones entered and the plate read most often", () => {
		const zone = {
			id: "bay",
			kind: "polygon" as const,
			points: [
				[0.5, 0],
				[1, 0],
				[1, 1],
				[0.5, 1],
			] as [number, number][],
			classes: [],
		};
		const replay = replayEdgeEvents(
			[
				event(0, [0.1, 0.1, 0.2, 0.3], { trackId: "c", className: "car", plate: "AB123" }),
				event(1, [0.6, 0.1, 0.7, 0.3], { trackId: "c", className: "car", plate: "A8123" }),
				event(2, [0.7, 0.1, 0.8, 0.3], { trackId: "c", className: "car", plate: "AB123" }),
			],
			[zone],
		);
		expect(replay.updates.at(-1)!.track.zonesEntered).toEqual(["bay"]);
		expect([...replay.plates.values()]).toEqual(["AB123"]);
	});

	it("an empty window replays nothing", () => {
		expect(replayEdgeEvents([], [])).toMatchObject({ updates: [], keys: new Map(), assign: new Map() });
	});
});

describe("detection refs through the tracker", () => {
	it("hands back the ref of the detection that started a track and of the latest one", () => {
		const tracker = new Tracker([], { minHits: 1 });
		tracker.update({ index: 0, time: 0 }, [{ classId: 0, className: "person", score: 0.9, box: [0.1, 0.1, 0.3, 0.5], ref: "a" }]);
		const [track] = tracker.update({ index: 1, time: 1 }, [{ classId: 0, className: "person", score: 0.9, box: [0.11, 0.1, 0.31, 0.5], ref: "b" }]).updated;
		expect(track).toMatchObject({ firstRef: "a", lastRef: "b" });
	});
});
