/**
 * retention — how long each organization keeps its clips, snapshots and detections, and the cleanup that
 * removes what is older (lib/retention.ts says what each kind means). The cleanup runs every
 * RETENTION_INTERVAL on one node at a time (a PostgreSQL advisory lock; embedded mode is one node anyway),
 * writes a report per run (`retention_runs`), and a super-admin can run it at once.
 */
import { hostname } from "node:os";
import type { ServiceSchema, ServiceSettingSchema } from "moleculer";
import { LessThan, MoreThan } from "typeorm";
import { Organization, RetentionPolicy, RetentionRun } from "../entities";
import { RETENTION_KINDS, type RetentionKind } from "../entities/retention-run.entity";
import { audit } from "../lib/operations/audit";
import { tryWithAdvisoryLock } from "../lib/platform/database";
import { conflict } from "../lib/platform/errors";
import { retentionRemoved } from "../lib/platform/metrics";
import { effectiveDays, noCounts, sweepAll, type RetentionDays } from "../lib/operations/retention";
import { mediaStorage, type Storage } from "../lib/media/storage";
import type { Caller, VigilContext } from "../lib/platform/types";
import { RepositoryMixin, type RepositoryService } from "../mixins/repository.mixin";
import { orgPath } from "./schemas";

type RetentionService = RepositoryService & {
	storage: Storage;
	timer?: NodeJS.Timeout;
	/** The run in progress on this node, if any. */
	current?: Promise<unknown>;
	stopping: AbortController;
};

/** Any fixed number: it names the lock that keeps two nodes from cleaning at once. */
const RETENTION_LOCK = 74_221_002;
/** Pause between batches: the API's queries get the database in between. */
const BATCH_PAUSE_MS = 25;
/** A manual run answers with its report; a longer one goes on and its report appears in the runs list. */
const MANUAL_RUN_TIMEOUT_MS = 10 * 60_000;
/** First scheduled run this long after start (at most), so a restarting cluster does not clean at once. */
const FIRST_RUN_MAX_DELAY_MS = 5 * 60_000;

const days = { type: "number", integer: true, min: 1, max: 3650, nullable: true, $$t: "Days; null keeps it for ever" } as const;

const presentRun = (r: RetentionRun) => ({
	id: r.id,
	trigger: r.trigger,
	node: r.node,
	startedAt: r.startedAt,
	finishedAt: r.finishedAt,
	removed: r.removed,
	perOrg: r.perOrg,
	errors: r.errors,
});

