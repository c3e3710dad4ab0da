/**
 * Notifications end to end, against real local receivers: a webhook endpoint checking the signature, a fake
 * Telegram Bot API and an SMTP server. Alerts are real rows broadcast as `alert.raised`, as the alert service does.
 */
import { randomUUID } from "node:crypto";
import { Alert, Clip, NotificationDelivery } from "../../entities";
import type { Severity } from "../../entities/alert-rule.entity";
import { verifyWebhook } from "../../lib/notify/signature";
import type { JobQueue } from "../../lib/jobs";
import { createNode } from "../../app/node";
import { presentAlert } from "../../services/alert.service";
import type { NotifyJob } from "../../services/notifier.service";
import { overNats, startCluster, type Cluster } from "../support/cluster";
import { Client, signUp } from "../support/http";
import { eventually } from "../support/media";
import { closedPort, fakeTelegram, httpReceiver, smtpReceiver, type HttpReceiver, type SmtpReceiver } from "../support/receivers";

const RATE_LIMIT = 3;
const RATE_WINDOW_SEC = 2;
const MAX_ATTEMPTS = 4;
const BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const describeOverNats = overNats ? describe : describe.skip;
if (!overNats) console.warn("notifications.test.ts: the two-notifier-node test is skipped; set TRANSPORTER=nats://127.0.0.1:4222 to run it");

let cluster: Cluster;
let api: Client;
let webhook: HttpReceiver;
let telegram: HttpReceiver;
let smtp: SmtpReceiver;

beforeAll(async () => {
	[webhook, telegram, smtp] = await Promise.all([httpReceiver(), fakeTelegram(), smtpReceiver({ user: "vigil", pass: "s3cret pass" })]);
	cluster = await startCluster({
		SERVICES: "api,auth,tenancy,camera,clip,alert,notifier",
		TELEGRAM_API_URL: telegram.url,
		SMTP_URL: `smtp://vigil:${encodeURIComponent("s3cret pass")}@127.0.0.1:${smtp.port}`,
		SMTP_FROM: "Vigil Alerts <alerts@vigil.test>",
		NOTIFY_RATE_LIMIT: String(RATE_LIMIT),
		NOTIFY_RATE_WINDOW: String(RATE_WINDOW_SEC),
		NOTIFY_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
		NOTIFY_RETRY_BASE: "100",
		NOTIFY_RETRY_MAX: "400",
		NOTIFY_SWEEP_INTERVAL: "200",
		NOTIFY_TIMEOUT: "3000",
		// The receivers run on this machine.
		NOTIFY_ALLOW_PRIVATE_URLS: "true",
	});
	api = new Client(cluster.url);
});
afterAll(async () => {
	await cluster?.stop();
	await Promise.all([webhook?.close(), telegram?.close(), smtp?.close()]);
});

/** A fresh organization (channels are per organization, so tests do not see each other's alerts). */
async function tenant(stores = ["Corner Shop"]) {
	const owner = await signUp(api, "notify-owner");
	const org = (await api.post("/api/v1/orgs", { name: "Notify Org" }, { token: owner.token })).body;
	const storeIds: string[] = [];
	const cameraIds: string[] = [];
	for (const name of stores) {
		const store = (await api.post(`/api/v1/orgs/${org.id}/stores`, { name }, { token: owner.token })).body;
		storeIds.push(store.id);
		cameraIds.push((await api.post(`/api/v1/orgs/${org.id}/stores/${store.id}/cameras`, { name: `${name} door` }, { token: owner.token })).body.id);
	}
	return { owner, orgId: org.id as string, storeIds, cameraIds, channels: `/api/v1/orgs/${org.id}/notification-channels` };
}

