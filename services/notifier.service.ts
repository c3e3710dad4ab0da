/**
 * notifier — sends alerts out of Vigil: to an organization's webhook, Telegram and email channels, routed by
 * severity and store, silenced per person by mutes (email only), rate-limited per channel and camera (a burst
 * becomes a few messages and one digest), and delivered durably through the job queue with retries.
 *
 * Every notifier node hears `alert.raised` (a broadcast); the delivery rows are unique per alert, channel and
 * recipient, so only the node that inserted a row queues its job. The broadcast is only the fast path: an alert
 * stays unrouted (`routedAt` null) until its deliveries are recorded, and the sweep routes the ones whose
 * broadcast was lost (a node died between the alert's commit and the broadcast). The rate windows and digests live in the
 * database, so any node can flush a digest when its window ends.
 */
import { randomUUID } from "node:crypto";
import type { ServiceSchema, ServiceSettingSchema } from "moleculer";
import type { Transporter } from "nodemailer";
import { In, IsNull, LessThan, LessThanOrEqual, type EntityManager } from "typeorm";
import {
	Alert, Camera, Membership, NotificationChannel, NotificationDelivery, NotificationDigest, NotificationMute, NotificationWindow, Store, User,
} from "../entities";
import { SEVERITIES, type Severity } from "../entities/alert-rule.entity";
import { CHANNEL_KINDS, type ChannelKind } from "../entities/notification-channel.entity";
import { authorize } from "../lib/security/access";
import { audit } from "../lib/operations/audit";
import type { Config } from "../lib/platform/config";
import { invalid, notFound } from "../lib/platform/errors";
import { notificationAttempts } from "../lib/platform/metrics";
import type { JobControl } from "../lib/jobs";
import { buildConfig, maskConfig, type ChannelConfig, type ConfigInput, type EmailConfig, type TelegramConfig, type WebhookConfig } from "../lib/notify/channel-config";
import { nonPublicTarget } from "../lib/notify/address-guard";
import { alertMessage, digestMessage, testMessage, type Message, type Place } from "../lib/notify/messages";
import { decide } from "../lib/notify/rate-limit";
import { channelWants, emailRecipients, muteApplies } from "../lib/notify/routing";
import { postWebhook, SendError, sendEmail, sendTelegram, smtpTransport } from "../lib/notify/senders";
import { seal, unseal } from "../lib/security/secrets";
import type { Caller, VigilContext, VigilService } from "../lib/platform/types";
import { DbMixin } from "../mixins/db.mixin";
import { JobQueueMixin, type JobQueueService } from "../mixins/job-queue.mixin";
import { id, optional, orgPath, storePath } from "./schemas";

export const NOTIFY_QUEUE = "notify";

/** A notify job names what to send; everything else is read from the database when it runs. */
export type NotifyJob = { kind: "delivery"; deliveryId: string; orgId: string } | { kind: "digest"; digestId: string; orgId: string };

type NotifierService = VigilService & JobQueueService<{ [NOTIFY_QUEUE]: NotifyJob }> & {
	sweepTimer?: NodeJS.Timeout;
	sweeping?: Promise<void>;
	mailer?: Transporter;
};

/** What one try of a delivery or digest records. */
interface Outcome {
	status: "pending" | "sent" | "failed";
	attempts: number;
	lastError: string | null;
	sentAt?: Date;
}

/** A pending row whose job was never queued (its node died in between) is queued again after this long. */
const REQUEUE_AFTER_MS = 30_000;
/** Statuses a job still sends: pending, and failed (a dead letter replayed by an operator). */
const RUNNABLE = new Set<string>(["pending", "failed"]);
/** Rows one sweep handles per kind; the next sweep takes the rest. */
const SWEEP_BATCH = 200;

const configProps = {
	url: { type: "string", optional: true, max: 2048, $$t: "webhook: the URL Vigil POSTs to (http or https; stored encrypted, shown masked)" },
	botToken: { type: "string", optional: true, max: 256, $$t: "telegram: the bot token from BotFather (stored encrypted, shown masked)" },
	chatId: { type: "multi", optional: true, rules: [{ type: "string", max: 70 }, { type: "number", integer: true }], $$t: "telegram: the chat id (a number, negative for groups) or @channelname" },
	to: { type: "array", optional: true, max: 50, items: { type: "email", normalize: true, max: 254 }, $$t: "email: addresses that get every alert of this channel" },
	members: { type: "boolean", optional: true, $$t: "email: also write to every member who can see the alert's store (their mutes apply)" },
} as const;

