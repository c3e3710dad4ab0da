/**
 * notifier — sends alerts out of Vigil: to an organization's webhook, Telegram and email channels, routed by
 * severity and store, silenced per person by mutes (email only), rate-limited per channel and camera (a burst
 * becomes a few messages and one digest), and delivered durably through the job queue with retries.
 *
 * This file is the API (channels, mutes, where an alert was sent) and the wiring: every notifier node hears
 * `alert.raised` (a broadcast) and hands it to the engine (lib/notify/engine.ts), whose unique delivery rows make
 * only one node queue each job; the engine's sweep, run here on a timer, routes the alerts whose broadcast was
 * lost and flushes the digests whose window ended.
 */
import { randomUUID } from "node:crypto";
import type { ServiceSchema, ServiceSettingSchema } from "moleculer";
import { In, IsNull } from "typeorm";
import { Alert, Camera, NotificationChannel, NotificationDelivery, NotificationMute, Store } from "../entities";
import { SEVERITIES, type Severity } from "../entities/alert-rule.entity";
import { CHANNEL_KINDS, type ChannelKind } from "../entities/notification-channel.entity";
import { authorize } from "../lib/security/access";
import { audit } from "../lib/operations/audit";
import type { Config } from "../lib/platform/config";
import { invalid, notFound } from "../lib/platform/errors";
import { buildConfig, maskConfig, type ChannelConfig, type ConfigInput, type EmailConfig, type WebhookConfig } from "../lib/notify/channel-config";
import { nonPublicTarget } from "../lib/notify/address-guard";
import { ChannelSender, sealChannelConfig, testRecipients } from "../lib/notify/channel-sender";
import { NOTIFY_QUEUE, NotificationEngine, REQUEUE_AFTER_MS, type NotifyJob } from "../lib/notify/engine";
import { testMessage } from "../lib/notify/messages";
import { SendError } from "../lib/notify/senders";
import type { Caller, VigilContext } from "../lib/platform/types";
import { RepositoryMixin, type RepositoryService } from "../mixins/repository.mixin";
import { JobQueueMixin, type JobQueueService } from "../mixins/job-queue.mixin";
import { id, optional, orgPath, storePath } from "./schemas";

export { NOTIFY_QUEUE, type NotifyJob } from "../lib/notify/engine";

type NotifierService = RepositoryService &
	JobQueueService<{ [NOTIFY_QUEUE]: NotifyJob }> & {
		/** Sends to a channel: the notify jobs and the test button. */
		sender: ChannelSender;
		/** Routing, rate limit, sweep and delivery: everything here that is not the API. */
		engine: NotificationEngine;
		sweepTimer?: NodeJS.Timeout;
		sweeping?: Promise<void>;
	};

const configProps = {
	url: { type: "string", optional: true, max: 2048, $$t: "webhook: the URL Vigil POSTs to (http or https; stored encrypted, shown masked)" },
	botToken: { type: "string", optional: true, max: 256, $$t: "telegram: the bot token from BotFather (stored encrypted, shown masked)" },
	chatId: {
		type: "multi",
		optional: true,
		rules: [
			{ type: "string", max: 70 },
			{ type: "number", integer: true },
		],
		$$t: "telegram: the chat id (a number, negative for groups) or @channelname",
	},
	to: {
		type: "array",
		optional: true,
		max: 50,
		items: { type: "email", normalize: true, max: 254 },
		$$t: "email: addresses that get every alert of this channel",
	},
	members: { type: "boolean", optional: true, $$t: "email: also write to every member who can see the alert's store (their mutes apply)" },
} as const;

const channelFields = {
	name: { type: "string", trim: true, min: 1, max: 100 },
	kind: { type: "enum", values: CHANNEL_KINDS, $$t: "webhook, telegram or email" },
	config: { type: "object", strict: "remove", props: configProps, $$t: "The kind's settings: webhook {url}; telegram {botToken, chatId}; email {to, members}" },
	minSeverity: { type: "enum", values: SEVERITIES, default: "low", $$t: "Alerts below this severity are not sent here" },
	storeIds: {
		type: "array",
		items: "uuid",
		max: 1000,
		unique: true,
		optional: true,
		nullable: true,
		$$t: "Only alerts of these stores; absent or null: every store",
	},
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
	id: m.id,
	orgId: m.orgId,
	storeId: m.storeId,
	storeName: m.store?.name ?? null,
	cameraId: m.cameraId,
	cameraName: m.camera?.name ?? null,
	until: m.until,
	createdAt: m.createdAt,
});

