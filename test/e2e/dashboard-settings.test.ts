/**
 * The settings an owner keeps in the dashboard, in a real browser: a service token made in the page works for
 * an edge box (its secret shown once) and stops when revoked; an alert rule made and changed in the page is
 * what the API holds, with the API's 422 next to its field; a webhook channel to a receiver on this machine
 * gets the page's test message, signed, and the page says whether it arrived. Screenshots of the three screens
 * go to test-artifacts/dashboard/.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { verifyWebhook } from "../../lib/notify/signature";
import { type Cluster, startCluster } from "../support/cluster";
import { buildDashboardIfStale, chromiumRunnable, launchChromium, screenshot, signIn, watchPage } from "../support/dashboard";
import { Client, signUp } from "../support/http";
import { httpReceiver, type HttpReceiver } from "../support/receivers";
import { describeWhen } from "../support/require";

describeWhen(chromiumRunnable())("dashboard settings in a real browser", () => {
	let cluster: Cluster;
	let browser: Browser;
	let context: BrowserContext;
	let page: Page;
	let api: Client;
	let webhook: HttpReceiver;
	let owner: { email: string; token: string };
	let storeBase: string;
	let orgId: string;
	let zoneId: string;
	const consoleErrors: string[] = [];

	beforeAll(async () => {
		buildDashboardIfStale();
		webhook = await httpReceiver();
		cluster = await startCluster({
			SERVICES: "api,auth,tenancy,camera,clip,alert,notifier,ingest",
			// The webhook receiver runs on this machine.
			NOTIFY_ALLOW_PRIVATE_URLS: "true",
		});
		api = new Client(cluster.url);
		owner = await signUp(api, "settings-owner");
		const auth = { token: owner.token };
		orgId = (await api.post("/api/v1/orgs", { name: "Corner Shop" }, auth)).body.id;
		const store = (await api.post(`/api/v1/orgs/${orgId}/stores`, { name: "Main Street", timezone: "Europe/Paris" }, auth)).body;
		storeBase = `/api/v1/orgs/${orgId}/stores/${store.id}`;
		const camera = (await api.post(`${storeBase}/cameras`, { name: "Entrance", kind: "upload" }, auth)).body;
		const zone = await api.post(
			`${storeBase}/cameras/${camera.id}/zones`,
			{
				name: "Till",
				points: [
					[0.1, 0.1],
					[0.5, 0.1],
					[0.5, 0.6],
					[0.1, 0.6],
				],
			},
			auth,
		);
		expect(zone.status).toBe(201);
		zoneId = zone.body.id;
		browser = await launchChromium();
		context = await browser.newContext({ viewport: { width: 1280, height: 900 }, permissions: ["clipboard-read", "clipboard-write"] });
		page = watchPage(await context.newPage(), consoleErrors);
		await signIn(page, cluster.url, owner.email, undefined, "#/settings/tokens");
	}, 120_000);

	afterAll(async () => {
		await browser?.close();
		await cluster?.stop();
		await webhook?.close();
	}, 60_000);

	const heartbeat = (secret: string) => api.post("/api/v1/ingest/heartbeat", { uptimeSec: 5 }, { token: secret });

	it("a service token made in the page works for an edge box, is shown once, and stops working when revoked", async () => {
		await page.getByRole("heading", { name: "Service tokens of Main Street" }).waitFor();
		await page.getByText("No service tokens yet.").waitFor();

		await page.getByRole("button", { name: "Create token" }).click();
		await page.getByLabel("What will use it").fill("Back door box");
		await page.getByRole("button", { name: "Create token" }).click();
		await page.getByRole("region", { name: "Token for Back door box" }).getByText("you will not see it again").waitFor();
		const secret = await page.getByLabel("The token").inputValue();
		expect(secret).toMatch(/^vst_/);
		await page.getByRole("button", { name: "Copy", exact: true }).click();
		await page.getByText("Copied to the clipboard.").waitFor();
		expect(await page.evaluate(() => (globalThis as any).navigator.clipboard.readText())).toBe(secret);
		await screenshot(page, "settings-01-token-created");

		// What the page showed is what an edge box sends.
		expect((await heartbeat(secret)).status).toBe(200);

		// Leaving the screen forgets the secret; the list says when the token was last used.
		await page.getByRole("link", { name: "Alert rules" }).click();
		await page.getByRole("heading", { name: "Alert rules of Main Street" }).waitFor();
		await page.getByRole("link", { name: "Service tokens" }).click();
		const card = page.locator("li.token", { hasText: "Back door box" });
		await card.getByText("last used").waitFor();
		expect(await page.getByLabel("The token").count()).toBe(0);
		expect(await page.content()).not.toContain(secret);

		// Revoking asks first, in the page; then the token is refused at once.
		await card.getByRole("button", { name: "Revoke Back door box" }).click();
		await card.getByRole("group", { name: "Revoke Back door box?" }).waitFor();
		expect((await heartbeat(secret)).status).toBe(200);
		await card.getByRole("button", { name: "Revoke token" }).click();
		await card.getByText("Revoked", { exact: true }).waitFor();
		expect((await heartbeat(secret)).status).toBe(401);
		await screenshot(page, "settings-02-tokens");
	}, 60_000);

	it("an alert rule made in the page is listed, changed, and what the API holds; a 422 shows next to its field", async () => {
		await page.getByRole("link", { name: "Alert rules" }).click();
		await page.getByText("No alert rules yet").waitFor();
		await page.getByRole("button", { name: "Add rule" }).click();
		const form = page.getByRole("form", { name: "Add an alert rule" });
		await form.getByLabel("Rule name").fill("People after hours");
		await form.getByRole("checkbox", { name: "person" }).check();
		await form.getByRole("checkbox", { name: "Till (Entrance)" }).check();
		await form.getByLabel("Severity").selectOption("medium");
		await form.getByRole("checkbox", { name: "Only on some days and hours" }).check();
		await form.getByLabel("From").fill("21:30");
		await form.getByLabel("Until").fill("07:00");

		// Below where tracks start: the API refuses it, and says so under the field.
		await form.getByLabel("Least confidence").fill("0.3");
		await form.getByRole("button", { name: "Add rule" }).click();
		await form.locator("#f-minScore-error").waitFor();
		expect(await form.locator("#f-minScore-error").textContent()).toMatch(/0\.5/);
		expect(await form.getByLabel("Least confidence").getAttribute("aria-invalid")).toBe("true");
		await screenshot(page, "settings-03-rule-field-error");

		await form.getByLabel("Least confidence").fill("0.6");
		await form.getByRole("button", { name: "Add rule" }).click();
		const card = page.locator("li.rule", { hasText: "People after hours" });
		await card.waitFor();
		await card.getByText("Till", { exact: true }).waitFor();
		await card.getByText("21:30–07:00, every day").waitFor();

		await card.getByRole("button", { name: "Edit People after hours" }).click();
		const edit = page.getByRole("form", { name: "Change “People after hours”" });
		await edit.getByLabel("Severity").selectOption("critical");
		await edit.getByRole("button", { name: "Save changes" }).click();
		await card.locator(".badge.severity.critical").waitFor();

		const [rule] = (await api.get(`${storeBase}/alert-rules`, { token: owner.token })).body.items;
		expect(rule).toMatchObject({
			name: "People after hours",
			classes: ["person"],
			zoneIds: [zoneId],
			severity: "critical",
			schedule: { start: "21:30", end: "07:00" },
			cameraId: null,
			enabled: true,
		});
		expect(rule.minScore).toBeCloseTo(0.6, 5);

		await card.getByRole("button", { name: "Turn off People after hours" }).click();
		await card.getByText("Off", { exact: true }).waitFor();
		expect((await api.get(`${storeBase}/alert-rules`, { token: owner.token })).body.items[0].enabled).toBe(false);
		await screenshot(page, "settings-04-rules");
	}, 60_000);

	it("a webhook channel made in the page gets the test message, signed, and the page says whether it arrived", async () => {
		await page.getByRole("link", { name: "Notifications" }).click();
		await page.getByText("No channels yet").waitFor();
		await page.getByRole("button", { name: "Add channel" }).click();
		const form = page.getByRole("form", { name: "Add a notification channel" });
		await form.getByLabel("Channel name").fill("Back office");
		await form.getByLabel("Kind").selectOption("webhook");
		// Only the chosen kind's settings are asked for.
		expect(await form.getByLabel("Bot token").count()).toBe(0);
		await form.getByLabel("URL to send alerts to").fill(`${webhook.url}/vigil`);
		await form.getByLabel("Send alerts from this severity up").selectOption("high");
		await form.getByRole("button", { name: "Add channel" }).click();

		// The signing secret is shown once; the list only says it is set.
		const secret = await page.getByLabel("Signing secret", { exact: true }).inputValue();
		expect(secret.length).toBeGreaterThan(20);
		const card = page.locator("li.channel", { hasText: "Back office" });
		await card.getByText("High and above").waitFor();
		expect(await card.textContent()).not.toContain(secret);

		await card.getByRole("button", { name: "Send a test to Back office" }).click();
		await card.getByText("Test delivered.").waitFor();
		expect(webhook.received).toHaveLength(1);
		const [delivery] = webhook.received;
		expect(delivery.path).toBe("/vigil");
		expect(delivery.json).toMatchObject({ type: "test", orgId });
		expect(verifyWebhook(secret, delivery.headers, delivery.raw)).toEqual({ ok: true });
		await screenshot(page, "settings-05-channels");

		// A receiver that answers with an error: the page says the test did not arrive.
		webhook.failNext(1);
		await card.getByRole("button", { name: "Send a test to Back office" }).click();
		await card.getByText("Test not delivered").waitFor();

		// The same screen on a phone.
		const phone = watchPage(
			await (await browser.newContext({ viewport: { width: 390, height: 844 }, storageState: await context.storageState() })).newPage(),
			consoleErrors,
		);
		await phone.goto(`${cluster.url}/#/settings/channels`);
		await phone.locator("li.channel").first().waitFor();
		await screenshot(phone, "settings-06-channels-phone");
		await phone.getByRole("button", { name: "Add channel" }).click();
		await phone.getByLabel("Kind").selectOption("telegram");
		await screenshot(phone, "settings-07-channel-form-phone");
		await phone.context().close();

		// Deleting asks first; then the channel is gone from the page and from the API.
		await card.getByRole("button", { name: "Delete Back office" }).click();
		await card.getByRole("button", { name: "Delete channel" }).click();
		await page.getByText("No channels yet").waitFor();
		expect((await api.get(`/api/v1/orgs/${orgId}/notification-channels`, { token: owner.token })).body.items).toEqual([]);

		// The only console errors allowed are the refusals the scenario asked for.
		expect(consoleErrors.filter((e) => !/status of (401|422)/.test(e))).toEqual([]);
	}, 60_000);

	it("the store's details are changed in the page, a bad time zone is refused next to its field, and a store is deleted after asking", async () => {
		const other = (await api.post(`/api/v1/orgs/${orgId}/stores`, { name: "Old Depot", timezone: "UTC" }, { token: owner.token })).body;
		await page.goto(`${cluster.url}/#/settings/store`);
		await page.reload();
		await page.getByLabel("Store", { exact: true }).selectOption({ label: "Old Depot" });
		await page.getByRole("heading", { name: "Store details" }).waitFor();
		await page.getByLabel("Store name").fill("Depot");
		await page.getByLabel("Time zone").fill("Mars/Olympus");
		await page.getByRole("button", { name: "Save store" }).click();
		await page.locator("#f-timezone-error").waitFor();
		await page.getByLabel("Time zone").fill("Europe/Lisbon");
		await page.getByRole("button", { name: "Save store" }).click();
		await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
		// The store picker follows at once.
		expect(await page.getByLabel("Store", { exact: true }).locator("option").allTextContents()).toEqual(expect.arrayContaining(["Depot", "Main Street"]));
		expect((await api.get(`/api/v1/orgs/${orgId}/stores/${other.id}`, { token: owner.token })).body).toMatchObject({
			name: "Depot",
			timezone: "Europe/Lisbon",
		});
		await screenshot(page, "settings-08-store");

		await page.getByRole("button", { name: "Delete store Depot" }).click();
		await page.getByRole("button", { name: "Delete for good" }).click();
		await page.getByRole("heading", { name: "Cameras of Main Street" }).waitFor();
		expect(await page.getByLabel("Store", { exact: true }).locator("option").allTextContents()).toEqual(["Main Street"]);
		expect((await api.get(`/api/v1/orgs/${orgId}/stores/${other.id}`, { token: owner.token })).status).toBe(404);
		expect(consoleErrors.filter((e) => !/status of (401|422)/.test(e))).toEqual([]);
	}, 60_000);
});
