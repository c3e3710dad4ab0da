/**
 * Edge boxes: detection event batches checked item by item and stored once, compressed bodies, alerts from edge
 * events through the clip rules, heartbeats carrying queued commands until acknowledged, and camera liveness.
 */
import { randomUUID } from "node:crypto";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { In } from "typeorm";
import { Alert, EdgeEvent } from "../../entities";
import { startCluster, type Cluster } from "../support/cluster";
import { Client, signUp } from "../support/http";
import { eventually } from "../support/media";
import { SseClient } from "../support/sse";

let cluster: Cluster;
let api: Client;
let owner: string, limitedStaff: string, box: string, boxB: string, boxId: string;
let orgId: string, storeA: string, storeB: string;

const STALE_AFTER = 2;
const OFFLINE_AFTER = 4;

async function camera(storeId: string, name: string): Promise<string> {
	const res = await api.post(`/api/v1/orgs/${orgId}/stores/${storeId}/cameras`, { name }, { token: owner });
	return res.body.id;
}

const ago = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();
let serial = 0;
const nextId = () => `evt-${Date.now().toString(36)}-${serial++}`;
const person = (cameraId: string, box: number[], more: object = {}) => ({
	id: nextId(),
	cameraId,
	time: ago(30),
	className: "person",
	score: 0.9,
	box,
	...more,
});
/** A person walking right, one event a second, ending `endAgo` seconds ago. */
const walk = (cameraId: string, count: number, endAgo: number, start = 0) =>
	Array.from({ length: count }, (_, k) =>
		person(cameraId, [0.1 + 0.02 * (start + k), 0.3, 0.2 + 0.02 * (start + k), 0.7], { time: ago(endAgo + count - 1 - k) }),
	);

const ingest = (events: unknown, token = box) => api.post("/api/v1/ingest/events", { events }, { token });
const alertsOf = async (cameraId: string) => (await cluster.db()).getRepository(Alert).findBy({ cameraId });
/** The alert service has replayed these events once each of them carries a track key. */
const replayed = async (ids: string[]) => {
	const rows = await (await cluster.db()).getRepository(EdgeEvent).findBy({ storeId: storeA });
	return ids.every((id) => rows.some((r) => r.eventId === id && r.trackKey)) ? true : undefined;
};

beforeAll(async () => {
	cluster = await startCluster({
		SERVICES: "api,auth,tenancy,camera,clip,alert,ingest",
		CAMERA_STALE_AFTER: String(STALE_AFTER),
		CAMERA_OFFLINE_AFTER: String(OFFLINE_AFTER),
	});
	api = new Client(cluster.url);
	owner = (await signUp(api, "edge-owner")).token;
	orgId = (await api.post("/api/v1/orgs", { name: "Edge Org" }, { token: owner })).body.id;
	storeA = (await api.post(`/api/v1/orgs/${orgId}/stores`, { name: "Lot A" }, { token: owner })).body.id;
	storeB = (await api.post(`/api/v1/orgs/${orgId}/stores`, { name: "Lot B" }, { token: owner })).body.id;
	const tokenA = (await api.post(`/api/v1/orgs/${orgId}/stores/${storeA}/service-tokens`, { name: "gate box" }, { token: owner })).body;
	[box, boxId] = [tokenA.token, tokenA.id];
	boxB = (await api.post(`/api/v1/orgs/${orgId}/stores/${storeB}/service-tokens`, { name: "other box" }, { token: owner })).body.token;
	const staff = await signUp(api, "edge-staff");
	const invite = await api.post(`/api/v1/orgs/${orgId}/invitations`, { email: staff.email, role: "staff", storeIds: [storeB] }, { token: owner });
	await api.post("/api/v1/invitations/accept", { token: invite.body.token }, { token: staff.token });
	limitedStaff = staff.token;
	// /readyz does not wait for the ingest routes: wait until they answer.
	await eventually(async () => ((await api.post("/api/v1/ingest/heartbeat", {}, { token: box })).status === 200 ? true : undefined), 30000);
}, 90_000); // the cluster's readiness (up to 30 s), the ingest routes (up to 30 s) and the sign-ups
afterAll(() => cluster?.stop());

