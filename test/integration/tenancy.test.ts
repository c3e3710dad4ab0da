import { Invitation } from "../../entities";
import { startCluster, type Cluster } from "../support/cluster";
import { Client, signUp, uniqueEmail } from "../support/http";

let cluster: Cluster;
let api: Client;
let owner: Awaited<ReturnType<typeof signUp>>;
let orgId: string;

beforeAll(async () => {
	cluster = await startCluster();
	api = new Client(cluster.url);
	owner = await signUp(api, "ten-owner");
	orgId = (await api.post("/api/v1/orgs", { name: "Tenancy Org" }, { token: owner.token })).body.id;
});
afterAll(() => cluster?.stop());

const invite = (body: object, token = owner.token) => api.post(`/api/v1/orgs/${orgId}/invitations`, body, { token });

describe("invitations", () => {
	it("an invited person joins with the offered role; the token works once", async () => {
		const guest = await signUp(api, "guest");
		const sent = await invite({ email: guest.email, role: "admin" });
		expect(sent.status).toBe(201);
		expect(sent.body.token).toMatch(/^vin_/);
		expect((await api.get(`/api/v1/orgs/${orgId}/invitations`, { token: owner.token })).body.items.map((i: { email: string }) => i.email)).toContain(
			guest.email,
		);

		const accepted = await api.post("/api/v1/invitations/accept", { token: sent.body.token }, { token: guest.token });
		expect(accepted.status).toBe(200);
		expect(accepted.body).toMatchObject({ id: orgId, role: "admin" });
		const me = await api.get("/api/v1/auth/me", { token: guest.token });
		expect(me.body.memberships).toEqual([expect.objectContaining({ orgId, role: "admin" })]);

		const again = await api.post("/api/v1/invitations/accept", { token: sent.body.token }, { token: guest.token });
		expect(again.status).toBe(410);
		expect(again.body.error.code).toBe("INVITATION_USED");
	});

	it("only the invited email can accept", async () => {
		const intended = await signUp(api, "intended");
		const other = await signUp(api, "interloper");
		const sent = await invite({ email: intended.email, role: "staff" });
		const res = await api.post("/api/v1/invitations/accept", { token: sent.body.token }, { token: other.token });
		expect(res.status).toBe(403);
	});

	it("an expired invitation cannot be accepted", async () => {
		const late = await signUp(api, "late");
		const sent = await invite({ email: late.email, role: "staff" });
		await (await cluster.db()).getRepository(Invitation).update({ id: sent.body.id }, { expiresAt: new Date(Date.now() - 1000) });
		const res = await api.post("/api/v1/invitations/accept", { token: sent.body.token }, { token: late.token });
		expect(res.status).toBe(410);
		expect(res.body.error.code).toBe("INVITATION_EXPIRED");
	});

	it("a revoked invitation is gone", async () => {
		const person = await signUp(api, "revoked");
		const sent = await invite({ email: person.email, role: "staff" });
		expect((await api.delete(`/api/v1/orgs/${orgId}/invitations/${sent.body.id}`, { token: owner.token })).status).toBe(204);
		expect((await api.post("/api/v1/invitations/accept", { token: sent.body.token }, { token: person.token })).status).toBe(404);
	});

	it("an admin cannot hand out the owner role; staff store limits must be stores of this organization", async () => {
		const admin = await signUp(api, "inv-admin");
		const sent = await invite({ email: admin.email, role: "admin" });
		await api.post("/api/v1/invitations/accept", { token: sent.body.token }, { token: admin.token });
		expect((await invite({ email: "x@example.com", role: "owner" }, admin.token)).status).toBe(403);
		const foreign = await invite({ email: "y@example.com", role: "staff", storeIds: ["00000000-0000-4000-8000-000000000000"] });
		expect(foreign.status).toBe(422);
		expect(foreign.body.error.details[0].field).toBe("storeIds");
	});

	it("inviting an existing member is a conflict", async () => {
		expect((await invite({ email: owner.email, role: "staff" })).status).toBe(409);
	});
});

