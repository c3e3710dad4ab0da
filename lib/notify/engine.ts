/**
 * The notification engine: routes an alert to the channels (and email recipients) that want it, records one
 * delivery row each, applies the rate limit, queues the jobs, and sweeps up what a lost broadcast or a crash left
 * behind. It knows the database and a `queueJob` callback, never the broker: the notifier service wires it.
 *
 * The delivery rows are unique per alert, channel and recipient, so when every notifier node routes the same
 * alert only the node that inserted a row queues its job. An alert stays unrouted (`routedAt` null) until its
 * deliveries are recorded; the sweep routes the ones whose broadcast was lost. The rate windows and digests live
 * in the database, so any node can flush a digest when its window ends.
 */
import { In, IsNull, LessThan, LessThanOrEqual, type DataSource, type EntityManager } from "typeorm";
import { Alert, Membership, NotificationChannel, NotificationDelivery, NotificationDigest, NotificationMute, NotificationWindow, User } from "../../entities";
import type { JobControl } from "../jobs";
import type { ChannelSender } from "./channel-sender";
import type { EmailConfig } from "./channel-config";
import { deliverAlert, deliverDigest, type DeliverySettings } from "./delivery";
import { decide } from "./rate-limit";
import { channelWants, emailRecipients, muteApplies, type MuteRule, type RoutedAlert } from "./routing";

export const NOTIFY_QUEUE = "notify";

/** A notify job names what to send; everything else is read from the database when it runs. */
export type NotifyJob = { kind: "delivery"; deliveryId: string; orgId: string } | { kind: "digest"; digestId: string; orgId: string };

/** Puts a job on the notify queue; `id` is its dedupe key. */
export type QueueJob = (job: NotifyJob, options: { id: string }) => Promise<void>;

export type EngineSettings = DeliverySettings;

/** A pending row whose job was never queued (its node died in between) is queued again after this long. */
export const REQUEUE_AFTER_MS = 30_000;
/** Rows one sweep handles per kind; the next sweep takes the rest. */
const SWEEP_BATCH = 200;

/** Job id = the row's id: a repeated send is dropped by the queue, and a repeated run finds the row done. */
export const notifyJobId = (job: NotifyJob): string => (job.kind === "delivery" ? job.deliveryId : job.digestId);

/** The emails of the people whose mutes silence this alert now. */
export function mutedEmails(users: { id: string; email: string }[], mutes: (MuteRule & { userId: string })[], alert: RoutedAlert, now: Date): Set<string> {
	const mutedUsers = new Set(mutes.filter((m) => muteApplies(m, alert, now)).map((m) => m.userId));
	return new Set(users.filter((u) => mutedUsers.has(u.id)).map((u) => u.email));
}

export interface EngineOptions {
	db: DataSource;
	settings: EngineSettings;
	queueJob: QueueJob;
	sender: ChannelSender;
}

export class NotificationEngine {
	private readonly db: DataSource;
	private readonly settings: EngineSettings;
	private readonly queueJob: QueueJob;
	private readonly sender: ChannelSender;

	constructor({ db, settings, queueJob, sender }: EngineOptions) {
		this.db = db;
		this.settings = settings;
		this.queueJob = queueJob;
		this.sender = sender;
	}

	/** Records one delivery per channel (and email recipient) that wants the alert, and queues those due now. */
	async routeAlert(alertId: string): Promise<void> {
		const alert = await this.db.getRepository(Alert).findOneBy({ id: alertId });
		if (!alert) return;
		const channels = (await this.db.getRepository(NotificationChannel).findBy({ orgId: alert.orgId, enabled: true })).filter((c) => channelWants(c, alert));
		for (const channel of channels) {
			const recipients = channel.kind === "email" ? await this.emailRecipientsFor(channel, alert) : [""];
			for (const recipient of recipients) await this.recordDelivery(alert, channel, recipient);
		}
		await this.db.getRepository(Alert).update({ id: alert.id, routedAt: IsNull() }, { routedAt: new Date() });
	}

	/** The channel's addresses and (with `members`) the members who can see the store, minus people who muted it. */
	async emailRecipientsFor(channel: NotificationChannel, alert: Alert): Promise<string[]> {
		const { to, members } = this.sender.open(channel) as EmailConfig;
		const memberList = members
			? (await this.db.getRepository(Membership).find({ where: { orgId: alert.orgId }, relations: { user: true } }))
					.filter((m) => m.user && !m.user.disabledAt)
					.map((m) => ({ email: (m.user as User).email, storeIds: m.storeIds }))
			: null;
		const candidates = [...new Set([...to, ...(memberList ?? []).map((m) => m.email)])];
		const users = candidates.length ? await this.db.getRepository(User).find({ where: { email: In(candidates) }, select: { id: true, email: true } }) : [];
		const mutes = users.length
			? await this.db.getRepository(NotificationMute).find({
					where: [
						{ userId: In(users.map((u) => u.id)), storeId: alert.storeId, cameraId: IsNull() },
						{ userId: In(users.map((u) => u.id)), cameraId: alert.cameraId },
					],
				})
			: [];
		return emailRecipients(to, memberList, mutedEmails(users, mutes, alert, new Date()), alert.storeId);
	}