/** A real alert row, broadcast the way the alert service does. */
async function raise(t: { orgId: string }, storeId: string, cameraId: string, severity: Severity = "high", className = "person") {
	const db = await cluster.db();
	const clip = await db.getRepository(Clip).save({
		orgId: t.orgId,
		storeId,
		cameraId,
		status: "done",
		storageKey: "clips/none.mp4",
		sizeBytes: 1,
		sha256: randomUUID(),
		durationSec: 2,
		width: 640,
		height: 480,
		sourceFps: 25,
		sampleFps: 5,
		segmentSec: 2,
		segmentsTotal: 1,
		framesTotal: 10,
	});
	const alert = await db.getRepository(Alert).save({
		orgId: t.orgId,
		storeId,
		cameraId,
		clipId: clip.id,
		trackNo: 1,
		ruleId: randomUUID(),
		className,
		score: 0.91,
		severity,
		occurredAt: new Date(),
		frameTime: 0.4,
		box: [0.1, 0.1, 0.5, 0.9],
	});
	cluster.core.broadcast("alert.raised", presentAlert(alert));
	return alert;
}

const deliveriesOf = async (t: { orgId: string; owner: { token: string } }, storeId: string, alertId: string) =>
	(await api.get(`/api/v1/orgs/${t.orgId}/stores/${storeId}/alerts/${alertId}/deliveries`, { token: t.owner.token })).body.items as any[];

const settled = (items: any[]) => (items.length && items.every((d) => d.status !== "pending") ? items : undefined);

/** Webhook bodies received for one alert id. */
const bodiesFor = (receiver: HttpReceiver, alertId: string) => receiver.received.filter((r) => r.json?.alert?.id === alertId);

/** Waits until the receiver has this alert's message: a barrier for "nothing else arrived" (it came after). */
const arrived = (receiver: HttpReceiver, alertId: string) => eventually(async () => bodiesFor(receiver, alertId)[0], 15000);

/**
 * What a receiver got for a burst of alerts, without their ids: the messages sent one by one, the size of each
 * digest, how many of the alerts were covered and how many covered more than once.
 */
function burstSummary(receiver: HttpReceiver, alerts: { id: string }[]) {
	const ids = new Set(alerts.map((a) => a.id));
	const single = receiver.received.filter((r) => r.json?.type === "alert.raised" && ids.has(r.json.alert.id)).map((r) => r.json.alert.id as string);
	const digests = receiver.received.filter((r) => r.json?.type === "alert.digest" && r.json.alerts.some((a: { id: string }) => ids.has(a.id)));
	const covered = [...single, ...digests.flatMap((d) => d.json.alerts.map((a: { id: string }) => a.id as string))];
	return {
		messages: single.length,
		digests: digests.map((d) => d.json.count as number),
		covered: new Set(covered).size,
		repeated: covered.length - new Set(covered).size,
	};
}

