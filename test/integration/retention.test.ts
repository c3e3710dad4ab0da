/**
 * Retention: each organization keeps clips, snapshots and detections for as long as its policy (or the node's
 * defaults) says; a cleanup removes exactly what is older, files included, reports it, and removes nothing the
 * second time.
 */
import { existsSync } from "node:fs";
import { Readable } from "node:stream";
import { Alert, AuditEntry, Clip, Detection, EdgeEvent } from "../../entities";
import type { ClipStatus } from "../../entities/clip.entity";
import { registry } from "../../lib/platform/metrics";
import { mediaStorage } from "../../lib/media/storage";
import { onPostgres, startCluster, type Cluster } from "../support/cluster";
import { Client, signUp, uniqueEmail } from "../support/http";
import { requireFootage, streetClip } from "../support/media";

const DAY = 86_400_000;

let cluster: Cluster;
let api: Client;
let root: string;

interface Tenant {
	owner: Awaited<ReturnType<typeof signUp>>;
	orgId: string;
	storeId: string;
	cameraId: string;
}

async function tenant(name: string): Promise<Tenant> {
	const owner = await signUp(api, name);
	const orgId = (await api.post("/api/v1/orgs", { name }, { token: owner.token })).body.id;
	const storeId = (await api.post(`/api/v1/orgs/${orgId}/stores`, { name: "Shop" }, { token: owner.token })).body.id;
	const cameraId = (await api.post(`/api/v1/orgs/${orgId}/stores/${storeId}/cameras`, { name: "Till" }, { token: owner.token })).body.id;
	return { owner, orgId, storeId, cameraId };
}

const storage = () => mediaStorage(cluster.config.dataDir);
const file = (key: string) => storage().localPath(key);
let serial = 0;

/** A clip uploaded `ageDays` ago, with its video file, three detections and one alert (with a snapshot file) raised `alertAgeDays` ago. */
async function clipAged(t: Tenant, ageDays: number, { alertAgeDays = ageDays, status = "done" as ClipStatus } = {}) {
	const db = await cluster.db();
	const video = await storage().put("clips", "mp4", Readable.from([Buffer.from(`video ${++serial}`)]));
	const snapshot = await storage().put("snapshots", "jpg", Readable.from([Buffer.from(`jpeg ${serial}`)]));
	const frame = await storage().put("snapshots", "jpg", Readable.from([Buffer.from(`frame ${serial}`)]));
	const clip = await db.getRepository(Clip).save({
		orgId: t.orgId,
		storeId: t.storeId,
		cameraId: t.cameraId,
		status,
		storageKey: video.key,
		sizeBytes: video.size,
		sha256: video.sha256,
		durationSec: 2,
		width: 64,
		height: 48,
		sourceFps: 5,
		sampleFps: 5,
		segmentSec: 2,
		segmentsTotal: 1,
		framesTotal: 10,
	});
	await db.getRepository(Clip).update({ id: clip.id }, { createdAt: new Date(Date.now() - ageDays * DAY) });
	await db.getRepository(Detection).insert(
		[0, 1, 2].map((frameIndex) => ({
			clipId: clip.id,
			frameIndex,
			ordinal: 0,
			timeSec: frameIndex / 5,
			classId: 0,
			className: "person",
			score: 0.9,
			x1: 0.1,
			y1: 0.1,
			x2: 0.5,
			y2: 0.9,
		})),
	);
	const alert = await db.getRepository(Alert).save({
		orgId: t.orgId,
		storeId: t.storeId,
		cameraId: t.cameraId,
		clipId: clip.id,
		trackNo: 1,
		ruleId: "00000000-0000-4000-8000-000000000001",
		className: "person",
		score: 0.9,
		severity: "high",
		occurredAt: new Date(Date.now() - alertAgeDays * DAY),
		frameTime: 0.2,
		box: [0.1, 0.1, 0.5, 0.9],
		snapshotKey: snapshot.key,
		frameKey: frame.key,
	});
	await db.getRepository(Alert).update({ id: alert.id }, { createdAt: new Date(Date.now() - alertAgeDays * DAY) });
	return { clip, alert, videoKey: video.key, snapshotKey: snapshot.key, frameKey: frame.key };
}

const runNow = () => api.post("/api/v1/admin/retention/run", {}, { token: root });