const channelFields = {
	name: { type: "string", trim: true, min: 1, max: 100 },
	kind: { type: "enum", values: CHANNEL_KINDS, $$t: "webhook, telegram or email" },
	config: { type: "object", strict: "remove", props: configProps, $$t: "The kind's settings: webhook {url}; telegram {botToken, chatId}; email {to, members}" },
	minSeverity: { type: "enum", values: SEVERITIES, default: "low", $$t: "Alerts below this severity are not sent here" },
	storeIds: { type: "array", items: "uuid", max: 1000, unique: true, optional: true, nullable: true, $$t: "Only alerts of these stores; absent or null: every store" },
	enabled: { type: "boolean", default: true },
} as const;

const channelPath = { ...orgPath, channelId: id } as const;

interface ChannelParams {
	orgId: string;
	channelId: string;
	name?: string;
	kind?: ChannelKind;
	config?: ConfigInput;
	minSeverity?: Severity;
	storeIds?: string[] | null;
	enabled?: boolean;
	rotateSecret?: boolean;
}

const presentMute = (m: NotificationMute) => ({
	id: m.id, orgId: m.orgId, storeId: m.storeId, storeName: m.store?.name ?? null, cameraId: m.cameraId, cameraName: m.camera?.name ?? null, until: m.until, createdAt: m.createdAt,
});

