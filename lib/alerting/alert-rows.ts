/** Reads shared by clip and edge evaluation: a camera's rules, the cooldown check and its per-class thresholds. */
import { And, IsNull, LessThan, MoreThan, type EntityManager } from "typeorm";
import { Alert, AlertRule, LearnedThreshold } from "../../entities";

/** A camera's enabled rules: its own and its store's. */
export function rulesOf(tx: EntityManager, camera: { id: string; storeId: string }): Promise<AlertRule[]> {
	return tx.getRepository(AlertRule).find({
		where: [
			{ storeId: camera.storeId, cameraId: camera.id, enabled: true },
			{ storeId: camera.storeId, cameraId: IsNull(), enabled: true },
		],
		order: { createdAt: "ASC" },
	});
}

/** An alert of this camera, class and rule, from a clip or an edge box, within the rule's cooldown before `at`. */
export async function coolingDown(tx: EntityManager, cameraId: string, className: string, rule: AlertRule, at: Date): Promise<boolean> {
	if (rule.cooldownSec <= 0) return false;
	const since = new Date(at.getTime() - rule.cooldownSec * 1000);
	return tx.getRepository(Alert).existsBy({ cameraId, className, ruleId: rule.id, occurredAt: And(MoreThan(since), LessThan(new Date(at.getTime() + 1))) });
}

/** Per class, the camera's threshold that raises a rule's own minimum: pinned, else learned from feedback. */
export async function thresholdsOf(tx: EntityManager, cameraId: string): Promise<Map<string, number>> {
	const rows = await tx.getRepository(LearnedThreshold).find({ where: { cameraId }, select: { className: true, learned: true, pinned: true } });
	return new Map(rows.filter((r) => (r.pinned ?? r.learned) !== null).map((r) => [r.className, (r.pinned ?? r.learned) as number]));
}
