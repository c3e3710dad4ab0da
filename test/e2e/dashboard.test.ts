/**
 * The dashboard in a real browser (Debian's chromium, driven by playwright-core), served by the gateway on the
 * same API, cookies and CSRF rules as every other client. A store owner signs in, sets up a store and a camera,
 * draws a zone, uploads footage, sees its alert arrive live, the camera's picture and the clip's tracks; a staff
 * member of another store never sees any of it. Screenshots of the main screens go to test-artifacts/dashboard/.
 */
import jwt from "jsonwebtoken";
import type { Browser, Page } from "playwright-core";
import { ACCESS_COOKIE, signAccessToken } from "../../lib/security/tokens";
import { type Cluster, startCluster } from "../support/cluster";
import { buildDashboardIfStale, chromiumRunnable, launchChromium, pictureLoaded, screenshot, signIn as signInAt, UI_MS, watchPage } from "../support/dashboard";
import { Client, PASSWORD, uniqueEmail } from "../support/http";
import { requireFootage, STREET_CLIP } from "../support/media";
import { describeWhen } from "../support/require";

/** Upload, detection on a 10 s clip and evaluation: well within this on a CPU. */
const CLIP_DONE_MS = 240_000;

const runnable = chromiumRunnable() && requireFootage("the dashboard end to end");

