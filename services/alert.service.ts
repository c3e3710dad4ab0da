/**
 * alert — turns what the detectors saw into incidents: alert rules and alerts (the API), and the evaluation
 * jobs. Each committed segment of a clip queues a durable evaluation job, and each stored edge batch one for its
 * camera; the engine (lib/alerting/clip-evaluation, edge-evaluation) raises each alert once per track and rule,
 * with the clip's alerts, ended tracks, tracker state and final status in one transaction. This service runs
 * the jobs, makes the snapshots, and announces each committed alert (log, metrics, broadcast for live push;
 * notifications come from the committed alert: the notifier sweeps what a lost broadcast missed).
 */
import { Readable } from "node:stream";
import type { ServiceSchema, ServiceSettingSchema } from "moleculer";
import { And, In, LessThan, MoreThan, MoreThanOrEqual, type FindOptionsWhere } from "typeorm";
import { Alert, AlertRule, Camera, Clip, Store, Verdict, Zone } from "../entities";
import { ALERT_STATUSES, type AlertStatus } from "../entities/alert.entity";
import { SEVERITIES, type Schedule, type Severity } from "../entities/alert-rule.entity";
import { thresholdsOf } from "../lib/alerting/alert-rows";
import { evaluateClip } from "../lib/alerting/clip-evaluation";
import { evaluateEdge } from "../lib/alerting/edge-evaluation";
import { audit } from "../lib/operations/audit";
import { invalid, notFound, VigilError } from "../lib/platform/errors";
import { toolPath } from "../lib/media/tools";
import { alertsRaised, stageSeconds } from "../lib/platform/metrics";
import { decodeSeqCursor, encodeSeqCursor } from "../lib/platform/pagination";
import { bucketOf, lastBuckets, type BucketSize } from "../lib/platform/time-buckets";
import { annotatedJpeg, grabFrame } from "../lib/media/snapshot";
import { mediaStorage, type Storage } from "../lib/media/storage";
import type { Caller, VigilContext } from "../lib/platform/types";
import { defaultTrackerOptions, type Track as TrackView } from "../lib/vision/tracker";
import { RepositoryMixin, type RepositoryService } from "../mixins/repository.mixin";
import { JobQueueMixin, type JobQueueService } from "../mixins/job-queue.mixin";
import { clipEvaluationId, EVALUATE_QUEUE, type EvaluationJob } from "./alert.contract";
import { id, optional, storePath } from "./schemas";

type AlertService = RepositoryService &
	JobQueueService<{ [EVALUATE_QUEUE]: EvaluationJob }> & {
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
	minScore: {
		type: "number",
		min: TRACK_START_SCORE,
		max: 1,
		default: 0.5,
		$$t: `Least score of the track's best detection; from ${TRACK_START_SCORE}, where tracks start`,
	},
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
	id: r.id,
	storeId: r.storeId,
	cameraId: r.cameraId,
	name: r.name,
	classes: r.classes,
	minScore: r.minScore,
	zoneIds: r.zoneIds,
	minDurationSec: r.minDurationSec,
	schedule: r.schedule,
	cooldownSec: r.cooldownSec,
	severity: r.severity,
	enabled: r.enabled,
	createdAt: r.createdAt,
	updatedAt: r.updatedAt,
});

export const presentAlert = (a: Alert) => ({
	id: a.id,
	seq: a.seq,
	orgId: a.orgId,
	storeId: a.storeId,
	cameraId: a.cameraId,
	source: a.source,
	clipId: a.clipId,
	trackNo: a.trackNo,
	edgeTrackKey: a.edgeTrackKey,
	plate: a.plate,
	ruleId: a.ruleId,
	className: a.className,
	score: a.score,
	severity: a.severity,
	occurredAt: a.occurredAt,
	frameTime: a.frameTime,
	box: a.box,
	hasSnapshot: Boolean(a.snapshotKey),
	status: a.status,
	acknowledgedBy: a.acknowledgedBy,
	acknowledgedAt: a.acknowledgedAt,
	resolvedBy: a.resolvedBy,
	resolvedAt: a.resolvedAt,
	createdAt: a.createdAt,
});

const alertPath = { ...storePath, alertId: id } as const;
const LIST_LIMIT_MAX = 200;
/** A week of hours, or a quarter of days. */
const VOLUME_BUCKETS_MAX = 168;