describe("event batches", () => {
	it("answers each event on its own and stores only the accepted ones, once", async () => {
		const door = await camera(storeA, "Door");
		const elsewhere = await camera(storeB, "Other store");
		const good = person(door, [0.1, 0.1, 0.3, 0.6]);
		const batch = [
			good,
			person(randomUUID(), [0.1, 0.1, 0.3, 0.6]),
			person(elsewhere, [0.1, 0.1, 0.3, 0.6]),
			person(door, [0.5, 0.1, 0.3, 0.6]),
			person(door, [0.1, 0.1, 0.3, 0.6], { score: 1.5 }),
			{ ...person(door, [0.1, 0.1, 0.3, 0.6]), className: undefined },
			{ ...good },
			person(door, [0.1, 0.1, 0.3, 0.6], { time: new Date(Date.now() + 3600_000).toISOString() }),
			42,
		];
		const res = await ingest(batch);
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ accepted: 1, rejected: 7, duplicates: 1 });
		const outcome = res.body.results.map((r: { status: string; errors?: { field: string; type: string }[] }) => [
			r.status,
			...(r.errors ?? []).map((e) => `${e.field}:${e.type}`),
		]);
		expect(outcome).toEqual([
			["accepted"],
			["rejected", "cameraId:unknownCamera"],
			["rejected", "cameraId:unknownCamera"],
			["rejected", "box:boxOrder"],
			["rejected", "score:numberMax"],
			["rejected", "className:required"],
			["duplicate"],
			["rejected", "time:dateMax"],
			["rejected", expect.stringMatching(/:object$/)],
		]);
		expect(res.body.results.map((r: { index: number }) => r.index)).toEqual(batch.map((_, i) => i));
		const stored = () => cluster.db().then((db) => db.getRepository(EdgeEvent).findBy({ cameraId: In([door, elsewhere]) }));
		expect((await stored()).map((e) => e.eventId)).toEqual([good.id]);

		const again = await ingest(batch);
		expect(again.body).toMatchObject({ accepted: 0, rejected: 7, duplicates: 2 });
		expect(await stored()).toHaveLength(1);
	});

	it("accepts gzip and br bodies, and refuses corrupt or unknown encodings", async () => {
		const cam = await camera(storeA, "Compressed");
		const send = (body: Buffer, encoding: string) =>
			api.request("POST", "/api/v1/ingest/events", { raw: body, token: box, headers: { "content-type": "application/json", "content-encoding": encoding } });
		const json = (events: object[]) => Buffer.from(JSON.stringify({ events }));
		expect((await send(gzipSync(json([person(cam, [0.1, 0.1, 0.2, 0.2])])), "gzip")).body).toMatchObject({ accepted: 1 });
		expect((await send(brotliCompressSync(json([person(cam, [0.1, 0.1, 0.2, 0.2])])), "br")).body).toMatchObject({ accepted: 1 });

		const corrupt = await send(Buffer.concat([gzipSync(json([person(cam, [0.1, 0.1, 0.2, 0.2])])).subarray(0, 20), Buffer.from("garbage")]), "gzip");
		expect(corrupt.status).toBe(400);
		expect(corrupt.body.error.code).toBe("MALFORMED_ENCODING");
		const unknown = await send(json([person(cam, [0.1, 0.1, 0.2, 0.2])]), "compress");
		expect(unknown.status).toBe(415);
		expect(unknown.body.error.code).toBe("UNSUPPORTED_ENCODING");
		expect(await (await cluster.db()).getRepository(EdgeEvent).countBy({ cameraId: cam })).toBe(2);
	});

	it("refuses a batch over the limit as a whole, and a body that is not a batch", async () => {
		const cam = await camera(storeA, "Busy");
		const tooMany = await ingest(Array.from({ length: 101 }, () => person(cam, [0.1, 0.1, 0.2, 0.2])));
		expect(tooMany.status).toBe(413);
		expect(tooMany.body.error).toMatchObject({ code: "BATCH_TOO_LARGE", details: { limit: 100 } });
		expect((await ingest({ not: "an array" })).status).toBe(422);
		expect((await ingest([])).status).toBe(422);
		expect(await (await cluster.db()).getRepository(EdgeEvent).countBy({ cameraId: cam })).toBe(0);
	});

	it("is for edge boxes only: a user gets 403, nobody 401", async () => {
		const asUser = await ingest([], owner);
		expect(asUser.status).toBe(403);
		expect(asUser.body.error.code).toBe("FORBIDDEN");
		expect((await api.post("/api/v1/ingest/events", { events: [] })).status).toBe(401);
		expect((await api.post("/api/v1/ingest/heartbeat", {}, { token: owner })).status).toBe(403);
	});
});