const RetentionServiceSchema: ServiceSchema<ServiceSettingSchema, RetentionService> = {
	name: "retention",
	mixins: [RepositoryMixin],
	settings: { rest: "/" },

	actions: {
		getPolicy: {
			rest: "GET /orgs/:orgId/retention",
			permission: { scope: "org", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...orgPath },
			openapi: {
				summary: "How long the organization keeps clips, snapshots and detections (its own policy, or the defaults)",
				responses: { 200: "RetentionPolicy" },
			},
			async handler(this: RetentionService, ctx: VigilContext<{ orgId: string }>) {
				return this.presentPolicy(await this.data(ctx).repo(RetentionPolicy).findOneBy({}));
			},
		},

		setPolicy: {
			rest: "PUT /orgs/:orgId/retention",
			permission: { scope: "org", roles: ["owner"] },
			params: { $$strict: "remove", ...orgPath, clipsDays: days, snapshotsDays: days, detectionsDays: days },
			openapi: {
				summary: "Set the organization's retention, per kind, in days (null: keep for ever); the next cleanup applies it",
				responses: { 200: "RetentionPolicy" },
			},
			async handler(this: RetentionService, ctx: VigilContext<RetentionDays & { orgId: string }>) {
				const { orgId, clipsDays, snapshotsDays, detectionsDays } = ctx.params;
				const caller = ctx.meta.caller as Extract<Caller, { kind: "user" }>;
				const saved = await this.data(ctx).transaction(async (tx) => {
					// Changes of one organization's policy take turns on the organization row (FOR NO KEY UPDATE leaves the
					// organization's other writes alone), so the first policy is inserted once, never twice.
					await tx.repo(Organization).findOne({ where: {}, lock: { mode: "for_no_key_update" } });
					const policies = tx.repo(RetentionPolicy);
					const before = await policies.findOneBy({});
					const from = effectiveDays(before, this.defaults());
					const to = { clipsDays, snapshotsDays, detectionsDays };
					if (before) await policies.update({}, { ...to, updatedBy: caller.userId });
					else await policies.insert({ ...to, updatedBy: caller.userId });
					await audit(ctx, tx, "retention.policy_changed", { type: "organization", id: orgId }, { from, to });
					return policies.findOneBy({});
				});
				return this.presentPolicy(saved);
			},
		},

		listRuns: {
			rest: "GET /orgs/:orgId/retention/runs",
			permission: { scope: "org", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...orgPath, limit: { type: "number", integer: true, convert: true, min: 1, max: 100, default: 20 } },
			openapi: { summary: "Recent cleanup runs, newest first, with what each removed from this organization", responses: { 200: "RetentionRunList" } },
			async handler(this: RetentionService, ctx: VigilContext<{ orgId: string; limit: number }>) {
				const { orgId } = ctx.params;
				const runs = await this.unscoped("a cleanup run reports on every organization; this organization's part is picked out below")
					.getRepository(RetentionRun)
					.find({ order: { startedAt: "DESC" }, take: ctx.params.limit });
				return {
					items: runs.map((r) => {
						const mine = r.perOrg[orgId];
						return {
							id: r.id,
							trigger: r.trigger,
							startedAt: r.startedAt,
							finishedAt: r.finishedAt,
							removed: mine ? { clips: mine.clips, snapshots: mine.snapshots, detections: mine.detections } : noCounts(),
							errors: mine?.errors ?? [],
						};
					}),
				};
			},
		},

		runNow: {
			rest: "POST /admin/retention/run",
			permission: { scope: "superadmin" },
			timeout: MANUAL_RUN_TIMEOUT_MS,
			openapi: {
				summary: "Run the retention cleanup now, on this node, and return its report (409 while another run is going)",
				responses: { 200: "RetentionRun" },
			},
			async handler(this: RetentionService, ctx: VigilContext) {
				const run = await this.runOnce("manual");
				if (!run) throw conflict("A retention cleanup is already running; its report will be in the runs list", "RETENTION_RUNNING");
				await audit(
					ctx,
					this.unscoped("the cleanup run is the platform's, not an organization's"),
					"retention.run",
					{ type: "retention_run", id: run.id },
					{ removed: run.removed },
					{ orgId: null },
				);
				return presentRun(run);
			},
		},
	},

	methods: {
		defaults(this: RetentionService): RetentionDays {
			return {
				clipsDays: this.config.retentionClipsDays,
				snapshotsDays: this.config.retentionSnapshotsDays,
				detectionsDays: this.config.retentionDetectionsDays,
			};
		},

		presentPolicy(this: RetentionService, policy: RetentionPolicy | null) {
			const defaults = this.defaults();
			return {
				...effectiveDays(policy, defaults),
				source: policy ? "organization" : "defaults",
				defaults,
				updatedAt: policy?.updatedAt ?? null,
			};
		},

		/** One run, unless one is going (here or on another node): then null. */
		async runOnce(this: RetentionService, trigger: "schedule" | "manual"): Promise<RetentionRun | null> {
			if (this.current) return null;
			const run = tryWithAdvisoryLock(this.unscoped("advisory lock: one cleanup at a time across nodes"), RETENTION_LOCK, async () => {
				if (trigger === "schedule" && (await this.ranRecently())) return "skipped" as const;
				return this.sweep(trigger);
			});
			this.current = run;
			try {
				const result = await run;
				return result === "skipped" ? null : result;
			} finally {
				this.current = undefined;
			}
		},

		/** Every node keeps a timer: after one node's run, the others find it recent and skip. */
		async ranRecently(this: RetentionService): Promise<boolean> {
			const since = new Date(Date.now() - this.config.retentionInterval * 1000 * 0.9);
			return this.unscoped("cleanup runs belong to no organization")
				.getRepository(RetentionRun)
				.existsBy({ trigger: "schedule", startedAt: MoreThan(since) });
		},

		async sweep(this: RetentionService, trigger: "schedule" | "manual"): Promise<RetentionRun> {
			const system = this.unscoped("retention sweep: every organization's expired media and detections");
			const repo = system.getRepository(RetentionRun);
			const run = await repo.save(
				repo.create({ trigger, node: this.broker.nodeID ?? hostname(), startedAt: new Date(), finishedAt: null, removed: noCounts(), perOrg: {}, errors: [] }),
			);
			let result;
			try {
				result = await sweepAll(system, this.defaults(), {
					storage: this.storage,
					batch: this.config.retentionBatch,
					pauseMs: BATCH_PAUSE_MS,
					signal: this.stopping.signal,
					removed: (kind: RetentionKind, count: number) => retentionRemoved.inc({ kind }, count),
				});
			} catch (err) {
				result = { removed: noCounts(), perOrg: {}, errors: [err instanceof Error ? err.message : String(err)] };
			}
			if (this.stopping.signal.aborted) result.errors.push("stopped early: the node was shutting down");
			Object.assign(run, { ...result, finishedAt: new Date() });
			await repo.save(run);
			await repo.delete({ startedAt: LessThan(new Date(Date.now() - this.config.retentionReportDays * 86_400_000)) });
			const summary = RETENTION_KINDS.map((k) => `${result.removed[k]} ${k}`).join(", ");
			const errors = result.errors.length + Object.values(result.perOrg).reduce((n, o) => n + o.errors.length, 0);
			(errors ? this.logger.warn : this.logger.info).call(this.logger, `Retention ${trigger} run removed ${summary}`, {
				runId: run.id,
				organizations: Object.keys(result.perOrg).length,
				errors,
			});
			return run;
		},

		schedule(this: RetentionService, delayMs: number) {
			this.timer = setTimeout(async () => {
				try {
					await this.runOnce("schedule");
				} catch (err) {
					this.logger.error("Retention run failed", err);
				}
				if (!this.stopping.signal.aborted) this.schedule(this.config.retentionInterval * 1000);
			}, delayMs);
			this.timer.unref();
		},
	},

	created(this: RetentionService) {
		this.storage = mediaStorage(this.config.dataDir);
		this.stopping = new AbortController();
	},

	started(this: RetentionService) {
		if (this.config.retentionInterval > 0) {
			const first = Math.min(this.config.retentionInterval * 1000, FIRST_RUN_MAX_DELAY_MS);
			this.schedule(Math.round(first * (0.5 + Math.random() / 2)));
		}
	},

	async stopped(this: RetentionService) {
		this.stopping.abort();
		clearTimeout(this.timer);
		await this.current?.catch(() => undefined);
	},
};

export default RetentionServiceSchema;
