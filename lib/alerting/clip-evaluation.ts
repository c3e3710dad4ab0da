/**
 * The durable evaluation of a clip. The clip's tracker resumes from its stored state (`clip_evaluations`), takes
 * the new frames up to the end of the contiguous committed segments, and a track raises an alert the moment it
 * meets a rule, once per track and rule. One transaction, under the clip row's lock (segments committing
 * meanwhile and a second job for the same clip wait), commits the alerts due with their snapshots, the tracks
 * that ended, the new state and, once every segment is in, the summary, the camera's memory and the final
 * status: a crash or a repeated job raises nothing twice and loses nothing. No broker in here: the caller
 * announces the alerts once this returns.
 */
import { And, LessThan, MoreThanOrEqual, type DataSource, type EntityManager } from "typeorm";
import { Alert, AlertRule, Camera, CameraState, Clip, ClipEvaluation, ClipSegment, Detection, Track, Zone } from "../../entities";
import { continueSnapshot, rememberStationary, Tracker, type Track as TrackView, type TrackerSnapshot } from "../vision/tracker";
import { coolingDown, rulesOf } from "./alert-rows";
import { clipSummary, segmentProgress, trackRow } from "./clip-progress";
import { newlyMet } from "./matching";

export interface ClipEvaluationHooks {
	/**
	 * The camera's threshold per class. Called before the transaction opens: the embedded database has one
	 * session, which the transaction holds.
	 */
	learned(cameraId: string): Promise<Map<string, number>>;
	/** Writes the alert's snapshot (the track's best frame, box drawn) and gives its storage key; null if it could not. */
	snapshot(alertId: string, clip: Clip, track: TrackView): Promise<string | null>;
}

export interface ClipOutcome {
	/** The clip as read before the evaluation. */
	clip: Clip;
	/** Alerts committed by this evaluation, in the order they were raised. */
	raised: string[];
	/** The clip's final status if this evaluation finished it, else null. */
	finished: "done" | "failed" | null;
	/** A live segment waiting for the camera's previous segment to be evaluated to its end. */
	waiting: boolean;
}

/**
 * Evaluates what the clip has committed since the last time. Null when the clip (of this generation) or its
 * camera is gone; an outcome with nothing raised when there was nothing new.
 */
export async function evaluateClip(db: DataSource, clipId: string, generation: number, hooks: ClipEvaluationHooks): Promise<ClipOutcome | null> {
	const clip = await db.getRepository(Clip).findOneBy({ id: clipId });
	if (!clip || clip.generation !== generation) return null;
	const camera = await db.getRepository(Camera).findOneBy({ id: clip.cameraId });
	if (!camera) return null;
	const learned = await hooks.learned(camera.id);
	const outcome = await db.transaction(async (tx) => {
		const locked = await tx.findOne(Clip, { where: { id: clipId }, lock: { mode: "pessimistic_write" } });
		if (!locked || locked.generation !== generation) return null;
		return evaluateLocked(tx, locked, camera, learned, hooks);
	});
	return { clip, raised: outcome?.raised ?? [], finished: outcome?.finished ?? null, waiting: outcome?.waiting ?? false };
}

