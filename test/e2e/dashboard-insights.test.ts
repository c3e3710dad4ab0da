/**
 * What the dashboard shows of a store's alerts and of the platform, in a real browser: an owner reads the alerts
 * per hour and per day of each camera, the threshold a camera learned per class (and pins and unpins one), and the
 * camera's daily precision; after a reload an alert the owner judged still shows the verdict; a super-admin sees
 * the queues, nodes and dead letters. Alerts come from an edge box's events (no video). Screenshots go to
 * test-artifacts/dashboard/.
 */
import type { ServiceSchema } from "moleculer";
import type { Browser, Page } from "playwright-core";
import { NOTIFY_QUEUE } from "../../lib/notify/engine";
import { JobQueueMixin, type JobQueueService } from "../../mixins/job-queue.mixin";
import { type Cluster, startCluster } from "../support/cluster";
import { buildDashboardIfStale, chromiumRunnable, launchChromium, screenshot, signIn, watchPage } from "../support/dashboard";
import { Client, signUp } from "../support/http";
import { eventually } from "../support/media";
import { describeWhen } from "../support/require";

/** People walking past the entrance, each its own track of the box: one alert each. */
const PEOPLE = 5;

/** Sends notification jobs that cannot work (no such delivery), so that they end up as dead letters. */
const brokenNotifications = {
	name: "broken-notifications",
	mixins: [JobQueueMixin({ [NOTIFY_QUEUE]: {} })],
	actions: {
		async send(this: JobQueueService, ctx: { params: { id: string } }) {
			await this.queues[NOTIFY_QUEUE].send({ kind: "alert", deliveryId: `no-such-delivery-${ctx.params.id}` }, { id: ctx.params.id });
		},
	},
} as unknown as ServiceSchema;

