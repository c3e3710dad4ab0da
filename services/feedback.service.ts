/**
 * feedback — what people say about alerts, and what Vigil learns from it. Each verdict (true positive, false
 * positive, wrong class) makes the learner (lib/learning/thresholds.ts) recompute the score threshold of the
 * alert's camera and class; a change is broadcast so every alert node applies it from then on. Owners and admins
 * pin or reset thresholds, and export the judged alerts of a store as a YOLO dataset for retraining.
 */
import { Readable } from "node:stream";
import { createGzip } from "node:zlib";
import type { ServiceSchema, ServiceSettingSchema } from "moleculer";
import { And, In, IsNull, LessThan, MoreThanOrEqual, type EntityManager } from "typeorm";
import { Alert, Camera, Clip, LearnedThreshold, Store, Verdict } from "../entities";
import { audit } from "../lib/operations/audit";
import { invalid, notFound } from "../lib/platform/errors";
import { toolPath } from "../lib/media/tools";
import { verdictsRecorded } from "../lib/platform/metrics";
import { frameJpeg, grabFrame } from "../lib/media/snapshot";
import { dataYaml, TAR_END, tarFile, tarHeader, tarPadding, yoloLine } from "../lib/learning/dataset";
import { learnThreshold, resolveVerdict, statsAt, VERDICTS, type LabelledScore, type VerdictKind } from "../lib/learning/thresholds";
import { mediaStorage, type Storage } from "../lib/media/storage";
import { bucketOf, lastBuckets, zonedDay } from "../lib/platform/time-buckets";
import type { ScopedData } from "../lib/platform/scoped-data";
import type { Caller, VigilContext } from "../lib/platform/types";
import { RepositoryMixin, type RepositoryService } from "../mixins/repository.mixin";
import { cameraPath, id, storePath } from "./schemas";

type FeedbackService = RepositoryService & { storage: Storage };

const objectClass = { type: "string", trim: true, min: 1, max: 50 } as const;
const alertPath = { ...storePath, alertId: id } as const;
const thresholdPath = { ...cameraPath, className: { ...objectClass, $$t: "Object class, e.g. person" } } as const;
const verdictFields = {
	verdict: { type: "enum", values: VERDICTS, $$t: "true_positive, false_positive, or wrong_class (then correctClass)" },
	correctClass: { ...objectClass, optional: true, $$t: "The class the object really was; only with wrong_class" },
	note: { type: "string", trim: true, max: 1000, optional: true },
} as const;
/** Alerts read per page while exporting a dataset. */
const DATASET_PAGE = 200;
const NO_UUID = "00000000-0000-0000-0000-000000000000";
/** A quarter of days. */
const PRECISION_DAYS_MAX = 92;

const FEEDBACK_SCHEMAS = {
	PrecisionHistory: {
		type: "object",
		required: ["timezone", "from", "to", "days"],
		properties: {
			timezone: { type: "string", description: "The store's time zone: days start at its midnight" },
			from: { type: "string", format: "date-time" },
			to: { type: "string", format: "date-time", description: "End of the last day (exclusive); the last day is today" },
			days: {
				type: "array",
				items: {
					type: "object",
					required: ["day", "alerts", "judged", "truePositives", "falsePositives", "precision"],
					properties: {
						day: { type: "string", format: "date", description: "YYYY-MM-DD in the store's time zone" },
						alerts: { type: "integer", description: "Alerts the camera raised that day" },
						judged: { type: "integer", description: "Of those, alerts someone marked true or false" },
						truePositives: { type: "integer" },
						falsePositives: { type: "integer", description: "Marked false positive or wrong class (what the verdicts add up to)" },
						precision: { type: "number", nullable: true, description: "truePositives / judged; null when none was judged" },
					},
				},
			},
		},
	},
};

interface VerdictParams {
	orgId: string;
	storeId: string;
	alertId: string;
	verdict: VerdictKind;
	correctClass?: string;
	note?: string;
}

interface ThresholdParams {
	orgId: string;
	storeId: string;
	cameraId: string;
	className: string;
	threshold?: number;
}

/** The threshold event alert nodes listen to. */
export interface ThresholdChanged {
	cameraId: string;
	className: string;
	/** In force now (pinned, else learned); null: none, the rules' own minimum scores apply. */
	threshold: number | null;
}

