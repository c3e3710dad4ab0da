/**
 * Multi-object tracker for one camera: ByteTrack-style two-pass IoU association, a third pass that finds lost
 * tracks again after an occlusion, births after a few hits (fewer at the edge of the view when the camera's first
 * frames catch someone walking out), zone entries and line crossings by the box's anchor point, a stationary flag,
 * and a per-camera memory of stationary objects that carries from one clip to the next. No broker in here:
 * services feed it frames and act on its events.
 */
import { pointInPolygon, segmentsIntersect, type Point } from "./geometry";
import { iou } from "./nms";
import type { Box, Detection } from "./types";

export interface Zone {
	id: string;
	kind: "polygon" | "line";
	points: Point[];
	/** Classes the zone watches; empty = every class. */
	classes: string[];
}

export interface TrackerOptions {
	/** Detections at or above this score are matched first and can start tracks. */
	highThreshold: number;
	/** Detections from here up to highThreshold only keep existing tracks alive (ByteTrack's second pass); below, noise. */
	lowThreshold: number;
	/** Least IoU between a track's predicted box and a detection for them to be the same object. */
	minIou: number;
	/** Matches before a track is confirmed, so a single-frame false positive never becomes a track. */
	minHits: number;
	/** Consecutive frames without a match before a confirmed track ends; bridges occlusions and detector misses. */
	maxMisses: number;
	/** Consecutive misses before a tentative track is dropped: a real object seen once is seen again straight away. */
	maxTentativeMisses: number;
	/** Most the box centre may stray from its mean centre (fraction of the frame) for the track to be stationary. */
	stationaryThreshold: number;
	/** Matches before a track can be called stationary: fewer cannot tell standing still from a slow first step. */
	stationaryMinHits: number;
	/**
	 * Latest matches that judge stillness: a car that drove in and parked becomes stationary once this many of its
	 * positions agree, and a track's state stays the same size however long it lives (30 s at 5 fps).
	 */
	stationaryWindow: number;
	/** Weight of the newest motion in the velocity estimate (0..1): higher follows turns sooner, lower smooths jitter. */
	velocitySmoothing: number;
	/**
	 * How much of its motion a track keeps for each further frame it goes unseen (0..1): someone hidden behind
	 * another person may have stopped or turned, so the prediction slows down rather than running on.
	 */
	lostVelocityDecay: number;
	/**
	 * How far from where it was (or was heading) a lost track may be found again, in its box heights per frame
	 * since it was last seen: a brisk walk is about 0.15 at 5 fps, and people hidden behind others also change pace.
	 */
	recoveryReach: number;
	/** The most that reach grows to, in box heights, however long the track has been lost. */
	recoveryMaxReach: number;
	/**
	 * Matches that confirm a track at the edge of the view in the first frames a camera sends (the first clip, or
	 * the first segment of a live chain): someone walking out at the start is only seen a moment, and there is no
	 * earlier frame to make up the hits. Never 1: a single frame stays noise.
	 */
	edgeMinHits: number;
	/** How close to the frame's border (fraction of the frame) a box counts as touching the edge of the view. */
	edgeMargin: number;
}

export const defaultTrackerOptions: TrackerOptions = {
	highThreshold: 0.5,
	lowThreshold: 0.1,
	minIou: 0.3,
	minHits: 3,
	maxMisses: 15,
	maxTentativeMisses: 2,
	stationaryThreshold: 0.02,
	stationaryMinHits: 5,
	stationaryWindow: 150,
	velocitySmoothing: 0.5,
	lostVelocityDecay: 0.7,
	recoveryReach: 0.3,
	recoveryMaxReach: 1.5,
	edgeMinHits: 2,
	edgeMargin: 0.01,
};

/** A frame as the tracker sees it: its index in the clip and its time in seconds from the clip's start. */
export interface FrameRef {
	index: number;
	time: number;
}

/**
 * Crossings of one line zone by one track (or by all tracks, in the summary). Forward (+1) means the anchor went
 * to the right-hand side of the line looking from its first point towards its last: for a line drawn left to
 * right, that is moving down the image (y grows downwards).
 */