describe("alerts from edge events", () => {
	/** A camera with the two rules these tests use. */
	async function watchedCamera(name: string) {
		const cam = await camera(storeA, name);
		const rule = (
			await api.post(
				`/api/v1/orgs/${orgId}/stores/${storeA}/alert-rules`,
				{ name: "Anyone", cameraId: cam, classes: ["person"], cooldownSec: 0 },
				{ token: owner },
			)
		).body;
		const longStay = (
			await api.post(
				`/api/v1/orgs/${orgId}/stores/${storeA}/alert-rules`,
				{ name: "Long stay", cameraId: cam, classes: ["person"], minDurationSec: 3, cooldownSec: 0 },
				{ token: owner },
			)
		).body;
		return {
			cam,
			rule,
			longStay,
			ruleNames: new Map<string, string>([
				[rule.id, rule.name],
				[longStay.id, longStay.name],
			]),
		};
	}

	/** A camera's alerts without their ids: rule, class, and which event started the track. */
	const summarize = (alerts: Alert[], ruleNames: Map<string, string>, events: { id: string }[]) =>
		alerts
			.map((a) => ({ rule: ruleNames.get(a.ruleId), className: a.className, trackFrom: events.findIndex((e) => a.edgeTrackKey === `auto:${e.id}`) }))
			.sort((x, y) => String(x.rule).localeCompare(String(y.rule)));

	it("a person seen over a few seconds raises one alert per rule; sending again or more of the same walk raises what one batch of the whole walk raises", async () => {
		const { cam, rule, longStay, ruleNames } = await watchedCamera("Aisle");
		const first = walk(cam, 3, 20);
		expect((await ingest(first)).body.accepted).toBe(3);
		const second = walk(cam, 3, 17, 3);
		expect((await ingest(second)).body.accepted).toBe(3);
		const alerts = await eventually(async () => ((await alertsOf(cam)).length === 2 ? alertsOf(cam) : undefined), 20000);
		expect(alerts.map((a) => a.ruleId).sort()).toEqual([rule.id, longStay.id].sort());
		expect(new Set(alerts.map((a) => a.edgeTrackKey))).toEqual(new Set([`auto:${first[0].id}`]));
		expect(alerts[0]).toMatchObject({ source: "edge", clipId: null, trackNo: null, className: "person", snapshotKey: null });

		const listed = await api.get(`/api/v1/orgs/${orgId}/stores/${storeA}/alerts?cameraId=${cam}`, { token: owner });
		expect(listed.body.items[0]).toMatchObject({ source: "edge", clipId: null, hasSnapshot: false, edgeTrackKey: `auto:${first[0].id}` });

		expect((await ingest([...first, ...second])).body.duplicates).toBe(6);
		const more = walk(cam, 3, 14, 6);
		await ingest(more);
		await eventually(() => replayed(more.map((e) => e.id)), 20000);

		// The same walk sent at once to a camera with the same rules: the piecemeal camera must end up alike.
		const clean = await watchedCamera("Aisle, clean run");
		const whole = walk(clean.cam, 9, 14);
		expect((await ingest(whole)).body.accepted).toBe(9);
		// Its first and last events carry the track's key once the batch is replayed (one in between may not: a
		// detection the tracker did not match to the track).
		await eventually(() => replayed([whole[0].id, whole[whole.length - 1].id]), 20000);
		const cleanRun = summarize(await alertsOf(clean.cam), clean.ruleNames, whole);
		expect(cleanRun).toEqual([
			{ rule: "Anyone", className: "person", trackFrom: 0 },
			{ rule: "Long stay", className: "person", trackFrom: 0 },
		]);
		expect(summarize(await alertsOf(cam), ruleNames, [...first, ...second, ...more])).toEqual(cleanRun);
	}, 90_000); // four waits of up to 20 s each

	it("events of one box track id are one track however its box jumps; the alert carries the plate and is pushed live", async () => {
		const cam = await camera(storeA, "Gate");
		const live = await new SseClient(`${cluster.url}/api/v1/alerts/stream`, { authorization: `Bearer ${owner}` }).open();
		await api.post(`/api/v1/orgs/${orgId}/stores/${storeA}/alert-rules`, { name: "Vehicles", cameraId: cam, classes: ["car"] }, { token: owner });
		const boxes = [
			[0.05, 0.5, 0.25, 0.7],
			[0.6, 0.1, 0.8, 0.3],
			[0.3, 0.6, 0.5, 0.9],
		];
		const events = boxes.map((b, k) => ({
			id: nextId(),
			cameraId: cam,
			time: ago(10 - k),
			className: "car",
			score: 0.8,
			box: b,
			trackId: "17",
			plate: "AB-123",
		}));
		expect((await ingest(events)).body.accepted).toBe(3);
		const [alert] = await eventually(async () => ((await alertsOf(cam)).length ? alertsOf(cam) : undefined), 20000);
		expect(alert).toMatchObject({ source: "edge", plate: "AB-123", edgeTrackKey: `box:17:${events[0].id}` });
		await eventually(() => replayed(events.map((e) => e.id)), 20000);
		expect(await alertsOf(cam)).toHaveLength(1);
		const pushed = await eventually(async () => live.alerts<{ id: string }>().find((a) => a.id === alert.id), 10000, 100);
		await live.close();
		expect(pushed).toMatchObject({ cameraId: cam, source: "edge", clipId: null, plate: "AB-123", hasSnapshot: false });
		// A dashboard that reconnects gets it from the database too.
		const resumed = await new SseClient(`${cluster.url}/api/v1/alerts/stream`, {
			authorization: `Bearer ${owner}`,
			"last-event-id": String(alert.seq - 1),
		}).open();
		await eventually(async () => (resumed.alerts<{ id: string }>().some((a) => a.id === alert.id) ? true : undefined), 10000, 100);
		await resumed.close();
	}, 75_000); // two waits of up to 20 s and two of up to 10 s
});

