/**
 * People in the dashboard, in a real browser: an owner invites a staff member to one of two stores and reads
 * the one-time link; the invitee opens it signed out, creates an account, accepts and sees only that store; the
 * owner moves them to the other store, then removes them. A password change keeps this session, refuses a wrong
 * current password at its field, and the new password signs in. Screenshots go to test-artifacts/dashboard/.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { type Cluster, startCluster } from "../support/cluster";
import { buildDashboardIfStale, chromiumRunnable, launchChromium, screenshot, signIn, watchPage } from "../support/dashboard";
import { Client, PASSWORD, uniqueEmail } from "../support/http";
import { describeWhen } from "../support/require";

const NEW_PASSWORD = "violet tractor harbour umbrella";

describeWhen(chromiumRunnable())("people in the dashboard", () => {
	let cluster: Cluster;
	let browser: Browser;
	let api: Client;
	const owner = { email: uniqueEmail("owner"), token: "" };
	const member = { email: uniqueEmail("member") };
	let org: { id: string; name: string };
	const consoleErrors: string[] = [];
	const contexts: BrowserContext[] = [];

	const newPage = async (width = 1280) => {
		const context = await browser.newContext({ viewport: { width, height: 900 } });
		contexts.push(context);
		return watchPage(await context.newPage(), consoleErrors);
	};
	const storePicker = (page: Page) => page.getByLabel("Store", { exact: true }).locator("option").allTextContents();
	const memberRow = (page: Page, email: string) => page.locator("li.member", { hasText: email });

	beforeAll(async () => {
		buildDashboardIfStale();
		cluster = await startCluster();
		api = new Client(cluster.url);
		owner.token = (await api.post("/api/v1/auth/register", { email: owner.email, password: PASSWORD })).body.accessToken;
		org = (await api.post("/api/v1/orgs", { name: "Corner Shop" }, { token: owner.token })).body;
		for (const name of ["Main Street", "Back Lot"])
			expect((await api.post(`/api/v1/orgs/${org.id}/stores`, { name, timezone: "UTC" }, { token: owner.token })).status).toBe(201);
		browser = await launchChromium();
	}, 120_000);

	beforeEach(() => {
		consoleErrors.length = 0;
	});

	afterAll(async () => {
		for (const context of contexts) await context.close().catch(() => undefined);
		await browser?.close();
		await cluster?.stop();
	}, 60_000);

	it("an owner invites staff to one store; they join by the link, are moved to the other store, then removed", async () => {
		const ownerPage = await newPage();
		await signIn(ownerPage, cluster.url, owner.email, PASSWORD, "#/settings/members");
		await ownerPage.getByRole("heading", { name: "Members of Corner Shop" }).waitFor();
		await memberRow(ownerPage, owner.email).locator(".badge.you").waitFor();
		await ownerPage.getByText("No pending invitations.").waitFor();

		// The invitation: staff, Main Street only; the link is in the answer, shown once.
		await ownerPage.getByRole("button", { name: "Invite someone" }).click();
		const inviteForm = ownerPage.getByRole("form", { name: "Invite someone" });
		await inviteForm.getByLabel("Email").fill(member.email);
		await inviteForm.getByLabel("Role").selectOption("staff");
		await inviteForm.getByLabel("Only some stores").check();
		await inviteForm.getByLabel("Main Street").check();
		await screenshot(ownerPage, "people-00-invite-form");
		await inviteForm.getByRole("button", { name: "Create invitation link" }).click();
		const link = await ownerPage.getByRole("textbox", { name: "Invitation link" }).inputValue();
		expect(link).toMatch(new RegExp(`^${cluster.url}/#/invitations/\\S+$`));
		await ownerPage.getByText("This link is shown only once").waitFor();
		const pending = ownerPage.locator("li.invitation", { hasText: member.email });
		await pending.getByText("Main Street").waitFor();
		await screenshot(ownerPage, "people-01-invitation-link");

		// Signed out, the link asks to sign in or create an account; a weak password is refused at its field.
		const memberPage = await newPage();
		await memberPage.goto(link);
		await memberPage.getByText("You were invited to an organization").waitFor();
		await memberPage.getByRole("button", { name: "Create an account" }).click();
		await memberPage.getByLabel("Email").fill(member.email);
		await memberPage.getByLabel("Your name").fill("Sam Staff");
		await memberPage.getByLabel("Password").fill("password123");
		await memberPage.getByRole("button", { name: "Create account" }).click();
		await expect(memberPage.locator("#f-password-error").textContent()).resolves.toMatch(/common|guess/);
		await screenshot(memberPage, "people-02-create-account-weak-password");
		await memberPage.getByLabel("Password").fill(PASSWORD);
		await memberPage.getByRole("button", { name: "Create account" }).click();

		// Signed in, the link is still there: accept it, and only Main Street is in sight.
		await memberPage.getByRole("heading", { name: "You were invited to join an organization" }).waitFor();
		await screenshot(memberPage, "people-03-accept");
		await memberPage.getByRole("button", { name: "Accept invitation" }).click();
		await memberPage.getByRole("heading", { name: "Cameras of Main Street" }).waitFor();
		expect(await storePicker(memberPage)).toEqual(["Main Street"]);
		expect(memberPage.url()).toMatch(/#\/cameras$/);

		// The link worked once: a second try says so.
		await memberPage.goto(link);
		await memberPage.getByRole("button", { name: "Accept invitation" }).click();
		await memberPage
			.getByRole("alert")
			.filter({ hasText: /already been used/ })
			.waitFor();

		// The owner moves them to Back Lot from the page.
		await ownerPage.reload();
		const row = memberRow(ownerPage, member.email);
		await row.getByText("Sam Staff").waitFor();
		await row.getByText("Main Street").waitFor();
		await row.getByRole("button", { name: `Edit ${member.email}` }).click();
		const editForm = row.getByRole("form", { name: `Change ${member.email}` });
		await editForm.getByLabel("Main Street").uncheck();
		await editForm.getByLabel("Back Lot").check();
		await screenshot(ownerPage, "people-04-edit-member");
		await editForm.getByRole("button", { name: "Save" }).click();
		await row.locator("dd", { hasText: "Back Lot" }).waitFor();
		await ownerPage.getByText(`Saved the changes to ${member.email}.`).waitFor();
		await screenshot(ownerPage, "people-05-members");
		const listed = (await api.get(`/api/v1/orgs/${org.id}/members`, { token: owner.token })).body.items;
		const stores = (await api.get(`/api/v1/orgs/${org.id}/stores`, { token: owner.token })).body.items;
		const backLot = stores.find((s: { name: string }) => s.name === "Back Lot");
		expect(listed.find((m: { email: string }) => m.email === member.email)).toMatchObject({ role: "staff", storeIds: [backLot.id] });

		// A fresh load (a hash change alone would keep the page's store list, read before the move).
		await memberPage.goto("about:blank");
		await memberPage.goto(`${cluster.url}/#/cameras`);
		await memberPage.getByRole("heading", { name: "Cameras of Back Lot" }).waitFor();
		expect(await storePicker(memberPage)).toEqual(["Back Lot"]);

		// On a phone the members are still readable and their buttons reachable.
		const phone = watchPage(
			await (await browser.newContext({ viewport: { width: 390, height: 844 }, storageState: await ownerPage.context().storageState() })).newPage(),
			consoleErrors,
		);
		contexts.push(phone.context());
		await phone.goto(`${cluster.url}/#/settings/members`);
		await memberRow(phone, member.email).getByText("Back Lot").waitFor();
		await screenshot(phone, "people-06-members-phone");
		expect(await phone.evaluate("[...document.querySelectorAll('main .card')].every((card) => card.getBoundingClientRect().right <= innerWidth)")).toBe(true);

		// Removing asks first, in the page; then they are gone, and so is their access.
		await row.getByRole("button", { name: `Remove ${member.email}` }).click();
		await row.getByText(`Remove ${member.email} from Corner Shop?`).waitFor();
		await row.getByRole("button", { name: "Yes, remove" }).click();
		await ownerPage.getByText(`${member.email} was removed from Corner Shop.`).waitFor();
		expect(await memberRow(ownerPage, member.email).count()).toBe(0);
		const after = (await api.get(`/api/v1/orgs/${org.id}/members`, { token: owner.token })).body.items;
		expect(after.map((m: { email: string }) => m.email)).toEqual([owner.email]);
		// Their access is gone: no organization in their list, and a reload shows nothing of Corner Shop.
		expect((await (await memberPage.request.get(`${cluster.url}/api/v1/orgs`)).json()).items).toEqual([]);
		await memberPage.reload();
		await memberPage.getByRole("heading", { name: "Create your organization" }).waitFor();
		await screenshot(memberPage, "people-09-removed");
		expect(await memberPage.getByLabel("Store", { exact: true }).count()).toBe(0);
		expect(await memberPage.getByText("Back Lot").count()).toBe(0);

		// The requests refused on purpose (signed out, the weak password, the used link) are the only console errors.
		expect(consoleErrors.filter((e) => !/status of (401|410|422)/.test(e))).toEqual([]);
	}, 120_000);

	it("a password change refuses a wrong current password at its field; the new password signs in", async () => {
		const person = uniqueEmail("person");
		expect((await api.post("/api/v1/auth/register", { email: person, password: PASSWORD, displayName: "Pat Person" })).status).toBe(201);
		const page = await newPage();
		await signIn(page, cluster.url, person, PASSWORD, "#/account");
		await page.getByRole("heading", { name: "Your account" }).waitFor();
		await page.getByText(person).first().waitFor();

		await page.getByLabel("Current password").fill("not my password at all");
		await page.getByLabel("New password").fill(NEW_PASSWORD);
		await page.getByRole("button", { name: "Change password" }).click();
		await expect(page.locator("#f-currentPassword-error").textContent()).resolves.toBe("The current password is incorrect.");
		await screenshot(page, "people-07-account-wrong-password");

		await page.getByLabel("Current password").fill(PASSWORD);
		await page.getByRole("button", { name: "Change password" }).click();
		await page.getByText("Your password was changed.").waitFor();
		await screenshot(page, "people-08-account");
		// This session goes on; the old password no longer signs in.
		await page.reload();
		await page.getByRole("heading", { name: "Your account" }).waitFor();
		expect((await api.post("/api/v1/auth/login", { email: person, password: PASSWORD })).status).toBe(401);

		// Signing out everywhere ends this session too; the new password signs in again.
		await page.getByRole("button", { name: "Sign out everywhere" }).click();
		await page.getByRole("button", { name: "Sign in", exact: true }).waitFor();
		await page.getByLabel("Email").fill(person);
		await page.getByLabel("Password").fill(NEW_PASSWORD);
		await page.getByRole("button", { name: "Sign in", exact: true }).click();
		await page.getByRole("heading", { name: "Your account" }).waitFor();
		// Signed out and the wrong current password: the only requests refused.
		expect(consoleErrors.filter((e) => !/status of (401|422)/.test(e))).toEqual([]);
	}, 60_000);
});