export interface LineCrossingCount {
	count: number;
	forward: number;
	backward: number;
}

export interface LineCrossing extends LineCrossingCount {
	/** Sign of the latest crossing. */
	direction: 1 | -1;
}

/** Most points a track's path holds, however long the track lives: enough to draw, small enough to copy every frame. */
export const PATH_POINTS = 64;

/** One point of a track's path: seconds from the clip's start, and the anchor's x and y (0..1 of the frame). */
export type PathPoint = readonly [time: number, x: number, y: number];

/** What callers see of a track: a plain copy, safe to keep, serialise or compare between frames. */
export interface Track {
	id: number;
	classId: number;
	className: string;
	firstFrame: number;
	lastFrame: number;
	firstTime: number;
	lastTime: number;
	/** Frames in which a detection was matched to the track (its birth included). */
	hits: number;
	/** Box of the latest matched detection. */
	box: Box;
	/** Frame of the highest-scoring detection: the one to show as a thumbnail. */
	bestFrame: FrameRef;
	bestBox: Box;
	maxScore: number;
	meanScore: number;
	confirmed: boolean;
	/** The box centre has stayed put over the track's life so far; turns off again if the object moves away. */
	stationary: boolean;
	/** Polygon zones the anchor point (bottom centre of the box) has been inside, in order of first entry. */
	zonesEntered: string[];
	/** Per line zone id, for the lines the anchor's path has crossed. */
	lineCrossings: Record<string, LineCrossing>;
	/**
	 * Where the anchor went, from the first observation to the latest: at most PATH_POINTS points, evenly spaced in
	 * observations (a stretch where the object was missed is a straight line), the last one always the latest.
	 */
	path: PathPoint[];
	/** `ref` of the detection that started the track and of the latest one matched, when detections carry one. */
	firstRef?: string;
	lastRef?: string;
}

/** What one frame changed, so a caller can raise an alert as soon as a track satisfies a rule. */
export interface TrackerEvents {
	/** Tracks confirmed in this frame. */
	confirmed: Track[];
	/** Confirmed tracks matched in this frame (newly confirmed ones included). */
	updated: Track[];
	/** Confirmed tracks that ended in this frame; tentative ones vanish silently (they were noise). */
	ended: Track[];
}

export interface TrackerSummary {
	/** Confirmed tracks per class: each object once, not once per frame. */
	counts: Record<string, number>;
	/** Crossings by confirmed tracks, per line zone id (every line zone listed, zero when nobody crossed). */
	lineCrossings: Record<string, LineCrossingCount>;
}

interface TrackState {
	/** The public view, kept up to date in place; callers only ever get copies. */
	track: Track;
	/** Box change per frame index, for the constant-velocity prediction. */
	velocity: Box;
	misses: number;
	scoreSum: number;
	centres: Point[];
	anchor: Point;
	/** Per line zone: the side the anchor came from when it stopped exactly on the line, decided when it steps off. */
	onLineFrom: Map<string, number>;
	/** Observations per path point: doubles whenever the path fills up, so its points stay evenly spaced. */
	pathStride: number;
	/** Matched in every frame since the camera's first one: what lets a track at the edge confirm early. */
	seenSinceStart: boolean;
}

type Match = [TrackState, Detection];

/**
 * Everything a tracker has learned so far, as a plain JSON value: store it after each segment of a clip and
 * resume from it with `Tracker.restore`, so each segment costs the same however long the clip already is.
 */
export interface TrackerSnapshot {
	nextId: number;
	lastIndex: number | null;
	counts: Record<string, number>;
	lineTotals: Record<string, LineCrossingCount>;
	tracks: {
		/** `path` is absent from snapshots taken before tracks kept one. */
		track: Omit<Track, "path"> & Partial<Pick<Track, "path">>;
		velocity: Box;
		misses: number;
		scoreSum: number;
		centres: Point[];
		anchor: Point;
		onLineFrom: [string, number][];
		/** Absent with `path`. */
		pathStride?: number;
		/** Absent from snapshots taken before the early confirmation at the edge (false then). */
		seenSinceStart?: boolean;
	}[];
}