describe("channels", () => {
	it("a webhook channel shows its signing secret once; afterwards its settings come back masked", async () => {
		const t = await tenant();
		const created = await api.post(
			t.channels,
			{ kind: "webhook", name: "SOC", config: { url: "https://ops:hunter2@hooks.example.com/vigil?token=query-secret" } },
			{ token: t.owner.token },
		);
		expect(created.status).toBe(201);
		expect(created.body.signingSecret).toMatch(/^whsec_/);
		expect(created.body).toMatchObject({ kind: "webhook", name: "SOC", minSeverity: "low", storeIds: null, enabled: true });
		const shown = await api.get(`${t.channels}/${created.body.id}`, { token: t.owner.token });
		expect(shown.body.signingSecret).toBeUndefined();
		expect(JSON.stringify(shown.body)).not.toMatch(/hunter2|query-secret|whsec_/);
		const listed = await api.get(t.channels, { token: t.owner.token });
		expect(JSON.stringify(listed.body)).not.toMatch(/hunter2|whsec_/);

		const rotated = await api.patch(`${t.channels}/${created.body.id}`, { rotateSecret: true, minSeverity: "high" }, { token: t.owner.token });
		expect(rotated.body.signingSecret).toMatch(/^whsec_/);
		expect(rotated.body.signingSecret).not.toBe(created.body.signingSecret);
		expect(rotated.body.minSeverity).toBe("high");
	});

	it("the settings are stored encrypted, not in clear", async () => {
		const t = await tenant();
		const created = await api.post(
			t.channels,
			{ kind: "telegram", name: "Night shift", config: { botToken: BOT_TOKEN, chatId: -1001234567 } },
			{ token: t.owner.token },
		);
		expect(created.status).toBe(201);
		expect(created.body.config).toEqual({ botToken: "123456789:****", chatId: "-1001234567" });
		const [row] = await (await cluster.db()).query("SELECT config_enc FROM notification_channels WHERE id = $1", [created.body.id]);
		expect(row.config_enc).not.toContain("AAHdqTcv");
	});

	it.each([
		["a webhook without a URL", { kind: "webhook", name: "x", config: {} }, "config.url"],
		["a webhook URL that is not http(s)", { kind: "webhook", name: "x", config: { url: "file:///etc/passwd" } }, "config.url"],
		["a Telegram channel without a chat", { kind: "telegram", name: "x", config: { botToken: BOT_TOKEN } }, "config.chatId"],
		["an email channel with nobody to write to", { kind: "email", name: "x", config: {} }, "config.to"],
		["an unknown kind", { kind: "pigeon", name: "x", config: {} }, "kind"],
		["an unknown severity", { kind: "webhook", name: "x", config: { url: "https://x.test" }, minSeverity: "apocalyptic" }, "minSeverity"],
		["an invalid email address", { kind: "email", name: "x", config: { to: ["not-an-address"] } }, "config.to[0]"],
	])("refuses %s with a 422 naming the field", async (_what, body, field) => {
		const t = await tenant();
		const res = await api.post(t.channels, body, { token: t.owner.token });
		expect(res.status).toBe(422);
		expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
		expect((await api.get(t.channels, { token: t.owner.token })).body.items).toHaveLength(0);
	});

	it("refuses stores of another organization", async () => {
		const [t, other] = [await tenant(), await tenant()];
		const res = await api.post(t.channels, { kind: "webhook", name: "x", config: { url: webhook.url }, storeIds: other.storeIds }, { token: t.owner.token });
		expect(res.status).toBe(422);
		expect(res.body.error.details[0].field).toBe("storeIds");
	});

	it("a deleted channel is gone, and another organization's channel is not found", async () => {
		const [t, other] = [await tenant(), await tenant()];
		const id = (await api.post(t.channels, { kind: "webhook", name: "x", config: { url: webhook.url } }, { token: t.owner.token })).body.id;
		expect((await api.get(`${other.channels}/${id}`, { token: other.owner.token })).status).toBe(404);
		expect((await api.delete(`${t.channels}/${id}`, { token: t.owner.token })).status).toBe(204);
		expect((await api.get(`${t.channels}/${id}`, { token: t.owner.token })).status).toBe(404);
	});
});

