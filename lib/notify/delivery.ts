/**
 * Running one notify job: read the delivery (or digest) row, write its message, send it, and record the outcome
 * on the row. The row, not the job, says what is left to do, so a repeated or replayed job is harmless.
 */
import type { DataSource } from "typeorm";
import { Camera, NotificationDelivery, NotificationDigest, Store, type NotificationChannel } from "../../entities";
import type { ChannelKind } from "../../entities/notification-channel.entity";
import type { JobControl } from "../jobs";
import type { Config } from "../platform/config";
import { notificationAttempts } from "../platform/metrics";
import type { ChannelSender } from "./channel-sender";
import { alertMessage, digestMessage, type Place } from "./messages";

export type DeliverySettings = Pick<Config, "notifyMaxAttempts" | "notifyRateLimit" | "notifyRateWindow">;

/** What one try of a delivery or digest records. */
export interface Outcome {
	status: "pending" | "sent" | "failed";
	attempts: number;
	lastError: string | null;
	sentAt?: Date;
}

/** Statuses a job still sends: pending, and failed (a dead letter replayed by an operator). */
const RUNNABLE = new Set<string>(["pending", "failed"]);

/**
 * One try, counted in `attempts` (which keeps counting across a dead-letter replay): sent, or the error
 * recorded and rethrown for a retry; the job's last attempt marks it failed (its dead letter holds it).
 */
export async function attempt(
	counts: { jobAttempt: number; maxAttempts: number; kind: ChannelKind; attempts: number },
	send: () => Promise<void>,
	record: (outcome: Outcome) => Promise<unknown>,
): Promise<void> {
	const { jobAttempt, maxAttempts, kind, attempts } = counts;
	try {
		await send();
	} catch (err) {
		const last = jobAttempt >= maxAttempts;
		notificationAttempts.inc({ kind, outcome: last ? "failed" : "retry" });
		await record({ status: last ? "failed" : "pending", attempts, lastError: err instanceof Error ? err.message : String(err) });
		throw err;
	}
	notificationAttempts.inc({ kind, outcome: "sent" });
	await record({ status: "sent", attempts, lastError: null, sentAt: new Date() });
}

/** Where an alert happened, by name, for the message. */
export async function placeOf(db: DataSource, orgId: string, storeId: string, cameraId: string): Promise<Place> {
	const [store, camera] = await Promise.all([db.getRepository(Store).findOneBy({ id: storeId }), db.getRepository(Camera).findOneBy({ id: cameraId })]);
	return {
		orgId,
		storeId,
		storeName: store?.name ?? storeId,
		cameraId,
		cameraName: camera?.name ?? cameraId,
		timezone: camera?.timezone ?? store?.timezone ?? "UTC",
	};
}

/** Sends one alert's delivery to its channel (and recipient). */
export async function deliverAlert(db: DataSource, settings: DeliverySettings, sender: ChannelSender, deliveryId: string, ctl: JobControl): Promise<void> {
	const repo = db.getRepository(NotificationDelivery);
	const delivery = await repo.findOne({ where: { id: deliveryId }, relations: { channel: true, alert: true } });
	// Gone with its alert or channel, or already sent by an earlier run. A failed one runs again: its dead letter was replayed.
	if (!delivery?.channel || !delivery.alert || !RUNNABLE.has(delivery.status)) return;
	if (!delivery.channel.enabled)
		return void (await repo.update({ id: deliveryId }, { status: "failed", lastError: "The channel was disabled before the alert was sent" }));
	const alert = delivery.alert;
	const place = await placeOf(db, alert.orgId, alert.storeId, alert.cameraId);
	const message = alertMessage({ ...alert, hasSnapshot: Boolean(alert.snapshotKey) }, place, delivery.id);
	await attempt(
		{ jobAttempt: ctl.attempt, maxAttempts: settings.notifyMaxAttempts, kind: delivery.channel.kind, attempts: delivery.attempts + 1 },
		() => sender.send(delivery.channel as NotificationChannel, delivery.recipient, message),
		(outcome) => repo.update({ id: deliveryId }, outcome),
	);
}

/** Sends the digest of the alerts a rate window held back. */
export async function deliverDigest(db: DataSource, settings: DeliverySettings, sender: ChannelSender, digestId: string, ctl: JobControl): Promise<void> {
	const repo = db.getRepository(NotificationDigest);
	const digest = await repo.findOne({ where: { id: digestId }, relations: { channel: true } });
	if (!digest?.channel || !RUNNABLE.has(digest.status)) return;
	if (!digest.channel.enabled)
		return void (await repo.update({ id: digestId }, { status: "failed", lastError: "The channel was disabled before the digest was sent" }));
	const held = await db.getRepository(NotificationDelivery).find({ where: { digestId }, relations: { alert: true } });
	const alerts = held.flatMap((d) => (d.alert ? [d.alert] : []));
	if (!alerts.length) return void (await repo.update({ id: digestId }, { status: "failed", lastError: "Its alerts were deleted before it was sent" }));
	const place = await placeOf(db, digest.orgId, alerts[0].storeId, digest.cameraId);
	const message = digestMessage(
		{ id: digest.id, windowStart: digest.windowStart, windowEnd: digest.dueAt, alerts, limit: settings.notifyRateLimit, windowSec: settings.notifyRateWindow },
		place,
	);
	await attempt(
		{ jobAttempt: ctl.attempt, maxAttempts: settings.notifyMaxAttempts, kind: digest.channel.kind, attempts: digest.attempts + 1 },
		() => sender.send(digest.channel as NotificationChannel, digest.recipient, message),
		(outcome) => repo.update({ id: digestId }, outcome),
	);
}