/**
 * The tracker state at the end of one clip, as the start of the next clip of the same camera (a live camera's next
 * segment): the tracks still open go on, with their frames and times moved back so that the next clip's frame 0 and
 * time 0 come `frames` frames and `seconds` seconds after the first clip's. Counts and line totals start from zero:
 * each clip counts the objects it confirms, so a person crossing from one segment into the next is counted once.
 */
export function continueSnapshot(snapshot: TrackerSnapshot, frames: number, seconds: number): TrackerSnapshot {
	const s = structuredClone(snapshot);
	const frame = (f: FrameRef) => ({ index: f.index - frames, time: f.time - seconds });
	return {
		nextId: s.nextId,
		lastIndex: s.lastIndex === null ? null : s.lastIndex - frames,
		counts: {},
		lineTotals: {},
		tracks: s.tracks.map((t) => ({
			...t,
			track: {
				...t.track,
				firstFrame: t.track.firstFrame - frames,
				lastFrame: t.track.lastFrame - frames,
				firstTime: t.track.firstTime - seconds,
				lastTime: t.track.lastTime - seconds,
				bestFrame: frame(t.track.bestFrame),
				...(t.track.path && { path: t.track.path.map(([time, x, y]) => [time - seconds, x, y] as PathPoint) }),
			},
		})),
	};
}

export class Tracker {
	readonly options: TrackerOptions;
	private readonly polygons: Zone[];
	private readonly lines: Zone[];
	private tracks: TrackState[] = [];
	private nextId = 1;
	private lastIndex: number | undefined;
	private readonly counts: Record<string, number> = {};
	private readonly lineTotals: Record<string, LineCrossingCount> = {};

	constructor(zones: Zone[] = [], options: Partial<TrackerOptions> = {}) {
		this.options = { ...defaultTrackerOptions, ...options };
		const o = this.options;
		if (!(o.lowThreshold <= o.highThreshold)) throw new RangeError("lowThreshold must not exceed highThreshold");
		if (!(o.minHits >= 1 && o.maxMisses >= 1 && o.maxTentativeMisses >= 1))
			throw new RangeError("minHits, maxMisses and maxTentativeMisses must be at least 1");
		this.polygons = zones.filter((z) => z.kind === "polygon");
		this.lines = zones.filter((z) => z.kind === "line");
		for (const line of this.lines) this.lineTotals[line.id] = { count: 0, forward: 0, backward: 0 };
	}