beforeAll(async () => {
	// Defaults: snapshots kept 365 days; the rest for ever. No schedule: the test runs the cleanup itself.
	cluster = await startCluster({
		SERVICES: "api,auth,tenancy,camera,clip,alert,audit,retention,jobs",
		RETENTION_INTERVAL: "0",
		RETENTION_BATCH: "2",
		RETENTION_SNAPSHOTS_DAYS: "365",
	});
	api = new Client(cluster.url);
	const rootEmail = uniqueEmail("root");
	await cluster.core.call("auth.createUser", { email: rootEmail, password: "super admin passphrase", superAdmin: true });
	root = (await api.post("/api/v1/auth/login", { email: rootEmail, password: "super admin passphrase" })).body.accessToken;
});
afterAll(() => cluster?.stop());

describe("an organization's retention policy", () => {
	it("starts from the node's defaults; its owner sets days per kind (null keeps for ever); an admin may only read it", async () => {
		const t = await tenant("policy-owner");
		const path = `/api/v1/orgs/${t.orgId}/retention`;
		expect((await api.get(path, { token: t.owner.token })).body).toMatchObject({
			clipsDays: null,
			snapshotsDays: 365,
			detectionsDays: null,
			source: "defaults",
		});

		const set = await api.request("PUT", path, { token: t.owner.token, body: { clipsDays: 30, snapshotsDays: null, detectionsDays: 7 } });
		expect(set.status).toBe(200);
		expect(set.body).toMatchObject({ clipsDays: 30, snapshotsDays: null, detectionsDays: 7, source: "organization", defaults: { snapshotsDays: 365 } });
		expect((await api.get(path, { token: t.owner.token })).body).toMatchObject({ clipsDays: 30, snapshotsDays: null, detectionsDays: 7 });

		const [entry] = (await api.get(`/api/v1/orgs/${t.orgId}/audit-log?action=retention.policy_changed`, { token: t.owner.token })).body.items;
		expect(entry.details).toEqual({
			from: { clipsDays: null, snapshotsDays: 365, detectionsDays: null },
			to: { clipsDays: 30, snapshotsDays: null, detectionsDays: 7 },
		});

		const admin = await signUp(api, "policy-admin");
		const invite = await api.post(`/api/v1/orgs/${t.orgId}/invitations`, { email: admin.email, role: "admin" }, { token: t.owner.token });
		await api.post("/api/v1/invitations/accept", { token: invite.body.token }, { token: admin.token });
		expect((await api.get(path, { token: admin.token })).status).toBe(200);
		expect((await api.request("PUT", path, { token: admin.token, body: { clipsDays: 1, snapshotsDays: 1, detectionsDays: 1 } })).status).toBe(403);
	});

	it("refuses days out of range and a policy that leaves a kind out", async () => {
		const t = await tenant("policy-bad");
		const path = `/api/v1/orgs/${t.orgId}/retention`;
		const zero = await api.request("PUT", path, { token: t.owner.token, body: { clipsDays: 0, snapshotsDays: null, detectionsDays: null } });
		expect(zero.status).toBe(422);
		expect(zero.body.error.details[0].field).toBe("clipsDays");
		expect((await api.request("PUT", path, { token: t.owner.token, body: { clipsDays: 3651, snapshotsDays: null, detectionsDays: null } })).status).toBe(422);
		expect((await api.request("PUT", path, { token: t.owner.token, body: { clipsDays: 10 } })).status).toBe(422);
		expect((await api.get(path, { token: t.owner.token })).body.source).toBe("defaults");
	});
});

