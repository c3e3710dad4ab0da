import {
	Tracker,
	continueSnapshot,
	countsStationary,
	isKnownStationary,
	isNewIncident,
	rememberStationary,
	type Track,
	type TrackerEvents,
	type TrackerOptions,
	type Zone,
} from "../../lib/vision/tracker";
import type { Box, Detection } from "../../lib/vision/types";

const FPS = 5;
const person = (box: Box, score = 0.9): Detection => ({ classId: 0, className: "person", score, box });
const dog = (box: Box, score = 0.9): Detection => ({ classId: 16, className: "dog", score, box });
const car = (box: Box, score = 0.9): Detection => ({ classId: 2, className: "car", score, box });

/** A box of the given size whose bottom centre (the anchor) is at (x, y). */
const standingAt = (x: number, y: number, w = 0.1, h = 0.2): Box => [x - w / 2, y - h, x + w / 2, y];
/** Small deterministic detector jitter, well under the stationary threshold. */
const jitter = (box: Box, k: number): Box => box.map((v, i) => v + 0.003 * Math.sin(k * 1.7 + i)) as Box;

/** Feeds frames[i] as frame index start + i and returns each frame's events. */
function feed(tracker: Tracker, frames: Detection[][], start = 0): TrackerEvents[] {
	return frames.map((detections, i) => tracker.update({ index: start + i, time: (start + i) / FPS }, detections));
}

const frames = (n: number, at: (k: number) => Detection[]): Detection[][] => Array.from({ length: n }, (_, k) => at(k));
const ids = (events: TrackerEvents[], className: string) =>
	new Set(
		events
			.flatMap((e) => e.updated)
			.filter((t) => t.className === className)
			.map((t) => t.id),
	);

