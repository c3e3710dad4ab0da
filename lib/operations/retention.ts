/**
 * Retention: what an organization keeps, and the cleanup that removes what is older. Each kind is removed on its
 * own, in batches (one short transaction each, with a pause between them so the API keeps its share of the
 * database), and files are deleted only after the rows that named them are committed (a file already gone is
 * fine). What each kind means:
 *
 * - clips: the video file is deleted and the clip is marked `expired_at`; its summary, tracks and alerts stay.
 *   Only clips done or failed: one still being processed is left for a later run.
 * - snapshots: an alert's JPEGs (the annotated snapshot and the clean frame) are deleted and their keys
 *   cleared; the alert stays.
 * - detections: the per-frame detection rows of (finished) clips older than the limit, and edge boxes' events
 *   older than it; tracks and alerts stay.
 *
 * Ages count from the clip's upload (clips, detections), the event's time (edge events) and the alert's
 * creation (snapshots).
 */
import { In, IsNull, LessThan, MoreThan, Not, type DataSource } from "typeorm";
import { Alert, Clip, Detection, EdgeEvent, Organization, RetentionPolicy, Store } from "../../entities";
import type { RetentionCounts, RetentionKind, RetentionOrgReport } from "../../entities/retention-run.entity";
import type { Storage } from "../media/storage";

export interface RetentionDays {
	clipsDays: number | null;
	snapshotsDays: number | null;
	detectionsDays: number | null;
}

export interface SweepOptions {
	storage: Storage;
	/** Rows per transaction. */
	batch: number;
	/** Pause between batches, so a long cleanup does not hold the database. */
	pauseMs?: number;
	now?: Date;
	/** Checked between batches: a stopping node ends its run early (the next run goes on from there). */
	signal?: AbortSignal;
	/** Told after each committed batch, e.g. for metrics. */
	removed?: (kind: RetentionKind, count: number) => void;
}

const DAY_MS = 86_400_000;
const FINISHED = ["done", "failed"] as const;
/** Organizations read per page when a run walks all of them. */
const ORG_PAGE = 200;

export const noCounts = (): RetentionCounts => ({ clips: 0, snapshots: 0, detections: 0 });

/** The organization's own policy where it has one, else the node's defaults. */
export function effectiveDays(policy: RetentionDays | null | undefined, defaults: RetentionDays): RetentionDays {
	return policy ? { clipsDays: policy.clipsDays, snapshotsDays: policy.snapshotsDays, detectionsDays: policy.detectionsDays } : { ...defaults };
}

const cutoff = (now: Date, days: number) => new Date(now.getTime() - days * DAY_MS);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Removes what one organization keeps longer than `days` allow. Errors are reported per kind; the other kinds still run. */
export async function sweepOrganization(db: DataSource, orgId: string, days: RetentionDays, options: SweepOptions): Promise<RetentionOrgReport> {
	const report: RetentionOrgReport = { ...noCounts(), errors: [] };
	const now = options.now ?? new Date();
	const storeIds = (await db.getRepository(Store).find({ where: { orgId }, select: { id: true } })).map((s) => s.id);
	if (storeIds.length === 0) return report;
	const steps: [RetentionKind, number | null, (before: Date) => Promise<number>][] = [
		["clips", days.clipsDays, (before) => expireClips(db, storeIds, before, now, options)],
		["snapshots", days.snapshotsDays, (before) => dropSnapshots(db, storeIds, before, options)],
		["detections", days.detectionsDays, (before) => dropDetections(db, storeIds, before, options)],
	];
	for (const [kind, limit, remove] of steps) {
		if (limit === null || options.signal?.aborted) continue;
		try {
			report[kind] = await remove(cutoff(now, limit));
		} catch (err) {
			report.errors.push(`${kind}: ${message(err)}`);
		}
	}
	return report;
}

/** Repeats `batch` until it removes fewer rows than a full batch; returns the total. */
async function inBatches(kind: RetentionKind, options: SweepOptions, batch: () => Promise<number>): Promise<number> {
	let total = 0;
	for (;;) {
		const removed = await batch();
		total += removed;
		if (removed) options.removed?.(kind, removed);
		if (removed < options.batch || options.signal?.aborted) return total;
		await pause(options.pauseMs ?? 0);
	}
}

/** Deletes files after their rows are committed; a failure is reported but does not undo the rows (the file is orphaned, never referenced). */
async function deleteFiles(storage: Storage, keys: string[]): Promise<void> {
	const failed: string[] = [];
	for (const key of keys) await storage.delete(key).catch(() => failed.push(key));
	if (failed.length) throw new Error(`could not delete ${failed.length} file(s), e.g. ${failed[0]}`);
}