	/** Feeds one frame's detections; call it for every analysed frame, with an empty list when nothing was found. */
	update(frame: FrameRef, detections: Detection[]): TrackerEvents {
		// Velocities are per frame index, and a track's age is counted in calls: both need frames in order.
		if (this.lastIndex !== undefined && !(frame.index > this.lastIndex)) throw new RangeError(`frame ${frame.index} arrived after frame ${this.lastIndex}`);
		const opening = this.lastIndex === undefined;
		this.lastIndex = frame.index;
		const o = this.options;
		const high = detections.filter((d) => d.score >= o.highThreshold);
		const low = detections.filter((d) => d.score >= o.lowThreshold && d.score < o.highThreshold);
		const predicted = new Map(this.tracks.map((s) => [s, predict(s, frame.index, o.lostVelocityDecay)]));

		// Confirmed tracks pick first, so a tentative duplicate cannot take an established object's detection.
		const first = associate(
			this.tracks.filter((s) => s.track.confirmed),
			high,
			predicted,
			o.minIou,
		);
		const tentative = associate(
			this.tracks.filter((s) => !s.track.confirmed),
			first.detections,
			predicted,
			o.minIou,
		);
		// ByteTrack's point: a partly hidden object scores low but is still there, so it keeps its track alive.
		// Only confirmed tracks take part, so a low-score detection never helps noise become a track.
		const second = associate(first.tracks, low, predicted, o.minIou);
		// Someone who was hidden comes back where the prediction no longer overlaps them: a lost track takes the
		// nearest detection nobody claimed, within a reach that grows while it is lost. Sure detections first; a
		// low-score one (still half hidden) only if no sure one is in reach, and only from the upper half of the
		// low band: below that, a box where someone vanished is more often a fragment (a head over a sign, a bag).
		const lost = second.tracks.filter((s) => frame.index - s.track.lastFrame > 1);
		const foundSure = recover(lost, tentative.detections, predicted, frame.index, o);
		const halfHidden = (o.lowThreshold + o.highThreshold) / 2;
		const foundUnsure = recover(
			foundSure.tracks,
			foundSure.tracks.length ? second.detections.filter((d) => d.score >= halfHidden) : [],
			predicted,
			frame.index,
			o,
		);

		const events: TrackerEvents = { confirmed: [], updated: [], ended: [] };
		const matches = [...first.matches, ...tentative.matches, ...second.matches, ...foundSure.matches, ...foundUnsure.matches];
		for (const [state, detection] of matches) {
			const wasConfirmed = state.track.confirmed;
			this.observe(state, detection, frame);
			if (!state.track.confirmed) continue;
			if (!wasConfirmed) events.confirmed.push(copy(state.track));
			events.updated.push(copy(state.track));
		}
		const missed = new Set([...second.tracks, ...tentative.tracks]);
		for (const [state] of [...foundSure.matches, ...foundUnsure.matches]) missed.delete(state);
		this.tracks = this.tracks.filter((state) => {
			if (!missed.has(state)) return true;
			state.misses++;
			state.seenSinceStart = false;
			const limit = state.track.confirmed ? o.maxMisses : o.maxTentativeMisses;
			if (state.misses < limit) return true;
			if (state.track.confirmed) events.ended.push(copy(state.track));
			return false;
		});
		for (const detection of foundSure.detections) {
			const state = this.birth(detection, frame, opening);
			if (!state.track.confirmed) continue;
			// Only with minHits = 1: confirmed at birth.
			events.confirmed.push(copy(state.track));
			events.updated.push(copy(state.track));
		}
		return events;
	}

	/** Ends every track (the clip is over); returns the confirmed ones. The summary stays available. */
	finish(): Track[] {
		const ended = this.tracks.filter((s) => s.track.confirmed).map((s) => copy(s.track));
		this.tracks = [];
		return ended;
	}

	/** Per-class counts of confirmed tracks and line-crossing totals, over everything fed so far. */
	summary(): TrackerSummary {
		return { counts: { ...this.counts }, lineCrossings: structuredClone(this.lineTotals) };
	}

	/** The tracker's state, to resume later (on any node) exactly where it stopped. */
	snapshot(): TrackerSnapshot {
		return structuredClone({
			nextId: this.nextId,
			lastIndex: this.lastIndex ?? null,
			counts: this.counts,
			lineTotals: this.lineTotals,
			tracks: this.tracks.map((s) => ({
				track: s.track,
				velocity: s.velocity,
				misses: s.misses,
				scoreSum: s.scoreSum,
				centres: s.centres,
				anchor: s.anchor,
				onLineFrom: [...s.onLineFrom],
				pathStride: s.pathStride,
				seenSinceStart: s.seenSinceStart,
			})),
		});
	}

	/** A tracker that goes on from a snapshot. Zones are today's: a line drawn since then counts from now on. */
	static restore(snapshot: TrackerSnapshot, zones: Zone[] = [], options: Partial<TrackerOptions> = {}): Tracker {
		const tracker = new Tracker(zones, options);
		const s = structuredClone(snapshot);
		tracker.nextId = s.nextId;
		tracker.lastIndex = s.lastIndex ?? undefined;
		Object.assign(tracker.counts, s.counts);
		for (const [id, total] of Object.entries(s.lineTotals)) if (tracker.lineTotals[id]) tracker.lineTotals[id] = total;
		tracker.tracks = s.tracks.map((t) => ({
			...t,
			// A track from an older snapshot starts its path where it stands now.
			track: { ...t.track, path: t.track.path ?? [[t.track.lastTime, t.anchor[0], t.anchor[1]]] },
			onLineFrom: new Map(t.onLineFrom),
			pathStride: t.pathStride ?? 1,
			seenSinceStart: t.seenSinceStart ?? false,
		}));
		return tracker;
	}