describe("tracking objects across frames", () => {
	it("keeps one id for one person walking across the frame", () => {
		const tracker = new Tracker();
		const events = feed(
			tracker,
			frames(12, (k) => [person([0.05 + 0.04 * k, 0.3, 0.15 + 0.04 * k, 0.6])]),
		);
		expect(ids(events, "person").size).toBe(1);
		expect(events.map((e) => e.confirmed.length)).toEqual([0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
		const [track] = tracker.finish();
		expect(track).toMatchObject({ firstFrame: 0, lastFrame: 11, firstTime: 0, lastTime: 11 / FPS, hits: 12, confirmed: true, stationary: false });
		expect(tracker.summary().counts).toEqual({ person: 1 });
	});

	it("keeps the ids of a person and a dog whose paths cross", () => {
		const tracker = new Tracker();
		const events = feed(
			tracker,
			frames(16, (k) => [person([0.1 + 0.04 * k, 0.4, 0.2 + 0.04 * k, 0.7]), dog([0.7 - 0.04 * k, 0.45, 0.8 - 0.04 * k, 0.7])]),
		);
		expect(ids(events, "person").size).toBe(1);
		expect(ids(events, "dog").size).toBe(1);
		const [a, b] = tracker.finish();
		const byClass = Object.fromEntries([a, b].map((t) => [t.className, t]));
		expect(byClass.person.box[0]).toBeGreaterThan(0.6);
		expect(byClass.dog.box[0]).toBeLessThan(0.2);
	});

	it("keeps the ids of two people passing each other, thanks to the constant-velocity prediction", () => {
		const tracker = new Tracker();
		const events = feed(
			tracker,
			frames(18, (k) => [person([0.1 + 0.04 * k, 0.4, 0.2 + 0.04 * k, 0.7]), person([0.8 - 0.04 * k, 0.4, 0.9 - 0.04 * k, 0.7])]),
		);
		expect(ids(events, "person").size).toBe(2);
		const ended = tracker.finish().sort((x, y) => x.id - y.id);
		expect(ended[0].box[0]).toBeCloseTo(0.1 + 0.04 * 17);
		expect(ended[1].box[0]).toBeCloseTo(0.8 - 0.04 * 17);
	});

	it("keeps a track alive through low-score detections (ByteTrack's second pass)", () => {
		// A person half hidden behind a shelf: the score drops to 0.3 for 6 frames, longer than maxMisses.
		const scores = [0.9, 0.9, 0.9, 0.9, 0.9, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.9, 0.9, 0.9];
		const sequence = scores.map((s, k) => [person([0.3 + 0.01 * k, 0.3, 0.4 + 0.01 * k, 0.6], s)]);
		const options: Partial<TrackerOptions> = { maxMisses: 2 };

		const tracker = new Tracker([], options);
		const events = feed(tracker, sequence);
		expect(ids(events, "person").size).toBe(1);
		expect(events.flatMap((e) => e.ended)).toEqual([]);
		const [track] = tracker.finish();
		expect(track.hits).toBe(14);
		expect(track.meanScore).toBeCloseTo((8 * 0.9 + 6 * 0.3) / 14);
		expect(track.bestFrame).toEqual({ index: 0, time: 0 });

		// Without the second pass the same person would end and come back as a second person.
		const naive = new Tracker([], { ...options, lowThreshold: 0.5 });
		feed(naive, sequence);
		expect(naive.summary().counts).toEqual({ person: 2 });
	});

	it("never starts a track from low-score detections alone", () => {
		const tracker = new Tracker();
		const events = feed(
			tracker,
			frames(10, () => [person([0.3, 0.3, 0.4, 0.6], 0.3)]),
		);
		expect(events.flatMap((e) => e.confirmed)).toEqual([]);
		expect(tracker.summary().counts).toEqual({});
	});

	it("never confirms a single-frame false positive", () => {
		const tracker = new Tracker();
		const events = feed(tracker, [[car([0.5, 0.5, 0.7, 0.7], 0.95)], ...frames(20, () => [])]);
		expect(events.flatMap((e) => [...e.confirmed, ...e.updated, ...e.ended])).toEqual([]);
		expect(tracker.finish()).toEqual([]);
		expect(tracker.summary().counts).toEqual({});
	});

	it("counts each person once: 3 people in 30 frames make person: 3", () => {
		const tracker = new Tracker();
		feed(
			tracker,
			frames(30, (k) => {
				const seen: Detection[] = [person(standingAt(0.1 + 0.02 * k, 0.8))];
				if (k >= 5 && k <= 20) seen.push(person(standingAt(0.9 - 0.02 * k, 0.5)));
				if (k >= 15) seen.push(person(jitter(standingAt(0.5, 0.95), k)));
				if (k === 10) seen.push(person([0.0, 0.0, 0.05, 0.1], 0.8)); // a one-frame false positive
				return seen;
			}),
		);
		expect(tracker.finish()).toHaveLength(3);
		expect(tracker.summary().counts).toEqual({ person: 3 });
	});

	it("ends a track after maxMisses frames without a match, and not before", () => {
		const tracker = new Tracker([], { maxMisses: 15 });
		const here = () => [person([0.4, 0.3, 0.5, 0.6])];
		const seen = feed(tracker, frames(5, here)); // frames 0..4
		const gap = feed(
			tracker,
			frames(14, () => []),
			5,
		); // 14 misses: still alive
		const back = feed(tracker, [here()], 19);
		expect(gap.flatMap((e) => e.ended)).toEqual([]);
		expect(back[0].updated.map((t) => t.id)).toEqual([seen[4].updated[0].id]);

		const gone = feed(
			tracker,
			frames(15, () => []),
			20,
		); // the 15th miss, at frame 34, ends it
		expect(gone.map((e) => e.ended.length)).toEqual([...Array(14).fill(0), 1]);
		expect(gone[14].ended[0]).toMatchObject({ lastFrame: 19, hits: 6 });
		const later = feed(tracker, frames(3, here), 35);
		expect(later[2].confirmed[0].id).not.toBe(seen[4].updated[0].id);
	});

	it("refuses frames out of order", () => {
		const tracker = new Tracker();
		tracker.update({ index: 3, time: 0.6 }, []);
		expect(() => tracker.update({ index: 3, time: 0.6 }, [])).toThrow(RangeError);
	});
});

describe("zones and lines", () => {
	const counter: Zone = {
		id: "counter",
		kind: "polygon",
		points: [
			[0.3, 0.2],
			[0.9, 0.2],
			[0.9, 0.5],
			[0.3, 0.5],
		],
		classes: [],
	};
	const parking: Zone = {
		id: "parking",
		kind: "polygon",
		points: [
			[0, 0],
			[1, 0],
			[1, 1],
			[0, 1],
		],
		classes: ["car"],
	};
	const door: Zone = {
		id: "door",
		kind: "line",
		points: [
			[0, 0.5],
			[0.5, 0.5],
			[1, 0.5],
		],
		classes: ["person"],
	};

	it("enters a zone by the feet, not by any overlap of the box", () => {
		const tracker = new Tracker([counter, parking]);
		feed(
			tracker,
			frames(4, () => [
				person(standingAt(0.4, 0.7, 0.1, 0.4)), // body overlaps the counter zone, feet below it
				person(standingAt(0.7, 0.45)), // feet inside
			]),
		);
		const [outside, inside] = tracker.finish().sort((a, b) => a.box[0] - b.box[0]);
		expect(outside.zonesEntered).toEqual([]);
		expect(inside.zonesEntered).toEqual(["counter"]); // "parking" watches cars only
	});

	it("counts a line crossing once, with its direction", () => {
		const tracker = new Tracker([door]);
		// Anchors step by 0.05 and land exactly on the line once: that must not count twice.
		const down = (k: number) => (30 + 5 * k) / 100; // 0.30 .. 0.70
		const up = (k: number) => (80 - 5 * k) / 100; // 0.80 .. 0.30
		const bounce = [0.4, 0.45, 0.5, 0.5, 0.45, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4];
		feed(
			tracker,
			frames(11, (k) => [
				person(standingAt(0.1, down(Math.min(k, 8)))),
				person(standingAt(0.5, up(k))), // crosses at the polyline's middle vertex
				person(standingAt(0.85, bounce[k])), // steps onto the line and back
			]),
		);
		const [downwards, upwards, bouncer] = tracker.finish().sort((a, b) => a.box[0] - b.box[0]);
		expect(downwards.lineCrossings).toEqual({ door: { count: 1, forward: 1, backward: 0, direction: 1 } });
		expect(upwards.lineCrossings).toEqual({ door: { count: 1, forward: 0, backward: 1, direction: -1 } });
		expect(bouncer.lineCrossings).toEqual({});
		expect(tracker.summary().lineCrossings).toEqual({ door: { count: 2, forward: 1, backward: 1 } });
	});

	it("counts a crossing made before the track was confirmed", () => {
		const tracker = new Tracker([door]);
		feed(
			tracker,
			frames(5, (k) => [person(standingAt(0.2, 0.45 + 0.1 * k))]),
		);
		expect(tracker.summary().lineCrossings.door).toEqual({ count: 1, forward: 1, backward: 0 });
	});
});

describe("stationary objects", () => {
	const parkedCar = (k: number) => car(jitter([0.6, 0.5, 0.85, 0.75], k));

	it("remembers a parked car, so the next clip does not report it again", () => {
		const clip1 = new Tracker();
		feed(
			clip1,
			frames(20, (k) => [parkedCar(k), car([0.02 * k, 0.1, 0.2 + 0.02 * k, 0.25])]),
		); // one parked, one driving
		const tracks = clip1.finish();
		expect(tracks.map((t) => t.stationary).sort()).toEqual([false, true]);
		const memory = JSON.parse(JSON.stringify(rememberStationary([], tracks, 1_000)));
		expect(memory).toHaveLength(1);
		expect(memory[0]).toMatchObject({ className: "car", lastSeen: 1_000 });

		// Next clip: the same car is known from its first frames, before it could be judged stationary again.
		const clip2 = new Tracker();
		const events = feed(
			clip2,
			frames(20, (k) => [parkedCar(k + 50), car([0.1, 0.8, 0.3, 0.95])]),
		); // and a car parked somewhere new
		const confirmed = events.flatMap((e) => e.confirmed);
		const parked = confirmed.find((t) => t.box[0] > 0.5) as Track;
		const newcomer = confirmed.find((t) => t.box[0] < 0.5) as Track;
		expect(parked.stationary).toBe(false);
		expect(isKnownStationary(parked, memory)).toBe(true);
		expect(isNewIncident(parked, memory)).toBe(false);
		expect(isKnownStationary(newcomer, memory)).toBe(false);
		expect(isNewIncident(newcomer, memory)).toBe(true);

		// Seen again, the entry is refreshed rather than duplicated; unseen for over a day, it is forgotten.
		const refreshed = rememberStationary(memory, clip2.finish(), 2_000);
		expect(refreshed.filter((e) => e.box[0] > 0.5)).toEqual([expect.objectContaining({ lastSeen: 2_000 })]);
		expect(refreshed).toHaveLength(2); // the car that arrived in clip 2 is parked now too
		expect(rememberStationary(refreshed, [], 2_000 + 24 * 3600 + 1)).toEqual([]);
		expect(memory[0].lastSeen).toBe(1_000); // the memory passed in is left alone
	});

	it("calls a car that drove in and parked stationary once its latest positions agree", () => {
		const tracker = new Tracker([], { stationaryWindow: 10 });
		// Drives in for 10 frames, then stands for 15: the window then holds only parked positions.
		const events = feed(
			tracker,
			frames(25, (k) => [car(k < 10 ? [0.03 * k, 0.5, 0.25 + 0.03 * k, 0.75] : jitter([0.27, 0.5, 0.52, 0.75], k))]),
		);
		const stationary = events.map((e) => e.updated[0]?.stationary);
		expect(stationary.slice(0, 15).some(Boolean)).toBe(false);
		expect(stationary[24]).toBe(true);
		// However long it stands, its state keeps the last `stationaryWindow` positions only.
		feed(
			tracker,
			frames(200, (k) => [car(jitter([0.27, 0.5, 0.52, 0.75], k))]),
			25,
		);
		expect(tracker.snapshot().tracks[0].centres).toHaveLength(10);
	});

	it("marks a person standing still as stationary, and still counts them by the default rule", () => {
		const tracker = new Tracker();
		feed(
			tracker,
			frames(20, (k) => [person(jitter(standingAt(0.3, 0.8), k)), car(jitter([0.6, 0.5, 0.85, 0.75], k))]),
		);
		const [standing, parked] = tracker.finish().sort((a, b) => a.box[0] - b.box[0]);
		expect(standing.stationary).toBe(true);
		expect(parked.stationary).toBe(true);
		expect(countsStationary("person")).toBe(true);
		expect(countsStationary("car")).toBe(false);
		expect(isNewIncident(standing)).toBe(true);
		expect(isNewIncident(parked)).toBe(false);
		expect(tracker.summary().counts).toEqual({ person: 1, car: 1 });
	});

	it("stops calling a track stationary once it walks away", () => {
		const tracker = new Tracker();
		const events = feed(
			tracker,
			frames(20, (k) => [person(standingAt(k < 10 ? 0.3 : 0.3 + 0.03 * (k - 9), 0.8))]),
		);
		expect(events[9].updated[0].stationary).toBe(true);
		expect(events[19].updated[0].stationary).toBe(false);
	});
});

describe("resuming from a snapshot", () => {
	const door: Zone = {
		id: "door",
		kind: "line",
		points: [
			[0, 0.5],
			[1, 0.5],
		],
		classes: [],
	};
	// Two people cross the door, one stands still on it, a dog comes and goes; with a few missed frames.
	const scene = frames(60, (k) => [
		...(k % 7 === 3 ? [] : [person(standingAt(0.1 + 0.01 * k, 0.2 + 0.01 * k))]),
		person(jitter(standingAt(0.6, 0.5), k), 0.7),
		...(k > 20 && k < 45 ? [person(standingAt(0.9 - 0.01 * k, 0.8 - 0.01 * k), 0.55)] : []),
		...(k > 10 && k < 30 ? [dog([0.3, 0.6, 0.4, 0.7], 0.4 + 0.3 * (k % 2))] : []),
	]);

	it("gives the same tracks, events and counts as one tracker fed every frame", () => {
		const whole = new Tracker([door]);
		const wholeEvents = feed(whole, scene);
		let resumed = new Tracker([door]);
		const resumedEvents: TrackerEvents[] = [];
		for (let start = 0; start < scene.length; start += 10) {
			resumedEvents.push(...feed(resumed, scene.slice(start, start + 10), start));
			// Through JSON, as the database stores it.
			resumed = Tracker.restore(JSON.parse(JSON.stringify(resumed.snapshot())), [door]);
		}
		expect(resumedEvents).toEqual(wholeEvents);
		expect(resumed.summary()).toEqual(whole.summary());
		expect(resumed.finish()).toEqual(whole.finish());
	});

	it("still refuses a frame older than the last one fed before the snapshot", () => {
		const tracker = new Tracker();
		feed(tracker, scene.slice(0, 5));
		expect(() => Tracker.restore(tracker.snapshot()).update({ index: 4, time: 0.8 }, [])).toThrow(RangeError);
	});
});

describe("a track's path", () => {
	// 1000 frames (200 s) walking a slow loop: the path must thin out 4 times and still look like the walk.
	const walk = (k: number): Detection[] => [person(standingAt(0.5 + 0.3 * Math.cos(k / 100), 0.6 + 0.2 * Math.sin(k / 100)))];
	const anchorAt = (k: number) => {
		const box = walk(k)[0].box;
		return [k / FPS, (box[0] + box[2]) / 2, box[3]];
	};
	const gaps = (path: readonly (readonly number[])[]) => path.slice(1).map((p, i) => Math.round((p[0] - path[i][0]) * FPS));

	it("keeps at most 64 evenly spaced points, from the first observation to the latest", () => {
		const tracker = new Tracker();
		const events = feed(tracker, frames(1000, walk));
		for (const [k, e] of events.entries())
			for (const t of e.updated) {
				expect(t.path.length).toBeLessThanOrEqual(64);
				expect(t.path[t.path.length - 1]).toEqual(anchorAt(k));
			}
		const [track] = tracker.finish();
		expect(track.path[0]).toEqual(anchorAt(0));
		expect(track.path[track.path.length - 1]).toEqual(anchorAt(999));
		expect(track.path.length).toBeGreaterThan(32);
		// 1000 observations fill 64 points of 16: 0, 16, ... 992, then the latest (999).
		const spacing = gaps(track.path);
		expect(new Set(spacing.slice(0, -1))).toEqual(new Set([16]));
		expect(spacing[spacing.length - 1]).toBeLessThanOrEqual(16);
	});

	it("joins the points either side of frames where the object was missed", () => {
		const tracker = new Tracker();
		feed(
			tracker,
			frames(20, (k) => (k >= 8 && k < 12 ? [] : walk(k))),
		);
		const [track] = tracker.finish();
		expect(track.path.map((p) => Math.round(p[0] * FPS))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 16, 17, 18, 19]);
	});

	it("hands out tracks that are the caller's own: changing one changes nothing in the tracker", () => {
		const zones: Zone[] = [
			{
				id: "hall",
				kind: "polygon",
				points: [
					[0, 0],
					[1, 0],
					[1, 1],
					[0, 1],
				],
				classes: [],
			},
			{
				id: "door",
				kind: "line",
				points: [
					[0, 0.7],
					[1, 0.7],
				],
				classes: [],
			},
		];
		const [mine, untouched] = [new Tracker(zones), new Tracker(zones)];
		feed(untouched, frames(200, walk));
		for (const e of feed(mine, frames(200, walk)))
			for (const t of e.updated) {
				t.box[0] = t.bestBox[0] = t.bestFrame.time = -1;
				t.zonesEntered.push("nowhere");
				for (const c of Object.values(t.lineCrossings)) c.count = -1;
				t.path.length = 0;
			}
		const [track] = mine.finish();
		expect(track).toEqual(untouched.finish()[0]);
		expect(track).toMatchObject({ zonesEntered: ["hall"], lineCrossings: { door: { count: 1 } } });
	});

	it("leaves a path handed out earlier as it was", () => {
		const tracker = new Tracker();
		const events = feed(tracker, frames(200, walk));
		const early = events[63].updated[0];
		expect(early.path).toHaveLength(64);
		expect(early.path[63]).toEqual(anchorAt(63));
		expect(events[64].updated[0].path).toHaveLength(33);
	});

	it("ends the same after snapshots and restores as without them", () => {
		const whole = new Tracker();
		feed(whole, frames(1000, walk));
		let resumed = new Tracker();
		// Segments of 7 frames, so snapshots fall between points kept and points about to be replaced.
		for (let start = 0; start < 1000; start += 7) {
			feed(
				resumed,
				frames(Math.min(7, 1000 - start), (k) => walk(start + k)),
				start,
			);
			resumed = Tracker.restore(JSON.parse(JSON.stringify(resumed.snapshot())));
		}
		expect(resumed.finish()).toEqual(whole.finish());
	});

	it("restores a snapshot taken before tracks had a path: the path starts where the track stood", () => {
		const tracker = new Tracker();
		feed(tracker, frames(100, walk));
		const old = JSON.parse(JSON.stringify(tracker.snapshot()));
		for (const t of old.tracks) {
			delete t.track.path;
			delete t.pathStride;
		}
		const restored = Tracker.restore(old);
		feed(
			restored,
			frames(200, (k) => walk(100 + k)),
			100,
		);
		const [track] = restored.finish();
		expect(track.path[0]).toEqual(anchorAt(99));
		expect(track.path[track.path.length - 1]).toEqual(anchorAt(299));
		expect(track.path.length).toBeLessThanOrEqual(64);
		expect(track).toMatchObject({ firstFrame: 0, lastFrame: 299, hits: 300 });
	});
});

describe("a live camera's next segment going on from the last", () => {
	const walking = (k: number) => [person([0.05 + 0.04 * k, 0.3, 0.15 + 0.04 * k, 0.6])];

	it("keeps a person who walks across the cut as one track, counted once, with times before the cut negative", () => {
		const first = new Tracker();
		const before = feed(first, frames(10, walking));
		const id = [...ids(before, "person")][0];
		expect(first.summary().counts).toEqual({ person: 1 });
		// The next segment starts 2 s (10 frames) after the first one did.
		const next = Tracker.restore(continueSnapshot(first.snapshot(), 10, 2));
		const after = feed(
			next,
			frames(5, (k) => walking(10 + k)),
		);
		expect(ids(after, "person")).toEqual(new Set([id]));
		expect(after.flatMap((e) => e.confirmed)).toEqual([]);
		expect(next.summary().counts).toEqual({});
		const [track] = next.finish();
		expect(track).toMatchObject({ id, firstFrame: -10, lastFrame: 4, firstTime: -2, hits: 15 });
		expect(track.path[0][0]).toBeCloseTo(-2);
		expect(track.path[track.path.length - 1][0]).toBeCloseTo(4 / FPS);
	});

	it("gives new objects of the next segment new ids, after the carried ones", () => {
		const first = new Tracker();
		const id = [...ids(feed(first, frames(10, walking)), "person")][0];
		const next = Tracker.restore(continueSnapshot(first.snapshot(), 10, 2));
		const events = feed(
			next,
			frames(5, (k) => [...walking(10 + k), dog([0.6, 0.7, 0.7, 0.9])]),
		);
		expect([...ids(events, "dog")][0]).toBeGreaterThan(id);
		expect(next.summary().counts).toEqual({ dog: 1 });
	});
});

describe("someone hidden behind another person for about a second", () => {
	// P walks right behind Q, who walks left in front. While they overlap (frames 10-14, a second at 5 fps) only Q
	// is detected, and P waits for Q to pass: P comes out barely further on than where it went in.
	const P = (k: number) => 0.2 + 0.02 * Math.min(k, 9) + (k >= 15 ? 0.02 * (k - 14) : 0);
	const Q = (k: number) => 0.72 - 0.02 * k;
	const hidden = (k: number) => k >= 10 && k <= 14;
	const scene = (pScore: (k: number) => number = () => 0.9) =>
		frames(25, (k) => [...(hidden(k) ? [] : [person(standingAt(P(k), 0.5, 0.07, 0.25), pScore(k))]), person(standingAt(Q(k), 0.6, 0.09, 0.3))]);
	const idAt = (e: TrackerEvents, x: number) => e.updated.find((t) => Math.abs((t.box[0] + t.box[2]) / 2 - x) < 1e-9)?.id;

	it("keeps both ids: the lost track takes the detection nobody claimed where it vanished", () => {
		const events = feed(new Tracker(), scene());
		const p = idAt(events[9], P(9));
		const q = idAt(events[9], Q(9));
		expect(idAt(events[15], P(15))).toBe(p);
		expect(idAt(events[24], P(24))).toBe(p);
		expect(idAt(events[24], Q(24))).toBe(q);
		expect(ids(events, "person")).toEqual(new Set([p, q]));

		// The prediction as it was (motion kept up while unseen, no third pass) ran on past Q: a third person.
		const predictionOnly = new Tracker([], { recoveryReach: 0, lostVelocityDecay: 1 });
		feed(predictionOnly, scene());
		expect(predictionOnly.summary().counts).toEqual({ person: 3 });
	});

	it("takes back a low-score box of someone still half hidden, but not a fragment scoring lower still", () => {
		// P comes out with a 0.35 box (half hidden) for two frames before the detector is sure again.
		const halfHidden = feed(
			new Tracker(),
			scene((k) => (k === 15 || k === 16 ? 0.35 : 0.9)),
		);
		const p = idAt(halfHidden[9], P(9));
		expect(idAt(halfHidden[15], P(15))).toBe(p);
		expect(ids(halfHidden, "person").size).toBe(2);
		const before = feed(
			new Tracker([], { recoveryReach: 0, lostVelocityDecay: 1 }),
			scene((k) => (k === 15 || k === 16 ? 0.35 : 0.9)),
		);
		expect(idAt(before[15], P(15))).toBeUndefined();

		// A 0.15 box there (a head over a sign, a bag) does not keep P's track: P is found again at frame 17, from
		// the sure box, and the weak one never became the track's box.
		const fragment = feed(
			new Tracker(),
			scene((k) => (k === 15 || k === 16 ? 0.15 : 0.9)),
		);
		expect(idAt(fragment[15], P(15))).toBeUndefined();
		expect(idAt(fragment[17], P(17))).toBe(idAt(fragment[9], P(9)));
	});

	it("gives the same tracks after a snapshot taken while P is hidden as one tracker fed every frame", () => {
		const whole = new Tracker();
		const wholeEvents = feed(whole, scene());
		const first = new Tracker();
		const events = feed(first, scene().slice(0, 12));
		const resumed = Tracker.restore(JSON.parse(JSON.stringify(first.snapshot())));
		events.push(...feed(resumed, scene().slice(12), 12));
		expect(events).toEqual(wholeEvents);
		expect(resumed.summary()).toEqual(whole.summary());
		expect(resumed.finish()).toEqual(whole.finish());
	});
});

describe("someone at the edge of the view when the camera's first frames come in", () => {
	// Walking out to the right: the box already touches the edge and is gone after two frames.
	const walkingOut = (k: number) => person([0.93 + 0.03 * k, 0.4, 1, 0.7]);
	const empty = frames(8, () => []);

	it("counts a person seen only in the first two frames, at the edge", () => {
		const tracker = new Tracker();
		const events = feed(tracker, [[walkingOut(0)], [walkingOut(1)], ...empty]);
		expect(events[1].confirmed).toEqual([expect.objectContaining({ hits: 2, firstFrame: 0, confirmed: true })]);
		expect(tracker.summary().counts).toEqual({ person: 1 });
		expect(tracker.finish()).toHaveLength(1);
	});

	it("still never counts a single frame at the edge, nor two frames in the middle of the view", () => {
		const once = new Tracker();
		feed(once, [[walkingOut(0)], ...empty]);
		expect(once.summary().counts).toEqual({});

		const middle = new Tracker();
		feed(middle, [[person([0.5, 0.4, 0.57, 0.7])], [person([0.52, 0.4, 0.59, 0.7])], ...empty]);
		expect(middle.summary().counts).toEqual({});
	});

	it("needs the full minHits later on: two frames at the edge mid-clip, or after a missed frame, are not enough", () => {
		const later = new Tracker();
		feed(later, [[], [], [walkingOut(0)], [walkingOut(1)], ...empty]);
		expect(later.summary().counts).toEqual({});

		const gap = new Tracker();
		feed(gap, [[walkingOut(0)], [], [walkingOut(1)], ...empty]);
		expect(gap.summary().counts).toEqual({});

		// A live camera's next segment goes on from the last one: its first frame is not the camera's first.
		const previous = new Tracker();
		feed(
			previous,
			frames(10, () => []),
		);
		const next = Tracker.restore(continueSnapshot(previous.snapshot(), 10, 2));
		feed(next, [[walkingOut(0)], [walkingOut(1)], ...empty]);
		expect(next.summary().counts).toEqual({});
	});

	it("counts them the same when the tracker is saved and restored between the two frames", () => {
		const first = new Tracker();
		feed(first, [[walkingOut(0)]]);
		const restored = Tracker.restore(JSON.parse(JSON.stringify(first.snapshot())));
		const events = feed(restored, [[walkingOut(1)], ...empty], 1);
		expect(events[0].confirmed).toHaveLength(1);
		expect(restored.summary().counts).toEqual({ person: 1 });

		// A snapshot from before the rule has no flag: its tracks wait for minHits as they always did.
		const old = JSON.parse(JSON.stringify(first.snapshot()));
		for (const t of old.tracks) delete t.seenSinceStart;
		const fromOld = Tracker.restore(old);
		feed(fromOld, [[walkingOut(1)], ...empty], 1);
		expect(fromOld.summary().counts).toEqual({});
	});
});