describe("memberships", () => {
	it("an organization always keeps an owner", async () => {
		const solo = await signUp(api, "solo");
		const org = (await api.post("/api/v1/orgs", { name: "Solo" }, { token: solo.token })).body;
		const demote = await api.patch(`/api/v1/orgs/${org.id}/members/${solo.userId}`, { role: "admin" }, { token: solo.token });
		expect(demote.status).toBe(409);
		expect(demote.body.error.code).toBe("LAST_OWNER");
		expect((await api.delete(`/api/v1/orgs/${org.id}/members/${solo.userId}`, { token: solo.token })).status).toBe(409);
	});

	it("an owner limits staff to a store, and the staff member then sees only that store", async () => {
		const staff = await signUp(api, "member-staff");
		const sent = await invite({ email: staff.email, role: "staff" });
		await api.post("/api/v1/invitations/accept", { token: sent.body.token }, { token: staff.token });
		const a = (await api.post(`/api/v1/orgs/${orgId}/stores`, { name: "A" }, { token: owner.token })).body;
		const b = (await api.post(`/api/v1/orgs/${orgId}/stores`, { name: "B" }, { token: owner.token })).body;
		expect((await api.get(`/api/v1/orgs/${orgId}/stores/${b.id}`, { token: staff.token })).status).toBe(200);

		const limited = await api.patch(`/api/v1/orgs/${orgId}/members/${staff.userId}`, { storeIds: [a.id] }, { token: owner.token });
		expect(limited.body).toMatchObject({ role: "staff", storeIds: [a.id] });
		expect((await api.get(`/api/v1/orgs/${orgId}/stores/${a.id}`, { token: staff.token })).status).toBe(200);
		expect((await api.get(`/api/v1/orgs/${orgId}/stores/${b.id}`, { token: staff.token })).status).toBe(404);

		const members = await api.get(`/api/v1/orgs/${orgId}/members`, { token: owner.token });
		expect(members.body.items.find((m: { userId: string }) => m.userId === staff.userId)).toMatchObject({ role: "staff", storeIds: [a.id] });
		expect((await api.delete(`/api/v1/orgs/${orgId}/members/${staff.userId}`, { token: owner.token })).status).toBe(204);
		expect((await api.get(`/api/v1/orgs/${orgId}`, { token: staff.token })).status).toBe(404);
	});
});

describe("organizations and stores", () => {
	it("lists only your organizations; a super-admin sees all", async () => {
		const mine = await api.get("/api/v1/orgs", { token: owner.token });
		expect(mine.body.items.map((o: { id: string }) => o.id)).toEqual([orgId]);
		const email = uniqueEmail("platform");
		await cluster.core.call("auth.createUser", { email, password: "a long root passphrase", superAdmin: true });
		const root = (await api.post("/api/v1/auth/login", { email, password: "a long root passphrase" })).body.accessToken;
		const all = await api.get("/api/v1/orgs", { token: root });
		expect(all.body.items.map((o: { id: string }) => o.id)).toContain(orgId);
	});

	it("renames and updates stores; deleting an organization removes its stores", async () => {
		const org = (await api.post("/api/v1/orgs", { name: "Short lived" }, { token: owner.token })).body;
		const store = (await api.post(`/api/v1/orgs/${org.id}/stores`, { name: "S", address: "1 Main St" }, { token: owner.token })).body;
		const patched = await api.patch(`/api/v1/orgs/${org.id}/stores/${store.id}`, { timezone: "America/New_York", address: null }, { token: owner.token });
		expect(patched.body).toMatchObject({ name: "S", timezone: "America/New_York", address: null });
		expect((await api.patch(`/api/v1/orgs/${org.id}`, { name: "Renamed" }, { token: owner.token })).body.name).toBe("Renamed");
		expect((await api.delete(`/api/v1/orgs/${org.id}`, { token: owner.token })).status).toBe(204);
		expect((await api.get(`/api/v1/orgs/${org.id}/stores/${store.id}`, { token: owner.token })).status).toBe(404);
	});
});