	private birth(detection: Detection, frame: FrameRef, fromStart: boolean): TrackState {
		const box = copyBox(detection.box);
		const state: TrackState = {
			track: {
				id: this.nextId++,
				classId: detection.classId,
				className: detection.className,
				firstFrame: frame.index,
				lastFrame: frame.index,
				firstTime: frame.time,
				lastTime: frame.time,
				hits: 0,
				box,
				bestFrame: { index: frame.index, time: frame.time },
				bestBox: copyBox(box),
				maxScore: detection.score,
				meanScore: 0,
				confirmed: false,
				stationary: false,
				zonesEntered: [],
				lineCrossings: {},
				path: [],
			},
			velocity: [0, 0, 0, 0],
			misses: 0,
			scoreSum: 0,
			centres: [],
			anchor: anchorOf(box),
			onLineFrom: new Map(),
			pathStride: 1,
			seenSinceStart: fromStart,
		};
		this.tracks.push(state);
		this.observe(state, detection, frame);
		return state;
	}

	/**
	 * A tentative track that has been in view since the camera's first frame, matched in every frame, and now
	 * touches the edge of the view: someone walking out as the recording starts, who will not stay for minHits.
	 */
	private walksOutAtStart(state: TrackState): boolean {
		const o = this.options;
		return state.seenSinceStart && state.track.hits >= Math.max(2, o.edgeMinHits) && touchesEdge(state.track.box, o.edgeMargin);
	}

	/** Records a matched detection: motion, score statistics, zones, lines, stillness and confirmation. */
	private observe(state: TrackState, detection: Detection, frame: FrameRef): void {
		const t = state.track;
		const o = this.options;
		const box = copyBox(detection.box);
		if (t.hits > 0) {
			const gap = frame.index - t.lastFrame;
			const motion = box.map((v, i) => (v - t.box[i]) / gap) as Box;
			const a = t.hits === 1 ? 1 : o.velocitySmoothing;
			state.velocity = state.velocity.map((v, i) => a * motion[i] + (1 - a) * v) as Box;
		}
		const from = state.anchor;
		const to = anchorOf(box);
		t.box = box;
		t.lastFrame = frame.index;
		t.lastTime = frame.time;
		t.hits++;
		state.misses = 0;
		state.scoreSum += detection.score;
		t.meanScore = state.scoreSum / t.hits;
		if (detection.ref !== undefined) {
			t.firstRef ??= detection.ref;
			t.lastRef = detection.ref;
		}
		if (detection.score > t.maxScore) {
			t.maxScore = detection.score;
			t.bestFrame = { index: frame.index, time: frame.time };
			t.bestBox = copyBox(box);
		}
		state.anchor = to;
		extendPath(state, frame.time, to);
		state.centres.push(centreOf(box));
		if (state.centres.length > o.stationaryWindow) state.centres.shift();

		for (const zone of this.polygons) {
			if (watches(zone, t.className) && !t.zonesEntered.includes(zone.id) && pointInPolygon(to, zone.points)) t.zonesEntered.push(zone.id);
		}
		if (t.hits > 1) {
			for (const zone of this.lines) {
				if (!watches(zone, t.className)) continue;
				const { direction, onLineFrom } = crossLine(zone.points, from, to, state.onLineFrom.get(zone.id));
				if (onLineFrom === undefined) state.onLineFrom.delete(zone.id);
				else state.onLineFrom.set(zone.id, onLineFrom);
				if (direction === 0) continue;
				const c = (t.lineCrossings[zone.id] ??= { count: 0, forward: 0, backward: 0, direction });
				addCrossing(c, direction);
				c.direction = direction;
				if (t.confirmed) addCrossing(this.lineTotals[zone.id], direction);
			}
		}
		t.stationary = t.hits >= o.stationaryMinHits && maxDisplacement(state.centres) < o.stationaryThreshold;

		if (!t.confirmed && (t.hits >= o.minHits || this.walksOutAtStart(state))) {
			t.confirmed = true;
			this.counts[t.className] = (this.counts[t.className] ?? 0) + 1;
			// Crossings made while still tentative count too: the object was real all along.
			for (const [id, c] of Object.entries(t.lineCrossings)) {
				const total = this.lineTotals[id];
				total.count += c.count;
				total.forward += c.forward;
				total.backward += c.backward;
			}
		}
	}
}