describe("heartbeats and commands", () => {
	const commands = (token = owner) => api.get(`/api/v1/orgs/${orgId}/stores/${storeA}/edge/commands`, { token });

	it("a heartbeat carries the queued commands until the box acknowledges them", async () => {
		const restart = await api.post(`/api/v1/orgs/${orgId}/stores/${storeA}/edge/commands`, { tokenId: boxId, kind: "restart" }, { token: owner });
		expect(restart.status).toBe(201);
		const config = await api.post(
			`/api/v1/orgs/${orgId}/stores/${storeA}/edge/commands`,
			{ tokenId: boxId, kind: "config_update", payload: { fps: 5 } },
			{ token: owner },
		);

		const beat = await api.post("/api/v1/ingest/heartbeat", { uptimeSec: 3600, queueDepth: 4, softwareVersion: "2.1.0", configVersion: "7" }, { token: box });
		expect(beat.status).toBe(200);
		expect(Math.abs(Date.parse(beat.body.serverTime) - Date.now())).toBeLessThan(5000);
		expect(beat.body.commands).toEqual([
			{ id: restart.body.id, kind: "restart", payload: null, createdAt: expect.any(String) },
			{ id: config.body.id, kind: "config_update", payload: { fps: 5 }, createdAt: expect.any(String) },
		]);
		// Delivered is not done: the next heartbeat carries them again.
		const again = await api.post("/api/v1/ingest/heartbeat", {}, { token: box });
		expect(again.body.commands.map((c: { id: string }) => c.id)).toEqual([restart.body.id, config.body.id]);
		expect((await commands()).body.items.find((c: { id: string }) => c.id === restart.body.id)).toMatchObject({ status: "pending", deliveredCount: 2 });

		// Another store's box cannot see or acknowledge them.
		expect((await api.post("/api/v1/ingest/heartbeat", {}, { token: boxB })).body.commands).toEqual([]);
		expect((await api.post(`/api/v1/ingest/commands/${config.body.id}/ack`, { status: "done" }, { token: boxB })).status).toBe(404);

		const acked = await api.post("/api/v1/ingest/heartbeat", { ackCommandIds: [restart.body.id] }, { token: box });
		expect(acked.body).toMatchObject({ acknowledged: 1 });
		expect(acked.body.commands.map((c: { id: string }) => c.id)).toEqual([config.body.id]);
		const failed = await api.post(`/api/v1/ingest/commands/${config.body.id}/ack`, { status: "failed", message: "fps 5 not supported" }, { token: box });
		expect(failed.body).toMatchObject({ status: "failed", resultMessage: "fps 5 not supported" });
		expect((await api.post(`/api/v1/ingest/commands/${config.body.id}/ack`, { status: "failed" }, { token: box })).status).toBe(200);
		expect((await api.post(`/api/v1/ingest/commands/${config.body.id}/ack`, { status: "done" }, { token: box })).status).toBe(409);
		expect((await api.post("/api/v1/ingest/heartbeat", {}, { token: box })).body.commands).toEqual([]);
		expect((await commands()).body.items.filter((c: { status: string }) => c.status === "pending")).toEqual([]);

		const boxes = await api.get(`/api/v1/orgs/${orgId}/stores/${storeA}/edge/boxes`, { token: owner });
		expect(boxes.body.items).toEqual([
			expect.objectContaining({ tokenId: boxId, name: "gate box", status: "online", pendingCommands: 0, softwareVersion: "2.1.0", uptimeSec: 3600 }),
		]);
	});

	it("refuses a command for a box of another store, or of an unknown kind", async () => {
		const other = (await api.get(`/api/v1/orgs/${orgId}/stores/${storeB}/service-tokens`, { token: owner })).body.items[0].id;
		const res = await api.post(`/api/v1/orgs/${orgId}/stores/${storeA}/edge/commands`, { tokenId: other, kind: "restart" }, { token: owner });
		expect(res.status).toBe(422);
		expect(res.body.error.details[0]).toMatchObject({ field: "tokenId", type: "unknownBox" });
		expect((await api.post(`/api/v1/orgs/${orgId}/stores/${storeA}/edge/commands`, { tokenId: boxId, kind: "selfdestruct" }, { token: owner })).status).toBe(
			422,
		);
	});
});

