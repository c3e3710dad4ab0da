/**
 * Camera liveness: online, stale or offline from when the camera was last seen (an edge event for it, a
 * heartbeat listing it online, a clip upload); unknown when it never was. `livenessOf` is the plain rule;
 * `camerasLiveness` and `markCamerasSeen` read and write the `camera_liveness` rows.
 */
import { managerOf, type AnyData } from "../platform/scoped-data";
import { In } from "typeorm";
import { CameraLiveness, type SeenSource } from "../../entities/camera-liveness.entity";

export const LIVENESS_STATUSES = ["online", "stale", "offline", "unknown"] as const;
export type LivenessStatus = (typeof LIVENESS_STATUSES)[number];

export interface Liveness {
	status: LivenessStatus;
	lastSeenAt: Date | null;
}

export interface LivenessThresholds {
	/** Seconds without a sign of life before a camera is stale. */
	staleAfter: number;
	/** Seconds without a sign of life before it is offline. */
	offlineAfter: number;
}

/** Not seen for `staleAfter` seconds: stale; for `offlineAfter`: offline (whichever threshold is reached, offline wins). */
export function livenessOf(lastSeenAt: Date | null | undefined, now: Date, t: LivenessThresholds): Liveness {
	if (!lastSeenAt) return { status: "unknown", lastSeenAt: null };
	const age = (now.getTime() - lastSeenAt.getTime()) / 1000;
	const status = age >= t.offlineAfter ? "offline" : age >= t.staleAfter ? "stale" : "online";
	return { status, lastSeenAt };
}

/** Liveness of each camera id given (unknown for those never seen). */
export async function camerasLiveness(db: AnyData, cameraIds: string[], t: LivenessThresholds, now = new Date()): Promise<Map<string, Liveness>> {
	const rows = cameraIds.length
		? await managerOf(db)
				.getRepository(CameraLiveness)
				.findBy({ cameraId: In(cameraIds) })
		: [];
	const seen = new Map(rows.map((r) => [r.cameraId, r.lastSeenAt]));
	return new Map(cameraIds.map((id) => [id, livenessOf(seen.get(id), now, t)]));
}

/**
 * Records that these cameras were seen at these times. Never moves a camera's time backwards (a late batch of old
 * events does not hide a newer heartbeat), and never past `now` (a box clock ahead of ours).
 */
export async function markCamerasSeen(db: AnyData, seen: Map<string, Date>, source: SeenSource, now = new Date()): Promise<void> {
	if (!seen.size) return;
	const rows = [...seen].map(([cameraId, at]) => ({ cameraId, lastSeenAt: at > now ? now : at, source }));
	const repo = managerOf(db).getRepository(CameraLiveness);
	await repo.createQueryBuilder().insert().into(CameraLiveness).values(rows).orIgnore().execute();
	for (const row of rows) {
		await repo
			.createQueryBuilder()
			.update(CameraLiveness)
			.set({ lastSeenAt: row.lastSeenAt, source })
			.where("camera_id = :cameraId AND last_seen_at < :at", { cameraId: row.cameraId, at: row.lastSeenAt })
			.execute();
	}
}