describe("the cleanup", () => {
	it("removes exactly what is older than each organization's limits, files included, and reports it; a second run removes nothing", async () => {
		const a = await tenant("retention-a");
		const b = await tenant("retention-b");
		await api.request("PUT", `/api/v1/orgs/${a.orgId}/retention`, { token: a.owner.token, body: { clipsDays: 30, snapshotsDays: 10, detectionsDays: 5 } });
		const old = await clipAged(a, 40);
		const middle = await clipAged(a, 20, { alertAgeDays: 12 });
		const recent = await clipAged(a, 3);
		const busy = await clipAged(a, 40, { status: "processing", alertAgeDays: 2 });
		// Org b keeps the defaults: clips and detections for ever, snapshots 365 days.
		const elsewhere = await clipAged(b, 200);
		// Edge boxes' events are detections too, aged by their own time.
		const edgeEvent = async (t: Tenant, ageDays: number) =>
			(await cluster.db()).getRepository(EdgeEvent).save({
				orgId: t.orgId,
				storeId: t.storeId,
				cameraId: t.cameraId,
				tokenId: null,
				eventId: `e${++serial}`,
				time: new Date(Date.now() - ageDays * DAY),
				className: "person",
				score: 0.8,
				box: [0.1, 0.1, 0.2, 0.4],
				trackId: null,
				plate: null,
				trackKey: null,
			});
		const [oldEvent, recentEvent, elsewhereEvent] = [await edgeEvent(a, 6), await edgeEvent(a, 1), await edgeEvent(b, 200)];
		const metric = async (kind: string) =>
			Number((await registry.getSingleMetricAsString("vigil_retention_removed_total")).match(new RegExp(`kind="${kind}"} (\\d+)`))?.[1] ?? 0);
		const before = { clips: await metric("clips"), snapshots: await metric("snapshots"), detections: await metric("detections") };

		const run = await runNow();
		expect(run.status).toBe(200);
		expect(run.body).toMatchObject({ trigger: "manual", errors: [] });
		expect(run.body.finishedAt).toBeTruthy();
		// Totals count every organization of the database (on a shared PostgreSQL, earlier runs' too).
		expect(run.body.perOrg[a.orgId]).toEqual({ clips: 1, snapshots: 2, detections: 7, errors: [] });
		expect(run.body.perOrg[b.orgId]).toBeUndefined();
		expect(run.body.removed.detections).toBeGreaterThanOrEqual(7);

		const db = await cluster.db();
		// clips: the old finished clip's video is gone and the clip is marked; it and its alert stay.
		expect(existsSync(file(old.videoKey))).toBe(false);
		expect((await db.getRepository(Clip).findOneByOrFail({ id: old.clip.id })).expiredAt).toBeInstanceOf(Date);
		for (const kept of [middle, recent, busy, elsewhere]) {
			expect(existsSync(file(kept.videoKey))).toBe(true);
			expect((await db.getRepository(Clip).findOneByOrFail({ id: kept.clip.id })).expiredAt).toBeNull();
		}
		// snapshots: older than 10 days are gone, the alerts stay.
		for (const gone of [old, middle]) {
			expect(existsSync(file(gone.snapshotKey))).toBe(false);
			expect(existsSync(file(gone.frameKey))).toBe(false);
			expect(await db.getRepository(Alert).findOneByOrFail({ id: gone.alert.id })).toMatchObject({ snapshotKey: null, frameKey: null });
		}
		for (const kept of [recent, busy, elsewhere]) expect(existsSync(file(kept.snapshotKey)) && existsSync(file(kept.frameKey))).toBe(true);
		// detections: of finished clips older than 5 days.
		const detections = async (clipId: string) => db.getRepository(Detection).countBy({ clipId });
		expect([
			await detections(old.clip.id),
			await detections(middle.clip.id),
			await detections(recent.clip.id),
			await detections(busy.clip.id),
			await detections(elsewhere.clip.id),
		]).toEqual([0, 0, 3, 3, 3]);
		const events = db.getRepository(EdgeEvent);
		expect([
			await events.existsBy({ id: oldEvent.id }),
			await events.existsBy({ id: recentEvent.id }),
			await events.existsBy({ id: elsewhereEvent.id }),
		]).toEqual([false, true, true]);

		const { removed } = run.body;
		expect({ clips: await metric("clips"), snapshots: await metric("snapshots"), detections: await metric("detections") }).toEqual({
			clips: before.clips + removed.clips,
			snapshots: before.snapshots + removed.snapshots,
			detections: before.detections + removed.detections,
		});

		const again = await runNow();
		expect(again.body.perOrg[a.orgId]).toBeUndefined();
		expect(again.body.perOrg[b.orgId]).toBeUndefined();

		// Each organization sees its own figures of each run, newest first.
		const runsA = (await api.get(`/api/v1/orgs/${a.orgId}/retention/runs`, { token: a.owner.token })).body.items;
		expect(runsA.slice(0, 2).map((r: { id: string; removed: object }) => [r.id, r.removed])).toEqual([
			[again.body.id, { clips: 0, snapshots: 0, detections: 0 }],
			[run.body.id, { clips: 1, snapshots: 2, detections: 7 }],
		]);
		const runsB = (await api.get(`/api/v1/orgs/${b.orgId}/retention/runs`, { token: b.owner.token })).body.items;
		expect(runsB.find((r: { id: string }) => r.id === run.body.id).removed).toEqual({ clips: 0, snapshots: 0, detections: 0 });
		expect((await api.get(`/api/v1/orgs/${a.orgId}/retention/runs`, { token: b.owner.token })).status).toBe(404);
		expect(await db.getRepository(AuditEntry).existsBy({ action: "retention.run", targetId: run.body.id })).toBe(true);
	});

	it("an expired clip keeps its alerts and summary, says when it expired, and cannot be reprocessed", async () => {
		const t = await tenant("retention-expired");
		await api.request("PUT", `/api/v1/orgs/${t.orgId}/retention`, { token: t.owner.token, body: { clipsDays: 1, snapshotsDays: null, detectionsDays: null } });
		const { clip, alert } = await clipAged(t, 2);
		await runNow();
		const base = `/api/v1/orgs/${t.orgId}/stores/${t.storeId}`;
		const got = await api.get(`${base}/clips/${clip.id}`, { token: t.owner.token });
		expect(got.body.expiredAt).toBeTruthy();
		expect((await api.get(`${base}/alerts/${alert.id}`, { token: t.owner.token })).body).toMatchObject({ id: alert.id, hasSnapshot: true });
		const reprocess = await api.post(`${base}/clips/${clip.id}/reprocess`, {}, { token: t.owner.token });
		expect(reprocess.status).toBe(409);
		expect(reprocess.body.error.code).toBe("CLIP_EXPIRED");
		// The clip can still be deleted (its file is already gone).
		expect((await api.delete(`${base}/clips/${clip.id}`, { token: t.owner.token })).status).toBe(204);
	});

	(requireFootage("re-uploading an expired clip") ? it : it.skip)("the same video uploaded again after its clip expired makes a new clip", async () => {
		const t = await tenant("retention-reupload");
		const upload = () =>
			api.request("POST", `/api/v1/orgs/${t.orgId}/stores/${t.storeId}/cameras/${t.cameraId}/clips`, {
				raw: streetClip(),
				token: t.owner.token,
				headers: { "content-type": "video/mp4" },
			});
		const first = await upload();
		expect(first.status).toBe(201);
		const db = await cluster.db();
		await db.getRepository(Clip).update({ id: first.body.id }, { status: "done", createdAt: new Date(Date.now() - 3 * DAY) });
		expect((await upload()).status).toBe(200); // still live: the same clip
		await api.request("PUT", `/api/v1/orgs/${t.orgId}/retention`, { token: t.owner.token, body: { clipsDays: 1, snapshotsDays: null, detectionsDays: null } });
		await runNow();
		const second = await upload();
		expect(second.status).toBe(201);
		expect(second.body.id).not.toBe(first.body.id);
		// No detector runs here: leave nothing queued for a later start on a shared database to pick up.
		await db.getRepository(Clip).update({ id: second.body.id }, { status: "done" });
	});

	// Embedded: one node and one database session, no lock to contend for.
	(onPostgres ? it : it.skip)("a run while another node holds the cluster-wide lock answers 409", async () => {
		const db = await cluster.db();
		const other = db.createQueryRunner();
		await other.connect();
		try {
			await other.query("SELECT pg_advisory_lock(74221002)");
			const res = await runNow();
			expect(res.status).toBe(409);
			expect(res.body.error.code).toBe("RETENTION_RUNNING");
		} finally {
			await other.query("SELECT pg_advisory_unlock(74221002)");
			await other.release();
		}
		expect((await runNow()).status).toBe(200);
	});

	it("only super-admins run it on demand", async () => {
		const t = await tenant("retention-nosy");
		expect((await api.post("/api/v1/admin/retention/run", {}, { token: t.owner.token })).status).toBe(403);
		expect((await api.post("/api/v1/admin/retention/run", {})).status).toBe(401);
	});
});
