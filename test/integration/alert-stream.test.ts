/**
 * The live alert stream follows access at once: a removed member, a changed password, a signed-out or stolen
 * session and an expired token end open streams within a second; a new store's alerts arrive on streams opened
 * before it; acknowledge and resolve are pushed; out-of-range resume points are refused.
 * Alerts are raised cheaply through edge ingest (a store's service token), not video.
 */
import { Alert } from "../../entities";
import { signAccessToken } from "../../lib/security/tokens";
import { startCluster, type Cluster } from "../support/cluster";
import { Client, PASSWORD, signUp } from "../support/http";
import { eventually } from "../support/media";
import { SseClient } from "../support/sse";

/** How fast a stream must follow a change of access. */
const CUT_OFF_MS = 1000;

let cluster: Cluster;
let api: Client;
let owner: { token: string; userId: string };
let orgId: string;
const streams: SseClient[] = [];

interface StoreSetup {
	storeId: string;
	cameraId: string;
	box: string;
}

async function setUpStore(name: string): Promise<StoreSetup> {
	const storeId = (await api.post(`/api/v1/orgs/${orgId}/stores`, { name }, { token: owner.token })).body.id;
	const cameraId = (await api.post(`/api/v1/orgs/${orgId}/stores/${storeId}/cameras`, { name: `${name} door` }, { token: owner.token })).body.id;
	const box = (await api.post(`/api/v1/orgs/${orgId}/stores/${storeId}/service-tokens`, { name: `${name} box` }, { token: owner.token })).body.token;
	const rule = await api.post(
		`/api/v1/orgs/${orgId}/stores/${storeId}/alert-rules`,
		{ name: "People", classes: ["person"], cooldownSec: 0 },
		{ token: owner.token },
	);
	if (rule.status !== 201) throw new Error(`rule: ${rule.status} ${JSON.stringify(rule.body)}`);
	return { storeId, cameraId, box };
}

let serial = 0;
const ago = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();

/** An edge box reports a person (a track of its own): one alert, read back from the database. */
async function raiseAlert(store: StoreSetup): Promise<{ id: string; seq: number }> {
	const track = `t${Date.now().toString(36)}${serial++}`;
	const events = [0, 1, 2].map((k) => ({
		id: `${track}-${k}`,
		cameraId: store.cameraId,
		time: ago(5 - k),
		className: "person",
		score: 0.9,
		box: [0.1 + 0.02 * k, 0.3, 0.3 + 0.02 * k, 0.8],
		trackId: track,
	}));
	const sent = await api.post("/api/v1/ingest/events", { events }, { token: store.box });
	if (sent.status !== 200 || sent.body.accepted !== 3) throw new Error(`ingest: ${sent.status} ${JSON.stringify(sent.body)}`);
	const key = `box:${track}:${events[0].id}`;
	return eventually(async () => (await (await cluster.db()).getRepository(Alert).findOneBy({ edgeTrackKey: key })) ?? undefined, 20000, 100);
}

async function stream(token: string, headers: Record<string, string> = {}): Promise<SseClient> {
	const client = await new SseClient(`${cluster.url}/api/v1/alerts/stream`, { authorization: `Bearer ${token}`, ...headers }).open();
	streams.push(client);
	expect(client.status).toBe(200);
	return client;
}

const got = (client: SseClient, alertId: string) => client.alerts<{ id: string }>().some((a) => a.id === alertId);
const arrives = (client: SseClient, alertId: string) => eventually(async () => (got(client, alertId) ? true : undefined), 10000, 50);
const endReason = (client: SseClient) => {
	const event = client.events.find((e) => e.event === "reauthenticate");
	return event ? (JSON.parse(event.data) as { reason: string }).reason : undefined;
};
/** Resolves with the reason once the stream told its client to reauthenticate; fails after `ms`. */
const endsWithin = (client: SseClient, ms: number) => eventually(async () => endReason(client), ms, 20);