describe("delivery", () => {
	it("the webhook receiver gets the alert once, signed with the channel's secret, and the alert shows it sent", async () => {
		const t = await tenant();
		const channel = (await api.post(t.channels, { kind: "webhook", name: "SOC", config: { url: `${webhook.url}/hooks/vigil` } }, { token: t.owner.token }))
			.body;
		const alert = await raise(t, t.storeIds[0], t.cameraIds[0], "high", "person");
		// Heard twice (several nodes, or a repeated broadcast): still one delivery.
		cluster.core.broadcast("alert.raised", presentAlert(alert));

		const [delivery] = await eventually(async () => settled(await deliveriesOf(t, t.storeIds[0], alert.id)), 15000);
		expect(delivery).toMatchObject({
			channelId: channel.id,
			channelName: "SOC",
			kind: "webhook",
			recipient: null,
			status: "sent",
			attempts: 1,
			lastError: null,
		});
		// An alert raised after the repeat is the barrier: once its message is in, a second one for the repeat would be too.
		await arrived(webhook, (await raise(t, t.storeIds[0], t.cameraIds[0])).id);
		const bodies = bodiesFor(webhook, alert.id);
		expect(bodies).toHaveLength(1);
		const [got] = bodies;
		expect(got.path).toBe("/hooks/vigil");
		expect(verifyWebhook(channel.signingSecret, got.headers, got.raw)).toEqual({ ok: true });
		expect(verifyWebhook("whsec_someone-else", got.headers, got.raw)).toEqual({ ok: false, reason: "mismatch" });
		expect(got.headers["x-vigil-delivery"]).toBe(delivery.id);
		expect(got.headers["x-vigil-event"]).toBe("alert.raised");
		expect(got.json).toMatchObject({
			type: "alert.raised",
			deliveryId: delivery.id,
			alert: { id: alert.id, severity: "high", className: "person", storeName: "Corner Shop", cameraName: "Corner Shop door" },
		});
	});

	it("a receiver that fails at first gets the message exactly once when it recovers; the delivery ends sent after several attempts", async () => {
		const t = await tenant();
		const flaky = await httpReceiver();
		try {
			flaky.failNext(2);
			await api.post(t.channels, { kind: "webhook", name: "Flaky", config: { url: flaky.url } }, { token: t.owner.token });
			const alert = await raise(t, t.storeIds[0], t.cameraIds[0]);
			const [delivery] = await eventually(async () => settled(await deliveriesOf(t, t.storeIds[0], alert.id)), 15000);
			expect(delivery).toMatchObject({ status: "sent", attempts: 3 });
			expect(flaky.requests).toBe(3);
			expect(bodiesFor(flaky, alert.id)).toHaveLength(1);
		} finally {
			await flaky.close();
		}
	});

	it("a receiver that never answers ends failed after the last attempt, with the reason", async () => {
		const t = await tenant();
		await api.post(t.channels, { kind: "webhook", name: "Gone", config: { url: `http://127.0.0.1:${await closedPort()}/in` } }, { token: t.owner.token });
		const alert = await raise(t, t.storeIds[0], t.cameraIds[0]);
		const [delivery] = await eventually(async () => settled(await deliveriesOf(t, t.storeIds[0], alert.id)), 15000);
		expect(delivery).toMatchObject({ status: "failed", attempts: MAX_ATTEMPTS, sentAt: null });
		expect(delivery.lastError).toMatch(/Could not reach the webhook receiver: ECONNREFUSED/);
	});

	it("a failed delivery replayed from the dead letters is sent when its receiver is back", async () => {
		const t = await tenant();
		const port = await closedPort();
		await api.post(t.channels, { kind: "webhook", name: "Back later", config: { url: `http://127.0.0.1:${port}/in` } }, { token: t.owner.token });
		const alert = await raise(t, t.storeIds[0], t.cameraIds[0]);
		const [failed] = await eventually(async () => settled(await deliveriesOf(t, t.storeIds[0], alert.id)), 15000);
		expect(failed).toMatchObject({ status: "failed", attempts: MAX_ATTEMPTS });
		const queue = (cluster.core.getLocalService("notifier") as unknown as { queues: Record<string, JobQueue<NotifyJob>> }).queues.notify;
		const letter = await eventually(async () => (await queue.listDeadLetters()).find((l) => l.job.kind === "delivery" && l.job.deliveryId === failed.id), 5000);
		expect(letter.job).toEqual({ kind: "delivery", deliveryId: failed.id, orgId: t.orgId });

		const receiver = await httpReceiver(undefined, port);
		try {
			await queue.replayDeadLetter(letter.letterId);
			const [sent] = await eventually(async () => {
				const items = await deliveriesOf(t, t.storeIds[0], alert.id);
				return items[0]?.status === "sent" ? items : undefined;
			}, 15000);
			expect(sent).toMatchObject({ status: "sent", attempts: MAX_ATTEMPTS + 1, lastError: null });
			expect(bodiesFor(receiver, alert.id)).toHaveLength(1);
		} finally {
			await receiver.close();
		}
	});

	it("a delivery recorded by a node that died before queueing it is sent by the sweep", async () => {
		const t = await tenant();
		const alert = await raise(t, t.storeIds[0], t.cameraIds[0]);
		const receiver = await httpReceiver();
		try {
			const channel = (await api.post(t.channels, { kind: "webhook", name: "Late", config: { url: receiver.url } }, { token: t.owner.token })).body;
			const repo = (await cluster.db()).getRepository(NotificationDelivery);
			const row = await repo.save({ orgId: t.orgId, alertId: alert.id, channelId: channel.id, recipient: "", status: "pending" });
			await repo.update({ id: row.id }, { createdAt: new Date(Date.now() - 60_000) });
			const [delivery] = await eventually(async () => settled(await deliveriesOf(t, t.storeIds[0], alert.id)), 15000);
			expect(delivery).toMatchObject({ id: row.id, status: "sent", attempts: 1 });
			expect(bodiesFor(receiver, alert.id)).toHaveLength(1);
		} finally {
			await receiver.close();
		}
	});

	it("Telegram gets sendMessage on the bot's path with the channel's chat, and the test button works", async () => {
		const t = await tenant();
		const channel = (
			await api.post(t.channels, { kind: "telegram", name: "Night shift", config: { botToken: BOT_TOKEN, chatId: "-100777" } }, { token: t.owner.token })
		).body;
		const alert = await raise(t, t.storeIds[0], t.cameraIds[0], "critical", "car");
		await eventually(async () => settled(await deliveriesOf(t, t.storeIds[0], alert.id)), 15000);
		const got = telegram.received.find((r) => r.json?.text?.includes(alert.id));
		expect(got?.path).toBe(`/bot${BOT_TOKEN}/sendMessage`);
		expect(got?.json).toMatchObject({ chat_id: "-100777" });
		expect(got?.json.text).toContain("CRITICAL: car at Corner Shop / Corner Shop door");

		const before = telegram.received.length;
		const test = await api.post(`${t.channels}/${channel.id}/test`, {}, { token: t.owner.token });
		expect(test.body).toEqual({ sent: true });
		expect(telegram.received.slice(before).map((r) => r.json.text)).toEqual([expect.stringContaining('"Night shift"')]);
	});

	it("the test button says why a message did not arrive", async () => {
		const t = await tenant();
		const channel = (
			await api.post(t.channels, { kind: "webhook", name: "Gone", config: { url: `http://127.0.0.1:${await closedPort()}/in` } }, { token: t.owner.token })
		).body;
		const test = await api.post(`${t.channels}/${channel.id}/test`, {}, { token: t.owner.token });
		expect(test.status).toBe(200);
		expect(test.body).toEqual({ sent: false, error: expect.stringMatching(/ECONNREFUSED/) });
	});

	it("routing: only alerts at or above the channel's severity, from its stores", async () => {
		const t = await tenant(["Shop A", "Shop B"]);
		const [receiver, everything] = await Promise.all([httpReceiver(), httpReceiver()]);
		try {
			await api.post(
				t.channels,
				{ kind: "webhook", name: "A, high", config: { url: receiver.url }, minSeverity: "high", storeIds: [t.storeIds[0]] },
				{ token: t.owner.token },
			);
			// A channel that takes everything: once it has all three, the routing of all three is done.
			await api.post(t.channels, { kind: "webhook", name: "Everything", config: { url: everything.url } }, { token: t.owner.token });
			const low = await raise(t, t.storeIds[0], t.cameraIds[0], "medium");
			const otherStore = await raise(t, t.storeIds[1], t.cameraIds[1], "critical");
			const wanted = await raise(t, t.storeIds[0], t.cameraIds[0], "critical");
			for (const alert of [low, otherStore, wanted]) await arrived(everything, alert.id);
			await arrived(receiver, wanted.id);
			expect(receiver.received.map((r) => r.json.alert.id)).toEqual([wanted.id]);
			expect((await deliveriesOf(t, t.storeIds[0], low.id)).map((d) => d.channelName)).toEqual(["Everything"]);
			expect((await deliveriesOf(t, t.storeIds[1], otherStore.id)).map((d) => d.channelName)).toEqual(["Everything"]);
		} finally {
			await Promise.all([receiver.close(), everything.close()]);
		}
	}, 75_000); // four waits of up to 15 s each

	it("a burst beyond the rate limit becomes N messages and one digest when the window ends", async () => {
		const t = await tenant();
		const receiver = await httpReceiver();
		try {
			const channel = (await api.post(t.channels, { kind: "webhook", name: "Burst", config: { url: receiver.url } }, { token: t.owner.token })).body;
			const alerts = [];
			for (let i = 0; i < RATE_LIMIT + 4; i++) alerts.push(await raise(t, t.storeIds[0], t.cameraIds[0], "medium"));
			const digest = await eventually(async () => receiver.received.find((r) => r.json?.type === "alert.digest"), 15000);
			// The next alert after the window is sent on its own again; once it is in, the burst has nothing more to come.
			const later = await raise(t, t.storeIds[0], t.cameraIds[0]);
			await arrived(receiver, later.id);
			const [after] = await eventually(async () => settled(await deliveriesOf(t, t.storeIds[0], later.id)), 15000);
			expect(after.status).toBe("sent");
			// Alerts heard at the same moment may be counted in any order: which ones were held is not fixed, how many is.
			const sent = receiver.received.filter((r) => r.json?.type === "alert.raised" && r.json.alert.id !== later.id).map((r) => r.json.alert.id as string);
			const digested = digest.json.alerts.map((a: { id: string }) => a.id as string);
			expect(sent).toHaveLength(RATE_LIMIT);
			expect(receiver.received.filter((r) => r.json?.type === "alert.digest")).toHaveLength(1);
			expect([...sent, ...digested].sort()).toEqual(alerts.map((a) => a.id).sort());
			expect(digest.json).toMatchObject({ type: "alert.digest", count: 4, cameraId: t.cameraIds[0] });
			expect(digest.headers["x-vigil-event"]).toBe("alert.digest");
			expect(verifyWebhook(channel.signingSecret, digest.headers, digest.raw)).toEqual({ ok: true });

			const held = await deliveriesOf(t, t.storeIds[0], digested[0]);
			expect(held).toEqual([expect.objectContaining({ status: "digested", digest: expect.objectContaining({ status: "sent", id: digest.json.deliveryId }) })]);
		} finally {
			await receiver.close();
		}
	}, 75_000); // three waits of up to 15 s each, and the window
});