/** The evaluation proper, in the caller's transaction with the clip row locked. Null when there was nothing to do. */
export async function evaluateLocked(
	tx: EntityManager,
	clip: Clip,
	camera: Camera,
	learned: Map<string, number>,
	hooks: Pick<ClipEvaluationHooks, "snapshot">,
) {
	const segments = await tx.find(ClipSegment, { where: { clipId: clip.id }, order: { index: "ASC" } });
	const { committedFrames, allIn, finished, failureReason } = segmentProgress(segments);
	const terminal = clip.status === "done" || clip.status === "failed";
	let state = await tx.findOneBy(ClipEvaluation, { clipId: clip.id });
	if (state && state.generation !== clip.generation) state = null;
	const from = state?.framesEvaluated ?? 0;
	// Nothing new, and either more segments are due or the clip was already finished.
	if (from >= committedFrames && (!allIn || (terminal && clip.summary))) return null;
	const [zones, rules, cameraState, detections] = await Promise.all([
		tx.findBy(Zone, { cameraId: camera.id }),
		rulesOf(tx, camera),
		tx.findOneBy(CameraState, { cameraId: camera.id }),
		tx.find(Detection, {
			where: { clipId: clip.id, frameIndex: And(MoreThanOrEqual(from), LessThan(committedFrames)) },
			order: { frameIndex: "ASC", ordinal: "ASC" },
		}),
	]);
	// A live segment goes on from the camera's previous one, so it waits until that one has been evaluated to its end
	// (whose finishing evaluation queues this one's again).
	let seed: { tracker: TrackerSnapshot; decided: string[] } | null = null;
	if (!state && clip.source === "live") {
		const previous = await previousSegment(tx, clip);
		if (previous && previous.status !== "done" && previous.status !== "failed") return { raised: [], finished: null, waiting: true };
		if (previous) seed = await handoverTo(tx, previous, clip);
	}
	// A clip evaluated from its start: tracks of an earlier generation go.
	if (!state) await tx.delete(Track, { clipId: clip.id });
	const zoneShapes = zones.map((z) => ({ id: z.id, kind: z.kind, points: z.points, classes: z.classes }));
	const tracker = state ? Tracker.restore(state.tracker, zoneShapes) : seed ? Tracker.restore(seed.tracker, zoneShapes) : new Tracker(zoneShapes);
	// A live segment's first frame has its wall-clock time; an upload's is taken as when it arrived.
	const start = (clip.recordedAt ?? clip.createdAt).getTime();
	// The memory as it was before this clip: a clip never hides its own objects from itself.
	const memory = (cameraState?.stationaryMemory ?? []).filter((e) => e.lastSeen < start / 1000);
	const byFrame = new Map<number, typeof detections>();
	for (const d of detections) (byFrame.get(d.frameIndex) ?? byFrame.set(d.frameIndex, []).get(d.frameIndex)!).push(d);
	const decided = new Set(state?.decided ?? seed?.decided ?? []);
	const ended: TrackView[] = [];
	const raised: string[] = [];
	for (let frame = from; frame < committedFrames; frame++) {
		const found = (byFrame.get(frame) ?? []).map((d) => ({
			classId: d.classId,
			className: d.className,
			score: d.score,
			box: [d.x1, d.y1, d.x2, d.y2] as [number, number, number, number],
		}));
		const events = tracker.update({ index: frame, time: frame / clip.sampleFps }, found);
		ended.push(...events.ended);
		for (const track of events.updated) {
			const at = new Date(start + track.firstTime * 1000);
			for (const rule of newlyMet(camera, track, at, rules, memory, decided, String(track.id), learned)) {
				const alertId = await insertClipAlert(tx, clip, camera, track, rule, at);
				if (!alertId) continue;
				// Written with the alert: whoever reads it (or a `done` clip) finds its picture. A rolled-back
				// evaluation leaves only an unreferenced file behind.
				const snapshotKey = await hooks.snapshot(alertId, clip, track);
				if (snapshotKey) await tx.update(Alert, { id: alertId }, { snapshotKey });
				raised.push(alertId);
			}
		}
	}
	// Before its open tracks are closed: what the camera's next live segment goes on from.
	const handover = finished && clip.source === "live" ? { tracker: tracker.snapshot(), decided: [...decided], frames: committedFrames } : null;
	if (finished) ended.push(...tracker.finish());
	// A track carried over from the previous segment (it began before frame 0) was stored there, at the cut.
	const own = ended.filter((t) => t.firstFrame >= 0);
	if (own.length)
		await tx.insert(
			Track,
			own.map((t) => trackRow(clip.id, t)),
		);
	await tx.upsert(
		ClipEvaluation,
		{
			clipId: clip.id,
			generation: clip.generation,
			framesEvaluated: Math.max(from, committedFrames),
			tracker: tracker.snapshot(),
			decided: [...decided],
			handover,
		},
		["clipId"],
	);
	if (finished) {
		await tx.update(Clip, { id: clip.id }, { status: finished, failureReason, finishedAt: new Date(), summary: clipSummary(tracker.summary()) });
		const stored = await tx.find(Track, { where: { clipId: clip.id } });
		const remembered = rememberStationary(
			memory,
			stored.map((t) => ({ confirmed: true, stationary: t.stationary, className: t.className, bestBox: t.bestBox }) as TrackView),
			start / 1000,
		);
		await tx.upsert(CameraState, { cameraId: camera.id, stationaryMemory: remembered }, ["cameraId"]);
	}
	return { raised, finished, waiting: false };
}

/** Longest pause between a live segment's end and the next one's start that still counts as the same stream. */
const MAX_CUT_GAP_MS = 2000;

/** The camera's live segment just before this one, if the stream ran on without a break between them. */
async function previousSegment(tx: EntityManager, clip: Clip): Promise<Clip | null> {
	if (!clip.recordedAt) return null;
	const previous = await tx.findOne(Clip, {
		where: { cameraId: clip.cameraId, source: "live", recordedAt: LessThan(clip.recordedAt) },
		order: { recordedAt: "DESC" },
	});
	if (!previous?.recordedAt) return null;
	const gap = clip.recordedAt.getTime() - (previous.recordedAt.getTime() + previous.durationSec * 1000);
	return gap <= MAX_CUT_GAP_MS ? previous : null;
}

/** The previous segment's tracker, moved so that this segment's frame 0 follows its last frame. */
async function handoverTo(tx: EntityManager, previous: Clip, clip: Clip): Promise<{ tracker: TrackerSnapshot; decided: string[] } | null> {
	const evaluation = await tx.findOneBy(ClipEvaluation, { clipId: previous.id, generation: previous.generation });
	const handover = evaluation?.handover;
	// Frame indexes only line up at one sampling rate.
	if (!handover || previous.sampleFps !== clip.sampleFps || !clip.recordedAt || !previous.recordedAt) return null;
	const seconds = (clip.recordedAt.getTime() - previous.recordedAt.getTime()) / 1000;
	const frames = Math.max(handover.frames, Math.round(seconds * clip.sampleFps));
	return { tracker: continueSnapshot(handover.tracker, frames, seconds), decided: handover.decided };
}

/** Inserts the alert in the evaluation's transaction unless it exists or the camera and class are cooling down. */
async function insertClipAlert(tx: EntityManager, clip: Clip, camera: Camera, track: TrackView, rule: AlertRule, at: Date): Promise<string | null> {
	if (await tx.existsBy(Alert, { clipId: clip.id, trackNo: track.id, ruleId: rule.id })) return null;
	if (await coolingDown(tx, camera.id, track.className, rule, at)) return null;
	const inserted = await tx
		.createQueryBuilder()
		.insert()
		.into(Alert)
		.values({
			orgId: clip.orgId,
			storeId: clip.storeId,
			cameraId: camera.id,
			clipId: clip.id,
			trackNo: track.id,
			ruleId: rule.id,
			className: track.className,
			score: track.maxScore,
			severity: rule.severity,
			occurredAt: at,
			frameTime: track.bestFrame.time,
			box: track.bestBox,
		})
		.orIgnore()
		.returning("id")
		.execute();
	return (inserted.raw as { id: string }[])[0]?.id ?? null;
}
