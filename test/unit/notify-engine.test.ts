import { randomBytes } from "node:crypto";
import type { DataSource } from "typeorm";
import { NotificationDelivery, NotificationDigest } from "../../entities";
import type { ChannelKind } from "../../entities/notification-channel.entity";
import { ChannelSender, openChannelConfig, sealChannelConfig, testRecipients, type SenderSettings } from "../../lib/notify/channel-sender";
import { attempt, type Outcome } from "../../lib/notify/delivery";
import { mutedEmails, NotificationEngine, notifyJobId, type NotifyJob } from "../../lib/notify/engine";
import type { Message } from "../../lib/notify/messages";
import { SendError } from "../../lib/notify/senders";
import { verifyWebhook } from "../../lib/notify/signature";
import { closedPort, fakeTelegram, httpReceiver, smtpReceiver } from "../support/receivers";

const key = randomBytes(32);
const settings = (over: Partial<SenderSettings> = {}): SenderSettings => ({
	encryptionKey: key,
	notifyTimeout: 2000,
	notifyAllowPrivateUrls: true,
	telegramApiUrl: "http://127.0.0.1:9",
	smtpUrl: "",
	smtpFrom: "Vigil <vigil@localhost>",
	...over,
});
const channel = (kind: ChannelKind, config: object) => ({ kind, configEnc: sealChannelConfig(key, config as never) });
const message: Message = {
	event: "alert.raised",
	subject: "[Vigil] HIGH: person at Shop / Door",
	text: "HIGH: person at Shop / Door",
	payload: { type: "alert.raised", deliveryId: "d-1" },
};

describe("sending to a channel", () => {
	it("keeps a channel's settings sealed and opens them again", () => {
		const sealed = sealChannelConfig(key, { url: "https://example.com/in", secret: "whsec_x" });
		expect(sealed).not.toContain("whsec_x");
		expect(openChannelConfig(key, { configEnc: sealed })).toEqual({ url: "https://example.com/in", secret: "whsec_x" });
	});

	it("a webhook gets the signed payload, and its receiver can verify it", async () => {
		const receiver = await httpReceiver();
		try {
			await new ChannelSender(settings()).send(channel("webhook", { url: `${receiver.url}/in`, secret: "whsec_test" }), "", message);
			expect(receiver.received).toHaveLength(1);
			const [got] = receiver.received;
			expect(got.json).toEqual(message.payload);
			expect(got.headers["x-vigil-delivery"]).toBe("d-1");
			expect(verifyWebhook("whsec_test", got.headers, got.raw)).toEqual({ ok: true });
		} finally {
			await receiver.close();
		}
	});

	it("a webhook on a private address is refused at send time unless the operator allows it", async () => {
		const receiver = await httpReceiver();
		try {
			const send = new ChannelSender(settings({ notifyAllowPrivateUrls: false })).send(
				channel("webhook", { url: `${receiver.url}/in`, secret: "s" }),
				"",
				message,
			);
			await expect(send).rejects.toThrow(new SendError("The webhook URL points to a non-public address (127.0.0.1); NOTIFY_ALLOW_PRIVATE_URLS allows that"));
			expect(receiver.requests).toBe(0);
		} finally {
			await receiver.close();
		}
	});

	it("a receiver that cannot be reached is a SendError, which the job retries", async () => {
		const send = new ChannelSender(settings()).send(channel("webhook", { url: `http://127.0.0.1:${await closedPort()}/in`, secret: "s" }), "", message);
		await expect(send).rejects.toThrow(SendError);
	});

	it("Telegram gets sendMessage on the bot's path with the channel's chat and the message's text", async () => {
		const telegram = await fakeTelegram();
		try {
			await new ChannelSender(settings({ telegramApiUrl: telegram.url })).send(channel("telegram", { botToken: "123:abc", chatId: "-100" }), "", message);
			expect(telegram.received.map((r) => [r.path, r.json.chat_id, r.json.text])).toEqual([["/bot123:abc/sendMessage", "-100", message.text]]);
		} finally {
			await telegram.close();
		}
	});

	it("email goes to the one recipient through SMTP_URL, and fails plainly without it", async () => {
		await expect(new ChannelSender(settings()).send(channel("email", { to: ["a@example.com"], members: false }), "a@example.com", message)).rejects.toThrow(
			new SendError("SMTP_URL is not set on this notifier node"),
		);
		const smtp = await smtpReceiver({ user: "vigil", pass: "secret" });
		const sender = new ChannelSender(settings({ smtpUrl: `smtp://vigil:secret@127.0.0.1:${smtp.port}` }));
		try {
			await sender.send(channel("email", { to: ["a@example.com"], members: false }), "a@example.com", message);
			expect(smtp.mails.map((m) => m.to)).toEqual([["a@example.com"]]);
			expect(smtp.mails[0].raw).toContain(message.subject);
		} finally {
			sender.close();
			await smtp.close();
		}
	});

	it("a test message of an email channel goes to its addresses, and to the caller when it writes to members", () => {
		expect(testRecipients({ to: ["a@example.com"], members: false }, "me@example.com")).toEqual(["a@example.com"]);
		expect(testRecipients({ to: ["a@example.com", "me@example.com"], members: true }, "me@example.com")).toEqual(["a@example.com", "me@example.com"]);
		expect(testRecipients({ to: [], members: true }, "me@example.com")).toEqual(["me@example.com"]);
	});
});