describe("email and mutes", () => {
	/** A member invited with a role (and maybe limited to some stores). */
	async function member(t: Awaited<ReturnType<typeof tenant>>, name: string, storeIds?: string[]) {
		const user = await signUp(api, name);
		const invite = await api.post(`/api/v1/orgs/${t.orgId}/invitations`, { email: user.email, role: "staff", storeIds }, { token: t.owner.token });
		expect((await api.post("/api/v1/invitations/accept", { token: invite.body.token }, { token: user.token })).status).toBe(200);
		return user;
	}

	it("an email channel writes to its addresses and the members who can see the store, except who muted the camera", async () => {
		const t = await tenant(["Shop A", "Shop B"]);
		const staffA = await member(t, "staff-a", [t.storeIds[0]]);
		const staffB = await member(t, "staff-b", [t.storeIds[1]]);
		const channel = await api.post(
			t.channels,
			{ kind: "email", name: "Everyone", config: { to: ["Desk@Example.com"], members: true } },
			{ token: t.owner.token },
		);
		expect(channel.status).toBe(201);
		expect(channel.body.config).toEqual({ to: ["desk@example.com"], members: true });

		const mute = await api.post("/api/v1/me/mutes", { cameraId: t.cameraIds[0] }, { token: t.owner.token });
		expect(mute.status).toBe(201);
		const alert = await raise(t, t.storeIds[0], t.cameraIds[0], "high", "person");
		const items = await eventually(async () => settled(await deliveriesOf(t, t.storeIds[0], alert.id)), 15000);
		expect(items.map((d) => d.recipient).sort()).toEqual(["desk@example.com", staffA.email].sort());
		expect(items.every((d) => d.status === "sent")).toBe(true);

		const mails = smtp.mails.filter((m) => m.raw.includes(alert.id));
		expect(
			mails
				.map((m) => m.to)
				.flat()
				.sort(),
		).toEqual(["desk@example.com", staffA.email].sort());
		expect(mails[0].from).toBe("alerts@vigil.test");
		expect(mails[0].user).toBe("vigil");
		expect(mails[0].raw).toMatch(/Subject: \[Vigil\] HIGH: person at Shop A \/ Shop A door/);
		expect(mails.some((m) => m.to.includes(staffB.email))).toBe(false);

		// Once the mute is removed, the owner gets the next one.
		expect((await api.delete(`/api/v1/me/mutes/${mute.body.id}`, { token: t.owner.token })).status).toBe(204);
		const next = await raise(t, t.storeIds[0], t.cameraIds[0]);
		const again = await eventually(async () => settled(await deliveriesOf(t, t.storeIds[0], next.id)), 15000);
		expect(again.map((d) => d.recipient)).toContain(t.owner.email);
	});

	it("a store mute with an end silences the store for who muted it until then; the list shows it", async () => {
		const t = await tenant();
		// The desk, which muted nothing, is the barrier: its mail arriving means the alert was routed.
		await api.post(t.channels, { kind: "email", name: "Owner and desk", config: { to: [t.owner.email, "desk@example.com"] } }, { token: t.owner.token });
		const until = new Date(Date.now() + 3600_000).toISOString();
		const mute = await api.post("/api/v1/me/mutes", { storeId: t.storeIds[0], until }, { token: t.owner.token });
		expect(mute.status).toBe(201);
		expect(mute.body).toMatchObject({ storeId: t.storeIds[0], cameraId: null, storeName: "Corner Shop", until });
		// Muting the same store again changes its end instead of adding a second mute.
		const longer = await api.post("/api/v1/me/mutes", { storeId: t.storeIds[0] }, { token: t.owner.token });
		expect(longer.status).toBe(200);
		expect(longer.body).toMatchObject({ id: mute.body.id, until: null });
		expect((await api.get("/api/v1/me/mutes", { token: t.owner.token })).body.items.map((m: { id: string }) => m.id)).toEqual([mute.body.id]);

		const alert = await raise(t, t.storeIds[0], t.cameraIds[0]);
		const items = await eventually(async () => settled(await deliveriesOf(t, t.storeIds[0], alert.id)), 15000);
		expect(items.map((d) => [d.recipient, d.status])).toEqual([["desk@example.com", "sent"]]);
		expect(smtp.mails.filter((m) => m.raw.includes(alert.id)).map((m) => m.to)).toEqual([["desk@example.com"]]);
	});

	it("you can only mute what you can see, one target at a time, ending in the future", async () => {
		const [t, other] = [await tenant(["Shop A", "Shop B"]), await tenant()];
		const limited = await member(t, "limited", [t.storeIds[1]]);
		expect((await api.post("/api/v1/me/mutes", { cameraId: other.cameraIds[0] }, { token: t.owner.token })).status).toBe(404);
		expect((await api.post("/api/v1/me/mutes", { storeId: t.storeIds[0] }, { token: limited.token })).status).toBe(404);
		expect((await api.post("/api/v1/me/mutes", { cameraId: t.cameraIds[0] }, { token: limited.token })).status).toBe(404);
		expect((await api.post("/api/v1/me/mutes", { storeId: t.storeIds[1] }, { token: limited.token })).status).toBe(201);
		const both = await api.post("/api/v1/me/mutes", { storeId: t.storeIds[0], cameraId: t.cameraIds[0] }, { token: t.owner.token });
		expect(both.status).toBe(422);
		expect((await api.post("/api/v1/me/mutes", {}, { token: t.owner.token })).status).toBe(422);
		const past = await api.post("/api/v1/me/mutes", { storeId: t.storeIds[0], until: "2020-01-01T00:00:00Z" }, { token: t.owner.token });
		expect(past.status).toBe(422);
		expect(past.body.error.details[0].field).toBe("until");
		// Someone else's mute is not yours to remove.
		const mine = (await api.get("/api/v1/me/mutes", { token: limited.token })).body.items[0];
		expect((await api.delete(`/api/v1/me/mutes/${mine.id}`, { token: t.owner.token })).status).toBe(404);
	});

	it("delivery status is per alert and visible only inside its store", async () => {
		const [t, other] = [await tenant(), await tenant()];
		await api.post(t.channels, { kind: "email", name: "Desk", config: { to: ["desk@example.com"] } }, { token: t.owner.token });
		const [alert, next] = [await raise(t, t.storeIds[0], t.cameraIds[0]), await raise(t, t.storeIds[0], t.cameraIds[0])];
		const items = await eventually(async () => settled(await deliveriesOf(t, t.storeIds[0], alert.id)), 15000);
		const nextItems = await eventually(async () => settled(await deliveriesOf(t, t.storeIds[0], next.id)), 15000);
		expect(items.map((d) => d.recipient)).toEqual(["desk@example.com"]);
		expect(nextItems.map((d) => d.recipient)).toEqual(["desk@example.com"]);
		expect(nextItems[0].id).not.toBe(items[0].id);
		const foreign = await api.get(`/api/v1/orgs/${other.orgId}/stores/${other.storeIds[0]}/alerts/${alert.id}/deliveries`, { token: other.owner.token });
		expect(foreign.status).toBe(404);
	});
});

