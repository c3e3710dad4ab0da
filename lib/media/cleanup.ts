/**
 * Deleting a camera, a store or an organization cascades its clips and alerts away in the database, and with
 * them the only record of their files (clip videos, alert snapshots and clean frames). So the keys are read in
 * the deleting transaction, and the files deleted once it has committed (a file already gone is fine).
 */
import { managerOf, type AnyData } from "../platform/scoped-data";
import { Alert, Clip } from "../../entities";
import { mediaStorage } from "./storage";

export type MediaScope = { cameraId: string } | { storeId: string } | { orgId: string };

export async function mediaKeysOf(data: AnyData, scope: MediaScope): Promise<string[]> {
	const [clips, alerts] = [
		await managerOf(data)
			.getRepository(Clip)
			.find({ where: scope, select: { id: true, storageKey: true } }),
		await managerOf(data)
			.getRepository(Alert)
			.find({ where: scope, select: { id: true, snapshotKey: true, frameKey: true } }),
	];
	return [...clips.map((c) => c.storageKey), ...alerts.flatMap((a) => [a.snapshotKey, a.frameKey])].filter((k): k is string => Boolean(k));
}

/** Deletes the files; one that cannot be deleted is logged (it is never referenced again) and does not fail the request. */
export async function deleteMedia(dataDir: string, keys: string[], logger: { warn(...args: unknown[]): void }, scope: MediaScope): Promise<void> {
	const storage = mediaStorage(dataDir);
	let failed = 0;
	for (const key of keys) await storage.delete(key).catch(() => failed++);
	if (failed) logger.warn("Some media files could not be deleted", { ...scope, failed, of: keys.length });
}