const ALERT_SCHEMAS = {
	AlertVolume: {
		type: "object",
		required: ["bucket", "timezone", "from", "to", "starts", "series"],
		properties: {
			bucket: { type: "string", enum: ["hour", "day"] },
			timezone: { type: "string", description: "The store's time zone: day buckets start at its midnight" },
			from: { type: "string", format: "date-time", description: "Start of the first bucket" },
			to: { type: "string", format: "date-time", description: "End of the last bucket (exclusive); the last bucket holds now" },
			starts: { type: "array", items: { type: "string", format: "date-time" }, description: "Start of each bucket, oldest first" },
			series: {
				type: "array",
				description: "One per camera with alerts in the range; cameras without any are left out",
				items: {
					type: "object",
					required: ["cameraId", "counts"],
					properties: {
						cameraId: { type: "string", format: "uuid" },
						counts: { type: "array", items: { type: "integer" }, description: "Alerts per bucket, in the order of starts" },
					},
				},
			},
		},
	},
};

const AlertServiceSchema: ServiceSchema<ServiceSettingSchema, AlertService> = {
	name: "alert",
	mixins: [RepositoryMixin, JobQueueMixin({ [EVALUATE_QUEUE]: {} })],
	settings: { rest: "/" },

	actions: {
		createRule: {
			rest: "POST /orgs/:orgId/stores/:storeId/alert-rules",
			permission: { scope: "store", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...storePath, ...ruleFields },
			openapi: { summary: "Add an alert rule to a store or one of its cameras", responses: { 201: "AlertRule" } },
			async handler(this: AlertService, ctx: VigilContext<RuleParams>) {
				const { orgId: _o, storeId, ruleId: _r, ...fields } = ctx.params;
				await this.checkRuleTargets(ctx, storeId, fields.cameraId ?? null, fields.zoneIds ?? []);
				const rule = await this.data(ctx)
					.repo(AlertRule)
					.save({ ...fields, storeId, cameraId: fields.cameraId ?? null, schedule: fields.schedule ?? null });
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
				const rules = await this.data(ctx)
					.repo(AlertRule)
					.find({ where: { storeId: ctx.params.storeId }, order: { createdAt: "ASC" } });
				return { items: rules.map(presentRule) };
			},
		},

		updateRule: {
			rest: "PATCH /orgs/:orgId/stores/:storeId/alert-rules/:ruleId",
			permission: { scope: "store", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...storePath, ruleId: id, ...optional(ruleFields) },
			openapi: { summary: "Change an alert rule", responses: { 200: "AlertRule" } },
			async handler(this: AlertService, ctx: VigilContext<RuleParams>) {
				const { orgId: _o, storeId, ruleId, ...changes } = ctx.params;
				const rule = await this.data(ctx).repo(AlertRule).findOneBy({ id: ruleId, storeId });
				if (!rule) throw notFound("Alert rule");
				const defined = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
				Object.assign(rule, defined);
				await this.checkRuleTargets(ctx, storeId, rule.cameraId, rule.zoneIds);
				return presentRule(await this.data(ctx).repo(AlertRule).save(rule));
			},
		},

		removeRule: {
			rest: "DELETE /orgs/:orgId/stores/:storeId/alert-rules/:ruleId",
			permission: { scope: "store", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...storePath, ruleId: id },
			openapi: { summary: "Delete an alert rule (its past alerts stay)", responses: { 204: null } },
			async handler(this: AlertService, ctx: VigilContext<RuleParams>) {
				await this.data(ctx).transaction(async (tx) => {
					const rule = await tx.repo(AlertRule).findOneBy({ id: ctx.params.ruleId, storeId: ctx.params.storeId });
					const deleted = await tx.repo(AlertRule).delete({ id: ctx.params.ruleId, storeId: ctx.params.storeId });
					if (!deleted) throw notFound("Alert rule");
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
			async handler(
				this: AlertService,
				ctx: VigilContext<{
					orgId: string;
					storeId: string;
					cameraId?: string;
					status?: AlertStatus;
					severity?: Severity;
					className?: string;
					from?: Date;
					to?: Date;
					limit: number;
					cursor?: string;
				}>,
			) {
				const p = ctx.params;
				const occurred = p.from && p.to ? And(MoreThanOrEqual(p.from), LessThan(p.to)) : p.from ? MoreThanOrEqual(p.from) : p.to ? LessThan(p.to) : undefined;
				const where: FindOptionsWhere<Alert> = {
					storeId: p.storeId,
					...(p.cameraId && { cameraId: p.cameraId }),
					...(p.status && { status: p.status }),
					...(p.severity && { severity: p.severity }),
					...(p.className && { className: p.className }),
					...(occurred && { occurredAt: occurred }),
					...(p.cursor && { seq: LessThan(decodeSeqCursor(p.cursor)) }),
				};
				const rows = await this.data(ctx)
					.repo(Alert)
					.find({ where, order: { seq: "DESC" }, take: p.limit + 1 });
				const page = rows.slice(0, p.limit);
				const mine = await this.verdictsOfCaller(ctx, page);
				return {
					items: page.map((a) => ({ ...presentAlert(a), myVerdict: mine.get(a.id) ?? null })),
					nextCursor: rows.length > p.limit ? encodeSeqCursor(page[page.length - 1].seq) : null,
				};
			},
		},

		get: {
			rest: "GET /orgs/:orgId/stores/:storeId/alerts/:alertId",
			permission: { scope: "store", roles: ["owner", "admin", "staff"] },
			params: { $$strict: "remove", ...alertPath },
			openapi: { summary: "An alert", responses: { 200: "Alert" } },
			async handler(this: AlertService, ctx: VigilContext<{ orgId: string; storeId: string; alertId: string }>) {
				const alert = await this.findAlert(ctx);
				const mine = await this.verdictsOfCaller(ctx, [alert]);
				return { ...presentAlert(alert), myVerdict: mine.get(alert.id) ?? null };
			},
		},

		volume: {
			rest: "GET /orgs/:orgId/stores/:storeId/alerts/volume",
			permission: { scope: "store", roles: ["owner", "admin", "staff"] },
			params: {
				$$strict: "remove",
				...storePath,
				bucket: { type: "enum", values: ["hour", "day"], default: "hour", $$t: "hour, or day (days of the store's time zone)" },
				buckets: { type: "number", integer: true, convert: true, min: 1, max: VOLUME_BUCKETS_MAX, default: 24, $$t: "How many, the current one last" },
				cameraId: { ...id, optional: true },
			},
			openapi: { summary: "Alerts per camera per hour or day, for charts", responses: { 200: "AlertVolume" }, schemas: ALERT_SCHEMAS },
			async handler(this: AlertService, ctx: VigilContext<{ orgId: string; storeId: string; bucket: BucketSize; buckets: number; cameraId?: string }>) {
				const p = ctx.params;
				const store = await this.data(ctx).repo(Store).findOneBy({ id: p.storeId });
				if (!store) throw notFound("Store");
				const buckets = lastBuckets(p.bucket, p.buckets, new Date(), store.timezone);
				// Two columns of the range's alerts, counted here: a chart's range holds thousands, not millions.
				const rows = await this.data(ctx)
					.repo(Alert)
					.find({
						select: { cameraId: true, occurredAt: true },
						where: {
							storeId: p.storeId,
							...(p.cameraId && { cameraId: p.cameraId }),
							occurredAt: And(MoreThanOrEqual(buckets.starts[0]), LessThan(buckets.end)),
						},
					});
				const series = new Map<string, number[]>();
				for (const row of rows) {
					const i = bucketOf(buckets, row.occurredAt);
					if (i < 0) continue;
					let counts = series.get(row.cameraId);
					if (!counts) series.set(row.cameraId, (counts = new Array<number>(p.buckets).fill(0)));
					counts[i]++;
				}
				return {
					bucket: p.bucket,
					timezone: store.timezone,
					from: buckets.starts[0],
					to: buckets.end,
					starts: buckets.starts,
					series: [...series].map(([cameraId, counts]) => ({ cameraId, counts })),
				};
			},
		},

		snapshot: {
			rest: "GET /orgs/:orgId/stores/:storeId/alerts/:alertId/snapshot",
			permission: { scope: "store", roles: ["owner", "admin", "staff"] },
			params: { $$strict: "remove", ...alertPath },
			openapi: { summary: "The alert's JPEG: its best frame with the object's box drawn", responses: { 200: "image/jpeg" } },
			async handler(this: AlertService, ctx: VigilContext<{ orgId: string; storeId: string; alertId: string }>) {
				const alert = await this.findAlert(ctx);
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

		/** Before a clip is deleted: remove its alerts' snapshot files (the rows go with the clip). Named with its organization. */
		forgetClip: {
			visibility: "public",
			params: { orgId: id, clipId: id },
			async handler(this: AlertService, ctx: VigilContext<{ orgId: string; clipId: string }>) {
				const alerts = await this.tenantData({ orgId: ctx.params.orgId, storeIds: null })
					.repo(Alert)
					.find({ where: { clipId: ctx.params.clipId }, select: { id: true, snapshotKey: true, frameKey: true } });
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
				const clip = await this.unscoped("an operator queues a clip's evaluation by its id").getRepository(Clip).findOneBy({ id: ctx.params.clipId });
				if (!clip) throw notFound("Clip");
				await this.queues[EVALUATE_QUEUE].send(
					{ kind: "clip", clipId: clip.id, generation: clip.generation, orgId: clip.orgId },
					{ id: clipEvaluationId(clip.id, clip.generation, "resume") },
				);
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
				// The stores are those the gateway resolved the caller may see, possibly across several organizations.
				const rows = await this.unscoped("live stream replay over the caller's visible stores")
					.getRepository(Alert)
					.find({ where: { seq: MoreThan(ctx.params.afterSeq), ...stores }, order: { seq: "ASC" }, take: ctx.params.limit });
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
		/** The signed-in person's own verdict on each of these alerts (a service token has none). */
		async verdictsOfCaller(this: AlertService, ctx: VigilContext<unknown>, alerts: Alert[]): Promise<Map<string, Verdict["verdict"]>> {
			const caller = ctx.meta.caller;
			if (caller?.kind !== "user" || !alerts.length) return new Map();
			const rows = await this.data(ctx)
				.repo(Verdict)
				.find({ select: { alertId: true, verdict: true }, where: { alertId: In(alerts.map((a) => a.id)), userId: caller.userId } });
			return new Map(rows.map((v) => [v.alertId, v.verdict]));
		},

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
				const byClass = thresholdsOf(this.unscoped("the evaluation worker reads a camera's thresholds").manager, cameraId);
				cached = { loadedAt: Date.now(), byClass };
				this.learnedThresholds.set(cameraId, cached);
				byClass.catch(() => this.learnedThresholds.delete(cameraId));
			}
			return cached.byClass;
		},

		async findAlert(this: AlertService, ctx: VigilContext<{ storeId: string; alertId: string }>) {
			const alert = await this.data(ctx).repo(Alert).findOneBy({ id: ctx.params.alertId, storeId: ctx.params.storeId });
			if (!alert) throw notFound("Alert");
			return alert;
		},

		async transition(this: AlertService, ctx: VigilContext<{ orgId: string; storeId: string; alertId: string }>, to: "acknowledged" | "resolved") {
			const alert = await this.findAlert(ctx);
			const caller = ctx.meta.caller as Extract<Caller, { kind: "user" }>;
			if (alert.status === "resolved") throw new VigilError("This alert is already resolved", 409, "ALERT_RESOLVED");
			const now = new Date();
			if (to === "acknowledged" && alert.status === "open")
				Object.assign(alert, { status: "acknowledged", acknowledgedBy: caller.userId, acknowledgedAt: now });
			if (to === "resolved") {
				Object.assign(alert, { status: "resolved", resolvedBy: caller.userId, resolvedAt: now });
				if (!alert.acknowledgedAt) Object.assign(alert, { acknowledgedBy: caller.userId, acknowledgedAt: now });
			}
			const saved = await this.data(ctx).repo(Alert).save(alert);
			// Broadcast: every gateway pushes the new status to its open streams.
			ctx.broadcast("alert.updated", { ...presentAlert(saved) });
			return presentAlert(saved);
		},

		/** A rule may only name a camera and zones of its own store. */
		async checkRuleTargets(this: AlertService, ctx: VigilContext<unknown>, storeId: string, cameraId: string | null, zoneIds: string[]) {
			const data = this.data(ctx);
			if (cameraId && !(await data.repo(Camera).existsBy({ id: cameraId, storeId })))
				throw invalid("The camera is not a camera of this store", [{ field: "cameraId", type: "unknownCamera", message: "Use a camera of this store." }]);
			if (zoneIds.length) {
				const cameras = cameraId ? [cameraId] : (await data.repo(Camera).findBy({ storeId })).map((c) => c.id);
				const found = await data.repo(Zone).countBy({ id: In(zoneIds), cameraId: In(cameras) });
				if (found !== new Set(zoneIds).size)
					throw invalid("Some zones are not zones of this store's cameras", [
						{ field: "zoneIds", type: "unknownZone", message: "Use zones drawn on this store's cameras." },
					]);
			}
		},

		/** Evaluates a clip's new frames (lib/alerting/clip-evaluation), then announces what that committed. */
		async evaluateClip(this: AlertService, clipId: string, generation: number) {
			const started = process.hrtime.bigint();
			const outcome = await evaluateClip(this.unscoped("the evaluation worker: clips of every organization"), clipId, generation, {
				learned: (cameraId) => this.learnedFor(cameraId),
				snapshot: (alertId, clip, track) => this.snapshotOf(alertId, clip, track),
			});
			if (!outcome) return;
			stageSeconds.observe({ stage: "evaluate" }, Number(process.hrtime.bigint() - started) / 1e9);
			const { clip, raised, finished } = outcome;
			for (const alertId of raised) await this.announce(alertId);
			if (!finished) return;
			this.broker.emit("clip.finished", { clipId: clip.id, status: finished, cameraId: clip.cameraId, storeId: clip.storeId, orgId: clip.orgId });
			// The camera's next live segment may be waiting to go on from this one's tracker.
			if (clip.source === "live" && clip.recordedAt) {
				const next = await this.unscoped("the evaluation worker: a camera's next live segment")
					.getRepository(Clip)
					.findOne({ where: { cameraId: clip.cameraId, source: "live", recordedAt: MoreThan(clip.recordedAt) }, order: { recordedAt: "ASC" } });
				if (next && next.status !== "done" && next.status !== "failed")
					await this.queues[EVALUATE_QUEUE].send(
						{ kind: "clip", clipId: next.id, generation: next.generation, orgId: next.orgId },
						{ id: clipEvaluationId(next.id, next.generation, "resume") },
					);
			}
		},

		/** Evaluates a camera's edge events (lib/alerting/edge-evaluation), announcing each alert as it is inserted. */
		async evaluateEdge(this: AlertService, cameraId: string, oldest?: Date, newest?: Date) {
			await evaluateEdge(this.unscoped("the evaluation worker: cameras of every organization"), cameraId, oldest, newest, {
				trackWindowSec: this.config.edgeTrackWindow,
				learned: (id) => this.learnedFor(id),
				raised: (alertId) => this.announce(alertId),
			});
		},

		/** Logs, counts and broadcasts a new alert (live push, notifications), once its row is committed. */
		async announce(this: AlertService, alertId: string) {
			const alert = await this.unscoped("announcing an alert the evaluation worker committed").getRepository(Alert).findOneByOrFail({ id: alertId });
			this.logger.info("Alert raised", {
				alertId,
				source: alert.source,
				clipId: alert.clipId,
				cameraId: alert.cameraId,
				className: alert.className,
				severity: alert.severity,
			});
			alertsRaised.inc({ source: alert.source, severity: alert.severity });
			this.broker.broadcast("alert.raised", presentAlert(alert));
		},

		/** A clip alert's JPEG (its best frame, box drawn), stored; its key, or null (logged) if it could not be made. */
		async snapshotOf(this: AlertService, alertId: string, clip: Clip, track: TrackView): Promise<string | null> {
			try {
				const frame = await grabFrame(toolPath("ffmpeg", this.config.ffmpegPath), this.storage.localPath(clip.storageKey), track.bestFrame.time, clip);
				const stored = await this.storage.put("snapshots", "jpg", Readable.from([annotatedJpeg(frame, clip, track.bestBox)]));
				return stored.key;
			} catch (err) {
				this.logger.warn("Alert without snapshot", { alertId }, err);
				return null;
			}
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