describeOverNats("several notifier nodes", () => {
	/** A burst on a fresh organization, summarized once the alert after its window has arrived. */
	async function burst() {
		const receiver = await httpReceiver();
		try {
			const t = await tenant();
			await api.post(t.channels, { kind: "webhook", name: "Burst", config: { url: receiver.url } }, { token: t.owner.token });
			const alerts = [];
			for (let i = 0; i < RATE_LIMIT + 2; i++) alerts.push(await raise(t, t.storeIds[0], t.cameraIds[0]));
			await eventually(async () => receiver.received.find((r) => r.json?.type === "alert.digest"), 15000);
			await arrived(receiver, (await raise(t, t.storeIds[0], t.cameraIds[0])).id);
			return burstSummary(receiver, alerts);
		} finally {
			await receiver.close();
		}
	}

	it("each alert is sent once and the rate limit is counted across nodes: two nodes send what one sends", async () => {
		const oneNode = await burst();
		expect(oneNode).toEqual({ messages: RATE_LIMIT, digests: [2], covered: RATE_LIMIT + 2, repeated: 0 });

		const second = createNode({ ...cluster.config, services: ["notifier"] }, { nodeID: `notifier-2-${cluster.config.namespace}` });
		await second.start();
		try {
			// Both nodes must hear the alerts: wait until the services node knows the second one.
			await eventually(async () => (cluster.core.registry.nodes.get(second.nodeID)?.available ? true : undefined), 15000);
			expect(await burst()).toEqual(oneNode);
		} finally {
			await second.stop();
		}
	}, 90_000);
});