const presentVerdict = (v: Verdict) => ({
	id: v.id,
	alertId: v.alertId,
	userId: v.userId,
	verdict: v.verdict,
	correctClass: v.correctClass,
	note: v.note,
	createdAt: v.createdAt,
	updatedAt: v.updatedAt,
});

const presentThreshold = (t: LearnedThreshold) => ({
	cameraId: t.cameraId,
	className: t.className,
	threshold: t.pinned ?? t.learned,
	learned: t.learned,
	pinned: t.pinned,
	pinnedBy: t.pinnedBy,
	pinnedAt: t.pinnedAt,
	verdicts: t.verdicts,
	truePositives: t.truePositives,
	falsePositives: t.falsePositives,
	precision: t.precision,
	precisionLowerBound: t.precisionLowerBound,
	suppressedShare: t.suppressedShare,
	updatedAt: t.updatedAt,
});

const userOf = (ctx: { meta: VigilContext["meta"] }) => ctx.meta.caller as Extract<Caller, { kind: "user" }>;

const FeedbackServiceSchema: ServiceSchema<ServiceSettingSchema, FeedbackService> = {
	name: "feedback",
	mixins: [RepositoryMixin],
	settings: { rest: "/" },

	actions: {
		submit: {
			rest: "POST /orgs/:orgId/stores/:storeId/alerts/:alertId/feedback",
			permission: { scope: "store", roles: ["owner", "admin", "staff"] },
			params: { $$strict: "remove", ...alertPath, ...verdictFields },
			openapi: { summary: "Your verdict on an alert (replaces your earlier one); teaches the camera's threshold", responses: { 200: "Verdict" } },
			async handler(this: FeedbackService, ctx: VigilContext<VerdictParams>) {
				const { orgId, storeId, alertId, verdict, note } = ctx.params;
				const correctClass = ctx.params.correctClass ?? null;
				const data = this.data(ctx);
				const alert = await data.repo(Alert).findOneBy({ id: alertId, storeId });
				if (!alert) throw notFound("Alert");
				if (verdict === "wrong_class" && !correctClass)
					throw invalid("A wrong_class verdict names the right class", [
						{ field: "correctClass", type: "required", message: "Say what the object really was." },
					]);
				if (verdict !== "wrong_class" && correctClass)
					throw invalid("correctClass goes only with a wrong_class verdict", [
						{ field: "correctClass", type: "forbidden", message: "Leave it out, or use wrong_class." },
					]);
				if (correctClass === alert.className)
					throw invalid("That is the alert's own class: use true_positive", [{ field: "correctClass", type: "sameClass", message: "Use true_positive." }]);
				// One verdict per alert and user, replaced in one statement (ON CONFLICT has no scoped form).
				await this.unscoped("verdict upsert on the alert found in the caller's store")
					.createQueryBuilder()
					.insert()
					.into(Verdict)
					.values({
						alertId,
						orgId,
						storeId,
						cameraId: alert.cameraId,
						className: alert.className,
						score: alert.score,
						userId: userOf(ctx).userId,
						verdict,
						correctClass,
						note: note || null,
						updatedAt: () => "now()",
					})
					.orUpdate(["verdict", "correct_class", "note", "updated_at"], ["alert_id", "user_id"])
					.execute();
				verdictsRecorded.inc({ verdict });
				await this.relearn(alert.cameraId, alert.className, { orgId, storeId });
				await this.keepCleanFrame(data, alert);
				const saved = await data.repo(Verdict).findOneBy({ alertId, userId: userOf(ctx).userId });
				if (!saved) throw notFound("Alert");
				return presentVerdict(saved);
			},
		},

		/** The short route: finds the alert's store, then goes through `submit` and its permission check as the caller. */
		submitForAlert: {
			rest: "POST /alerts/:alertId/feedback",
			permission: { scope: "user" },
			params: { $$strict: "remove", alertId: id, ...verdictFields },
			openapi: { summary: "Your verdict on an alert, by its id alone (staff and above of its store)", responses: { 200: "Verdict" } },
			async handler(this: FeedbackService, ctx: VigilContext<Omit<VerdictParams, "orgId" | "storeId">>) {
				const system = this.unscoped("an alert by its id alone, to name its store; feedback.submit then checks the caller's access");
				const alert = await system.getRepository(Alert).findOne({ where: { id: ctx.params.alertId }, select: { id: true, orgId: true, storeId: true } });
				if (!alert) throw notFound("Alert");
				try {
					return await ctx.call("feedback.submit", { ...ctx.params, orgId: alert.orgId, storeId: alert.storeId });
				} catch (err) {
					// Another tenant's alert, or a store the caller cannot see: the same answer as no alert at all.
					if ((err as { code?: number }).code === 404) throw notFound("Alert");
					throw err;
				}
			},
		},

		listForAlert: {
			rest: "GET /orgs/:orgId/stores/:storeId/alerts/:alertId/feedback",
			permission: { scope: "store", roles: ["owner", "admin", "staff"] },
			params: { $$strict: "remove", ...alertPath },
			openapi: { summary: "Everyone's verdicts on an alert, and what they add up to", responses: { 200: "VerdictList" } },
			async handler(this: FeedbackService, ctx: VigilContext<{ orgId: string; storeId: string; alertId: string }>) {
				const { storeId, alertId } = ctx.params;
				if (!(await this.data(ctx).repo(Alert).existsBy({ id: alertId, storeId }))) throw notFound("Alert");
				const verdicts = await this.data(ctx)
					.repo(Verdict)
					.find({ where: { alertId }, order: { updatedAt: "ASC" } });
				const resolved = resolveVerdict(verdicts.map((v) => ({ ...v, at: v.updatedAt })));
				return { items: verdicts.map(presentVerdict), resolved: resolved ? { verdict: resolved.verdict, correctClass: resolved.correctClass } : null };
			},
		},

		thresholds: {
			rest: "GET /orgs/:orgId/stores/:storeId/cameras/:cameraId/thresholds",
			permission: { scope: "store", roles: ["owner", "admin", "staff"] },
			params: { $$strict: "remove", ...cameraPath },
			openapi: {
				summary: "Score thresholds per class of a camera: learned, pinned, verdicts, precision, share suppressed",
				responses: { 200: "ThresholdList" },
			},
			async handler(this: FeedbackService, ctx: VigilContext<ThresholdParams>) {
				await this.findCamera(ctx);
				const rows = await this.data(ctx)
					.repo(LearnedThreshold)
					.find({ where: { cameraId: ctx.params.cameraId }, order: { className: "ASC" } });
				const c = this.config;
				return {
					items: rows.map(presentThreshold),
					learning: {
						targetPrecision: c.learnTargetPrecision,
						minVerdicts: c.learnMinVerdicts,
						minThreshold: c.learnMinThreshold,
						maxThreshold: c.learnMaxThreshold,
					},
				};
			},
		},

		pin: {
			rest: "PUT /orgs/:orgId/stores/:storeId/cameras/:cameraId/thresholds/:className",
			permission: { scope: "store", roles: ["owner", "admin"] },
			params: {
				$$strict: "remove",
				...thresholdPath,
				threshold: { type: "number", min: 0, max: 1, $$t: "Minimum score for alerts of this class on this camera; wins over the learned one" },
			},
			openapi: { summary: "Pin a class's threshold on a camera (the rules' own minimum stays the floor)", responses: { 200: "Threshold" } },
			async handler(this: FeedbackService, ctx: VigilContext<ThresholdParams>) {
				const { cameraId, className, threshold } = ctx.params;
				const camera = await this.findCamera(ctx);
				const row = await this.relearn(
					cameraId,
					className,
					camera,
					{ pinned: threshold ?? null, pinnedBy: userOf(ctx).userId, pinnedAt: new Date() },
					(tx: EntityManager, before: number | null) =>
						audit(ctx, tx, "threshold.pinned", { type: "camera", id: cameraId }, { className, from: before, to: threshold }),
				);
				return presentThreshold(row);
			},
		},

		unpin: {
			rest: "DELETE /orgs/:orgId/stores/:storeId/cameras/:cameraId/thresholds/:className",
			permission: { scope: "store", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...thresholdPath },
			openapi: { summary: "Remove a pin: the learned threshold (if any) applies again; verdicts are kept", responses: { 204: null } },
			async handler(this: FeedbackService, ctx: VigilContext<ThresholdParams>) {
				const { cameraId, className } = ctx.params;
				const camera = await this.findCamera(ctx);
				if (await this.data(ctx).repo(LearnedThreshold).existsBy({ cameraId, className }))
					await this.relearn(cameraId, className, camera, { pinned: null, pinnedBy: null, pinnedAt: null }, (tx: EntityManager, before: number | null) =>
						audit(ctx, tx, "threshold.unpinned", { type: "camera", id: cameraId }, { className, from: before }),
					);
				ctx.meta.$statusCode = 204;
				return null;
			},
		},

		precision: {
			rest: "GET /orgs/:orgId/stores/:storeId/cameras/:cameraId/precision",
			permission: { scope: "store", roles: ["owner", "admin", "staff"] },
			params: {
				$$strict: "remove",
				...cameraPath,
				days: { type: "number", integer: true, convert: true, min: 1, max: PRECISION_DAYS_MAX, default: 30, $$t: "How many days, today last" },
			},
			openapi: {
				summary: "Per day (store time zone): the camera's alerts, how many were judged, true and false positives, and precision",
				responses: { 200: "PrecisionHistory" },
				schemas: FEEDBACK_SCHEMAS,
			},
			async handler(this: FeedbackService, ctx: VigilContext<{ orgId: string; storeId: string; cameraId: string; days: number }>) {
				const camera = await this.findCamera(ctx);
				const store = await this.data(ctx).repo(Store).findOneBy({ id: camera.storeId });
				const timezone = store?.timezone ?? "UTC";
				const buckets = lastBuckets("day", ctx.params.days, new Date(), timezone);
				const alerts = await this.data(ctx)
					.repo(Alert)
					.find({
						select: { id: true, occurredAt: true },
						where: { cameraId: camera.id, occurredAt: And(MoreThanOrEqual(buckets.starts[0]), LessThan(buckets.end)) },
					});
				const verdicts = alerts.length
					? await this.data(ctx)
							.repo(Verdict)
							.find({ where: { cameraId: camera.id, alertId: In(alerts.map((a) => a.id)) } })
					: [];
				const byAlert = new Map<string, Verdict[]>();
				for (const v of verdicts) byAlert.set(v.alertId, [...(byAlert.get(v.alertId) ?? []), v]);
				const days = buckets.starts.map((start) => ({ day: zonedDay(timezone, start), alerts: 0, judged: 0, truePositives: 0, falsePositives: 0 }));
				for (const alert of alerts) {
					const day = days[bucketOf(buckets, alert.occurredAt)];
					if (!day) continue;
					day.alerts++;
					// What everyone's verdicts add up to, as the learner counts it: a wrong class is a false positive.
					const resolved = resolveVerdict((byAlert.get(alert.id) ?? []).map((v) => ({ ...v, at: v.updatedAt })));
					if (!resolved) continue;
					day.judged++;
					if (resolved.verdict === "true_positive") day.truePositives++;
					else day.falsePositives++;
				}
				return {
					timezone,
					from: buckets.starts[0],
					to: buckets.end,
					days: days.map((d) => ({ ...d, precision: d.judged ? d.truePositives / d.judged : null })),
				};
			},
		},

		dataset: {
			rest: "GET /orgs/:orgId/stores/:storeId/dataset",
			permission: { scope: "store", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...storePath },
			openapi: {
				summary: "The store's judged alerts as a YOLO dataset (.tar.gz: images, labels, data.yaml); false positives are background images",
				responses: { 200: "application/gzip" },
			},
			async handler(this: FeedbackService, ctx: VigilContext<{ orgId: string; storeId: string }>) {
				const day = new Date().toISOString().slice(0, 10);
				(ctx.meta as { $responseType?: string }).$responseType = "application/gzip";
				ctx.meta.$responseHeaders = {
					"Content-Disposition": `attachment; filename="vigil-dataset-${ctx.params.storeId}-${day}.tar.gz"`,
					"Cache-Control": "no-store",
				};
				const archive = Readable.from(this.datasetEntries(this.data(ctx), ctx.params.storeId));
				const gzip = createGzip();
				archive.on("error", (err) => {
					this.logger.error("Dataset export failed", { storeId: ctx.params.storeId }, err);
					gzip.destroy(err);
				});
				return archive.pipe(gzip);
			},
		},
	},

	methods: {
		/** The camera of the path's store; one of another store or organization does not exist for this caller. */
		async findCamera(this: FeedbackService, ctx: VigilContext<{ storeId: string; cameraId: string }>) {
			const camera = await this.data(ctx).repo(Camera).findOneBy({ id: ctx.params.cameraId, storeId: ctx.params.storeId });
			if (!camera) throw notFound("Camera");
			return camera;
		},

		/**
		 * A judged alert becomes a training image: its frame without the drawn box is kept for the dataset export.
		 * Taken at the first verdict, not when the alert is raised, so the detection path never pays for it (an
		 * encode costs tens of milliseconds) and only judged alerts take the disk space. Not once the alert's
		 * pictures have expired or its clip's video is gone: the export then uses the snapshot, if any.
		 */
		async keepCleanFrame(this: FeedbackService, data: ScopedData, alert: Alert) {
			if (alert.frameKey || !alert.snapshotKey || !alert.clipId) return;
			const clip = await data.repo(Clip).findOneBy({ id: alert.clipId });
			if (!clip || clip.expiredAt) return;
			try {
				const frame = await grabFrame(toolPath("ffmpeg", this.config.ffmpegPath), this.storage.localPath(clip.storageKey), alert.frameTime, clip);
				const stored = await this.storage.put("snapshots", "jpg", Readable.from([frameJpeg(frame, clip)]));
				// Two first verdicts at once: one frame is kept, the other file removed.
				const kept = await data.repo(Alert).update({ id: alert.id, frameKey: IsNull() }, { frameKey: stored.key });
				if (!kept) await this.storage.delete(stored.key);
			} catch (err) {
				this.logger.warn("No clean frame for a judged alert; the dataset will use its snapshot", { alertId: alert.id }, err);
			}
		},

		/**
		 * Recomputes one camera and class from its most recent verdicts (LEARN_WINDOW), applying `change` (a pin)
		 * first. The row is locked meanwhile, so concurrent verdicts take turns and the last one sees them all.
		 * Broadcasts the threshold in force when it changed. `record` writes the audit entry in the same transaction.
		 */
		async relearn(
			this: FeedbackService,
			cameraId: string,
			className: string,
			tenant: { orgId: string; storeId: string },
			change: Partial<LearnedThreshold> = {},
			record?: (tx: EntityManager, before: number | null) => Promise<void>,
		): Promise<LearnedThreshold> {
			// Insert-if-missing (ON CONFLICT DO NOTHING) and the row lock have no scoped form; callers found the camera in their tenant.
			const { row, before } = await this.unscoped("a camera's threshold row: inserted if missing, then locked").transaction(async (system: EntityManager) => {
				await system
					.createQueryBuilder()
					.insert()
					.into(LearnedThreshold)
					.values({ cameraId, className, orgId: tenant.orgId, storeId: tenant.storeId })
					.orIgnore()
					.execute();
				const row = await system
					.createQueryBuilder(LearnedThreshold, "t")
					.setLock("pessimistic_write")
					.where("t.cameraId = :cameraId AND t.className = :className", { cameraId, className })
					.getOneOrFail();
				const before = row.pinned ?? row.learned;
				Object.assign(row, change);
				const labelled = await this.labelledScores(system, cameraId, className);
				const c = this.config;
				const learned = learnThreshold(labelled, {
					targetPrecision: c.learnTargetPrecision,
					minVerdicts: c.learnMinVerdicts,
					minThreshold: c.learnMinThreshold,
					maxThreshold: c.learnMaxThreshold,
				});
				const inForce = row.pinned ?? learned.threshold;
				const stats = inForce === learned.threshold ? learned : statsAt(labelled, inForce);
				Object.assign(row, {
					learned: learned.threshold,
					verdicts: stats.verdicts,
					truePositives: stats.truePositives,
					falsePositives: stats.falsePositives,
					precision: stats.precision,
					precisionLowerBound: stats.precisionLowerBound,
					suppressedShare: stats.suppressedShare,
				});
				if (record) await record(system, before);
				return { row: await system.save(row), before };
			});
			const threshold = row.pinned ?? row.learned;
			if (threshold !== before) {
				this.logger.info("Alert threshold changed", { cameraId, className, threshold, pinned: row.pinned !== null });
				this.broker.broadcast("feedback.threshold.changed", { cameraId, className, threshold } satisfies ThresholdChanged);
			}
			return row;
		},

		/** One label per judged alert of this camera and class; wrong_class counts against the alert's class. */
		async labelledScores(this: FeedbackService, tx: EntityManager, cameraId: string, className: string): Promise<LabelledScore[]> {
			const recent = await tx.find(Verdict, {
				where: { cameraId, className },
				order: { updatedAt: "DESC" },
				take: this.config.learnWindow,
				select: { alertId: true, score: true, verdict: true, correctClass: true, updatedAt: true },
			});
			const byAlert = new Map<string, Verdict[]>();
			for (const v of recent) (byAlert.get(v.alertId) ?? byAlert.set(v.alertId, []).get(v.alertId)!).push(v);
			return [...byAlert.values()].map((votes) => ({
				score: votes[0].score,
				truePositive: resolveVerdict(votes.map((v) => ({ ...v, at: v.updatedAt })))?.verdict === "true_positive",
			}));
		},

		/**
		 * The archive, entry by entry: per judged alert its clean frame (else the snapshot) and a label file, then
		 * data.yaml. Class indices are given in order of first appearance, so one pass is enough.
		 */
		async *datasetEntries(this: FeedbackService, data: ScopedData, storeId: string): AsyncGenerator<Buffer> {
			const now = new Date();
			const orgId = data.scope.orgId;
			// A page of distinct judged alerts (GROUP BY has no scoped form), filtered by the caller's organization here.
			const system = this.unscoped("dataset export: the store's judged alert ids, page by page");
			const classes = new Map<string, number>();
			let images = 0,
				background = 0;
			let after = NO_UUID;
			for (;;) {
				const page = await system
					.createQueryBuilder(Verdict, "v")
					.select("v.alertId", "alertId")
					.where("v.storeId = :storeId AND v.orgId = :orgId AND v.alertId > :after", { storeId, orgId, after })
					.groupBy("v.alertId")
					.orderBy("v.alertId", "ASC")
					.limit(DATASET_PAGE)
					.getRawMany<{ alertId: string }>();
				if (!page.length) break;
				after = page[page.length - 1].alertId;
				const ids = page.map((p) => p.alertId);
				const [alerts, verdicts] = await Promise.all([data.repo(Alert).findBy({ id: In(ids), storeId }), data.repo(Verdict).findBy({ alertId: In(ids) })]);
				for (const alert of alerts.sort((a, b) => a.id.localeCompare(b.id))) {
					const resolved = resolveVerdict(verdicts.filter((v) => v.alertId === alert.id).map((v) => ({ ...v, at: v.updatedAt })));
					const image = alert.frameKey ?? alert.snapshotKey;
					if (!resolved || !image) continue;
					let size: number;
					try {
						size = await this.storage.size(image);
					} catch {
						continue; // the file is gone (clip deleted meanwhile): skip the alert
					}
					const className = resolved.verdict === "true_positive" ? alert.className : resolved.verdict === "wrong_class" ? resolved.correctClass : null;
					let label = "";
					if (className) {
						if (!classes.has(className)) classes.set(className, classes.size);
						label = yoloLine(classes.get(className)!, alert.box);
					} else background++;
					yield tarHeader(`images/${alert.id}.jpg`, size, alert.occurredAt);
					let sent = 0;
					for await (const chunk of this.storage.get(image) as AsyncIterable<Buffer>) {
						const part = chunk.subarray(0, Math.max(0, size - sent));
						sent += part.length;
						if (part.length) yield part;
					}
					if (sent < size) yield Buffer.alloc(size - sent, 0);
					yield tarPadding(size);
					yield tarFile(`labels/${alert.id}.txt`, label, alert.occurredAt);
					images++;
				}
				if (page.length < DATASET_PAGE) break;
			}
			const comment = `Vigil dataset of store ${storeId}, exported ${now.toISOString()}.\n${images} images, ${background} of them background (false positives, empty label files).`;
			yield tarFile("data.yaml", dataYaml([...classes.keys()], comment), now);
			yield TAR_END;
		},
	},

	created(this: FeedbackService) {
		this.storage = mediaStorage(this.config.dataDir);
	},
};

export default FeedbackServiceSchema;