export default function createNotifierService(config: Config): ServiceSchema<ServiceSettingSchema, NotifierService> {
	return {
		name: "notifier",
		mixins: [DbMixin, JobQueueMixin({
			[NOTIFY_QUEUE]: { maxDeliver: config.notifyMaxAttempts, retryBaseMs: config.notifyRetryBase, retryMaxMs: config.notifyRetryMax, concurrency: config.notifyConcurrency },
		})],
		settings: { rest: "/" },

		actions: {
			createChannel: {
				rest: "POST /orgs/:orgId/notification-channels",
				permission: { scope: "org", roles: ["owner", "admin"] },
				params: { $$strict: "remove", ...orgPath, ...channelFields },
				openapi: { summary: "Add a notification channel (a webhook's signing secret is in the answer, this once)", responses: { 201: "NotificationChannel" } },
				async handler(this: NotifierService, ctx: VigilContext<ChannelParams>) {
					const p = ctx.params as Required<ChannelParams>;
					if (p.kind === "email" && !this.config.smtpUrl)
						throw invalid("Email is not set up on this server", [{ field: "kind", type: "emailNotConfigured", message: "Email channels need SMTP_URL set on the notifier nodes." }]);
					const built = buildConfig(p.kind, p.config);
					if (!built.config) throw invalid("The channel's settings are not valid", built.problems);
					await this.checkWebhookTarget(built.config);
					await this.checkStores(p.orgId, p.storeIds ?? null);
					const channel = await this.db.transaction(async (tx) => {
						const saved = await tx.getRepository(NotificationChannel).save({
							orgId: p.orgId, kind: p.kind, name: p.name, configEnc: seal(this.config.encryptionKey, JSON.stringify(built.config)),
							minSeverity: p.minSeverity, storeIds: p.storeIds ?? null, enabled: p.enabled,
						});
						await audit(ctx, tx, "notification_channel.created", { type: "notification_channel", id: saved.id }, { kind: p.kind, name: p.name });
						return saved;
					});
					ctx.meta.$statusCode = 201;
					return { ...this.presentChannel(channel), ...(p.kind === "webhook" && { signingSecret: (built.config as WebhookConfig).secret }) };
				},
			},

			listChannels: {
				rest: "GET /orgs/:orgId/notification-channels",
				permission: { scope: "org", roles: ["owner", "admin"] },
				params: { $$strict: "remove", ...orgPath },
				openapi: { summary: "Notification channels of an organization (secrets masked)", responses: { 200: "NotificationChannelList" } },
				async handler(this: NotifierService, ctx: VigilContext<{ orgId: string }>) {
					const channels = await this.db.getRepository(NotificationChannel).find({ where: { orgId: ctx.params.orgId }, order: { createdAt: "ASC" } });
					return { items: channels.map((c) => this.presentChannel(c)) };
				},
			},

			getChannel: {
				rest: "GET /orgs/:orgId/notification-channels/:channelId",
				permission: { scope: "org", roles: ["owner", "admin"] },
				params: { $$strict: "remove", ...channelPath },
				openapi: { summary: "A notification channel (secrets masked)", responses: { 200: "NotificationChannel" } },
				async handler(this: NotifierService, ctx: VigilContext<ChannelParams>) {
					return this.presentChannel(await this.findChannel(ctx.params));
				},
			},

			updateChannel: {
				rest: "PATCH /orgs/:orgId/notification-channels/:channelId",
				permission: { scope: "org", roles: ["owner", "admin"] },
				params: {
					$$strict: "remove", ...channelPath, ...optional({ name: channelFields.name, config: channelFields.config, minSeverity: channelFields.minSeverity, storeIds: channelFields.storeIds, enabled: channelFields.enabled }),
					rotateSecret: { type: "boolean", optional: true, $$t: "webhook: make a new signing secret (in the answer, this once)" },
				},
				openapi: { summary: "Change a channel; config fields given replace those stored, the others stay", responses: { 200: "NotificationChannel" } },
				async handler(this: NotifierService, ctx: VigilContext<ChannelParams>) {
					const channel = await this.findChannel(ctx.params);
					const { name, config: given, minSeverity, storeIds, enabled, rotateSecret } = ctx.params;
					let secret: string | undefined;
					if (given || rotateSecret) {
						const previous = this.openConfig(channel);
						const built = buildConfig(channel.kind, given ?? {}, previous, rotateSecret === true && channel.kind === "webhook");
						if (!built.config) throw invalid("The channel's settings are not valid", built.problems);
						await this.checkWebhookTarget(built.config);
						channel.configEnc = seal(this.config.encryptionKey, JSON.stringify(built.config));
						if (channel.kind === "webhook" && rotateSecret) secret = (built.config as WebhookConfig).secret;
					}
					if (storeIds !== undefined) await this.checkStores(channel.orgId, storeIds);
					Object.assign(channel, {
						...(name !== undefined && { name }), ...(minSeverity && { minSeverity }), ...(storeIds !== undefined && { storeIds }), ...(enabled !== undefined && { enabled }),
					});
					const saved = await this.db.transaction(async (tx) => {
						const row = await tx.getRepository(NotificationChannel).save(channel);
						// Which fields changed, never their values: they may hold secrets.
						const changed = Object.keys(ctx.params).filter((k) => !["orgId", "channelId"].includes(k) && (ctx.params as unknown as Record<string, unknown>)[k] !== undefined);
						await audit(ctx, tx, "notification_channel.updated", { type: "notification_channel", id: row.id }, { changed });
						return row;
					});
					return { ...this.presentChannel(saved), ...(secret && { signingSecret: secret }) };
				},
			},

			removeChannel: {
				rest: "DELETE /orgs/:orgId/notification-channels/:channelId",
				permission: { scope: "org", roles: ["owner", "admin"] },
				params: { $$strict: "remove", ...channelPath },
				openapi: { summary: "Delete a channel and its delivery history", responses: { 204: null } },
				async handler(this: NotifierService, ctx: VigilContext<ChannelParams>) {
					await this.db.transaction(async (tx) => {
						const result = await tx.getRepository(NotificationChannel).delete({ id: ctx.params.channelId, orgId: ctx.params.orgId });
						if (!result.affected) throw notFound("Notification channel");
						await audit(ctx, tx, "notification_channel.deleted", { type: "notification_channel", id: ctx.params.channelId! });
					});
					ctx.meta.$statusCode = 204;
					return null;
				},
			},

			testChannel: {
				rest: "POST /orgs/:orgId/notification-channels/:channelId/test",
				permission: { scope: "org", roles: ["owner", "admin"] },
				params: { $$strict: "remove", ...channelPath },
				openapi: {
					summary: "Send a test message now (email: to the listed addresses, and to you when the channel writes to members); says whether it arrived",
					responses: { 200: "NotificationTestResult" },
				},
				async handler(this: NotifierService, ctx: VigilContext<ChannelParams>) {
					const channel = await this.findChannel(ctx.params);
					const message = testMessage(channel, randomUUID());
					let recipients = [""];
					if (channel.kind === "email") {
						const { to, members } = this.openConfig(channel) as EmailConfig;
						const caller = ctx.meta.caller as Extract<Caller, { kind: "user" }>;
						recipients = [...new Set([...to, ...(members ? [caller.email] : [])])];
					}
					try {
						for (const recipient of recipients) await this.send(channel, recipient, message);
					} catch (err) {
						if (!(err instanceof SendError)) throw err;
						return { sent: false, error: err.message };
					}
					return { sent: true, ...(channel.kind === "email" && { recipients }) };
				},
			},

			deliveries: {
				rest: "GET /orgs/:orgId/stores/:storeId/alerts/:alertId/deliveries",
				permission: { scope: "store", roles: ["owner", "admin", "staff"] },
				params: { $$strict: "remove", ...storePath, alertId: id },
				openapi: { summary: "Where an alert was sent: one entry per channel (and email recipient) with its status and attempts", responses: { 200: "NotificationDeliveryList" } },
				async handler(this: NotifierService, ctx: VigilContext<{ orgId: string; storeId: string; alertId: string }>) {
					const { orgId, storeId, alertId } = ctx.params;
					if (!(await this.db.getRepository(Alert).existsBy({ id: alertId, orgId, storeId }))) throw notFound("Alert");
					const rows = await this.db.getRepository(NotificationDelivery).find({ where: { alertId }, relations: { channel: true, digest: true }, order: { createdAt: "ASC" } });
					return {
						items: rows.map((d) => ({
							id: d.id, channelId: d.channelId, channelName: d.channel?.name ?? null, kind: d.channel?.kind ?? null, recipient: d.recipient || null,
							status: d.status, attempts: d.attempts, lastError: d.lastError, sentAt: d.sentAt, createdAt: d.createdAt, updatedAt: d.updatedAt,
							digest: d.digest
								? { id: d.digest.id, status: d.digest.status, dueAt: d.digest.dueAt, attempts: d.digest.attempts, lastError: d.digest.lastError, sentAt: d.digest.sentAt }
								: null,
						})),
					};
				},
			},

			createMute: {
				rest: "POST /me/mutes",
				permission: { scope: "user" },
				params: {
					$$strict: "remove",
					storeId: { ...id, optional: true, $$t: "Mute a whole store..." },
					cameraId: { ...id, optional: true, $$t: "...or one camera (give one of the two)" },
					until: { type: "date", convert: true, optional: true, nullable: true, $$t: "Until when (ISO 8601); absent or null: until you remove it" },
				},
				openapi: { summary: "Stop your own alert emails about a store or a camera, for a while or until removed", responses: { 201: "Mute", 200: "Mute (an existing mute of the same target, with its new end)" } },
				async handler(this: NotifierService, ctx: VigilContext<{ storeId?: string; cameraId?: string; until?: Date | null }>) {
					const { storeId, cameraId, until } = ctx.params;
					if (Boolean(storeId) === Boolean(cameraId))
						throw invalid("Give either a store or a camera", [{ field: storeId ? "cameraId" : "storeId", type: "oneOf", message: "Give exactly one of storeId and cameraId." }]);
					if (until && until.getTime() <= Date.now()) throw invalid("The end of a mute must be in the future", [{ field: "until", type: "dateMin", message: "Give a time in the future." }]);
					const caller = ctx.meta.caller as Extract<Caller, { kind: "user" }>;
					const target = await this.visibleTarget(caller, storeId, cameraId);
					const repo = this.db.getRepository(NotificationMute);
					const existing = await repo.findOneBy({ userId: caller.userId, storeId: target.storeId, cameraId: target.cameraId ?? IsNull() });
					const mute = await repo.save({ ...(existing ?? {}), userId: caller.userId, orgId: target.orgId, storeId: target.storeId, cameraId: target.cameraId, until: until ?? null });
					ctx.meta.$statusCode = existing ? 200 : 201;
					return presentMute((await repo.findOne({ where: { id: mute.id }, relations: { store: true, camera: true } })) ?? mute);
				},
			},

			listMutes: {
				rest: "GET /me/mutes",
				permission: { scope: "user" },
				params: { $$strict: "remove" },
				openapi: { summary: "Your mutes that have not ended", responses: { 200: "MuteList" } },
				async handler(this: NotifierService, ctx: VigilContext) {
					const caller = ctx.meta.caller as Extract<Caller, { kind: "user" }>;
					const mutes = await this.db.getRepository(NotificationMute).find({ where: { userId: caller.userId }, relations: { store: true, camera: true }, order: { createdAt: "ASC" } });
					const now = Date.now();
					return { items: mutes.filter((m) => !m.until || m.until.getTime() > now).map(presentMute) };
				},
			},

			removeMute: {
				rest: "DELETE /me/mutes/:muteId",
				permission: { scope: "user" },
				params: { $$strict: "remove", muteId: id },
				openapi: { summary: "Remove one of your mutes", responses: { 204: null } },
				async handler(this: NotifierService, ctx: VigilContext<{ muteId: string }>) {
					const caller = ctx.meta.caller as Extract<Caller, { kind: "user" }>;
					const result = await this.db.getRepository(NotificationMute).delete({ id: ctx.params.muteId, userId: caller.userId });
					if (!result.affected) throw notFound("Mute");
					ctx.meta.$statusCode = 204;
					return null;
				},
			},
		},

		events: {
			/** Broadcast: every notifier node hears it; the unique delivery rows make only one of them queue each job. */
			"alert.raised": {
				async handler(this: NotifierService, ctx: VigilContext<{ id: string }>) {
					try {
						await this.routeAlert(ctx.params.id);
					} catch (err) {
						// The sweep re-queues what was recorded; what was not is logged with the alert to find it.
						this.logger.error("Could not route an alert to its notification channels", { alertId: ctx.params.id }, err);
					}
				},
			},
		},

		methods: {
			async findChannel(this: NotifierService, p: { orgId: string; channelId: string }) {
				const channel = await this.db.getRepository(NotificationChannel).findOneBy({ id: p.channelId, orgId: p.orgId });
				if (!channel) throw notFound("Notification channel");
				return channel;
			},

			openConfig(this: NotifierService, channel: NotificationChannel): ChannelConfig {
				return JSON.parse(unseal(this.config.encryptionKey, channel.configEnc)) as ChannelConfig;
			},

			presentChannel(this: NotifierService, c: NotificationChannel) {
				return {
					id: c.id, orgId: c.orgId, kind: c.kind, name: c.name, config: maskConfig(c.kind, this.openConfig(c)), minSeverity: c.minSeverity, storeIds: c.storeIds,
					enabled: c.enabled, createdAt: c.createdAt, updatedAt: c.updatedAt,
				};
			},

			/** A channel may only name stores of its own organization. */
			async checkStores(this: NotifierService, orgId: string, storeIds: string[] | null) {
				if (!storeIds?.length) return;
				const found = await this.db.getRepository(Store).countBy({ id: In(storeIds), orgId });
				if (found !== new Set(storeIds).size) throw invalid("Some stores are not stores of this organization", [{ field: "storeIds", type: "unknownStore", message: "Use stores of this organization." }]);
			},

			/** The store (and camera) of a mute, if the caller can see it; otherwise it does not exist for them. */
			async visibleTarget(this: NotifierService, caller: Extract<Caller, { kind: "user" }>, storeId?: string, cameraId?: string) {
				let target: { orgId: string; storeId: string; cameraId: string | null } | null = null;
				if (cameraId) {
					const camera = await this.db.getRepository(Camera).findOneBy({ id: cameraId });
					target = camera && { orgId: camera.orgId, storeId: camera.storeId, cameraId: camera.id };
				} else {
					const store = await this.db.getRepository(Store).findOneBy({ id: storeId });
					target = store && { orgId: store.orgId, storeId: store.id, cameraId: null };
				}
				const what = cameraId ? "Camera" : "Store";
				if (!target) throw notFound(what);
				// The same check as a store route's: a member who may see the store (super-admins all).
				await authorize(async () => this.db, caller, { scope: "store" }, { orgId: target.orgId, storeId: target.storeId }).catch(() => {
					throw notFound(what);
				});
				return target;
			},

			/** Records one delivery per channel (and email recipient) that wants the alert, and queues those due now. */
			async routeAlert(this: NotifierService, alertId: string) {
				const alert = await this.db.getRepository(Alert).findOneBy({ id: alertId });
				if (!alert) return;
				const channels = (await this.db.getRepository(NotificationChannel).findBy({ orgId: alert.orgId, enabled: true })).filter((c) => channelWants(c, alert));
				for (const channel of channels) {
					const recipients = channel.kind === "email" ? await this.emailRecipientsFor(channel, alert) : [""];
					for (const recipient of recipients) await this.recordDelivery(alert, channel, recipient);
				}
				await this.db.getRepository(Alert).update({ id: alert.id, routedAt: IsNull() }, { routedAt: new Date() });
			},

			/** The channel's addresses and (with `members`) the members who can see the store, minus people who muted it. */
			async emailRecipientsFor(this: NotifierService, channel: NotificationChannel, alert: Alert): Promise<string[]> {
				const { to, members } = this.openConfig(channel) as EmailConfig;
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
				const now = new Date();
				const mutedUsers = new Set(mutes.filter((m) => muteApplies(m, alert, now)).map((m) => m.userId));
				const muted = new Set(users.filter((u) => mutedUsers.has(u.id)).map((u) => u.email));
				return emailRecipients(to, memberList, muted, alert.storeId);
			},

			/**
			 * Inserts the delivery (once, whichever node gets here first) and applies the rate limit in the same
			 * transaction, the window row locked: within the limit it is queued now; beyond it, it joins the
			 * window's digest. A digest already being sent (its window just ended) starts a new window instead.
			 */
			async recordDelivery(this: NotifierService, alert: Alert, channel: NotificationChannel, recipient: string) {
				const limit = { limit: this.config.notifyRateLimit, windowMs: this.config.notifyRateWindow * 1000 };
				const key = { channelId: channel.id, cameraId: alert.cameraId, recipient };
				const deliveryId = await this.db.transaction(async (tx: EntityManager) => {
					const inserted = await tx.createQueryBuilder().insert().into(NotificationDelivery)
						.values({ orgId: alert.orgId, alertId: alert.id, channelId: channel.id, recipient, status: "pending" })
						.orIgnore().returning("id").execute();
					const id = (inserted.raw as { id: string }[])[0]?.id;
					if (!id) return null;
					const now = Date.now();
					await tx.createQueryBuilder().insert().into(NotificationWindow).values({ ...key, windowStart: new Date(now), sent: 0 }).orIgnore().execute();
					const window = await tx.getRepository(NotificationWindow).findOneOrFail({ where: key, lock: { mode: "pessimistic_write" } });
					let decision = decide({ start: window.windowStart.getTime(), sent: window.sent }, now, limit);
					if (decision.action === "hold") {
						const windowStart = new Date(decision.window.start);
						await tx.createQueryBuilder().insert().into(NotificationDigest)
							.values({ orgId: alert.orgId, ...key, windowStart, dueAt: new Date(decision.digestDueAt), status: "collecting" })
							.orIgnore().execute();
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
				if (deliveryId) await this.queueJob({ kind: "delivery", deliveryId, orgId: alert.orgId });
			},

			/** Job id = the row's id: a repeated send is dropped by the queue, and a repeated run finds the row done. */
			async queueJob(this: NotifierService, job: NotifyJob) {
				const jobId = job.kind === "delivery" ? job.deliveryId : job.digestId;
				await this.queues[NOTIFY_QUEUE].send(job, { id: jobId });
				if (job.kind === "delivery") await this.db.getRepository(NotificationDelivery).update({ id: jobId }, { queuedAt: new Date() });
				else await this.db.getRepository(NotificationDigest).update({ id: jobId }, { queuedAt: new Date() });
			},

			/**
			 * Runs every NOTIFY_SWEEP_INTERVAL on every notifier node: claims the digests whose window has ended (one
			 * node wins each, by the status change) and queues them; re-queues rows a crash left without a job; routes
			 * alerts whose broadcast never arrived (the unique delivery rows make a second routing a no-op).
			 */
			async sweep(this: NotifierService, requeueAfterMs = REQUEUE_AFTER_MS) {
				const digests = this.db.getRepository(NotificationDigest);
				const deliveries = this.db.getRepository(NotificationDelivery);
				const now = new Date();
				for (const digest of await digests.find({ where: { status: "collecting", dueAt: LessThanOrEqual(now) }, order: { dueAt: "ASC" }, take: SWEEP_BATCH })) {
					const claimed = await digests.update({ id: digest.id, status: "collecting" }, { status: "pending" });
					if (claimed.affected) await this.queueJob({ kind: "digest", digestId: digest.id, orgId: digest.orgId });
				}
				const stale = new Date(now.getTime() - requeueAfterMs);
				for (const d of await deliveries.find({ where: { status: "pending", queuedAt: IsNull(), createdAt: LessThan(stale) }, take: SWEEP_BATCH }))
					await this.queueJob({ kind: "delivery", deliveryId: d.id, orgId: d.orgId });
				for (const d of await digests.find({ where: { status: "pending", queuedAt: IsNull(), updatedAt: LessThan(stale) }, take: SWEEP_BATCH }))
					await this.queueJob({ kind: "digest", digestId: d.id, orgId: d.orgId });
				for (const a of await this.db.getRepository(Alert).find({ where: { routedAt: IsNull(), createdAt: LessThan(stale) }, select: { id: true }, order: { createdAt: "ASC" }, take: SWEEP_BATCH }))
					await this.routeAlert(a.id);
			},

			/** Where an alert happened, by name, for the message. */
			async placeOf(this: NotifierService, orgId: string, storeId: string, cameraId: string): Promise<Place> {
				const [store, camera] = await Promise.all([this.db.getRepository(Store).findOneBy({ id: storeId }), this.db.getRepository(Camera).findOneBy({ id: cameraId })]);
				return { orgId, storeId, storeName: store?.name ?? storeId, cameraId, cameraName: camera?.name ?? cameraId, timezone: camera?.timezone ?? store?.timezone ?? "UTC" };
			},

			/** The job handler. */
			async deliver(this: NotifierService, job: NotifyJob, ctl: JobControl) {
				if (job.kind === "digest") await this.deliverDigest(job.digestId, ctl);
				else await this.deliverAlert(job.deliveryId, ctl);
			},

			async deliverAlert(this: NotifierService, deliveryId: string, ctl: JobControl) {
				const repo = this.db.getRepository(NotificationDelivery);
				const delivery = await repo.findOne({ where: { id: deliveryId }, relations: { channel: true, alert: true } });
				// Gone with its alert or channel, or already sent by an earlier run. A failed one runs again: its dead letter was replayed.
				if (!delivery?.channel || !delivery.alert || !RUNNABLE.has(delivery.status)) return;
				if (!delivery.channel.enabled) return void (await repo.update({ id: deliveryId }, { status: "failed", lastError: "The channel was disabled before the alert was sent" }));
				const alert = delivery.alert;
				const place = await this.placeOf(alert.orgId, alert.storeId, alert.cameraId);
				const message = alertMessage({ ...alert, hasSnapshot: Boolean(alert.snapshotKey) }, place, delivery.id);
				await this.attempt(ctl, delivery.channel.kind, delivery.attempts + 1, () => this.send(delivery.channel as NotificationChannel, delivery.recipient, message), (outcome: Outcome) => repo.update({ id: deliveryId }, outcome));
			},

			async deliverDigest(this: NotifierService, digestId: string, ctl: JobControl) {
				const repo = this.db.getRepository(NotificationDigest);
				const digest = await repo.findOne({ where: { id: digestId }, relations: { channel: true } });
				if (!digest?.channel || !RUNNABLE.has(digest.status)) return;
				if (!digest.channel.enabled) return void (await repo.update({ id: digestId }, { status: "failed", lastError: "The channel was disabled before the digest was sent" }));
				const held = await this.db.getRepository(NotificationDelivery).find({ where: { digestId }, relations: { alert: true } });
				const alerts = held.flatMap((d) => (d.alert ? [d.alert] : []));
				if (!alerts.length) return void (await repo.update({ id: digestId }, { status: "failed", lastError: "Its alerts were deleted before it was sent" }));
				const place = await this.placeOf(digest.orgId, alerts[0].storeId, digest.cameraId);
				const message = digestMessage({ id: digest.id, windowStart: digest.windowStart, windowEnd: digest.dueAt, alerts, limit: this.config.notifyRateLimit, windowSec: this.config.notifyRateWindow }, place);
				await this.attempt(ctl, digest.channel.kind, digest.attempts + 1, () => this.send(digest.channel as NotificationChannel, digest.recipient, message), (outcome: Outcome) => repo.update({ id: digestId }, outcome));
			},

			/**
			 * One try, counted in `attempts` (which keeps counting across a dead-letter replay): sent, or the error
			 * recorded and rethrown for a retry; the job's last attempt marks it failed (its dead letter holds it).
			 */
			async attempt(this: NotifierService, ctl: JobControl, kind: ChannelKind, attempts: number, send: () => Promise<void>, record: (outcome: Outcome) => Promise<unknown>) {
				try {
					await send();
				} catch (err) {
					const last = ctl.attempt >= this.config.notifyMaxAttempts;
					notificationAttempts.inc({ kind, outcome: last ? "failed" : "retry" });
					await record({ status: last ? "failed" : "pending", attempts, lastError: err instanceof Error ? err.message : String(err) });
					throw err;
				}
				notificationAttempts.inc({ kind, outcome: "sent" });
				await record({ status: "sent", attempts, lastError: null, sentAt: new Date() });
			},

			/** A webhook may not point at private, loopback or link-local addresses unless the operator allows it. */
			async checkWebhookTarget(this: NotifierService, config: ChannelConfig) {
				if (this.config.notifyAllowPrivateUrls || !("url" in config)) return;
				const refused = await nonPublicTarget((config as WebhookConfig).url);
				if (refused) throw invalid("The webhook URL points to a non-public address", [{ field: "config.url", type: "privateAddress", message: `It is or resolves to ${refused}; a server operator can allow such receivers with NOTIFY_ALLOW_PRIVATE_URLS.` }]);
			},

			async send(this: NotifierService, channel: NotificationChannel, recipient: string, message: Message) {
				const timeout = this.config.notifyTimeout;
				const config = this.openConfig(channel);
				switch (channel.kind) {
					case "webhook": {
						const { url, secret } = config as WebhookConfig;
						// Checked again at each send: what a name resolves to can change after the channel was made.
						const refused = this.config.notifyAllowPrivateUrls ? null : await nonPublicTarget(url);
						if (refused) throw new SendError(`The webhook URL points to a non-public address (${refused}); NOTIFY_ALLOW_PRIVATE_URLS allows that`);
						return postWebhook(url, secret, message, timeout);
					}
					case "telegram": {
						const { botToken, chatId } = config as TelegramConfig;
						return sendTelegram(this.config.telegramApiUrl, botToken, chatId, message.text, timeout);
					}
					case "email":
						if (!this.config.smtpUrl) throw new SendError("SMTP_URL is not set on this notifier node");
						this.mailer ??= smtpTransport(this.config.smtpUrl, timeout);
						return sendEmail(this.mailer, this.config.smtpFrom, recipient, message);
				}
			},
		},

		async started(this: NotifierService) {
			// Embedded mode keeps jobs in memory: after a restart, everything still pending is queued again.
			if (!this.config.transporter) {
				await this.db.getRepository(NotificationDelivery).update({ status: "pending" }, { queuedAt: null });
				await this.db.getRepository(NotificationDigest).update({ status: "pending" }, { queuedAt: null });
			}
			await this.queues[NOTIFY_QUEUE].start((job, ctl) => this.deliver(job, ctl));
			const run = (requeueAfterMs?: number) => {
				this.sweeping ??= this.sweep(requeueAfterMs)
					.catch((err: unknown) => this.logger.warn("Notification sweep failed; the next one tries again", err))
					.finally(() => (this.sweeping = undefined));
			};
			run(this.config.transporter ? REQUEUE_AFTER_MS : 0);
			this.sweepTimer = setInterval(() => run(), this.config.notifySweepInterval);
		},

		async stopped(this: NotifierService) {
			clearInterval(this.sweepTimer);
			await this.sweeping;
			this.mailer?.close();
		},
	};
}