describeWhen(chromiumRunnable())("insights and operations in a real browser", () => {
	let cluster: Cluster;
	let browser: Browser;
	let api: Client;
	let owner: { email: string; token: string };
	let storeBase: string;
	let truePositive: string, falsePositive: string, unjudged: string;
	const root = { email: `root.${Date.now().toString(36)}@example.com`, password: "super admin passphrase" };
	const consoleErrors: string[] = [];

	const watch = (page: Page) => watchPage(page, consoleErrors);
	const newPage = async (width = 1280) => watch(await (await browser.newContext({ viewport: { width, height: 900 } })).newPage());
	/** The number in a chart's hidden table: the row headed `row`, the last column (its total). */
	const total = (page: Page, table: RegExp, row: string) =>
		page
			.getByRole("table", { name: table })
			.getByRole("row")
			.filter({ has: page.getByRole("rowheader", { name: row, exact: true }) })
			.getByRole("cell")
			.last()
			.textContent();

	beforeAll(async () => {
		buildDashboardIfStale();
		// One try per notification: a broken one is a dead letter at once.
		cluster = await startCluster({ NOTIFY_MAX_ATTEMPTS: "1" });
		api = new Client(cluster.url);
		owner = await signUp(api, "insights-owner");
		const auth = { token: owner.token };
		const orgId = (await api.post("/api/v1/orgs", { name: "Corner Shop" }, auth)).body.id;
		const store = (await api.post(`/api/v1/orgs/${orgId}/stores`, { name: "Main Street", timezone: "Europe/Paris" }, auth)).body;
		storeBase = `/api/v1/orgs/${orgId}/stores/${store.id}`;
		const entrance = (await api.post(`${storeBase}/cameras`, { name: "Entrance", kind: "edge" }, auth)).body.id;
		await api.post(`${storeBase}/cameras`, { name: "Back door", kind: "edge" }, auth);
		expect((await api.post(`${storeBase}/alert-rules`, { name: "Anyone", cameraId: entrance, classes: ["person"], cooldownSec: 0 }, auth)).status).toBe(201);
		const box = (await api.post(`${storeBase}/service-tokens`, { name: "entrance box" }, auth)).body.token;

		// /readyz does not wait for the ingest routes: wait until they answer.
		await eventually(async () => ((await api.post("/api/v1/ingest/heartbeat", {}, { token: box })).status === 200 ? true : undefined), 30_000);
		const ago = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();
		const events = Array.from({ length: PEOPLE }, (_, p) =>
			[0, 1].map((k) => ({
				id: `walk-${p}-${k}`,
				cameraId: entrance,
				time: ago(60 - 10 * p - k),
				className: "person",
				score: 0.6 + 0.05 * p,
				box: [0.1 + 0.15 * p, 0.3, 0.2 + 0.15 * p, 0.7],
				trackId: `person-${p}`,
			})),
		).flat();
		expect((await api.post("/api/v1/ingest/events", { events }, { token: box })).body.accepted).toBe(events.length);
		const alerts = await eventually(async () => {
			const items = (await api.get(`${storeBase}/alerts?cameraId=${entrance}`, auth)).body.items as { id: string; score: number }[];
			return items.length === PEOPLE ? items.sort((a, b) => a.score - b.score) : undefined;
		}, 30_000);

		// Three right, one wrong, one not judged: 75 % precision.
		const judge = (alertId: string, verdict: string) => api.post(`${storeBase}/alerts/${alertId}/feedback`, { verdict }, auth);
		falsePositive = alerts[0].id;
		truePositive = alerts[4].id;
		unjudged = alerts[1].id;
		for (const [alert, verdict] of [
			[alerts[0].id, "false_positive"],
			[alerts[2].id, "true_positive"],
			[alerts[3].id, "true_positive"],
			[alerts[4].id, "true_positive"],
		])
			expect((await judge(alert, verdict)).status).toBe(200);

		await cluster.core.call("auth.createUser", { email: root.email, password: root.password, superAdmin: true });
		browser = await launchChromium();
	}, 180_000);

	afterAll(async () => {
		await browser?.close();
		await cluster?.stop();
	}, 60_000);

	it("an owner sees the alerts per hour and per day, the learned thresholds and the daily precision; pins and unpins a threshold", async () => {
		const page = await newPage();
		await signIn(page, cluster.url, owner.email, undefined, "#/insights");
		await page.getByRole("heading", { name: "Insights for Main Street" }).waitFor();

		// The store-wide chart: its label sums it up, its hidden table holds the numbers.
		await page.getByRole("img", { name: /^Alerts per hour, last 24 hours: 5 alerts in all; Entrance 5/ }).waitFor();
		expect(await total(page, /Alerts per hour/, "Entrance")).toBe(String(PEOPLE));
		expect(await total(page, /Alerts per hour/, "All cameras")).toBe(String(PEOPLE));
		await page.getByRole("button", { name: "Last 7 days" }).click();
		await page.getByRole("img", { name: /^Alerts per day, last 7 days: 5 alerts in all/ }).waitFor();
		expect(await total(page, /Alerts per day/, "Entrance")).toBe(String(PEOPLE));
		expect(await page.getByRole("button", { name: "Last 7 days" }).getAttribute("aria-pressed")).toBe("true");
		await page.getByRole("button", { name: "Last 24 hours" }).click();
		await page.getByRole("img", { name: /^Alerts per hour/ }).waitFor();

		// The camera's thresholds: person, four verdicts, too few to learn from yet.
		await page.getByLabel("Camera", { exact: true }).selectOption({ label: "Entrance" });
		const thresholds = page.getByRole("region", { name: "Learned thresholds of Entrance" });
		const person = thresholds.getByRole("row").filter({ has: page.getByRole("rowheader", { name: "person" }) });
		await person.waitFor();
		expect(await person.textContent()).toMatch(/4 \(3 true, 1 false\)/);
		expect(await person.textContent()).toMatch(/Learning: 4 of \d+ verdicts/);

		// Daily precision: five alerts today, four judged, three right.
		await page.getByRole("img", { name: /^Alerts and precision per day, last 30 days on Entrance: 5 alerts, 4 judged, 75 % of them right overall/ }).waitFor();
		await screenshot(page, "insights-01-owner");

		// An owner pins the threshold; the API's 422 shows next to its field; unpinning hands back to the learner.
		await page.getByRole("button", { name: "Pin the person threshold" }).click();
		await page.getByLabel("Class").fill("x".repeat(51));
		await page.getByLabel("Minimum score (0 to 1)").fill("0.72");
		await page.getByRole("button", { name: "Pin threshold" }).click();
		await page.locator(".field-error").first().waitFor();
		await screenshot(page, "insights-02-pin-field-error");
		await page.getByLabel("Class").fill("person");
		await page.getByRole("button", { name: "Pin threshold" }).click();
		await person.getByText("Pinned").waitFor();
		expect(await person.getByRole("cell").first().textContent()).toBe("0.72");
		const listed = (await api.get(`${storeBase}/cameras/${await cameraId("Entrance")}/thresholds`, { token: owner.token })).body.items;
		expect(listed).toEqual([expect.objectContaining({ className: "person", pinned: expect.closeTo(0.72, 5) })]);
		await page.getByRole("button", { name: "Unpin the person threshold" }).click();
		await person.getByText(/^Learning/).waitFor();

		// The other camera has had no alerts: its empty states say what to do.
		await page.getByLabel("Camera", { exact: true }).selectOption({ label: "Back door" });
		await page.getByText("Mark alerts true or false on the Alerts screen and Vigil learns").first().waitFor();
		await page.getByText("No alerts from Back door in the last 30 days.").waitFor();

		// On a phone the charts and the table fit the width.
		const phone = watch(
			await (await browser.newContext({ viewport: { width: 390, height: 844 }, storageState: await page.context().storageState() })).newPage(),
		);
		await phone.goto(`${cluster.url}/#/insights`);
		await phone.getByLabel("Camera", { exact: true }).selectOption({ label: "Entrance" });
		await phone.getByRole("img", { name: /^Alerts and precision per day/ }).waitFor();
		expect(
			await phone.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth),
		).toBeLessThanOrEqual(390);
		await screenshot(phone, "insights-03-phone");
		await phone.context().close();
		await page.context().close();
		// The only refused requests: the session looked for before signing in (401), and the pin made wrong on purpose (422).
		expect(consoleErrors.filter((e) => !/status of (401|422)/.test(e))).toEqual([]);
	}, 90_000);

	it("after a reload, an alert the owner judged shows the verdict given", async () => {
		const page = await newPage();
		await signIn(page, cluster.url, owner.email, undefined, "#/alerts");
		await page.locator(`li.alert[data-alert-id="${truePositive}"]`).waitFor();
		await page.reload();
		const right = page.locator(`li.alert[data-alert-id="${truePositive}"]`);
		await right.getByText("Marked true positive").waitFor();
		expect(await right.getByRole("button", { name: "True positive" }).getAttribute("aria-pressed")).toBe("true");
		expect(await right.getByRole("button", { name: "False positive" }).getAttribute("aria-pressed")).toBe("false");
		const wrong = page.locator(`li.alert[data-alert-id="${falsePositive}"]`);
		expect(await wrong.getByRole("button", { name: "False positive" }).getAttribute("aria-pressed")).toBe("true");
		await wrong.getByText("Marked false positive").waitFor();

		// A wrong class takes the class the object really was.
		const other = page.locator(`li.alert[data-alert-id="${unjudged}"]`);
		await other.getByRole("button", { name: "Wrong class" }).click();
		await other.getByLabel("It was a").selectOption("car");
		await other.getByRole("button", { name: "Save" }).click();
		await other.getByText("Marked wrong class").waitFor();
		expect(await other.getByRole("button", { name: "Wrong class" }).getAttribute("aria-pressed")).toBe("true");
		const verdicts = (await api.get(`${storeBase}/alerts/${unjudged}/feedback`, { token: owner.token })).body;
		expect(verdicts.resolved).toEqual({ verdict: "wrong_class", correctClass: "car" });
		await page.context().close();
	}, 60_000);

	it("a super-admin sees the queues and the nodes with their detector, and replays or discards dead letters after confirming", async () => {
		cluster.core.createService(brokenNotifications);
		await cluster.core.waitForServices("broken-notifications");
		for (const id of ["broken-1", "broken-2"]) await cluster.core.call("broken-notifications.send", { id });
		const rootToken = (await api.post("/api/v1/auth/login", root)).body.accessToken;
		type Letter = { queue: string; letterId: string; jobId: string };
		const lettersNow = async () => (await api.get("/api/v1/admin/dead-letters", { token: rootToken })).body.items as Letter[];
		const [discarded, replayed] = await eventually(async () => {
			const items = await lettersNow();
			const ours = ["broken-1", "broken-2"].map((id) => items.find((l) => l.jobId === id));
			return ours.every(Boolean) ? (ours as Letter[]) : undefined;
		}, 30_000);

		const page = await newPage();
		await signIn(page, cluster.url, root.email, root.password);
		await page.getByRole("link", { name: "Operations" }).click();
		await page.getByRole("heading", { name: "Operations" }).waitFor();

		const queues = page.getByRole("region", { name: "Queues" });
		for (const queue of ["detector", "evaluate", "notify"]) await queues.getByRole("rowheader", { name: queue, exact: true }).waitFor();
		expect(
			await queues
				.getByRole("row")
				.filter({ has: page.getByRole("rowheader", { name: "notify" }) })
				.getByRole("cell")
				.last()
				.textContent(),
		).toBe("2");
		// The embedded node runs every service, its detector among them.
		const node = page.getByRole("region", { name: "Nodes" }).getByRole("row").filter({ hasText: "This node" });
		await node.getByText("Available").waitFor();
		expect(await node.textContent()).toMatch(/alert.*detector/);
		const detector = await node.locator(".detector-backend").textContent();
		expect(detector).toBeTruthy();

		// Each dead letter asks once more, in the page, before it goes.
		const card = (letter: Letter) => page.locator(`li.letter[data-letter="${letter.queue}/${letter.letterId}"]`);
		await card(discarded).getByText("no-such-delivery").or(card(discarded).getByText(/uuid/)).first().waitFor();
		await page.getByRole("button", { name: `Discard notify job ${discarded.jobId}` }).click();
		const confirm = page.getByRole("group", { name: `Confirm: discard notify job ${discarded.jobId}` });
		await confirm.getByText("Discard this job for good?").waitFor();
		await screenshot(page, "insights-04-operations");
		await confirm.getByRole("button", { name: "Cancel" }).click();
		expect(
			await page
				.getByRole("button", { name: `Discard notify job ${discarded.jobId}` })
				.evaluate((b) => b === (b as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement),
		).toBe(true);
		await page.getByRole("button", { name: `Discard notify job ${discarded.jobId}` }).click();
		await confirm.getByRole("button", { name: "Yes, discard it" }).click();
		await card(discarded).waitFor({ state: "detached" });
		expect((await lettersNow()).some((l) => l.letterId === discarded.letterId)).toBe(false);

		await page.getByRole("button", { name: `Replay notify job ${replayed.jobId}` }).click();
		await page.getByRole("button", { name: "Yes, replay it" }).click();
		await card(replayed).waitFor({ state: "detached" });
		expect((await lettersNow()).some((l) => l.letterId === replayed.letterId)).toBe(false);

		// It keeps reading while open: the time of the last reading moves on.
		const refreshed = page.getByText(/Refreshed every \d+ s, last at/);
		const before = await refreshed.textContent();
		await eventually(async () => ((await refreshed.textContent()) !== before ? true : undefined), 15_000);
		await page.context().close();
	}, 60_000);

	async function cameraId(name: string): Promise<string> {
		const cameras = (await api.get(`${storeBase}/cameras`, { token: owner.token })).body.items as { id: string; name: string }[];
		return cameras.find((c) => c.name === name)!.id;
	}
});