/** Where an object stands on the ground: the bottom centre of its box (feet, wheels). */
export function anchorOf(box: Box): Point {
	return [(box[0] + box[2]) / 2, box[3]];
}

function centreOf(box: Box): Point {
	return [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2];
}

function copyBox(box: Box): Box {
	return [box[0], box[1], box[2], box[3]];
}

/**
 * A caller's copy of a track, made for every updated track in every frame. By hand, as structuredClone was most of
 * a frame's cost: a nested field added to Track must be copied here too. Path points are never changed once
 * written, so copies share them.
 */
function copy(t: Track): Track {
	return {
		...t,
		box: copyBox(t.box),
		bestFrame: { ...t.bestFrame },
		bestBox: copyBox(t.bestBox),
		zonesEntered: [...t.zonesEntered],
		lineCrossings: Object.fromEntries(Object.entries(t.lineCrossings).map(([id, c]) => [id, { ...c }])),
		path: t.path.slice(),
	};
}

/**
 * Adds the latest observation (counted in `hits` already) to the path. Observations numbered 0, stride, 2 * stride...
 * stay; any other one is only kept until the next replaces it. A full path drops every other point and doubles the
 * stride, which keeps the first point and the even spacing.
 */
function extendPath(state: TrackState, time: number, anchor: Point): void {
	const path = state.track.path;
	// The previous observation's number, from 0: off the stride, it was only the latest point and gives way.
	const previous = state.track.hits - 2;
	if (previous >= 0 && previous % state.pathStride !== 0) path.pop();
	if (path.length === PATH_POINTS) {
		for (let i = 0; i < PATH_POINTS / 2; i++) path[i] = path[2 * i];
		path.length = PATH_POINTS / 2;
		state.pathStride *= 2;
	}
	path.push([time, anchor[0], anchor[1]]);
}

function watches(zone: Zone, className: string): boolean {
	return zone.classes.length === 0 || zone.classes.includes(className);
}

/**
 * Constant velocity from the last matched box; enough at analysis frame rates, where a Kalman filter adds little.
 * Past the first unseen frame the motion fades by `decay` a frame: 1 + decay + decay^2 ... frames' worth in all.
 */
function predict(state: TrackState, index: number, decay: number): Box {
	const gap = index - state.track.lastFrame;
	const steps = gap <= 1 || decay === 1 ? gap : (1 - decay ** gap) / (1 - decay);
	const box = state.track.box;
	const v = state.velocity;
	return [box[0] + v[0] * steps, box[1] + v[1] * steps, box[2] + v[2] * steps, box[3] + v[3] * steps];
}

/** Does the box reach the border of the view (within `margin`, a fraction of the frame)? */
function touchesEdge(box: Box, margin: number): boolean {
	return box[0] <= margin || box[1] <= margin || box[2] >= 1 - margin || box[3] >= 1 - margin;
}

/** Most a detection's height may differ from a lost track's (either way) for it to be the same object found again. */
const RECOVERY_SIZE_RATIO = 1.6;

/**
 * The third pass: lost tracks against detections nobody claimed, same class and a like size, nearest first. The
 * distance is from the detection's centre to the predicted centre or to the last seen one, whichever is nearer
 * (the object may have stopped behind what hid it), and it must be within recoveryReach per frame since the track
 * was last seen, up to recoveryMaxReach. Both are in heights of the smaller box: a box that took in part of what
 * hid the object is taller than the object, and must not stretch the reach.
 */
