/**
 * The audit log: security-relevant actions are recorded with who, what, when and from where; an organization's
 * owners and admins read theirs, super-admins read everything; nobody can change or delete an entry.
 */
import { randomUUID } from "node:crypto";
import { AuditEntry, Camera, Clip } from "../../entities";
import { startCluster, type Cluster } from "../support/cluster";
import { Client, PASSWORD, signUp, uniqueEmail } from "../support/http";

let cluster: Cluster;
let api: Client;
let root: string;
let owner: Awaited<ReturnType<typeof signUp>>;
let orgId: string;
let storeId: string;

interface Entry {
	seq: number;
	orgId: string | null;
	actor: { kind: string; id: string | null; email: string | null };
	action: string;
	target: { type: string; id: string } | null;
	details: Record<string, unknown>;
	ip: string | null;
	userAgent: string | null;
	requestId: string | null;
}

beforeAll(async () => {
	// No detector: nothing here needs inference.
	cluster = await startCluster({ SERVICES: "api,auth,tenancy,camera,clip,alert,audit,retention,jobs" });
	api = new Client(cluster.url);
	const rootEmail = uniqueEmail("root");
	await cluster.core.call("auth.createUser", { email: rootEmail, password: "super admin passphrase", superAdmin: true });
	root = (await api.post("/api/v1/auth/login", { email: rootEmail, password: "super admin passphrase" })).body.accessToken;
	owner = await signUp(api, "audit-owner");
	orgId = (await api.post("/api/v1/orgs", { name: "Audited" }, { token: owner.token })).body.id;
	storeId = (await api.post(`/api/v1/orgs/${orgId}/stores`, { name: "Main" }, { token: owner.token })).body.id;
});
afterAll(() => cluster?.stop());

const orgLog = async (query = "", token = owner.token): Promise<Entry[]> => {
	const res = await api.get(`/api/v1/orgs/${orgId}/audit-log${query}`, { token });
	expect(res.status).toBe(200);
	return res.body.items;
};
const adminLog = async (query = ""): Promise<Entry[]> => {
	const res = await api.get(`/api/v1/admin/audit-log${query}`, { token: root });
	expect(res.status).toBe(200);
	return res.body.items;
};

/** Joins the organization with a role through an invitation; returns the new member. */
async function join(name: string, role: string) {
	const user = await signUp(api, name);
	const invite = await api.post(`/api/v1/orgs/${orgId}/invitations`, { email: user.email, role }, { token: owner.token });
	await api.post("/api/v1/invitations/accept", { token: invite.body.token }, { token: user.token });
	return user;
}

