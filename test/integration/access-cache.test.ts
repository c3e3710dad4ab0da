/**
 * Every node keeps a caller's account, memberships and store ownership for ACCESS_CACHE_TTL (here a minute, so
 * only the invalidation can explain a refusal), yet a change of who may see what applies to the next request.
 * With TRANSPORTER set, a third node runs alert, camera and tenancy beside the core node: requests alternate
 * between the two, so both caches are warm, and a change made on one must reach the other's cache too.
 */
import type { ServiceBroker } from "moleculer";
import { createNode } from "../../app/node";
import { overNats, startCluster, type Cluster } from "../support/cluster";
import { Client, signUp } from "../support/http";

/** Enough requests that each node answers several (round-robin balancing across two nodes). */
const REPEATS = 6;

let cluster: Cluster;
let extra: ServiceBroker | undefined;
let api: Client;

beforeAll(async () => {
	cluster = await startCluster({ ACCESS_CACHE_TTL: "60000" });
	api = new Client(cluster.url);
	if (overNats) {
		const nodeID = `extra-${cluster.config.namespace}`;
		extra = createNode({ ...cluster.config, services: ["alert", "camera", "tenancy"] }, { nodeID });
		await extra.start();
		const gateway = cluster.brokers[0];
		for (let tries = 0; ; tries++) {
			const registry = gateway.registry as unknown as { getNodeList(o: object): { id: string; services?: { name: string }[] }[] };
			const nodes = registry.getNodeList({ onlyAvailable: true, withServices: true });
			if (nodes.find((n) => n.id === nodeID)?.services?.some((s) => s.name === "tenancy")) break;
			if (tries > 100) throw new Error("the gateway never saw the extra node");
			await new Promise((r) => setTimeout(r, 100));
		}
	}
});
afterAll(async () => {
	await extra?.stop();
	await cluster?.stop();
});

/** The statuses of `REPEATS` calls, one after another. */
async function statuses(call: () => Promise<{ status: number }>): Promise<number[]> {
	const seen: number[] = [];
	for (let i = 0; i < REPEATS; i++) seen.push((await call()).status);
	return seen;
}

async function tenant() {
	const owner = await signUp(api, "owner");
	const org = (await api.post("/api/v1/orgs", { name: "Cached Org" }, { token: owner.token })).body;
	const storeA = (await api.post(`/api/v1/orgs/${org.id}/stores`, { name: "Store A" }, { token: owner.token })).body.id as string;
	const storeB = (await api.post(`/api/v1/orgs/${org.id}/stores`, { name: "Store B" }, { token: owner.token })).body.id as string;
	const join = async (name: string, role: string) => {
		const user = await signUp(api, name);
		const invite = await api.post(`/api/v1/orgs/${org.id}/invitations`, { email: user.email, role }, { token: owner.token });
		const accepted = await api.post("/api/v1/invitations/accept", { token: invite.body.token }, { token: user.token });
		if (accepted.status !== 200) throw new Error(`accept failed ${JSON.stringify(accepted.body)}`);
		return user;
	};
	return { owner, orgId: org.id as string, storeA, storeB, join };
}

describe(`cached access on ${overNats ? "three nodes over NATS" : "one node"}`, () => {
	test("a removed member is refused at once, though their membership was cached", async () => {
		const { owner, orgId, storeA, join } = await tenant();
		const staff = await join("staff", "staff");
		const alerts = `/api/v1/orgs/${orgId}/stores/${storeA}/alerts`;
		expect(await statuses(() => api.get(alerts, { token: staff.token }))).toEqual(Array(REPEATS).fill(200));

		expect((await api.delete(`/api/v1/orgs/${orgId}/members/${staff.userId}`, { token: owner.token })).status).toBe(204);

		expect(await statuses(() => api.get(alerts, { token: staff.token }))).toEqual(Array(REPEATS).fill(404));
	});

	test("an admin demoted to staff cannot manage people from the next request on", async () => {
		const { owner, orgId, join } = await tenant();
		const admin = await join("admin", "admin");
		const members = `/api/v1/orgs/${orgId}/members`;
		expect(await statuses(() => api.get(members, { token: admin.token }))).toEqual(Array(REPEATS).fill(200));

		expect((await api.patch(`${members}/${admin.userId}`, { role: "staff" }, { token: owner.token })).status).toBe(200);

		expect(await statuses(() => api.get(members, { token: admin.token }))).toEqual(Array(REPEATS).fill(403));
	});

	test("staff limited to store B lose store A at once, and keep store B", async () => {
		const { owner, orgId, storeA, storeB, join } = await tenant();
		const staff = await join("staff", "staff");
		const cameras = (store: string) => `/api/v1/orgs/${orgId}/stores/${store}/cameras`;
		expect(await statuses(() => api.get(cameras(storeA), { token: staff.token }))).toEqual(Array(REPEATS).fill(200));

		expect((await api.patch(`/api/v1/orgs/${orgId}/members/${staff.userId}`, { storeIds: [storeB] }, { token: owner.token })).status).toBe(200);

		expect(await statuses(() => api.get(cameras(storeA), { token: staff.token }))).toEqual(Array(REPEATS).fill(404));
		expect(await statuses(() => api.get(cameras(storeB), { token: staff.token }))).toEqual(Array(REPEATS).fill(200));
	});

	test("signing out everywhere refuses the old access token at once, though the account was cached", async () => {
		const { orgId, storeA, owner } = await tenant();
		const alerts = `/api/v1/orgs/${orgId}/stores/${storeA}/alerts`;
		expect(await statuses(() => api.get(alerts, { token: owner.token }))).toEqual(Array(REPEATS).fill(200));

		expect((await api.post("/api/v1/auth/logout-all", undefined, { token: owner.token })).status).toBe(204);

		expect(await statuses(() => api.get(alerts, { token: owner.token }))).toEqual(Array(REPEATS).fill(401));
	});

	test("a deleted store answers 404 at once to someone who just listed its alerts", async () => {
		const { owner, orgId, storeA } = await tenant();
		const alerts = `/api/v1/orgs/${orgId}/stores/${storeA}/alerts`;
		expect(await statuses(() => api.get(alerts, { token: owner.token }))).toEqual(Array(REPEATS).fill(200));

		expect((await api.delete(`/api/v1/orgs/${orgId}/stores/${storeA}`, { token: owner.token })).status).toBe(204);

		expect(await statuses(() => api.get(alerts, { token: owner.token }))).toEqual(Array(REPEATS).fill(404));
	});
});