function recover(
	tracks: TrackState[],
	detections: Detection[],
	predicted: Map<TrackState, Box>,
	index: number,
	o: TrackerOptions,
): { matches: Match[]; tracks: TrackState[]; detections: Detection[] } {
	if (!tracks.length || !detections.length) return { matches: [], tracks, detections };
	const pairs: Pair[] = [];
	tracks.forEach((s, t) => {
		const last = s.track.box;
		const height = last[3] - last[1];
		const box = predicted.get(s) ?? last;
		const reach = Math.min(o.recoveryReach * (index - s.track.lastFrame), o.recoveryMaxReach);
		detections.forEach((det, d) => {
			if (det.classId !== s.track.classId) return;
			const found = det.box[3] - det.box[1];
			const ratio = found / height;
			if (!(ratio <= RECOVERY_SIZE_RATIO && ratio >= 1 / RECOVERY_SIZE_RATIO)) return;
			const distance = Math.min(centreDistance(det.box, box), centreDistance(det.box, last)) / Math.min(found, height);
			if (distance <= reach) pairs.push({ t, d, score: -distance });
		});
	});
	return pick(pairs, tracks, detections);
}

function centreDistance(a: Box, b: Box): number {
	return Math.hypot((a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2);
}

/** A candidate match: indexes into the pass's tracks and detections, and how good it is (higher first). */
interface Pair {
	t: number;
	d: number;
	score: number;
}

/**
 * Greedy matching by IoU, same class only, best pairs first. With the few objects a store camera sees, it picks
 * what the Hungarian method would, and it is easy to reason about when it does not.
 */
function associate(
	tracks: TrackState[],
	detections: Detection[],
	predicted: Map<TrackState, Box>,
	minIou: number,
): { matches: Match[]; tracks: TrackState[]; detections: Detection[] } {
	const pairs: Pair[] = [];
	tracks.forEach((s, t) => {
		const box = predicted.get(s) ?? s.track.box;
		detections.forEach((det, d) => {
			if (det.classId !== s.track.classId) return;
			const overlap = iou(box, det.box);
			if (overlap >= minIou) pairs.push({ t, d, score: overlap });
		});
	});
	return pick(pairs, tracks, detections);
}

/** Best pairs first, each track and detection used once; what is left over goes on to the next pass. */
function pick(pairs: Pair[], tracks: TrackState[], detections: Detection[]): { matches: Match[]; tracks: TrackState[]; detections: Detection[] } {
	pairs.sort((x, y) => y.score - x.score);
	const usedTracks = new Set<number>();
	const usedDetections = new Set<number>();
	const matches: Match[] = [];
	for (const p of pairs) {
		if (usedTracks.has(p.t) || usedDetections.has(p.d)) continue;
		usedTracks.add(p.t);
		usedDetections.add(p.d);
		matches.push([tracks[p.t], detections[p.d]]);
	}
	return { matches, tracks: tracks.filter((_, t) => !usedTracks.has(t)), detections: detections.filter((_, d) => !usedDetections.has(d)) };
}

/** Which side of a-b the point p lies on: +1 right (looking from a to b, y down), -1 left, 0 on the line. */
function side(a: Point, b: Point, p: Point): number {
	return Math.sign((b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]));
}

/**
 * Did the anchor's step from `from` to `to` cross the polyline, and which way? An anchor that lands exactly on the
 * line is decided when it steps off (`onLineFrom` remembers where it came from), so touching counts once, or not
 * at all if it steps back.
 */
function crossLine(line: Point[], from: Point, to: Point, onLineFrom: number | undefined): { direction: 0 | 1 | -1; onLineFrom: number | undefined } {
	for (let i = 0; i + 1 < line.length; i++) {
		const a = line[i];
		const b = line[i + 1];
		if (!segmentsIntersect(from, to, a, b)) continue;
		const before = side(a, b, from);
		const after = side(a, b, to);
		if (after === 0) return { direction: 0, onLineFrom: before !== 0 ? before : onLineFrom };
		const origin = before !== 0 ? before : onLineFrom;
		// One crossing per step at most: a step through a vertex touches both segments that meet there.
		return { direction: origin !== undefined && origin !== after ? (after as 1 | -1) : 0, onLineFrom: undefined };
	}
	return { direction: 0, onLineFrom: undefined };
}

function addCrossing(c: LineCrossingCount, direction: 1 | -1): void {
	c.count++;
	if (direction === 1) c.forward++;
	else c.backward++;
}