function expireClips(db: DataSource, storeIds: string[], before: Date, now: Date, options: SweepOptions): Promise<number> {
	return inBatches("clips", options, async () => {
		const expired = await db.transaction(async (tx) => {
			// Locked rows are skipped: a clip being reprocessed right now is left for the next run.
			const rows = await tx.getRepository(Clip).find({
				select: { id: true, storageKey: true },
				where: { storeId: In(storeIds), createdAt: LessThan(before), expiredAt: IsNull(), status: In([...FINISHED]) },
				order: { createdAt: "ASC" },
				take: options.batch,
				lock: { mode: "pessimistic_write", onLocked: "skip_locked" },
			});
			if (rows.length) await tx.update(Clip, { id: In(rows.map((r) => r.id)) }, { expiredAt: now });
			return rows;
		});
		await deleteFiles(
			options.storage,
			expired.map((c) => c.storageKey),
		);
		return expired.length;
	});
}

function dropSnapshots(db: DataSource, storeIds: string[], before: Date, options: SweepOptions): Promise<number> {
	return inBatches("snapshots", options, async () => {
		const dropped = await db.transaction(async (tx) => {
			// The annotated snapshot and the clean frame kept for dataset export go together.
			const old = { storeId: In(storeIds), createdAt: LessThan(before) };
			const rows = await tx.getRepository(Alert).find({
				select: { id: true, snapshotKey: true, frameKey: true },
				where: [
					{ ...old, snapshotKey: Not(IsNull()) },
					{ ...old, frameKey: Not(IsNull()) },
				],
				order: { createdAt: "ASC" },
				take: options.batch,
				lock: { mode: "pessimistic_write", onLocked: "skip_locked" },
			});
			if (rows.length) await tx.update(Alert, { id: In(rows.map((r) => r.id)) }, { snapshotKey: null, frameKey: null });
			return rows;
		});
		await deleteFiles(
			options.storage,
			dropped.flatMap((a) => [a.snapshotKey, a.frameKey].filter((k): k is string => Boolean(k))),
		);
		return dropped.length;
	});
}

function dropDetections(db: DataSource, storeIds: string[], before: Date, options: SweepOptions): Promise<number> {
	return inBatches("detections", options, async () => {
		const ids = await db
			.getRepository(Detection)
			.createQueryBuilder("d")
			.select("d.id", "id")
			.innerJoin(Clip, "c", "c.id = d.clipId")
			.where("c.storeId IN (:...storeIds)", { storeIds })
			.andWhere("c.createdAt < :before", { before })
			.andWhere("c.status IN (:...finished)", { finished: FINISHED })
			.limit(options.batch)
			.getRawMany<{ id: string }>();
		if (ids.length === 0) return 0;
		const result = await db.getRepository(Detection).delete({ id: In(ids.map((r) => r.id)) });
		return result.affected ?? ids.length;
	}).then(async (clipDetections) => clipDetections + (await dropEdgeEvents(db, storeIds, before, options)));
}

/** Detections an edge box reported are detections too; once gone, a box re-sending one would store it again. */
function dropEdgeEvents(db: DataSource, storeIds: string[], before: Date, options: SweepOptions): Promise<number> {
	return inBatches("detections", options, async () => {
		const rows = await db
			.getRepository(EdgeEvent)
			.find({ select: { id: true }, where: { storeId: In(storeIds), time: LessThan(before) }, take: options.batch });
		if (rows.length === 0) return 0;
		const result = await db.getRepository(EdgeEvent).delete({ id: In(rows.map((r) => r.id)) });
		return result.affected ?? rows.length;
	});
}

export interface RetentionRunResult {
	removed: RetentionCounts;
	perOrg: Record<string, RetentionOrgReport>;
	errors: string[];
}

/**
 * One cleanup over every organization that keeps anything for a limited time. Per-organization reports list
 * only organizations with something removed or an error.
 */
export async function sweepAll(db: DataSource, defaults: RetentionDays, options: SweepOptions): Promise<RetentionRunResult> {
	const result: RetentionRunResult = { removed: noCounts(), perOrg: {}, errors: [] };
	const now = options.now ?? new Date();
	// Paged by id: organizations created or deleted meanwhile cannot make the walk skip or repeat one.
	let after: string | undefined;
	for (;;) {
		const orgs = await db
			.getRepository(Organization)
			.find({ select: { id: true }, where: after ? { id: MoreThan(after) } : {}, order: { id: "ASC" }, take: ORG_PAGE });
		if (orgs.length === 0 || options.signal?.aborted) break;
		const policies = await db.getRepository(RetentionPolicy).findBy({ orgId: In(orgs.map((o) => o.id)) });
		const byOrg = new Map(policies.map((p) => [p.orgId, p]));
		for (const { id } of orgs) {
			if (options.signal?.aborted) break;
			const days = effectiveDays(byOrg.get(id), defaults);
			if (days.clipsDays === null && days.snapshotsDays === null && days.detectionsDays === null) continue;
			let report: RetentionOrgReport;
			try {
				report = await sweepOrganization(db, id, days, { ...options, now });
			} catch (err) {
				report = { ...noCounts(), errors: [message(err)] };
			}
			for (const kind of ["clips", "snapshots", "detections"] as const) result.removed[kind] += report[kind];
			if (report.clips || report.snapshots || report.detections || report.errors.length) result.perOrg[id] = report;
		}
		after = orgs[orgs.length - 1].id;
		if (orgs.length < ORG_PAGE) break;
	}
	return result;
}