	/**
	 * Inserts the delivery (once, whichever node gets here first) and applies the rate limit in the same
	 * transaction, the window row locked: within the limit it is queued now; beyond it, it joins the
	 * window's digest. A digest already being sent (its window just ended) starts a new window instead.
	 */
	async recordDelivery(alert: Alert, channel: NotificationChannel, recipient: string): Promise<void> {
		const limit = { limit: this.settings.notifyRateLimit, windowMs: this.settings.notifyRateWindow * 1000 };
		const key = { channelId: channel.id, cameraId: alert.cameraId, recipient };
		const deliveryId = await this.db.transaction(async (tx: EntityManager) => {
			const inserted = await tx
				.createQueryBuilder()
				.insert()
				.into(NotificationDelivery)
				.values({ orgId: alert.orgId, alertId: alert.id, channelId: channel.id, recipient, status: "pending" })
				.orIgnore()
				.returning("id")
				.execute();
			const id = (inserted.raw as { id: string }[])[0]?.id;
			if (!id) return null;
			const now = Date.now();
			await tx
				.createQueryBuilder()
				.insert()
				.into(NotificationWindow)
				.values({ ...key, windowStart: new Date(now), sent: 0 })
				.orIgnore()
				.execute();
			const window = await tx.getRepository(NotificationWindow).findOneOrFail({ where: key, lock: { mode: "pessimistic_write" } });
			let decision = decide({ start: window.windowStart.getTime(), sent: window.sent }, now, limit);
			if (decision.action === "hold") {
				const windowStart = new Date(decision.window.start);
				await tx
					.createQueryBuilder()
					.insert()
					.into(NotificationDigest)
					.values({ orgId: alert.orgId, ...key, windowStart, dueAt: new Date(decision.digestDueAt), status: "collecting" })
					.orIgnore()
					.execute();
				const digest = await tx.getRepository(NotificationDigest).findOneOrFail({ where: { ...key, windowStart }, lock: { mode: "pessimistic_write" } });
				if (digest.status === "collecting") {
					await tx.update(NotificationDelivery, { id }, { status: "digested", digestId: digest.id });
					return null;
				}
				decision = { action: "send", window: { start: now, sent: 1 } };
			}
			await tx.update(NotificationWindow, key, { windowStart: new Date(decision.window.start), sent: decision.window.sent });
			return id;
		});
		if (deliveryId) await this.enqueue({ kind: "delivery", deliveryId, orgId: alert.orgId });
	}

	/** Queues the job, then marks its row queued (a row left unmarked is queued again by the sweep). */
	async enqueue(job: NotifyJob): Promise<void> {
		const jobId = notifyJobId(job);
		await this.queueJob(job, { id: jobId });
		if (job.kind === "delivery") await this.db.getRepository(NotificationDelivery).update({ id: jobId }, { queuedAt: new Date() });
		else await this.db.getRepository(NotificationDigest).update({ id: jobId }, { queuedAt: new Date() });
	}

	/**
	 * Claims the digests whose window has ended (one node wins each, by the status change) and queues them;
	 * re-queues rows a crash left without a job; routes alerts whose broadcast never arrived (the unique
	 * delivery rows make a second routing a no-op).
	 */
	async sweep(requeueAfterMs = REQUEUE_AFTER_MS): Promise<void> {
		const digests = this.db.getRepository(NotificationDigest);
		const deliveries = this.db.getRepository(NotificationDelivery);
		const now = new Date();
		for (const digest of await digests.find({ where: { status: "collecting", dueAt: LessThanOrEqual(now) }, order: { dueAt: "ASC" }, take: SWEEP_BATCH })) {
			const claimed = await digests.update({ id: digest.id, status: "collecting" }, { status: "pending" });
			if (claimed.affected) await this.enqueue({ kind: "digest", digestId: digest.id, orgId: digest.orgId });
		}
		const stale = new Date(now.getTime() - requeueAfterMs);
		for (const d of await deliveries.find({ where: { status: "pending", queuedAt: IsNull(), createdAt: LessThan(stale) }, take: SWEEP_BATCH }))
			await this.enqueue({ kind: "delivery", deliveryId: d.id, orgId: d.orgId });
		for (const d of await digests.find({ where: { status: "pending", queuedAt: IsNull(), updatedAt: LessThan(stale) }, take: SWEEP_BATCH }))
			await this.enqueue({ kind: "digest", digestId: d.id, orgId: d.orgId });
		for (const a of await this.db
			.getRepository(Alert)
			.find({ where: { routedAt: IsNull(), createdAt: LessThan(stale) }, select: { id: true }, order: { createdAt: "ASC" }, take: SWEEP_BATCH }))
			await this.routeAlert(a.id);
	}

	/** Marks every pending row unqueued, so the next sweep queues it again: for a queue that lost its jobs (in memory, restarted). */
	async forgetQueuedJobs(): Promise<void> {
		await this.db.getRepository(NotificationDelivery).update({ status: "pending" }, { queuedAt: null });
		await this.db.getRepository(NotificationDigest).update({ status: "pending" }, { queuedAt: null });
	}

	/** The notify queue's job handler. */
	async deliver(job: NotifyJob, ctl: JobControl): Promise<void> {
		if (job.kind === "digest") await deliverDigest(this.db, this.settings, this.sender, job.digestId, ctl);
		else await deliverAlert(this.db, this.settings, this.sender, job.deliveryId, ctl);
	}
}