/** Largest distance of any centre from the mean centre. */
function maxDisplacement(centres: Point[]): number {
	const mx = centres.reduce((s, p) => s + p[0], 0) / centres.length;
	const my = centres.reduce((s, p) => s + p[1], 0) / centres.length;
	return centres.reduce((m, p) => Math.max(m, Math.hypot(p[0] - mx, p[1] - my)), 0);
}

/** Which classes still count while standing still. */
export interface StationaryRule {
	/** Count even when stationary (someone standing still in a store matters). */
	count: string[];
	/** Do not count when stationary (a parked car is not an event). */
	ignore: string[];
	/** For classes in neither list. */
	otherwise: boolean;
}

export const defaultStationaryRule: StationaryRule = {
	count: ["person"],
	ignore: ["bicycle", "car", "motorcycle", "bus", "train", "truck", "boat", "airplane"],
	otherwise: true,
};

/** Does a stationary object of this class still count (alert, people count)? */
export function countsStationary(className: string, rule: StationaryRule = defaultStationaryRule): boolean {
	if (rule.count.includes(className)) return true;
	if (rule.ignore.includes(className)) return false;
	return rule.otherwise;
}

/** Stationary objects a camera has seen, carried from clip to clip. A plain value: store it as JSON with the camera. */
export type StationaryMemory = StationaryEntry[];

export interface StationaryEntry {
	className: string;
	box: Box;
	/** In the unit of the `time` given to rememberStationary (a clock shared by all clips, e.g. epoch seconds). */
	lastSeen: number;
}

export interface StationaryMemoryOptions {
	/** Age after which an entry not seen again is forgotten; a day bridges quiet nights, and a cleared spot is watched again. */
	maxAge: number;
	/** IoU at which a stationary track is the remembered object again (refreshing the entry rather than adding one). */
	iouThreshold: number;
}

export const defaultStationaryMemoryOptions: StationaryMemoryOptions = { maxAge: 24 * 3600, iouThreshold: 0.5 };

/**
 * Adds the confirmed stationary tracks of a clip to the memory (refreshing entries they match) and drops expired
 * entries. Returns a new memory; the one passed in is left alone.
 */
export function rememberStationary(memory: StationaryMemory, tracks: Track[], time: number, options: Partial<StationaryMemoryOptions> = {}): StationaryMemory {
	const { maxAge, iouThreshold } = { ...defaultStationaryMemoryOptions, ...options };
	const kept: StationaryMemory = memory.filter((e) => time - e.lastSeen <= maxAge).map((e) => ({ ...e, box: copyBox(e.box) }));
	for (const track of tracks) {
		if (!track.confirmed || !track.stationary) continue;
		let same: StationaryEntry | undefined;
		let best = iouThreshold;
		for (const e of kept) {
			const overlap = e.className === track.className ? iou(e.box, track.bestBox) : 0;
			if (overlap >= best) [same, best] = [e, overlap];
		}
		if (same) {
			same.box = copyBox(track.bestBox);
			same.lastSeen = Math.max(same.lastSeen, time);
		} else kept.push({ className: track.className, box: copyBox(track.bestBox), lastSeen: time });
	}
	return kept;
}

/**
 * Is this object sitting where an earlier clip already saw a stationary object of the same class (a parked car,
 * a bollard the model takes for a person)? Judges the current box only, so it can answer from the first frames.
 */
export function isKnownStationary(track: Track, memory: StationaryMemory, iouThreshold = defaultStationaryMemoryOptions.iouThreshold): boolean {
	return memory.some((e) => e.className === track.className && iou(e.box, track.box) >= iouThreshold);
}

/**
 * Is this track worth an alert now? Confirmed, not a stationary object of a class the rule ignores, and not an
 * object the camera already knew. A "no" can become a "yes" on a later frame (the object moves off), so ask
 * again on each update.
 */
export function isNewIncident(track: Track, memory: StationaryMemory = [], rule: StationaryRule = defaultStationaryRule): boolean {
	if (!track.confirmed) return false;
	if (track.stationary && !countsStationary(track.className, rule)) return false;
	return !isKnownStationary(track, memory);
}