export default function createNotifierService(config: Config): ServiceSchema<ServiceSettingSchema, NotifierService> {
	return {
		name: "notifier",
		mixins: [
			RepositoryMixin,
			JobQueueMixin({
				[NOTIFY_QUEUE]: {
					maxDeliver: config.notifyMaxAttempts,
					retryBaseMs: config.notifyRetryBase,
					retryMaxMs: config.notifyRetryMax,
					concurrency: config.notifyConcurrency,
					maxAgeMs: config.notifyQueueMaxAge * 3_600_000,
					maxBytes: config.notifyQueueMaxBytes,
				},
			}),
		],
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
						throw invalid("Email is not set up on this server", [
							{ field: "kind", type: "emailNotConfigured", message: "Email channels need SMTP_URL set on the notifier nodes." },
						]);
					const built = buildConfig(p.kind, p.config);
					if (!built.config) throw invalid("The channel's settings are not valid", built.problems);
					await this.checkWebhookTarget(built.config);
					await this.checkStores(ctx, p.storeIds ?? null);
					const configEnc = sealChannelConfig(this.config.encryptionKey, built.config);
					const channel = await this.data(ctx).transaction(async (tx) => {
						const saved = await tx.repo(NotificationChannel).save({
							kind: p.kind,
							name: p.name,
							configEnc,
							minSeverity: p.minSeverity,
							storeIds: p.storeIds ?? null,
							enabled: p.enabled,
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
					const channels = await this.data(ctx)
						.repo(NotificationChannel)
						.find({ order: { createdAt: "ASC" } });
					return { items: channels.map((c) => this.presentChannel(c)) };
				},
			},

			getChannel: {
				rest: "GET /orgs/:orgId/notification-channels/:channelId",
				permission: { scope: "org", roles: ["owner", "admin"] },
				params: { $$strict: "remove", ...channelPath },
				openapi: { summary: "A notification channel (secrets masked)", responses: { 200: "NotificationChannel" } },
				async handler(this: NotifierService, ctx: VigilContext<ChannelParams>) {
					return this.presentChannel(await this.findChannel(ctx));
				},
			},

			updateChannel: {
				rest: "PATCH /orgs/:orgId/notification-channels/:channelId",
				permission: { scope: "org", roles: ["owner", "admin"] },
				params: {
					$$strict: "remove",
					...channelPath,
					...optional({
						name: channelFields.name,
						config: channelFields.config,
						minSeverity: channelFields.minSeverity,
						storeIds: channelFields.storeIds,
						enabled: channelFields.enabled,
					}),
					rotateSecret: { type: "boolean", optional: true, $$t: "webhook: make a new signing secret (in the answer, this once)" },
				},
				openapi: { summary: "Change a channel; config fields given replace those stored, the others stay", responses: { 200: "NotificationChannel" } },
				async handler(this: NotifierService, ctx: VigilContext<ChannelParams>) {
					const channel = await this.findChannel(ctx);
					const { name, config: given, minSeverity, storeIds, enabled, rotateSecret } = ctx.params;
					let secret: string | undefined;
					if (given || rotateSecret) {
						const previous = this.sender.open(channel);
						const built = buildConfig(channel.kind, given ?? {}, previous, rotateSecret === true && channel.kind === "webhook");
						if (!built.config) throw invalid("The channel's settings are not valid", built.problems);
						await this.checkWebhookTarget(built.config);
						channel.configEnc = sealChannelConfig(this.config.encryptionKey, built.config);
						if (channel.kind === "webhook" && rotateSecret) secret = (built.config as WebhookConfig).secret;
					}
					if (storeIds !== undefined) await this.checkStores(ctx, storeIds);
					Object.assign(channel, {
						...(name !== undefined && { name }),
						...(minSeverity && { minSeverity }),
						...(storeIds !== undefined && { storeIds }),
						...(enabled !== undefined && { enabled }),
					});
					const saved = await this.data(ctx).transaction(async (tx) => {
						const row = await tx.repo(NotificationChannel).save(channel);
						// Which fields changed, never their values: they may hold secrets.
						const changed = Object.keys(ctx.params).filter(
							(k) => !["orgId", "channelId"].includes(k) && (ctx.params as unknown as Record<string, unknown>)[k] !== undefined,
						);
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
					await this.data(ctx).transaction(async (tx) => {
						if (!(await tx.repo(NotificationChannel).delete({ id: ctx.params.channelId }))) throw notFound("Notification channel");
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
					const channel = await this.findChannel(ctx);
					const message = testMessage(channel, randomUUID());
					let recipients = [""];
					if (channel.kind === "email") {
						const caller = ctx.meta.caller as Extract<Caller, { kind: "user" }>;
						recipients = testRecipients(this.sender.open(channel) as EmailConfig, caller.email);
					}
					try {
						for (const recipient of recipients) await this.sender.send(channel, recipient, message);
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
				openapi: {
					summary: "Where an alert was sent: one entry per channel (and email recipient) with its status and attempts",
					responses: { 200: "NotificationDeliveryList" },
				},
				async handler(this: NotifierService, ctx: VigilContext<{ orgId: string; storeId: string; alertId: string }>) {
					const { storeId, alertId } = ctx.params;
					const data = this.data(ctx);
					if (!(await data.repo(Alert).existsBy({ id: alertId, storeId }))) throw notFound("Alert");
					const rows = await data
						.repo(NotificationDelivery)
						.find({ where: { alertId }, relations: { channel: true, digest: true }, order: { createdAt: "ASC" } });
					return {
						items: rows.map((d) => ({
							id: d.id,
							channelId: d.channelId,
							channelName: d.channel?.name ?? null,
							kind: d.channel?.kind ?? null,
							recipient: d.recipient || null,
							status: d.status,
							attempts: d.attempts,
							lastError: d.lastError,
							sentAt: d.sentAt,
							createdAt: d.createdAt,
							updatedAt: d.updatedAt,
							digest: d.digest
								? {
										id: d.digest.id,
										status: d.digest.status,
										dueAt: d.digest.dueAt,
										attempts: d.digest.attempts,
										lastError: d.digest.lastError,
										sentAt: d.digest.sentAt,
									}
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
				openapi: {
					summary: "Stop your own alert emails about a store or a camera, for a while or until removed",
					responses: { 201: "Mute", 200: "Mute (an existing mute of the same target, with its new end)" },
				},
				async handler(this: NotifierService, ctx: VigilContext<{ storeId?: string; cameraId?: string; until?: Date | null }>) {
					const { storeId, cameraId, until } = ctx.params;
					if (Boolean(storeId) === Boolean(cameraId))
						throw invalid("Give either a store or a camera", [
							{ field: storeId ? "cameraId" : "storeId", type: "oneOf", message: "Give exactly one of storeId and cameraId." },
						]);
					if (until && until.getTime() <= Date.now())
						throw invalid("The end of a mute must be in the future", [{ field: "until", type: "dateMin", message: "Give a time in the future." }]);
					const caller = ctx.meta.caller as Extract<Caller, { kind: "user" }>;
					const target = await this.visibleTarget(caller, storeId, cameraId);
					// The target's organization, once the caller was shown to see it.
					const repo = this.tenantData({ orgId: target.orgId, storeIds: null }).repo(NotificationMute);
					const existing = await repo.findOneBy({ userId: caller.userId, storeId: target.storeId, cameraId: target.cameraId ?? IsNull() });
					const mute = await repo.save({
						...(existing ?? {}),
						userId: caller.userId,
						storeId: target.storeId,
						cameraId: target.cameraId,
						until: until ?? null,
					});
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
					const mutes = await this.unscoped("a user's own mutes, across their organizations")
						.getRepository(NotificationMute)
						.find({ where: { userId: caller.userId }, relations: { store: true, camera: true }, order: { createdAt: "ASC" } });
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
					const result = await this.unscoped("a user's own mute, in any of their organizations")
						.getRepository(NotificationMute)
						.delete({ id: ctx.params.muteId, userId: caller.userId });
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
						await this.engine.routeAlert(ctx.params.id);
					} catch (err) {
						// The sweep re-queues what was recorded; what was not is logged with the alert to find it.
						this.logger.error("Could not route an alert to its notification channels", { alertId: ctx.params.id }, err);
					}
				},
			},
		},

		methods: {
			async findChannel(this: NotifierService, ctx: VigilContext<{ channelId?: string }>) {
				const channel = await this.data(ctx).repo(NotificationChannel).findOneBy({ id: ctx.params.channelId });
				if (!channel) throw notFound("Notification channel");
				return channel;
			},

			presentChannel(this: NotifierService, c: NotificationChannel) {
				return {
					id: c.id,
					orgId: c.orgId,
					kind: c.kind,
					name: c.name,
					config: maskConfig(c.kind, this.sender.open(c)),
					minSeverity: c.minSeverity,
					storeIds: c.storeIds,
					enabled: c.enabled,
					createdAt: c.createdAt,
					updatedAt: c.updatedAt,
				};
			},

			/** A channel may only name stores of its own organization. */
			async checkStores(this: NotifierService, ctx: VigilContext<unknown>, storeIds: string[] | null) {
				if (!storeIds?.length) return;
				const found = await this.data(ctx)
					.repo(Store)
					.countBy({ id: In(storeIds) });
				if (found !== new Set(storeIds).size)
					throw invalid("Some stores are not stores of this organization", [
						{ field: "storeIds", type: "unknownStore", message: "Use stores of this organization." },
					]);
			},

			/** The store (and camera) of a mute, if the caller can see it; otherwise it does not exist for them. */
			async visibleTarget(this: NotifierService, caller: Extract<Caller, { kind: "user" }>, storeId?: string, cameraId?: string) {
				let target: { orgId: string; storeId: string; cameraId: string | null } | null = null;
				// Found in any organization first, then shown to be one the caller may see, as a store route checks.
				const system = this.unscoped("a mute's target, before the caller is shown to see it");
				if (cameraId) {
					const camera = await system.getRepository(Camera).findOneBy({ id: cameraId });
					target = camera && { orgId: camera.orgId, storeId: camera.storeId, cameraId: camera.id };
				} else {
					const store = await system.getRepository(Store).findOneBy({ id: storeId });
					target = store && { orgId: store.orgId, storeId: store.id, cameraId: null };
				}
				const what = cameraId ? "Camera" : "Store";
				if (!target) throw notFound(what);
				// The same check as a store route's: a member who may see the store (super-admins all).
				await authorize(async () => system, caller, { scope: "store" }, { orgId: target.orgId, storeId: target.storeId }).catch(() => {
					throw notFound(what);
				});
				return target;
			},

			/** A webhook may not point at private, loopback or link-local addresses unless the operator allows it. */
			async checkWebhookTarget(this: NotifierService, config: ChannelConfig) {
				if (this.config.notifyAllowPrivateUrls || !("url" in config)) return;
				const refused = await nonPublicTarget((config as WebhookConfig).url);
				if (refused)
					throw invalid("The webhook URL points to a non-public address", [
						{
							field: "config.url",
							type: "privateAddress",
							message: `It is or resolves to ${refused}; a server operator can allow such receivers with NOTIFY_ALLOW_PRIVATE_URLS.`,
						},
					]);
			},
		},

		created(this: NotifierService) {
			this.sender = new ChannelSender(this.config);
		},

		async started(this: NotifierService) {
			const queue = this.queues[NOTIFY_QUEUE];
			this.engine = new NotificationEngine({
				db: this.unscoped("the notification engine routes and sends every organization's alerts"),
				settings: this.config,
				sender: this.sender,
				queueJob: (job, options) => queue.send(job, options),
			});
			// Embedded mode keeps jobs in memory: after a restart, everything still pending is queued again.
			if (!this.config.transporter) await this.engine.forgetQueuedJobs();
			await queue.start((job, ctl) => this.engine.deliver(job, ctl));
			const run = (requeueAfterMs?: number) => {
				this.sweeping ??= this.engine
					.sweep(requeueAfterMs)
					.catch((err: unknown) => this.logger.warn("Notification sweep failed; the next one tries again", err))
					.finally(() => (this.sweeping = undefined));
			};
			run(this.config.transporter ? REQUEUE_AFTER_MS : 0);
			this.sweepTimer = setInterval(() => run(), this.config.notifySweepInterval);
		},

		async stopped(this: NotifierService) {
			clearInterval(this.sweepTimer);
			await this.sweeping;
			this.sender.close();
		},
	};
}
