import { isNonPublicAddress, nonPublicTarget } from "../../lib/notify/address-guard";
import { buildConfig, maskConfig, type WebhookConfig } from "../../lib/notify/channel-config";
import { alertMessage, digestMessage, formatTime, summarize, type Place } from "../../lib/notify/messages";
import { decide, type RateWindow } from "../../lib/notify/rate-limit";
import { channelWants, emailRecipients, muteApplies } from "../../lib/notify/routing";
import { signWebhook, verifyWebhook, webhookHeaders } from "../../lib/notify/signature";

describe("rate limit per channel and camera", () => {
	const limit = { limit: 3, windowMs: 60_000 };

	it("sends the first N of a burst, then holds the rest for one digest due when the window ends", () => {
		let window: RateWindow | null = null;
		const actions: string[] = [];
		const dueAt = new Set<number>();
		for (let i = 0; i < 7; i++) {
			const d = decide(window, 1_000 + i * 100, limit);
			actions.push(d.action);
			if (d.action === "hold") dueAt.add(d.digestDueAt);
			window = d.window;
		}
		expect(actions).toEqual(["send", "send", "send", "hold", "hold", "hold", "hold"]);
		expect([...dueAt]).toEqual([61_000]);
	});

	it("starts a new window with the first alert after the previous one ended", () => {
		const d = decide({ start: 0, sent: 3 }, 60_000, limit);
		expect(d).toEqual({ action: "send", window: { start: 60_000, sent: 1 } });
	});

	it("keeps counting in the window for a node whose clock is slightly behind", () => {
		expect(decide({ start: 10_000, sent: 3 }, 9_500, limit).action).toBe("hold");
	});
});

describe("webhook signatures", () => {
	const secret = "whsec_test";
	const body = JSON.stringify({ type: "alert.raised", alert: { id: "a" } });

	it("a receiver verifies the headers Vigil sends over the exact body", () => {
		const now = 1_700_000_000_000;
		const headers = webhookHeaders(secret, body, "delivery-1", "alert.raised", now);
		expect(headers["x-vigil-signature"]).toBe(signWebhook(secret, 1_700_000_000, body));
		expect(headers["x-vigil-signature"]).toMatch(/^v1=[0-9a-f]{64}$/);
		expect(verifyWebhook(secret, headers, body, 300, now + 10_000)).toEqual({ ok: true });
	});

	it("refuses a changed body, another secret, an old timestamp and missing headers", () => {
		const now = 1_700_000_000_000;
		const headers = webhookHeaders(secret, body, "d", "alert.raised", now);
		expect(verifyWebhook(secret, headers, body.replace("a", "b"), 300, now)).toEqual({ ok: false, reason: "mismatch" });
		expect(verifyWebhook("whsec_other", headers, body, 300, now)).toEqual({ ok: false, reason: "mismatch" });
		expect(verifyWebhook(secret, headers, body, 300, now + 301_000)).toEqual({ ok: false, reason: "stale" });
		expect(verifyWebhook(secret, {}, body, 300, now)).toEqual({ ok: false, reason: "missing" });
	});
});

describe("routing", () => {
	const alert = { storeId: "s1", cameraId: "c1", severity: "high" as const };

	it("a channel takes alerts at or above its severity, from its stores only", () => {
		expect(channelWants({ enabled: true, minSeverity: "high", storeIds: null }, alert)).toBe(true);
		expect(channelWants({ enabled: true, minSeverity: "critical", storeIds: null }, alert)).toBe(false);
		expect(channelWants({ enabled: true, minSeverity: "low", storeIds: ["s2"] }, alert)).toBe(false);
		expect(channelWants({ enabled: true, minSeverity: "low", storeIds: ["s2", "s1"] }, alert)).toBe(true);
		expect(channelWants({ enabled: false, minSeverity: "low", storeIds: null }, alert)).toBe(false);
	});

	it("a mute silences its store or its camera until it ends", () => {
		const now = new Date("2025-01-01T12:00:00Z");
		expect(muteApplies({ storeId: "s1", cameraId: null, until: null }, alert, now)).toBe(true);
		expect(muteApplies({ storeId: "s1", cameraId: "c2", until: null }, alert, now)).toBe(false);
		expect(muteApplies({ storeId: "s1", cameraId: "c1", until: new Date("2025-01-01T13:00:00Z") }, alert, now)).toBe(true);
		expect(muteApplies({ storeId: "s1", cameraId: null, until: new Date("2025-01-01T11:59:59Z") }, alert, now)).toBe(false);
		expect(muteApplies({ storeId: "s2", cameraId: null, until: null }, alert, now)).toBe(false);
	});

	it("email goes to the listed addresses and the members who can see the store, minus muted people", () => {
		const members = [
			{ email: "owner@x.test", storeIds: null },
			{ email: "staff-a@x.test", storeIds: ["s1"] },
			{ email: "staff-b@x.test", storeIds: ["s2"] },
			{ email: "muted@x.test", storeIds: null },
		];
		expect(emailRecipients(["Desk@X.test", "owner@x.test"], members, new Set(["muted@x.test"]), "s1")).toEqual([
			"desk@x.test",
			"owner@x.test",
			"staff-a@x.test",
		]);
		expect(emailRecipients(["desk@x.test"], null, new Set(["desk@x.test"]), "s1")).toEqual([]);
	});
});