describe("one try of a notification", () => {
	const tryOf = (jobAttempt: number, maxAttempts = 3) => ({ jobAttempt, maxAttempts, kind: "webhook" as const, attempts: 7 });

	it("a message that was sent is recorded sent, with the attempts counted", async () => {
		const recorded: Outcome[] = [];
		await attempt(
			tryOf(1),
			async () => undefined,
			async (o) => recorded.push(o),
		);
		expect(recorded).toEqual([{ status: "sent", attempts: 7, lastError: null, sentAt: expect.any(Date) }]);
	});

	it("a failure before the last attempt stays pending with its reason, and is thrown for a retry", async () => {
		const recorded: Outcome[] = [];
		await expect(
			attempt(
				tryOf(2),
				async () => Promise.reject(new SendError("down")),
				async (o) => recorded.push(o),
			),
		).rejects.toThrow("down");
		expect(recorded).toEqual([{ status: "pending", attempts: 7, lastError: "down" }]);
	});

	it("a failure on the job's last attempt marks it failed (its dead letter holds it)", async () => {
		const recorded: Outcome[] = [];
		await expect(
			attempt(
				tryOf(3),
				async () => Promise.reject(new SendError("down")),
				async (o) => recorded.push(o),
			),
		).rejects.toThrow("down");
		expect(recorded).toEqual([{ status: "failed", attempts: 7, lastError: "down" }]);
	});
});

describe("who is muted for an alert", () => {
	const alert = { storeId: "s1", cameraId: "c1", severity: "high" as const };
	const users = [
		{ id: "u1", email: "a@example.com" },
		{ id: "u2", email: "b@example.com" },
		{ id: "u3", email: "c@example.com" },
	];
	const now = new Date("2024-05-01T12:00:00Z");

	it("people who muted the store or the camera, while their mute lasts", () => {
		const mutes = [
			{ userId: "u1", storeId: "s1", cameraId: null, until: null },
			{ userId: "u2", storeId: "s1", cameraId: "c1", until: new Date("2024-05-01T13:00:00Z") },
			{ userId: "u3", storeId: "s1", cameraId: "c1", until: new Date("2024-05-01T11:00:00Z") },
		];
		expect(mutedEmails(users, mutes, alert, now)).toEqual(new Set(["a@example.com", "b@example.com"]));
	});

	it("a mute of another camera of the same store silences nothing here", () => {
		expect(mutedEmails(users, [{ userId: "u1", storeId: "s1", cameraId: "c2", until: null }], alert, now).size).toBe(0);
	});
});

describe("queueing a notify job", () => {
	it("the job id is the row's id, so a repeated send is dropped by the queue", () => {
		expect(notifyJobId({ kind: "delivery", deliveryId: "d-1", orgId: "o" })).toBe("d-1");
		expect(notifyJobId({ kind: "digest", digestId: "g-1", orgId: "o" })).toBe("g-1");
	});

	it("the row is marked queued only once the queue took the job", async () => {
		const steps: string[] = [];
		const db = {
			getRepository: (entity: unknown) => ({
				update: async (where: { id: string }, values: { queuedAt: Date }) => {
					steps.push(
						`mark ${entity === NotificationDelivery ? "delivery" : entity === NotificationDigest ? "digest" : "?"} ${where.id} ${values.queuedAt instanceof Date}`,
					);
				},
			}),
		} as unknown as DataSource;
		const queueJob = async (job: NotifyJob, options: { id: string }) => void steps.push(`queue ${job.kind} ${options.id}`);
		const engine = new NotificationEngine({
			db,
			settings: { notifyMaxAttempts: 3, notifyRateLimit: 5, notifyRateWindow: 300 },
			queueJob,
			sender: new ChannelSender(settings()),
		});
		await engine.enqueue({ kind: "delivery", deliveryId: "d-1", orgId: "o" });
		await engine.enqueue({ kind: "digest", digestId: "g-1", orgId: "o" });
		expect(steps).toEqual(["queue delivery d-1", "mark delivery d-1 true", "queue digest g-1", "mark digest g-1 true"]);
	});

	it("a job the queue refused leaves its row unmarked, for the sweep", async () => {
		const update = jest.fn();
		const db = { getRepository: () => ({ update }) } as unknown as DataSource;
		const engine = new NotificationEngine({
			db,
			settings: { notifyMaxAttempts: 3, notifyRateLimit: 5, notifyRateWindow: 300 },
			queueJob: async () => Promise.reject(new Error("queue down")),
			sender: new ChannelSender(settings()),
		});
		await expect(engine.enqueue({ kind: "delivery", deliveryId: "d-1", orgId: "o" })).rejects.toThrow("queue down");
		expect(update).not.toHaveBeenCalled();
	});
});