describeWhen(runnable)("dashboard in a real browser", () => {
	let cluster: Cluster;
	let browser: Browser;
	let api: Client;
	const owner = { email: uniqueEmail("owner"), token: "" };
	const staff = { email: uniqueEmail("staff"), token: "" };
	const consoleErrors: string[] = [];

	const shot = screenshot;
	const watch = (page: Page) => watchPage(page, consoleErrors);
	const signIn = (page: Page, email: string) => signInAt(page, cluster.url, email);

	beforeAll(async () => {
		buildDashboardIfStale();
		cluster = await startCluster();
		api = new Client(cluster.url);
		owner.token = (await api.post("/api/v1/auth/register", { email: owner.email, password: PASSWORD })).body.accessToken;
		staff.token = (await api.post("/api/v1/auth/register", { email: staff.email, password: PASSWORD })).body.accessToken;
		browser = await launchChromium();
	}, 120_000);

	afterAll(async () => {
		await browser?.close();
		await cluster?.stop();
	}, 60_000);

	it(
		"an owner sets up a store, uploads a clip and sees its alert live; staff of another store do not",
		async () => {
			const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
			const page = watch(await context.newPage());

			// A wrong password shows the API's message; the right one opens the workspace.
			await page.goto(cluster.url);
			await shot(page, "01-sign-in");
			await page.getByLabel("Email").fill(owner.email);
			await page.getByLabel("Password").fill("not the password at all");
			await page.getByRole("button", { name: "Sign in" }).click();
			await page.getByRole("alert").waitFor();
			await page.getByLabel("Password").fill(PASSWORD);
			await page.getByRole("button", { name: "Sign in" }).click();

			// A new owner has nothing yet: an organization, then a store, from the page.
			await page.getByRole("heading", { name: "Create your organization" }).waitFor();
			await page.getByLabel("Organization name").fill("Corner Shop");
			await page.getByRole("button", { name: "Create organization" }).click();
			await page.getByRole("heading", { name: "Add your first store" }).waitFor();
			// The API's 422 details appear next to their field.
			await page.getByLabel("Store name").fill("Main Street");
			await page.getByLabel("Time zone").fill("Not/AZone");
			await page.getByRole("button", { name: "Create store" }).click();
			await page.locator(".field-error").first().waitFor();
			await shot(page, "02-store-field-error");
			await page.getByLabel("Time zone").fill("Europe/Paris");
			await page.getByRole("button", { name: "Create store" }).click();
			await page.getByRole("heading", { name: "Cameras of Main Street" }).waitFor();
			await page.getByText("No cameras yet.").waitFor();

			await page.getByRole("button", { name: "Add camera" }).click();
			await page.getByLabel("Camera name").fill("Entrance");
			await page.getByRole("button", { name: "Add camera" }).last().click();
			await page.getByRole("link", { name: "Entrance" }).waitFor();
			// No footage yet: a placeholder, not a broken picture.
			await page.locator("li.camera", { hasText: "Entrance" }).getByText("No picture yet").waitFor();
			await shot(page, "03-cameras");

			// Rules have no screen yet: people alert, by the API.
			const [org] = (await api.get("/api/v1/orgs", { token: owner.token })).body.items;
			const [store] = (await api.get(`/api/v1/orgs/${org.id}/stores`, { token: owner.token })).body.items;
			const storeBase = `/api/v1/orgs/${org.id}/stores/${store.id}`;
			const rule = await api.post(`${storeBase}/alert-rules`, { name: "People", classes: ["person"], severity: "high" }, { token: owner.token });
			expect(rule.status).toBe(201);

			// A second tab watches the alerts before anything is uploaded: what arrives, arrives live.
			const alertsPage = watch(await context.newPage());
			await alertsPage.goto(`${cluster.url}/#/alerts`);
			await alertsPage.getByRole("status").filter({ hasText: "Live" }).waitFor();
			await alertsPage.getByText("No alerts yet.").waitFor();

			await page.getByRole("link", { name: "Entrance" }).click();
			await page.getByText("No clips from this camera yet.").waitFor();
			const [camera] = (await api.get(`${storeBase}/cameras`, { token: owner.token })).body.items;

			// Zones before any footage: drawn on a neutral grid. Four clicks make an area over the bottom half of the view.
			await page.getByRole("link", { name: "Draw zones" }).click();
			await page.getByText("No picture from this camera yet").waitFor();
			await page.getByRole("button", { name: "Draw an area" }).click();
			const surface = page.getByRole("application", { name: "Zone drawing surface" });
			const size = (await surface.boundingBox())!;
			for (const [x, y] of [
				[0.02, 0.5],
				[0.98, 0.5],
				[0.98, 0.98],
				[0.02, 0.98],
			])
				await surface.click({ position: { x: x * size.width, y: y * size.height } });
			await page.getByRole("status").filter({ hasText: "4 points" }).waitFor();
			await shot(page, "03a-zone-drawing");
			await page.getByLabel("Zone name").fill("Walkway");
			await page.getByRole("button", { name: "Save zone" }).click();
			await page.getByText("Saved Walkway.").waitFor();
			// A tripwire typed as text, the accessible way: a repeated point is the API's 422, shown at the field.
			await page.getByRole("button", { name: "Draw a line" }).click();
			await page.getByLabel("Zone name").fill("Door line");
			await page.getByLabel(/^Points/).fill("0.5,0.4 0.5,0.4");
			await page.getByRole("button", { name: "Save zone" }).click();
			await page.locator(".field-error").filter({ hasText: "same point" }).waitFor();
			await page.getByLabel(/^Points/).fill("0.05,0.45 0.95,0.45");
			await page.getByRole("button", { name: "Save zone" }).click();
			await page.getByText("Saved Door line.").waitFor();
			await shot(page, "03b-zones-on-grid");
			const zones = (await api.get(`${storeBase}/cameras/${camera.id}/zones`, { token: owner.token })).body.items;
			expect(zones.map((z: { name: string; kind: string }) => [z.name, z.kind])).toEqual([
				["Door line", "line"],
				["Walkway", "polygon"],
			]);
			const walkway = zones.find((z: { name: string }) => z.name === "Walkway");
			const xs = walkway.points.map(([x]: number[]) => x);
			const ys = walkway.points.map(([, y]: number[]) => y);
			expect(walkway.points).toHaveLength(4);
			expect(walkway.classes).toEqual([]);
			expect(Math.min(...xs)).toBeLessThan(0.05);
			expect(Math.max(...xs)).toBeGreaterThan(0.95);
			expect(Math.min(...ys)).toBeCloseTo(0.5, 1);
			expect(Math.max(...ys)).toBeGreaterThan(0.95);
			await page.getByRole("link", { name: "← Entrance" }).click();

			await page.getByLabel("MP4 video").setInputFiles(STREET_CLIP);
			await page.getByRole("button", { name: "Upload" }).click();
			await page.locator(".clip").first().waitFor();
			await shot(page, "04-clip-processing");
			await page.locator('.clip[data-status="done"]').waitFor({ timeout: CLIP_DONE_MS });
			const personCount = Number(await page.locator(".counts div", { hasText: "person" }).locator("dd").textContent());
			expect(personCount).toBeGreaterThan(0);
			await shot(page, "05-clip-done");

			// With footage the zones lie over a real frame of the camera.
			await page.getByRole("link", { name: "Draw zones" }).click();
			await page.locator('figure.still[data-state="shown"]').waitFor();
			await expect(page.locator("figure.still img").evaluate(pictureLoaded)).resolves.toBe(true);
			expect(await page.locator("polygon.zone-area").count()).toBe(1);
			expect(await page.locator(".zone-line").count()).toBe(1);
			await shot(page, "05a-zones");

			// The clip's tracks over its frame: one listed per track the API has.
			const [clip] = (await api.get(`${storeBase}/clips?cameraId=${camera.id}`, { token: owner.token })).body.items;
			const tracks = (await api.get(`${storeBase}/clips/${clip.id}/tracks`, { token: owner.token })).body.items;
			expect(tracks.length).toBeGreaterThan(0);
			await page.getByRole("link", { name: "← Entrance" }).click();
			await page.getByRole("link", { name: "See tracks" }).click();
			await page.locator('figure.still[data-state="shown"]').waitFor();
			await expect(page.locator("figure.still img").evaluate(pictureLoaded)).resolves.toBe(true);
			expect(await page.locator(".track-list > li").count()).toBe(tracks.length);
			expect(await page.locator(".track-shape").count()).toBe(tracks.length);
			// Pointing at a track in the list picks it out in the picture.
			await page.locator(".track-list > li").first().hover();
			expect(await page.locator(".track-shape.picked").count()).toBe(1);
			expect(await page.locator(".track-shape.dimmed").count()).toBe(tracks.length - 1);
			await shot(page, "05b-clip-tracks");

			// The cameras grid now shows the camera's picture. Owners switch a camera off, rename it and delete it there.
			const spare = (await api.post(`${storeBase}/cameras`, { name: "Spare", kind: "upload" }, { token: owner.token })).body;
			await page.getByRole("navigation", { name: "Screens" }).getByRole("link", { name: "Cameras" }).click();
			const entrance = page.locator("li.camera", { hasText: "Entrance" });
			await entrance.locator('img.thumb[data-state="shown"]').waitFor();
			await expect(entrance.locator("img.thumb").evaluate(pictureLoaded)).resolves.toBe(true);
			await shot(page, "05c-cameras-with-picture");
			await page.getByRole("button", { name: "Switch off Spare" }).click();
			await page.locator("li.camera", { hasText: "Spare" }).getByText("Switched off").waitFor();
			await page.getByRole("button", { name: "Rename Spare" }).click();
			await page.getByLabel("New name").fill("Storeroom");
			await page.getByRole("button", { name: "Save name" }).click();
			await page.getByRole("link", { name: "Storeroom" }).waitFor();
			expect((await api.get(`${storeBase}/cameras/${spare.id}`, { token: owner.token })).body).toMatchObject({ name: "Storeroom", enabled: false });
			await page.getByRole("button", { name: "Delete Storeroom" }).click();
			await page.getByText("Delete Storeroom?").waitFor();
			await page.getByRole("button", { name: "Delete camera" }).click();
			await page.getByRole("link", { name: "Storeroom" }).waitFor({ state: "detached" });
			expect((await api.get(`${storeBase}/cameras/${spare.id}`, { token: owner.token })).status).toBe(404);

			// The alert reached the open tab without a reload, newest first, with its snapshot.
			const card = alertsPage.locator("li.alert").first();
			await card.waitFor();
			const alertId = await card.getAttribute("data-alert-id");
			await expect(card.locator("img.snapshot").evaluate(pictureLoaded)).resolves.toBe(true);
			const shown = await alertsPage.locator("li.alert").count();
			const listed = (await api.get(`${storeBase}/alerts?limit=200`, { token: owner.token })).body.items;
			expect(shown).toBe(listed.length);
			await shot(alertsPage, "06-alerts-live");

			// Someone else acknowledges: the open page follows over the stream.
			expect((await api.post(`${storeBase}/alerts/${alertId}/acknowledge`, undefined, { token: owner.token })).status).toBe(200);
			await alertsPage.locator(`li.alert[data-alert-id="${alertId}"][data-status="acknowledged"]`).waitFor();

			// One click marks it a false positive; the API has the verdict.
			await alertsPage.locator(`li.alert[data-alert-id="${alertId}"]`).getByRole("button", { name: "False positive" }).click();
			await alertsPage.getByText("Marked false positive").waitFor();
			const verdicts = (await api.get(`${storeBase}/alerts/${alertId}/feedback`, { token: owner.token })).body;
			expect((verdicts.items ?? verdicts).map((v: { verdict: string }) => v.verdict)).toEqual(["false_positive"]);

			// Filters: resolved shows nothing yet; resolving from the page moves it there.
			await alertsPage.getByLabel("Status").selectOption("resolved");
			await alertsPage.getByText("No alert matches these filters.").or(alertsPage.getByText("No alerts yet.")).waitFor();
			await alertsPage.getByLabel("Status").selectOption("");
			await alertsPage.locator(`li.alert[data-alert-id="${alertId}"]`).getByRole("button", { name: "Resolve" }).click();
			await alertsPage.locator(`li.alert[data-alert-id="${alertId}"][data-status="resolved"]`).waitFor();

			// On a phone-sized screen the same list is one column.
			const phone = watch(await (await browser.newContext({ viewport: { width: 390, height: 844 }, storageState: await context.storageState() })).newPage());
			await phone.goto(`${cluster.url}/#/alerts`);
			await phone.locator("li.alert").first().waitFor();
			await shot(phone, "07-alerts-phone");
			await phone.goto(`${cluster.url}/#/cameras/${camera.id}/clips/${clip.id}`);
			await phone.locator('figure.still[data-state="shown"]').waitFor();
			await shot(phone, "07a-clip-tracks-phone");
			await phone.goto(`${cluster.url}/#/cameras/${camera.id}/zones`);
			await phone.locator('figure.still[data-state="shown"]').waitFor();
			await shot(phone, "07b-zones-phone");
			await phone.context().close();

			// Staff of another store sign in and see nothing of Main Street.
			const other = (await api.post(`/api/v1/orgs/${org.id}/stores`, { name: "Back Lot", timezone: "UTC" }, { token: owner.token })).body;
			const invitation = (
				await api.post(`/api/v1/orgs/${org.id}/invitations`, { email: staff.email, role: "staff", storeIds: [other.id] }, { token: owner.token })
			).body;
			expect((await api.post("/api/v1/invitations/accept", { token: invitation.token }, { token: staff.token })).status).toBe(200);
			const staffContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
			const staffPage = watch(await staffContext.newPage());
			await signIn(staffPage, staff.email);
			await staffPage.getByRole("heading", { name: "Cameras of Back Lot" }).waitFor();
			expect(await staffPage.getByLabel("Store", { exact: true }).locator("option").allTextContents()).toEqual(["Back Lot"]);
			await staffPage.getByRole("link", { name: "Alerts" }).click();
			await staffPage.getByText("No alerts yet.").waitFor();
			expect(await staffPage.locator("li.alert").count()).toBe(0);
			await shot(staffPage, "08-staff-other-store");

			// Sign out ends the session: a reload asks to sign in again.
			await staffPage.getByRole("button", { name: "Sign out" }).click();
			await staffPage.getByRole("button", { name: "Sign in" }).waitFor();
			await staffPage.reload();
			await staffPage.getByRole("button", { name: "Sign in" }).waitFor();

			await staffContext.close();
			await context.close();
			// The only console errors allowed are the refused requests the scenario made on purpose.
			expect(consoleErrors.filter((e) => !/status of (401|422)/.test(e))).toEqual([]);
		},
		CLIP_DONE_MS + 180_000,
	);

	it("an expired access token is refreshed behind the page: no sign-in form, the alert stream opens", async () => {
		const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
		const page = watch(await context.newPage());
		await signIn(page, owner.email);
		await page.getByLabel("Store", { exact: true }).selectOption({ label: "Main Street" });
		await page.getByRole("heading", { name: "Cameras of Main Street" }).waitFor();
		// The same user and token version, but expired a minute ago: what a tab left open over lunch holds.
		const access = (await context.cookies(cluster.url)).find((c) => c.name === ACCESS_COOKIE);
		const claims = jwt.decode(access?.value ?? "") as { sub: string; ver: number };
		const expired = signAccessToken(cluster.config.jwtSecret, { sub: claims.sub, ver: claims.ver }, -60);
		await page.getByRole("link", { name: "Alerts" }).click();
		await page.getByRole("status").filter({ hasText: "Live" }).waitFor();
		await context.addCookies([{ ...access!, value: expired }]);
		// A reload while the live stream is open: leaving the page must not spend the refresh token.
		await page.reload();
		await page.getByRole("status").filter({ hasText: "Live" }).waitFor();
		await page.locator("li.alert").first().waitFor();
		expect(await page.getByRole("button", { name: "Sign in" }).count()).toBe(0);
		const renewed = (await context.cookies(cluster.url)).find((c) => c.name === ACCESS_COOKIE);
		expect(renewed?.value).not.toBe(expired);
		await context.close();
	}, 60_000);

	it("the page loads under the gateway's content security policy with no inline script", async () => {
		const res = await fetch(cluster.url + "/");
		const csp = res.headers.get("content-security-policy") ?? "";
		expect(csp).toMatch(/script-src 'self'/);
		expect(csp).not.toMatch(/unsafe-inline/);
		expect(await res.text()).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
		const page = await browser.newPage();
		const violations: string[] = [];
		page.on("console", (m) => /Content Security Policy/i.test(m.text()) && violations.push(m.text()));
		await page.goto(cluster.url);
		await page.getByRole("button", { name: "Sign in" }).waitFor({ timeout: UI_MS });
		await page.close();
		expect(violations).toEqual([]);
	}, 30_000);
});
