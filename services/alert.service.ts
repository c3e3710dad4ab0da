/**
 * alert — turns what the detectors saw into incidents. Each committed segment of a clip queues a durable
 * evaluation job: the clip's tracker resumes from its stored state, takes the new frames (the contiguous
 * segments from the start), and a track raises an alert the moment it satisfies a rule, once per track and rule.
 * Alerts, ended tracks and the tracker's state commit together, so a crash or a repeated job raises nothing
 * twice and loses nothing; the clip becomes `done` in the same transaction as its summary. Then each new alert
 * gets a JPEG snapshot of its best frame and is broadcast for live push (notifications come from the
 * committed alert: the notifier sweeps what a lost broadcast missed).
 */
import { Readable } from "node:stream";
import type { ServiceSchema, ServiceSettingSchema } from "moleculer";
import { And, In, IsNull, LessThan, MoreThan, MoreThanOrEqual, type EntityManager, type FindOptionsWhere } from "typeorm";
import { Alert, AlertRule, Camera, CameraState, Clip, ClipEvaluation, ClipSegment, Detection, EdgeEvent, LearnedThreshold, Track, Zone } from "../entities";
import { ALERT_STATUSES, type AlertStatus } from "../entities/alert.entity";
import { SEVERITIES, type Schedule, type Severity } from "../entities/alert-rule.entity";
import { trackSatisfies } from "../lib/alerting/rules";
import { replayEdgeEvents } from "../lib/alerting/edge-tracking";
import { audit } from "../lib/operations/audit";
import { invalid, notFound, VigilError } from "../lib/platform/errors";
import { toolPath } from "../lib/media/tools";
import { alertsRaised, stageSeconds } from "../lib/platform/metrics";
import { decodeSeqCursor, encodeSeqCursor } from "../lib/platform/pagination";
import { annotatedJpeg, grabFrame } from "../lib/media/snapshot";
import { mediaStorage, type Storage } from "../lib/media/storage";
import type { Caller, VigilContext, VigilService } from "../lib/platform/types";
import { defaultTrackerOptions, isNewIncident, rememberStationary, Tracker, type StationaryMemory, type Track as TrackView } from "../lib/vision/tracker";
import { DbMixin } from "../mixins/db.mixin";
import { JobQueueMixin, type JobQueueService } from "../mixins/job-queue.mixin";
import { clipEvaluationId, EVALUATE_QUEUE, type EvaluationJob } from "./alert.contract";
import { id, optional, storePath } from "./schemas";

type AlertService = VigilService & JobQueueService<{ [EVALUATE_QUEUE]: EvaluationJob }> & {
	storage: Storage;
	learnedThresholds: Map<string, { loadedAt: number; byClass: Promise<Map<string, number>> }>;
};

/** A track starts only from a detection this confident, so a rule asking for less would silently get this. */
export const TRACK_START_SCORE = defaultTrackerOptions.highThreshold;

/** Learned thresholds a node keeps per camera; re-read after this long even if a change event was missed. */
const LEARNED_THRESHOLD_CACHE_MS = 60_000;

const objectClass = { type: "string", trim: true, min: 1, max: 50 } as const;
const hhmm = { type: "string", pattern: /^([01]\d|2[0-3]):[0-5]\d$/, $$t: "HH:MM" } as const;
const ruleFields = {
	name: { type: "string", trim: true, min: 1, max: 100 },
	cameraId: { ...id, optional: true, nullable: true, $$t: "One camera of the store; absent or null: all of them" },
	classes: { type: "array", items: objectClass, max: 80, default: [] as string[], $$t: "Classes that alert; empty: any" },
	minScore: { type: "number", min: TRACK_START_SCORE, max: 1, default: 0.5, $$t: `Least score of the track's best detection; from ${TRACK_START_SCORE}, where tracks start` },
	zoneIds: { type: "array", items: "uuid", max: 50, default: [] as string[], $$t: "Alert only inside any of these zones; empty: anywhere" },
	minDurationSec: { type: "number", min: 0, max: 3600, default: 0, $$t: "How long the object must be seen" },
	schedule: {
		type: "object",
		optional: true,
		nullable: true,
		props: { days: { type: "array", items: { type: "number", integer: true, min: 0, max: 6 }, min: 1, max: 7, unique: true }, start: hhmm, end: hhmm },
		$$t: "Days (0 = Sunday) and daily window in the camera's time zone; null: always",
	},
	cooldownSec: { type: "number", integer: true, min: 0, max: 86400, default: 60, $$t: "No second alert for the same camera and class within this time" },
	severity: { type: "enum", values: SEVERITIES, default: "medium" },
	enabled: { type: "boolean", default: true },
} as const;

