/**
 * The evaluation of a camera's edge events: they are replayed, from the track window before the batch's oldest
 * event to its newest, through the tracker, and the alerts due are raised with the rules, zones, stationary
 * memory and cooldown of clips. The track keys are stored on the events first, so a later replay finds its
 * tracks again and raises nothing twice. No broker in here: the caller announces each alert as it is inserted.
 */
import { And, In, LessThan, MoreThanOrEqual, type DataSource } from "typeorm";
import { Alert, AlertRule, Camera, CameraState, EdgeEvent, Zone } from "../../entities";
import type { Track } from "../vision/tracker";
import { coolingDown, rulesOf } from "./alert-rows";
import { replayEdgeEvents } from "./edge-tracking";
import { newlyMet } from "./matching";

export interface EdgeEvaluationHooks {
	/** Seconds of events replayed before the batch's oldest one (EDGE_TRACK_WINDOW). */
	trackWindowSec: number;
	/** The camera's threshold per class. */
	learned(cameraId: string): Promise<Map<string, number>>;
	/** Called once the alert's row is in (each edge alert commits on its own), before the next one is raised. */
	raised(alertId: string): Promise<void>;
}

/** An edge alert due: the track, by its stable key, met the rule at `at`. */
export interface EdgeAlertDue {
	key: string;
	track: Track;
	rule: AlertRule;
	at: Date;
	plate: string | null;
}

/** Evaluates the camera's edge events between `oldest` and `newest` (default: its newest event). */
export async function evaluateEdge(
	db: DataSource,
	cameraId: string,
	oldest: Date | undefined,
	newest: Date | undefined,
	hooks: EdgeEvaluationHooks,
): Promise<void> {
	const camera = await db.getRepository(Camera).findOneBy({ id: cameraId });
	if (!camera) return;
	const events = db.getRepository(EdgeEvent);
	newest ??= (await events.findOne({ where: { cameraId }, order: { time: "DESC" }, select: { id: true, time: true } }))?.time;
	if (!newest) return;
	const from = new Date((oldest ?? newest).getTime() - hooks.trackWindowSec * 1000);
	const [zones, rules, state, rows] = await Promise.all([
		db.getRepository(Zone).findBy({ cameraId }),
		rulesOf(db.manager, camera),
		db.getRepository(CameraState).findOneBy({ cameraId }),
		events.find({ where: { cameraId, time: And(MoreThanOrEqual(from), LessThan(new Date(newest.getTime() + 1))) }, order: { time: "ASC" } }),
	]);
	const replay = replayEdgeEvents(
		rows.map((e) => ({
			ref: e.id,
			eventId: e.eventId,
			time: e.time,
			className: e.className,
			score: e.score,
			box: e.box,
			trackId: e.trackId,
			plate: e.plate,
			trackKey: e.trackKey,
		})),
		zones.map((z) => ({ id: z.id, kind: z.kind, points: z.points, classes: z.classes })),
	);
	// Store the track keys that changed (most events of the window keep theirs from the previous batch).
	const storedKey = new Map(rows.map((e) => [e.id, e.trackKey]));
	const byKey = new Map<string, string[]>();
	for (const [ref, key] of replay.assign) if (storedKey.get(ref) !== key) (byKey.get(key) ?? byKey.set(key, []).get(key)!).push(ref);
	for (const [key, refs] of byKey) await events.update({ id: In(refs) }, { trackKey: key });
	const memory = state?.stationaryMemory ?? [];
	const learned = await hooks.learned(cameraId);
	const due: EdgeAlertDue[] = [];
	const decided = new Set<string>();
	for (const { handle, track } of replay.updates) {
		const key = replay.keys.get(handle)!;
		const at = new Date(replay.start + track.firstTime * 1000);
		for (const rule of newlyMet(camera, track, at, rules, memory, decided, key, learned))
			due.push({ key, track, rule, at, plate: replay.plates.get(handle) ?? null });
	}
	for (const alert of due) {
		const alertId = await raiseEdge(db, camera, alert);
		if (alertId) await hooks.raised(alertId);
	}
}

/** An edge alert: no clip and no snapshot; unique per (camera, track key, rule); same cooldown as clips. Null if none was inserted. */
export async function raiseEdge(db: DataSource, camera: Camera, due: EdgeAlertDue): Promise<string | null> {
	const { key, track, rule, at } = due;
	const repo = db.getRepository(Alert);
	if (await repo.existsBy({ cameraId: camera.id, edgeTrackKey: key, ruleId: rule.id })) return null;
	if (await coolingDown(db.manager, camera.id, track.className, rule, at)) return null;
	const inserted = await repo
		.createQueryBuilder()
		.insert()
		.into(Alert)
		.values({
			source: "edge",
			orgId: camera.orgId,
			storeId: camera.storeId,
			cameraId: camera.id,
			clipId: null,
			trackNo: null,
			edgeTrackKey: key,
			plate: due.plate,
			ruleId: rule.id,
			className: track.className,
			score: track.maxScore,
			severity: rule.severity,
			occurredAt: at,
			frameTime: track.bestFrame.time - track.firstTime,
			box: track.bestBox,
		})
		.orIgnore()
		.returning("id")
		.execute();
	return (inserted.raw as { id: string }[])[0]?.id ?? null;
}