/** A member of the organization (by invitation), with a role and optionally a store limit. */
async function member(name: string, role: string, storeIds?: string[]) {
	const user = await signUp(api, name);
	const invite = await api.post(`/api/v1/orgs/${orgId}/invitations`, { email: user.email, role, ...(storeIds && { storeIds }) }, { token: owner.token });
	const accepted = await api.post("/api/v1/invitations/accept", { token: invite.body.token }, { token: user.token });
	if (accepted.status !== 200) throw new Error(`accept: ${accepted.status} ${JSON.stringify(accepted.body)}`);
	return user;
}

let storeA: StoreSetup, storeB: StoreSetup;

beforeAll(async () => {
	cluster = await startCluster({ SERVICES: "api,auth,tenancy,camera,clip,alert,ingest", REGISTER_MAX_PER_IP: "1000" });
	api = new Client(cluster.url);
	owner = await signUp(api, "stream-owner");
	orgId = (await api.post("/api/v1/orgs", { name: "Stream Org" }, { token: owner.token })).body.id;
	storeA = await setUpStore("Store A");
	storeB = await setUpStore("Store B");
	// /readyz does not wait for the ingest routes: wait until they answer.
	await eventually(async () => ((await api.post("/api/v1/ingest/heartbeat", {}, { token: storeA.box })).status === 200 ? true : undefined), 30000);
}, 60000);

afterEach(async () => {
	await Promise.all(streams.splice(0).map((s) => s.close()));
});
afterAll(() => cluster?.stop());

describe("a stream follows access at once", () => {
	it("a removed member's stream ends within a second and gets none of the alerts raised after", async () => {
		const admin = await member("stream-removed", "admin");
		const theirs = await stream(admin.token);
		const mine = await stream(owner.token);
		const before = await raiseAlert(storeA);
		await arrives(theirs, before.id);

		const removed = await api.delete(`/api/v1/orgs/${orgId}/members/${admin.userId}`, { token: owner.token });
		expect(removed.status).toBe(204);
		expect(await endsWithin(theirs, CUT_OFF_MS)).toBe("access_changed");

		const after = await raiseAlert(storeA);
		await arrives(mine, after.id);
		expect(got(theirs, after.id)).toBe(false);
	}, 60000);

	it("a staff member whose store list shrinks is cut off from the store within a second", async () => {
		const staff = await member("stream-staff", "staff", [storeA.storeId, storeB.storeId]);
		const theirs = await stream(staff.token);
		const mine = await stream(owner.token);
		const changed = await api.patch(`/api/v1/orgs/${orgId}/members/${staff.userId}`, { storeIds: [storeA.storeId] }, { token: owner.token });
		expect(changed.status).toBe(200);
		expect(await endsWithin(theirs, CUT_OFF_MS)).toBe("access_changed");

		const after = await raiseAlert(storeB);
		await arrives(mine, after.id);
		expect(got(theirs, after.id)).toBe(false);
	}, 60000);

	it("a password change ends the user's open streams within a second", async () => {
		const user = await member("stream-password", "admin");
		const theirs = await stream(user.token);
		const changed = await api.post(
			"/api/v1/auth/password",
			{ currentPassword: PASSWORD, newPassword: "Violet-Harbor-Quill-8261-Tundra" },
			{ token: user.token },
		);
		expect(changed.status).toBe(200);
		expect(await endsWithin(theirs, CUT_OFF_MS)).toBe("session_ended");
		// The old token no longer opens one; the new session's does.
		const reopened = await new SseClient(`${cluster.url}/api/v1/alerts/stream`, { authorization: `Bearer ${user.token}` }).open();
		streams.push(reopened);
		expect(reopened.status).toBe(401);
		await stream(changed.body.accessToken);
	}, 60000);

	it("a refresh token used twice (a stolen session) ends the user's open streams within a second", async () => {
		const user = await member("stream-stolen", "admin");
		const theirs = await stream(user.token);
		expect((await api.post("/api/v1/auth/refresh", { refreshToken: user.refreshToken })).status).toBe(200);
		const reused = await api.post("/api/v1/auth/refresh", { refreshToken: user.refreshToken });
		expect(reused.body.error.code).toBe("REFRESH_REUSED");
		expect(await endsWithin(theirs, CUT_OFF_MS)).toBe("session_ended");
	}, 60000);

	it("signing out everywhere (access.changed from auth, heard by every gateway) ends the user's streams within a second", async () => {
		const user = await member("stream-logout-all", "admin");
		const theirs = await stream(user.token);
		const mine = await stream(owner.token);
		expect((await api.post("/api/v1/auth/logout-all", {}, { token: user.token })).status).toBe(204);
		expect(await endsWithin(theirs, CUT_OFF_MS)).toBe("session_ended");
		expect((await api.get("/api/v1/auth/me", { token: user.token })).status).toBe(401);
		expect(endReason(mine)).toBeUndefined();
	}, 60000);

	it("a stream ends when its access token expires, telling the client to reconnect with a fresh one", async () => {
		const user = await member("stream-expiry", "admin");
		const TTL_S = 2;
		const shortLived = signAccessToken(cluster.config.jwtSecret, { sub: user.userId, ver: 0 }, TTL_S);
		const opened = Date.now();
		const theirs = await stream(shortLived);
		expect(await endsWithin(theirs, TTL_S * 1000 + CUT_OFF_MS)).toBe("token_expired");
		expect(Date.now() - opened).toBeGreaterThanOrEqual((TTL_S - 1) * 1000);
		const block = theirs.events.find((e) => e.event === "reauthenticate");
		expect(block).toBeDefined();
	}, 30000);
});