interface RuleParams {
	orgId: string;
	storeId: string;
	ruleId: string;
	name?: string;
	cameraId?: string | null;
	classes?: string[];
	minScore?: number;
	zoneIds?: string[];
	minDurationSec?: number;
	schedule?: Schedule | null;
	cooldownSec?: number;
	severity?: Severity;
	enabled?: boolean;
}

const presentRule = (r: AlertRule) => ({
	id: r.id, storeId: r.storeId, cameraId: r.cameraId, name: r.name, classes: r.classes, minScore: r.minScore, zoneIds: r.zoneIds,
	minDurationSec: r.minDurationSec, schedule: r.schedule, cooldownSec: r.cooldownSec, severity: r.severity, enabled: r.enabled,
	createdAt: r.createdAt, updatedAt: r.updatedAt,
});

export const presentAlert = (a: Alert) => ({
	id: a.id, seq: a.seq, orgId: a.orgId, storeId: a.storeId, cameraId: a.cameraId, source: a.source, clipId: a.clipId, trackNo: a.trackNo, edgeTrackKey: a.edgeTrackKey, plate: a.plate, ruleId: a.ruleId,
	className: a.className, score: a.score, severity: a.severity, occurredAt: a.occurredAt, frameTime: a.frameTime, box: a.box,
	hasSnapshot: Boolean(a.snapshotKey), status: a.status, acknowledgedBy: a.acknowledgedBy, acknowledgedAt: a.acknowledgedAt,
	resolvedBy: a.resolvedBy, resolvedAt: a.resolvedAt, createdAt: a.createdAt,
});

const alertPath = { ...storePath, alertId: id } as const;
const LIST_LIMIT_MAX = 200;