describe("webhooks and the server's own network", () => {
	let guarded: Cluster;
	beforeAll(async () => {
		guarded = await startCluster({ SERVICES: "api,auth,tenancy,camera,clip,alert,notifier" });
	});
	afterAll(() => guarded?.stop());

	it("by default a webhook cannot point at a loopback, private or link-local address", async () => {
		const client = new Client(guarded.url);
		const owner = await signUp(client, "guarded");
		const orgId = (await client.post("/api/v1/orgs", { name: "Guarded" }, { token: owner.token })).body.id;
		for (const url of [
			"http://127.0.0.1:9/hook",
			"http://localhost/hook",
			"http://10.1.2.3/hook",
			"http://169.254.169.254/latest/meta-data",
			"http://[::1]/hook",
			"http://[::ffff:192.168.0.1]/hook",
		]) {
			const res = await client.post(
				`/api/v1/orgs/${orgId}/notification-channels`,
				{ kind: "webhook", name: "Inside", config: { url } },
				{ token: owner.token },
			);
			expect([url, res.status, res.body.error?.details?.[0]?.type]).toEqual([url, 422, "privateAddress"]);
		}
		const outside = await client.post(
			`/api/v1/orgs/${orgId}/notification-channels`,
			{ kind: "webhook", name: "Outside", config: { url: "https://203.0.113.7/hook" } },
			{ token: owner.token },
		);
		expect(outside.status).toBe(201);
		const moved = await client.patch(
			`/api/v1/orgs/${orgId}/notification-channels/${outside.body.id}`,
			{ config: { url: "http://192.168.1.20/hook" } },
			{ token: owner.token },
		);
		expect([moved.status, moved.body.error?.details?.[0]?.type]).toEqual([422, "privateAddress"]);
	});
});