describe("what a stream carries", () => {
	it("alerts of a store created after the stream opened arrive", async () => {
		const mine = await stream(owner.token);
		const fresh = await setUpStore("Store opened later");
		const alert = await raiseAlert(fresh);
		await arrives(mine, alert.id);
	}, 60000);

	it("acknowledging and resolving an alert is pushed as alert.updated", async () => {
		const mine = await stream(owner.token);
		const alert = await raiseAlert(storeA);
		await arrives(mine, alert.id);
		const path = `/api/v1/orgs/${orgId}/stores/${storeA.storeId}/alerts/${alert.id}`;
		expect((await api.post(`${path}/acknowledge`, {}, { token: owner.token })).status).toBe(200);
		expect((await api.post(`${path}/resolve`, {}, { token: owner.token })).status).toBe(200);
		const updates = () => mine.events.filter((e) => e.event === "alert.updated").map((e) => JSON.parse(e.data) as { id: string; status: string });
		await eventually(async () => (updates().length >= 2 ? true : undefined), 10000, 50);
		expect(updates().map((u) => [u.id, u.status])).toEqual([
			[alert.id, "acknowledged"],
			[alert.id, "resolved"],
		]);
	}, 60000);

	it("a Last-Event-ID or cursor beyond any sequence number answers 400 INVALID_LAST_EVENT_ID; the stream keeps working for others", async () => {
		for (const [headers, query] of [
			[{ "last-event-id": "9223372036854775808" }, ""],
			[{}, "?lastEventId=99999999999999999999999"],
		] as const) {
			const res = await fetch(`${cluster.url}/api/v1/alerts/stream${query}`, { headers: { authorization: `Bearer ${owner.token}`, ...headers } });
			expect(res.status).toBe(400);
			expect(((await res.json()) as { error: { code: string } }).error.code).toBe("INVALID_LAST_EVENT_ID");
		}
		const mine = await stream(owner.token);
		const alert = await raiseAlert(storeA);
		await arrives(mine, alert.id);
		// Resuming from just before it replays it from the database.
		const resumed = await stream(owner.token, { "last-event-id": String(alert.seq - 1) });
		await arrives(resumed, alert.id);
	}, 60000);
});