const AlertServiceSchema: ServiceSchema<ServiceSettingSchema, AlertService> = {
	name: "alert",
	mixins: [DbMixin, JobQueueMixin({ [EVALUATE_QUEUE]: {} })],
	settings: { rest: "/" },

	actions: {
		createRule: {
			rest: "POST /orgs/:orgId/stores/:storeId/alert-rules",
			permission: { scope: "store", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...storePath, ...ruleFields },
			openapi: { summary: "Add an alert rule to a store or one of its cameras", responses: { 201: "AlertRule" } },
			async handler(this: AlertService, ctx: VigilContext<RuleParams>) {
				const { orgId, storeId, ruleId: _r, ...fields } = ctx.params;
				await this.checkRuleTargets(orgId, storeId, fields.cameraId ?? null, fields.zoneIds ?? []);
				const rule = await this.db.getRepository(AlertRule).save({ ...fields, orgId, storeId, cameraId: fields.cameraId ?? null, schedule: fields.schedule ?? null });
				ctx.meta.$statusCode = 201;
				return presentRule(rule);
			},
		},

		listRules: {
			rest: "GET /orgs/:orgId/stores/:storeId/alert-rules",
			permission: { scope: "store", roles: ["owner", "admin", "staff"] },
			params: { $$strict: "remove", ...storePath },
			openapi: { summary: "Alert rules of a store", responses: { 200: "AlertRuleList" } },
			async handler(this: AlertService, ctx: VigilContext<{ orgId: string; storeId: string }>) {
				const rules = await this.db.getRepository(AlertRule).find({ where: { orgId: ctx.params.orgId, storeId: ctx.params.storeId }, order: { createdAt: "ASC" } });
				return { items: rules.map(presentRule) };
			},
		},

		updateRule: {
			rest: "PATCH /orgs/:orgId/stores/:storeId/alert-rules/:ruleId",
			permission: { scope: "store", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...storePath, ruleId: id, ...optional(ruleFields) },
			openapi: { summary: "Change an alert rule", responses: { 200: "AlertRule" } },
			async handler(this: AlertService, ctx: VigilContext<RuleParams>) {
				const { orgId, storeId, ruleId, ...changes } = ctx.params;
				const rule = await this.db.getRepository(AlertRule).findOneBy({ id: ruleId, orgId, storeId });
				if (!rule) throw notFound("Alert rule");
				const defined = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
				Object.assign(rule, defined);
				await this.checkRuleTargets(orgId, storeId, rule.cameraId, rule.zoneIds);
				return presentRule(await this.db.getRepository(AlertRule).save(rule));
			},
		},

		removeRule: {
			rest: "DELETE /orgs/:orgId/stores/:storeId/alert-rules/:ruleId",
			permission: { scope: "store", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...storePath, ruleId: id },
			openapi: { summary: "Delete an alert rule (its past alerts stay)", responses: { 204: null } },
			async handler(this: AlertService, ctx: VigilContext<RuleParams>) {
				await this.db.transaction(async (tx) => {
					const rule = await tx.findOneBy(AlertRule, { id: ctx.params.ruleId, orgId: ctx.params.orgId, storeId: ctx.params.storeId });
					const result = await tx.delete(AlertRule, { id: ctx.params.ruleId, orgId: ctx.params.orgId, storeId: ctx.params.storeId });
					if (!result.affected) throw notFound("Alert rule");
					await audit(ctx, tx, "alert_rule.deleted", { type: "alert_rule", id: ctx.params.ruleId }, { name: rule?.name, storeId: ctx.params.storeId });
				});
				ctx.meta.$statusCode = 204;
				return null;
			},
		},

		list: {
			rest: "GET /orgs/:orgId/stores/:storeId/alerts",
			permission: { scope: "store", roles: ["owner", "admin", "staff"] },
			params: {
				$$strict: "remove",
				...storePath,
				cameraId: { ...id, optional: true },
				status: { type: "enum", values: ALERT_STATUSES, optional: true },
				severity: { type: "enum", values: SEVERITIES, optional: true },
				className: { ...objectClass, optional: true },
				from: { type: "date", convert: true, optional: true, $$t: "Occurred at or after (ISO 8601)" },
				to: { type: "date", convert: true, optional: true, $$t: "Occurred before (ISO 8601)" },
				limit: { type: "number", integer: true, convert: true, min: 1, max: LIST_LIMIT_MAX, default: 50 },
				cursor: { type: "string", optional: true, max: 40, pattern: /^\d+$/, $$t: "nextCursor of the previous page" },
			},
			openapi: { summary: "Alerts of a store, newest first, with filters and cursor pagination", responses: { 200: "AlertPage" } },
			async handler(this: AlertService, ctx: VigilContext<{ orgId: string; storeId: string; cameraId?: string; status?: AlertStatus; severity?: Severity; className?: string; from?: Date; to?: Date; limit: number; cursor?: string }>) {
				const p = ctx.params;
				const occurred = p.from && p.to ? And(MoreThanOrEqual(p.from), LessThan(p.to)) : p.from ? MoreThanOrEqual(p.from) : p.to ? LessThan(p.to) : undefined;
				const where: FindOptionsWhere<Alert> = {
					orgId: p.orgId, storeId: p.storeId,
					...(p.cameraId && { cameraId: p.cameraId }), ...(p.status && { status: p.status }), ...(p.severity && { severity: p.severity }),
					...(p.className && { className: p.className }), ...(occurred && { occurredAt: occurred }), ...(p.cursor && { seq: LessThan(decodeSeqCursor(p.cursor)) }),
				};
				const rows = await this.db.getRepository(Alert).find({ where, order: { seq: "DESC" }, take: p.limit + 1 });
				const page = rows.slice(0, p.limit);
				return { items: page.map(presentAlert), nextCursor: rows.length > p.limit ? encodeSeqCursor(page[page.length - 1].seq) : null };
			},
		},

		get: {
			rest: "GET /orgs/:orgId/stores/:storeId/alerts/:alertId",
			permission: { scope: "store", roles: ["owner", "admin", "staff"] },
			params: { $$strict: "remove", ...alertPath },
			openapi: { summary: "An alert", responses: { 200: "Alert" } },
			async handler(this: AlertService, ctx: VigilContext<{ orgId: string; storeId: string; alertId: string }>) {
				return presentAlert(await this.findAlert(ctx.params));
			},
		},

		snapshot: {
			rest: "GET /orgs/:orgId/stores/:storeId/alerts/:alertId/snapshot",
			permission: { scope: "store", roles: ["owner", "admin", "staff"] },
			params: { $$strict: "remove", ...alertPath },
			openapi: { summary: "The alert's JPEG: its best frame with the object's box drawn", responses: { 200: "image/jpeg" } },
			async handler(this: AlertService, ctx: VigilContext<{ orgId: string; storeId: string; alertId: string }>) {
				const alert = await this.findAlert(ctx.params);
				if (!alert.snapshotKey) throw notFound("Snapshot");
				(ctx.meta as { $responseType?: string }).$responseType = "image/jpeg";
				(ctx.meta as { $responseHeaders?: Record<string, string> }).$responseHeaders = { "Cache-Control": "private, max-age=3600" };
				return this.storage.get(alert.snapshotKey);
			},
		},

		acknowledge: {
			rest: "POST /orgs/:orgId/stores/:storeId/alerts/:alertId/acknowledge",
			permission: { scope: "store", roles: ["owner", "admin", "staff"] },
			params: { $$strict: "remove", ...alertPath },
			openapi: { summary: "Acknowledge an alert (who and when are recorded)", responses: { 200: "Alert" } },
			async handler(this: AlertService, ctx: VigilContext<{ orgId: string; storeId: string; alertId: string }>) {
				return this.transition(ctx, "acknowledged");
			},
		},

		resolve: {
			rest: "POST /orgs/:orgId/stores/:storeId/alerts/:alertId/resolve",
			permission: { scope: "store", roles: ["owner", "admin", "staff"] },
			params: { $$strict: "remove", ...alertPath },
			openapi: { summary: "Resolve an alert (who and when are recorded)", responses: { 200: "Alert" } },
			async handler(this: AlertService, ctx: VigilContext<{ orgId: string; storeId: string; alertId: string }>) {
				return this.transition(ctx, "resolved");
			},
		},

		/** Before a clip is deleted: remove its alerts' snapshot files (the rows go with the clip). */
		forgetClip: {
			visibility: "public",
			params: { clipId: id },
			async handler(this: AlertService, ctx: VigilContext<{ clipId: string }>) {
				const alerts = await this.db.getRepository(Alert).find({ where: { clipId: ctx.params.clipId }, select: { id: true, snapshotKey: true, frameKey: true } });
				for (const alert of alerts) {
					if (alert.snapshotKey) await this.storage.delete(alert.snapshotKey);
					if (alert.frameKey) await this.storage.delete(alert.frameKey);
				}
				return { snapshots: alerts.filter((a) => a.snapshotKey).length };
			},
		},

		/** Queues an evaluation of what a clip has committed so far (operators, tests; segments queue their own). */
		evaluateClip: {
			visibility: "public",
			params: { clipId: id },
			async handler(this: AlertService, ctx: VigilContext<{ clipId: string }>) {
				const clip = await this.db.getRepository(Clip).findOneBy({ id: ctx.params.clipId });
				if (!clip) throw notFound("Clip");
				await this.queues[EVALUATE_QUEUE].send({ kind: "clip", clipId: clip.id, generation: clip.generation, orgId: clip.orgId }, { id: clipEvaluationId(clip.id, clip.generation, "resume") });
				return { queued: true };
			},
		},

		/** Live push resuming after a reconnect: alerts after `afterSeq` in the given stores, oldest first. */
		since: {
			visibility: "public",
			params: {
				afterSeq: { type: "number", integer: true, min: 0 },
				storeIds: { type: "array", items: "uuid", max: 10000, optional: true },
				allStores: { type: "boolean", optional: true, $$t: "Super-admins: every store" },
				limit: { type: "number", integer: true, min: 1, max: 1000, default: 500 },
			},
			async handler(this: AlertService, ctx: VigilContext<{ afterSeq: number; storeIds?: string[]; allStores?: boolean; limit: number }>) {
				if (!ctx.params.allStores && !ctx.params.storeIds?.length) return [];
				const stores = ctx.params.allStores ? {} : { storeId: In(ctx.params.storeIds ?? []) };
				const rows = await this.db.getRepository(Alert).find({ where: { seq: MoreThan(ctx.params.afterSeq), ...stores }, order: { seq: "ASC" }, take: ctx.params.limit });
				return rows.map(presentAlert);
			},
		},
	},

	events: {
		/** Broadcast by the feedback service: every alert node forgets what it knew of that camera. */
		"feedback.threshold.changed"(this: AlertService, ctx: VigilContext<{ cameraId: string }>) {
			this.learnedThresholds.delete(ctx.params.cameraId);
		},
	},

	methods: {
		/** The job handler: a clip's new frames, or a camera's new edge events. */
		async evaluate(this: AlertService, job: EvaluationJob) {
			if (job.kind === "clip") await this.evaluateClip(job.clipId, job.generation);
			else await this.evaluateEdge(job.cameraId, job.oldest ? new Date(job.oldest) : undefined, job.newest ? new Date(job.newest) : undefined);
		},

		/**
		 * Per class, the camera's threshold (pinned, else learned from feedback) that raises a rule's own minimum.
		 * Read before an evaluation's transaction: the embedded database has one session, which the transaction holds.
		 */
		async learnedFor(this: AlertService, cameraId: string): Promise<Map<string, number>> {
			let cached = this.learnedThresholds.get(cameraId);
			if (!cached || Date.now() - cached.loadedAt > LEARNED_THRESHOLD_CACHE_MS) {
				const byClass = this.db.getRepository(LearnedThreshold).find({ where: { cameraId }, select: { className: true, learned: true, pinned: true } })
					.then((rows) => new Map(rows.filter((r) => (r.pinned ?? r.learned) !== null).map((r) => [r.className, (r.pinned ?? r.learned) as number])));
				cached = { loadedAt: Date.now(), byClass };
				this.learnedThresholds.set(cameraId, cached);
				byClass.catch(() => this.learnedThresholds.delete(cameraId));
			}
			return cached.byClass;
		},

		async findAlert(this: AlertService, p: { orgId: string; storeId: string; alertId: string }) {
			const alert = await this.db.getRepository(Alert).findOneBy({ id: p.alertId, orgId: p.orgId, storeId: p.storeId });
			if (!alert) throw notFound("Alert");
			return alert;
		},

		async transition(this: AlertService, ctx: VigilContext<{ orgId: string; storeId: string; alertId: string }>, to: "acknowledged" | "resolved") {
			const alert = await this.findAlert(ctx.params);
			const caller = ctx.meta.caller as Extract<Caller, { kind: "user" }>;
			if (alert.status === "resolved") throw new VigilError("This alert is already resolved", 409, "ALERT_RESOLVED");
			const now = new Date();
			if (to === "acknowledged" && alert.status === "open") Object.assign(alert, { status: "acknowledged", acknowledgedBy: caller.userId, acknowledgedAt: now });
			if (to === "resolved") {
				Object.assign(alert, { status: "resolved", resolvedBy: caller.userId, resolvedAt: now });
				if (!alert.acknowledgedAt) Object.assign(alert, { acknowledgedBy: caller.userId, acknowledgedAt: now });
			}
			const saved = await this.db.getRepository(Alert).save(alert);
			// Broadcast: every gateway pushes the new status to its open streams.
			ctx.broadcast("alert.updated", { ...presentAlert(saved) });
			return presentAlert(saved);
		},

		/** A rule may only name a camera and zones of its own store. */
		async checkRuleTargets(this: AlertService, orgId: string, storeId: string, cameraId: string | null, zoneIds: string[]) {
			if (cameraId && !(await this.db.getRepository(Camera).existsBy({ id: cameraId, storeId, orgId })))
				throw invalid("The camera is not a camera of this store", [{ field: "cameraId", type: "unknownCamera", message: "Use a camera of this store." }]);
			if (zoneIds.length) {
				const cameras = cameraId ? [cameraId] : (await this.db.getRepository(Camera).findBy({ storeId, orgId })).map((c) => c.id);
				const found = await this.db.getRepository(Zone).countBy({ id: In(zoneIds), cameraId: In(cameras) });
				if (found !== new Set(zoneIds).size) throw invalid("Some zones are not zones of this store's cameras", [{ field: "zoneIds", type: "unknownZone", message: "Use zones drawn on this store's cameras." }]);
			}
		},

		/**
		 * Feeds the clip's new frames (up to the end of the contiguous committed segments) to its tracker, resumed
		 * from the stored state, and commits in one transaction: the alerts due, the tracks that ended, the new
		 * state and, once every segment is in, the summary, the camera's memory and the final status. The clip row
		 * is locked throughout, so segments committing meanwhile and a second job for the same clip wait.
		 */
		async evaluateClip(this: AlertService, clipId: string, generation: number) {
			const started = process.hrtime.bigint();
			const clip = await this.db.getRepository(Clip).findOneBy({ id: clipId });
			if (!clip || clip.generation !== generation) return;
			const camera = await this.db.getRepository(Camera).findOneBy({ id: clip.cameraId });
			if (!camera) return;
			const learned = await this.learnedFor(camera.id);
			const outcome = await this.db.transaction(async (tx) => {
				const locked = await tx.findOne(Clip, { where: { id: clipId }, lock: { mode: "pessimistic_write" } });
				if (!locked || locked.generation !== generation) return null;
				return this.evaluateLocked(tx, locked, camera, learned);
			});
			stageSeconds.observe({ stage: "evaluate" }, Number(process.hrtime.bigint() - started) / 1e9);
			if (!outcome) return;
			for (const alertId of outcome.raised) await this.announce(alertId);
			if (outcome.finished) this.broker.emit("clip.finished", { clipId: clip.id, status: outcome.finished, cameraId: clip.cameraId, storeId: clip.storeId, orgId: clip.orgId });
		},

		async evaluateLocked(this: AlertService, tx: EntityManager, clip: Clip, camera: Camera, learned: Map<string, number>) {
			const segments = await tx.find(ClipSegment, { where: { clipId: clip.id }, order: { index: "ASC" } });
			let committedFrames = 0;
			for (const s of segments) {
				if (s.status === "pending") break;
				committedFrames = s.firstFrame + s.frameCount;
			}
			const allIn = segments.every((s) => s.status !== "pending");
			const terminal = clip.status === "done" || clip.status === "failed";
			let state = await tx.findOneBy(ClipEvaluation, { clipId: clip.id });
			if (state && state.generation !== clip.generation) state = null;
			const from = state?.framesEvaluated ?? 0;
			// Nothing new, and either more segments are due or the clip was already finished.
			if (from >= committedFrames && (!allIn || (terminal && clip.summary))) return null;
			const [zones, rules, cameraState, detections] = await Promise.all([
				tx.findBy(Zone, { cameraId: camera.id }),
				this.rulesOf(camera, tx),
				tx.findOneBy(CameraState, { cameraId: camera.id }),
				tx.find(Detection, { where: { clipId: clip.id, frameIndex: And(MoreThanOrEqual(from), LessThan(committedFrames)) }, order: { frameIndex: "ASC", ordinal: "ASC" } }),
			]);
			// A clip evaluated from its start: tracks of an earlier generation go.
			if (!state) await tx.delete(Track, { clipId: clip.id });
			const zoneShapes = zones.map((z) => ({ id: z.id, kind: z.kind, points: z.points, classes: z.classes }));
			const tracker = state ? Tracker.restore(state.tracker, zoneShapes) : new Tracker(zoneShapes);
			// The memory as it was before this clip: a clip never hides its own objects from itself.
			const memory = (cameraState?.stationaryMemory ?? []).filter((e) => e.lastSeen < clip.createdAt.getTime() / 1000);
			const byFrame = new Map<number, typeof detections>();
			for (const d of detections) (byFrame.get(d.frameIndex) ?? byFrame.set(d.frameIndex, []).get(d.frameIndex)!).push(d);
			const decided = new Set(state?.decided ?? []);
			const ended: TrackView[] = [];
			const raised: string[] = [];
			for (let frame = from; frame < committedFrames; frame++) {
				const found = (byFrame.get(frame) ?? []).map((d) => ({ classId: d.classId, className: d.className, score: d.score, box: [d.x1, d.y1, d.x2, d.y2] as [number, number, number, number] }));
				const events = tracker.update({ index: frame, time: frame / clip.sampleFps }, found);
				ended.push(...events.ended);
				for (const track of events.updated) {
					const at = new Date(clip.createdAt.getTime() + track.firstTime * 1000);
					for (const rule of this.newlyMet(camera, track, at, rules, memory, decided, String(track.id), learned)) {
						const alertId = await this.insertClipAlert(tx, clip, camera, track, rule, at);
						if (!alertId) continue;
						await this.attachSnapshot(tx, alertId, clip, track);
						raised.push(alertId);
					}
				}
			}
			const finished = allIn ? (segments.some((s) => s.status === "failed") ? "failed" : "done") : null;
			if (finished) ended.push(...tracker.finish());
			await this.storeTracks(tx, clip.id, ended);
			await tx.upsert(ClipEvaluation, { clipId: clip.id, generation: clip.generation, framesEvaluated: Math.max(from, committedFrames), tracker: tracker.snapshot(), decided: [...decided] }, ["clipId"]);
			if (finished) {
				const summary = tracker.summary();
				const failed = segments.find((s) => s.status === "failed");
				await tx.update(Clip, { id: clip.id }, {
					status: finished, failureReason: failed?.error ?? null, finishedAt: new Date(),
					// Every figure counts confirmed tracks: `counts` per class adds up to `tracks`, the clip's stored tracks.
					summary: { counts: summary.counts, tracks: Object.values(summary.counts).reduce((a, b) => a + b, 0), lineCrossings: Object.fromEntries(Object.entries(summary.lineCrossings).map(([k, v]) => [k, v.count])) },
				});
				const stored = await tx.find(Track, { where: { clipId: clip.id } });
				const remembered = rememberStationary(memory, stored.map((t) => ({ confirmed: true, stationary: t.stationary, className: t.className, bestBox: t.bestBox }) as TrackView), clip.createdAt.getTime() / 1000);
				await tx.upsert(CameraState, { cameraId: camera.id, stationaryMemory: remembered }, ["cameraId"]);
			}
			return { raised, finished };
		},

		async storeTracks(this: AlertService, tx: EntityManager, clipId: string, tracks: TrackView[]) {
			if (!tracks.length) return;
			await tx.insert(Track, tracks.map((t) => ({
				clipId, trackNo: t.id, className: t.className, firstTime: t.firstTime, lastTime: t.lastTime, bestTime: t.bestFrame.time,
				bestBox: t.bestBox, maxScore: t.maxScore, meanScore: t.meanScore, stationary: t.stationary, zonesEntered: t.zonesEntered,
				lineCrossings: Object.fromEntries(Object.entries(t.lineCrossings).map(([k, v]) => [k, { count: v.count, forward: v.forward, backward: v.backward }])),
			})));
		},

		/** A camera's enabled rules: its own and its store's. */
		rulesOf(this: AlertService, camera: Camera, tx: EntityManager = this.db.manager): Promise<AlertRule[]> {
			return tx.getRepository(AlertRule).find({ where: [{ storeId: camera.storeId, cameraId: camera.id, enabled: true }, { storeId: camera.storeId, cameraId: IsNull(), enabled: true }], order: { createdAt: "ASC" } });
		},

		/**
		 * The rules a track satisfies now that have not fired for it yet (`fired`, keyed by the track's key), for
		 * clips and edge events alike; each rule's minimum is raised by the camera's `learned` threshold for the
		 * class. None for an object the camera already knew (stationary memory).
		 */
		newlyMet(this: AlertService, camera: Camera, track: TrackView, at: Date, rules: AlertRule[], memory: StationaryMemory, fired: Set<string>, trackKey: string, learned: Map<string, number>): AlertRule[] {
			if (!isNewIncident(track, memory)) return [];
			const met: AlertRule[] = [];
			for (const rule of rules) {
				const key = `${trackKey}:${rule.id}`;
				if (fired.has(key) || (rule.cameraId && rule.cameraId !== camera.id)) continue;
				if (!trackSatisfies(rule, track, at, camera.timezone, Math.max(rule.minScore, learned.get(track.className) ?? 0))) continue;
				fired.add(key);
				met.push(rule);
			}
			return met;
		},

		/** An alert of this camera, class and rule, from a clip or an edge box, within the rule's cooldown before `at`. */
		async coolingDown(this: AlertService, cameraId: string, className: string, rule: AlertRule, at: Date, tx: EntityManager = this.db.manager): Promise<boolean> {
			if (rule.cooldownSec <= 0) return false;
			const since = new Date(at.getTime() - rule.cooldownSec * 1000);
			return tx.getRepository(Alert).existsBy({ cameraId, className, ruleId: rule.id, occurredAt: And(MoreThan(since), LessThan(new Date(at.getTime() + 1))) });
		},

		/** Logs, counts and broadcasts a new alert (live push, notifications). */
		async announce(this: AlertService, alertId: string) {
			const alert = await this.db.getRepository(Alert).findOneByOrFail({ id: alertId });
			this.logger.info("Alert raised", { alertId, source: alert.source, clipId: alert.clipId, cameraId: alert.cameraId, className: alert.className, severity: alert.severity });
			alertsRaised.inc({ source: alert.source, severity: alert.severity });
			this.broker.broadcast("alert.raised", presentAlert(alert));
		},

		/** Inserts the alert in the evaluation's transaction unless it exists or the camera and class are cooling down. */
		async insertClipAlert(this: AlertService, tx: EntityManager, clip: Clip, camera: Camera, track: TrackView, rule: AlertRule, at: Date): Promise<string | null> {
			if (await tx.existsBy(Alert, { clipId: clip.id, trackNo: track.id, ruleId: rule.id })) return null;
			if (await this.coolingDown(camera.id, track.className, rule, at, tx)) return null;
			const inserted = await tx.createQueryBuilder().insert().into(Alert).values({
				orgId: clip.orgId, storeId: clip.storeId, cameraId: camera.id, clipId: clip.id, trackNo: track.id, ruleId: rule.id, className: track.className,
				score: track.maxScore, severity: rule.severity, occurredAt: at, frameTime: track.bestFrame.time, box: track.bestBox,
			}).orIgnore().returning("id").execute();
			return (inserted.raw as { id: string }[])[0]?.id ?? null;
		},

		/**
		 * The alert's snapshot (its best frame, box drawn), written with the alert: whoever reads the alert (or a
		 * `done` clip) finds its picture. A rolled-back evaluation leaves only an unreferenced file behind.
		 */
		async attachSnapshot(this: AlertService, tx: EntityManager, alertId: string, clip: Clip, track: TrackView) {
			try {
				const frame = await grabFrame(toolPath("ffmpeg", this.config.ffmpegPath), this.storage.localPath(clip.storageKey), track.bestFrame.time, clip);
				const stored = await this.storage.put("snapshots", "jpg", Readable.from([annotatedJpeg(frame, clip, track.bestBox)]));
				await tx.update(Alert, { id: alertId }, { snapshotKey: stored.key });
			} catch (err) {
				this.logger.warn("Alert without snapshot", { alertId }, err);
			}
		},

		/**
		 * Replays a camera's edge events, from EDGE_TRACK_WINDOW before the batch's oldest event to its newest, through
		 * the tracker and raises the alerts due, with the rules, zones, stationary memory and cooldown of clips. The
		 * track keys are stored on the events first, so a later replay finds its tracks again and raises nothing twice.
		 */
		async evaluateEdge(this: AlertService, cameraId: string, oldest?: Date, newest?: Date) {
			const camera = await this.db.getRepository(Camera).findOneBy({ id: cameraId });
			if (!camera) return;
			const events = this.db.getRepository(EdgeEvent);
			newest ??= (await events.findOne({ where: { cameraId }, order: { time: "DESC" }, select: { id: true, time: true } }))?.time;
			if (!newest) return;
			const from = new Date((oldest ?? newest).getTime() - this.config.edgeTrackWindow * 1000);
			const [zones, rules, state, rows] = await Promise.all([
				this.db.getRepository(Zone).findBy({ cameraId }),
				this.rulesOf(camera),
				this.db.getRepository(CameraState).findOneBy({ cameraId }),
				events.find({ where: { cameraId, time: And(MoreThanOrEqual(from), LessThan(new Date(newest.getTime() + 1))) }, order: { time: "ASC" } }),
			]);
			const replay = replayEdgeEvents(
				rows.map((e) => ({ ref: e.id, eventId: e.eventId, time: e.time, className: e.className, score: e.score, box: e.box, trackId: e.trackId, plate: e.plate, trackKey: e.trackKey })),
				zones.map((z) => ({ id: z.id, kind: z.kind, points: z.points, classes: z.classes })),
			);
			// Store the track keys that changed (most events of the window keep theirs from the previous batch).
			const storedKey = new Map(rows.map((e) => [e.id, e.trackKey]));
			const byKey = new Map<string, string[]>();
			for (const [ref, key] of replay.assign) if (storedKey.get(ref) !== key) (byKey.get(key) ?? byKey.set(key, []).get(key)!).push(ref);
			for (const [key, refs] of byKey) await events.update({ id: In(refs) }, { trackKey: key });
			const memory = state?.stationaryMemory ?? [];
			const learned = await this.learnedFor(cameraId);
			const due: { key: string; track: TrackView; rule: AlertRule; at: Date; plate: string | null }[] = [];
			const raised = new Set<string>();
			for (const { handle, track } of replay.updates) {
				const key = replay.keys.get(handle)!;
				const at = new Date(replay.start + track.firstTime * 1000);
				for (const rule of this.newlyMet(camera, track, at, rules, memory, raised, key, learned)) due.push({ key, track, rule, at, plate: replay.plates.get(handle) ?? null });
			}
			for (const alert of due) await this.raiseEdge(camera, alert);
		},

		/** An edge alert: no clip and no snapshot; unique per (camera, track key, rule); same cooldown as clips. */
		async raiseEdge(this: AlertService, camera: Camera, due: { key: string; track: TrackView; rule: AlertRule; at: Date; plate: string | null }) {
			const { key, track, rule, at } = due;
			const repo = this.db.getRepository(Alert);
			if (await repo.existsBy({ cameraId: camera.id, edgeTrackKey: key, ruleId: rule.id })) return;
			if (await this.coolingDown(camera.id, track.className, rule, at)) return;
			const inserted = await repo.createQueryBuilder().insert().into(Alert).values({
				source: "edge", orgId: camera.orgId, storeId: camera.storeId, cameraId: camera.id, clipId: null, trackNo: null, edgeTrackKey: key, plate: due.plate, ruleId: rule.id,
				className: track.className, score: track.maxScore, severity: rule.severity, occurredAt: at, frameTime: track.bestFrame.time - track.firstTime, box: track.bestBox,
			}).orIgnore().returning("id").execute();
			const alertId = (inserted.raw as { id: string }[])[0]?.id;
			if (!alertId) return;
			await this.announce(alertId);
		},
	},

	created(this: AlertService) {
		this.storage = mediaStorage(this.config.dataDir);
		this.learnedThresholds = new Map();
	},

	async started(this: AlertService) {
		await this.queues[EVALUATE_QUEUE].start((job) => this.evaluate(job as EvaluationJob));
	},
};

export default AlertServiceSchema;