describe("what is recorded", () => {
	it("a failed login: the email tried, why, from where and which request; no organization", async () => {
		const wrong = await api.post(
			"/api/v1/auth/login",
			{ email: owner.email, password: "not the password at all" },
			{ headers: { "user-agent": "audit-test/1.0" } },
		);
		expect(wrong.status).toBe(401);
		await api.post("/api/v1/auth/login", { email: "nobody-here@example.com", password: "whatever it is" });

		const failures = await adminLog("?action=auth.login_failed");
		const mine = failures.find((e) => e.actor.email === owner.email);
		expect(mine).toMatchObject({
			orgId: null,
			action: "auth.login_failed",
			actor: { kind: "user", id: owner.userId, email: owner.email },
			target: { type: "user", id: owner.userId },
			details: { email: owner.email, reason: "wrong_password" },
			userAgent: "audit-test/1.0",
			requestId: wrong.headers.get("x-request-id"),
		});
		expect(mine?.ip).toBeTruthy();
		expect(failures.find((e) => e.actor.email === "nobody-here@example.com")).toMatchObject({
			actor: { kind: "user", id: null },
			target: null,
			details: { reason: "unknown_email" },
		});
		// Account-level entries are not any organization's business.
		expect((await orgLog()).some((e) => e.action === "auth.login_failed")).toBe(false);
	});

	it("a successful login, a refresh token used twice, a password change and a logout", async () => {
		const user = await signUp(api, "audit-session");
		const login = await api.post("/api/v1/auth/login", { email: user.email, password: PASSWORD });
		await api.post("/api/v1/auth/refresh", { refreshToken: login.body.refreshToken });
		expect((await api.post("/api/v1/auth/refresh", { refreshToken: login.body.refreshToken })).body.error.code).toBe("REFRESH_REUSED");
		// A reused refresh token may have been stolen: every access token issued before it is refused too.
		expect((await api.get("/api/v1/auth/me", { token: user.token })).status).toBe(401);
		const again = await api.post("/api/v1/auth/login", { email: user.email, password: PASSWORD });
		const changed = await api.post(
			"/api/v1/auth/password",
			{ currentPassword: PASSWORD, newPassword: "a brand new passphrase" },
			{ token: again.body.accessToken },
		);
		expect(changed.status).toBe(200);
		await api.post("/api/v1/auth/logout", { refreshToken: changed.body.refreshToken });

		const actions = (await adminLog(`?actorId=${user.userId}`)).map((e) => e.action);
		expect(actions).toEqual(["auth.logout", "auth.password_changed", "auth.login", "auth.refresh_reused", "auth.login"]);
	});

	it("a role change with what it was and what it became", async () => {
		const member = await join("audit-staff", "staff");
		const res = await api.patch(`/api/v1/orgs/${orgId}/members/${member.userId}`, { role: "admin" }, { token: owner.token });
		expect(res.status).toBe(200);
		const [entry] = await orgLog("?action=member.updated");
		expect(entry).toMatchObject({
			orgId,
			actor: { kind: "user", id: owner.userId, email: owner.email },
			target: { type: "user", id: member.userId },
			details: { role: { from: "staff", to: "admin" } },
		});
		expect((await orgLog("?action=invitation.")).map((e) => e.action)).toEqual(expect.arrayContaining(["invitation.created", "invitation.accepted"]));
	});

	it("a member removed, an invitation revoked", async () => {
		const member = await join("audit-leaver", "staff");
		await api.delete(`/api/v1/orgs/${orgId}/members/${member.userId}`, { token: owner.token });
		const invite = await api.post(`/api/v1/orgs/${orgId}/invitations`, { email: "never-came@example.com", role: "staff" }, { token: owner.token });
		await api.delete(`/api/v1/orgs/${orgId}/invitations/${invite.body.id}`, { token: owner.token });
		const log = await orgLog();
		expect(log.find((e) => e.action === "member.removed")).toMatchObject({ target: { id: member.userId }, details: { role: "staff" } });
		expect(log.find((e) => e.action === "invitation.revoked")).toMatchObject({ target: { type: "invitation", id: invite.body.id } });
	});

	it("a service token created and revoked (never its secret)", async () => {
		const created = await api.post(`/api/v1/orgs/${orgId}/stores/${storeId}/service-tokens`, { name: "door box" }, { token: owner.token });
		await api.delete(`/api/v1/orgs/${orgId}/stores/${storeId}/service-tokens/${created.body.id}`, { token: owner.token });
		const log = await orgLog("?action=service_token.");
		expect(log.map((e) => e.action)).toEqual(["service_token.revoked", "service_token.created"]);
		expect(log[1]).toMatchObject({ target: { type: "service_token", id: created.body.id }, details: { name: "door box", storeId } });
		expect(JSON.stringify(log)).not.toContain(created.body.token);
	});

	it("deletions: a camera, a clip, an alert rule, a store, and the organization itself", async () => {
		const store = (await api.post(`/api/v1/orgs/${orgId}/stores`, { name: "Doomed" }, { token: owner.token })).body.id;
		const camera = (await api.post(`/api/v1/orgs/${orgId}/stores/${store}/cameras`, { name: "Back" }, { token: owner.token })).body.id;
		const other = (await api.post(`/api/v1/orgs/${orgId}/stores/${store}/cameras`, { name: "Front" }, { token: owner.token })).body.id;
		const db = await cluster.db();
		const clip = await db.getRepository(Clip).save({
			orgId,
			storeId: store,
			cameraId: other,
			status: "done",
			storageKey: `clips/ab/${randomUUID()}.mp4`,
			sizeBytes: 1,
			sha256: "a".repeat(64),
			durationSec: 1,
			width: 2,
			height: 2,
			sourceFps: 5,
			sampleFps: 5,
			segmentSec: 2,
			segmentsTotal: 1,
			framesTotal: 5,
		});
		const rule = (await api.post(`/api/v1/orgs/${orgId}/stores/${store}/alert-rules`, { name: "Night" }, { token: owner.token })).body.id;
		expect((await api.delete(`/api/v1/orgs/${orgId}/stores/${store}/cameras/${camera}`, { token: owner.token })).status).toBe(204);
		expect((await api.delete(`/api/v1/orgs/${orgId}/stores/${store}/clips/${clip.id}`, { token: owner.token })).status).toBe(204);
		expect((await api.delete(`/api/v1/orgs/${orgId}/stores/${store}/alert-rules/${rule}`, { token: owner.token })).status).toBe(204);
		expect((await api.delete(`/api/v1/orgs/${orgId}/stores/${store}`, { token: owner.token })).status).toBe(204);
		const log = await orgLog();
		expect(log.slice(0, 4).map((e) => [e.action, e.target?.id])).toEqual([
			["store.deleted", store],
			["alert_rule.deleted", rule],
			["clip.deleted", clip.id],
			["camera.deleted", camera],
		]);
		expect(await db.getRepository(Camera).existsBy({ id: other })).toBe(false);

		// The organization goes; its trail stays, readable by super-admins.
		const doomed = (await api.post("/api/v1/orgs", { name: "Short-lived" }, { token: owner.token })).body.id;
		expect((await api.delete(`/api/v1/orgs/${doomed}`, { token: owner.token })).status).toBe(204);
		expect((await adminLog(`?orgId=${doomed}`)).map((e) => e.action)).toEqual(["org.deleted", "org.created"]);
	});
});