describe("camera liveness", () => {
	const liveness = async (storeId: string, cameraId: string) =>
		(await api.get(`/api/v1/orgs/${orgId}/stores/${storeId}/cameras/${cameraId}`, { token: owner })).body.liveness;
	const health = async (token = owner, query = "") => (await api.get(`/api/v1/orgs/${orgId}/cameras/health${query}`, { token })).body;

	it("goes online with a heartbeat listing the camera, then stale, then offline", async () => {
		const cam = await camera(storeA, "Till");
		expect(await liveness(storeA, cam)).toEqual({ status: "unknown", lastSeenAt: null });
		const beat = await api.post("/api/v1/ingest/heartbeat", { camerasOnline: [cam, randomUUID()] }, { token: box });
		expect(beat.body.unknownCameraIds).toHaveLength(1);
		expect((await liveness(storeA, cam)).status).toBe("online");
		expect((await health()).items.map((c: { cameraId: string }) => c.cameraId)).not.toContain(cam);

		await eventually(async () => ((await liveness(storeA, cam)).status === "stale" ? true : undefined), 10000, 200);
		expect((await health()).items).toContainEqual(expect.objectContaining({ cameraId: cam, status: "stale", storeId: storeA, storeName: "Lot A" }));
		await eventually(async () => ((await liveness(storeA, cam)).status === "offline" ? true : undefined), 10000, 200);
		expect((await health(owner, "?status=offline")).items.map((c: { cameraId: string }) => c.cameraId)).toContain(cam);
	});

	it("an old event leaves the camera stale, a newer one makes it online, and an older one never takes that back", async () => {
		const cam = await camera(storeA, "Loading bay");
		await ingest([person(cam, [0.1, 0.1, 0.2, 0.2], { time: ago(STALE_AFTER + 1) })]);
		expect((await liveness(storeA, cam)).status).toBe("stale");
		await ingest([person(cam, [0.1, 0.1, 0.2, 0.2], { time: ago(0) })]);
		await ingest([person(cam, [0.1, 0.1, 0.2, 0.2], { time: ago(OFFLINE_AFTER + 10) })]);
		expect((await liveness(storeA, cam)).status).toBe("online");
	});

	it("a clip upload is a sign of life", async () => {
		const cam = await camera(storeA, "Uploader");
		cluster.core.emit("clip.queued", { clipId: randomUUID(), cameraId: cam, storeId: storeA, orgId });
		await eventually(async () => ((await liveness(storeA, cam)).status === "online" ? true : undefined), 10000, 100);
	});

	it("the health view lists only cameras of the stores the caller can see", async () => {
		const camB = await camera(storeB, "Back door");
		await api.post("/api/v1/ingest/heartbeat", { camerasOnline: [camB] }, { token: boxB });
		await eventually(async () => ((await liveness(storeB, camB)).status === "stale" ? true : undefined), 10000, 200);
		const seenByStaff = await health(limitedStaff);
		expect(seenByStaff.items.map((c: { storeId: string }) => c.storeId)).toEqual(seenByStaff.items.map(() => storeB));
		expect(seenByStaff.items.map((c: { cameraId: string }) => c.cameraId)).toContain(camB);
		const camerasOfB = (await api.get(`/api/v1/orgs/${orgId}/stores/${storeB}/cameras`, { token: owner })).body.items.length;
		expect(Object.values(seenByStaff.counts as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(camerasOfB);
		const seenByOwner = await health();
		expect(seenByOwner.items.map((c: { storeId: string }) => c.storeId)).toEqual(expect.arrayContaining([storeA, storeB]));
		// Never seen is not listed unless asked for.
		expect(seenByOwner.items.map((c: { status: string }) => c.status)).not.toContain("unknown");
		expect((await health(owner, "?status=unknown")).items.length).toBeGreaterThan(0);
	});
});