describe("channel settings", () => {
	it("a new webhook gets a signing secret that a change of URL keeps and a rotation replaces", () => {
		const created = buildConfig("webhook", { url: "https://hooks.example.com/in" });
		const secret = (created.config as WebhookConfig).secret;
		expect(secret).toMatch(/^whsec_/);
		const moved = buildConfig("webhook", { url: "https://other.example.com/in" }, created.config);
		expect(moved.config).toEqual({ url: "https://other.example.com/in", secret });
		expect((buildConfig("webhook", {}, created.config, true).config as WebhookConfig).secret).not.toBe(secret);
	});

	it("reports each missing or malformed field of the kind under config.*", () => {
		expect(buildConfig("webhook", { url: "ftp://x" }).problems.map((p) => p.field)).toEqual(["config.url"]);
		expect(buildConfig("telegram", { botToken: "nope" }).problems.map((p) => p.field)).toEqual(["config.botToken", "config.chatId"]);
		expect(buildConfig("email", {}).problems.map((p) => p.field)).toEqual(["config.to"]);
		expect(buildConfig("email", { members: true }).config).toEqual({ to: [], members: true });
		expect(buildConfig("telegram", { botToken: "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ", chatId: -1001234 }).config).toEqual({
			botToken: "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ",
			chatId: "-1001234",
		});
	});

	it("shows no secret: bot token and URL passwords are masked, the signing secret is left out", () => {
		expect(maskConfig("telegram", { botToken: "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ", chatId: "42" })).toEqual({ botToken: "123456:****", chatId: "42" });
		const shown = maskConfig("webhook", { url: "https://user:hunter2@hooks.example.com/in?token=abc", secret: "whsec_x" });
		expect(JSON.stringify(shown)).not.toMatch(/hunter2|abc|whsec_x/);
	});
});

describe("messages", () => {
	const place: Place = { orgId: "o", storeId: "s", storeName: "Corner Shop", cameraId: "c", cameraName: "Door", timezone: "Europe/Paris" };

	it("an alert names the severity, the class, the place and the time in the store's zone", () => {
		const m = alertMessage(
			{
				id: "a1",
				seq: 7,
				className: "person",
				score: 0.874,
				severity: "high",
				occurredAt: new Date("2025-06-01T20:15:00Z"),
				status: "open",
				hasSnapshot: true,
			},
			place,
			"d1",
		);
		expect(m.subject).toBe("[Vigil] HIGH: person at Corner Shop / Door");
		expect(m.text).toContain("2025-06-01 22:15:00 Europe/Paris");
		expect(m.text).toContain("87%");
		expect(m.payload).toMatchObject({
			type: "alert.raised",
			deliveryId: "d1",
			alert: { id: "a1", storeName: "Corner Shop", occurredAt: "2025-06-01T20:15:00.000Z" },
		});
	});

	it("a digest counts the held alerts by class and severity, most severe first", () => {
		const at = (s: number) => new Date(Date.UTC(2025, 0, 1, 10, 0, s));
		const alerts = [
			{ id: "1", seq: 1, className: "car", severity: "low" as const, occurredAt: at(5) },
			{ id: "2", seq: 2, className: "person", severity: "high" as const, occurredAt: at(1) },
			{ id: "3", seq: 3, className: "car", severity: "low" as const, occurredAt: at(9) },
		];
		expect(summarize(alerts)).toEqual([
			{ className: "person", severity: "high", count: 1 },
			{ className: "car", severity: "low", count: 2 },
		]);
		const m = digestMessage({ id: "g", windowStart: at(0), windowEnd: at(60), alerts, limit: 5, windowSec: 60 }, { ...place, timezone: "UTC" });
		expect(m.subject).toBe("[Vigil] 3 more alerts at Corner Shop / Door (up to high)");
		expect(m.text).toContain("Between 2025-01-01 10:00:01 UTC and 2025-01-01 10:00:09 UTC");
		expect(m.payload).toMatchObject({ type: "alert.digest", count: 3 });
		expect((m.payload.alerts as { id: string }[]).map((a) => a.id)).toEqual(["2", "1", "3"]);
	});

	it("an unknown time zone falls back to UTC rather than failing the delivery", () => {
		expect(formatTime(new Date("2025-01-01T00:00:00Z"), "Mars/Olympus")).toBe("2025-01-01 00:00:00 UTC");
	});
});

describe("webhook address guard", () => {
	it("tells public addresses from loopback, private, link-local, CGNAT and mapped ones", () => {
		for (const a of [
			"127.0.0.1",
			"10.0.0.5",
			"172.20.1.1",
			"192.168.1.1",
			"169.254.169.254",
			"100.64.0.1",
			"0.0.0.0",
			"::1",
			"::",
			"fd00::1",
			"fe80::1",
			"::ffff:10.0.0.1",
		])
			expect([a, isNonPublicAddress(a)]).toEqual([a, true]);
		for (const a of ["203.0.113.7", "8.8.8.8", "172.32.0.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"]) expect([a, isNonPublicAddress(a)]).toEqual([a, false]);
	});

	it("judges a host name by every address it resolves to; an unresolvable name is left to the send", async () => {
		const resolver = (addresses: string[]) => (async () => addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }))) as never;
		expect(await nonPublicTarget("https://hooks.example.com/x", resolver(["203.0.113.7"]))).toBeNull();
		expect(await nonPublicTarget("https://hooks.example.com/x", resolver(["203.0.113.7", "10.0.0.9"]))).toBe("10.0.0.9");
		expect(
			await nonPublicTarget("https://nowhere.invalid/x", (async () => {
				throw new Error("ENOTFOUND");
			}) as never),
		).toBeNull();
		expect(await nonPublicTarget("http://localhost:8080/x")).toBe("localhost");
		expect(await nonPublicTarget("http://[fe80::1]/x")).toBe("fe80::1");
	});
});