describe("who reads it", () => {
	it("an admin of the organization reads it; staff get 403; an admin of another organization gets 404", async () => {
		const admin = await join("audit-admin", "admin");
		const staff = await join("audit-reader", "staff");
		expect((await orgLog("", admin.token)).length).toBeGreaterThan(0);
		expect((await api.get(`/api/v1/orgs/${orgId}/audit-log`, { token: staff.token })).status).toBe(403);
		const stranger = await signUp(api, "audit-stranger");
		await api.post("/api/v1/orgs", { name: "Elsewhere" }, { token: stranger.token });
		expect((await api.get(`/api/v1/orgs/${orgId}/audit-log`, { token: stranger.token })).status).toBe(404);
		expect((await api.get("/api/v1/admin/audit-log", { token: owner.token })).status).toBe(403);
	});

	it("only the organization's own entries, newest first, page by page", async () => {
		const log = await orgLog("?limit=200");
		expect(log.every((e) => e.orgId === orgId)).toBe(true);
		expect(log.map((e) => e.seq)).toEqual([...log.map((e) => e.seq)].sort((a, b) => b - a));
		const first = await api.get(`/api/v1/orgs/${orgId}/audit-log?limit=2`, { token: owner.token });
		const second = await api.get(`/api/v1/orgs/${orgId}/audit-log?limit=2&cursor=${first.body.nextCursor}`, { token: owner.token });
		expect([...first.body.items, ...second.body.items].map((e: Entry) => e.seq)).toEqual(log.slice(0, 4).map((e) => e.seq));
		const future = new Date(Date.now() + 60_000).toISOString();
		expect(await orgLog(`?from=${future}`)).toEqual([]);
	});

	it("super-admins read every organization's entries and those of none", async () => {
		const all = await adminLog("?limit=200");
		expect(all.some((e) => e.orgId === orgId)).toBe(true);
		expect(all.some((e) => e.orgId === null)).toBe(true);
		expect((await adminLog("?withoutOrg=true")).every((e) => e.orgId === null)).toBe(true);
	});
});

describe("append-only", () => {
	it("the database refuses to change, delete or truncate entries", async () => {
		const db = await cluster.db();
		const repo = db.getRepository(AuditEntry);
		const [entry] = await repo.find({ order: { seq: "DESC" }, take: 1 });
		await expect(repo.update({ id: entry.id }, { action: "nothing.happened" })).rejects.toThrow(/append-only/);
		await expect(repo.delete({ id: entry.id })).rejects.toThrow(/append-only/);
		await expect(repo.clear()).rejects.toThrow(/append-only/);
		expect(await repo.findOneByOrFail({ id: entry.id })).toMatchObject({ action: entry.action });
	});
});
