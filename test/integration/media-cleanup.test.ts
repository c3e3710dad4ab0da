/**
 * Deleting a camera, a store or an organization takes its clips' videos and its alerts' pictures off the disk,
 * not only its rows; alerts raised from edge events (which have no clip) go with their camera.
 */
import { existsSync } from "node:fs";
import { Readable } from "node:stream";
import { Alert, Clip } from "../../entities";
import { mediaStorage } from "../../lib/media/storage";
import { startCluster, type Cluster } from "../support/cluster";
import { Client, signUp } from "../support/http";

let cluster: Cluster;
let api: Client;
let serial = 0;
const RULE = "00000000-0000-4000-8000-000000000001";

beforeAll(async () => {
	cluster = await startCluster();
	api = new Client(cluster.url);
});
afterAll(() => cluster?.stop());

const storage = () => mediaStorage(cluster.config.dataDir);
const stored = async (kind: "clips" | "snapshots", ext: string) => (await storage().put(kind, ext, Readable.from([Buffer.from(`file ${++serial}`)]))).key;
const onDisk = (keys: string[]) => keys.map((key) => existsSync(storage().localPath(key)));

/** A camera with one clip (video, an alert with snapshot and clean frame) and one edge alert (snapshot only). */
async function cameraWithMedia(token: string, orgId: string, storeId: string) {
	const cameraId = (await api.post(`/api/v1/orgs/${orgId}/stores/${storeId}/cameras`, { name: `Cam ${++serial}` }, { token })).body.id as string;
	const db = await cluster.db();
	const video = await stored("clips", "mp4");
	const clip = await db.getRepository(Clip).save({
		orgId,
		storeId,
		cameraId,
		status: "done",
		storageKey: video,
		sizeBytes: 10,
		sha256: `${serial}`.padStart(64, "0"),
		durationSec: 2,
		width: 64,
		height: 48,
		sourceFps: 5,
		sampleFps: 5,
		segmentSec: 2,
		segmentsTotal: 1,
		framesTotal: 10,
	});
	const [snapshot, frame, edgeSnapshot] = [await stored("snapshots", "jpg"), await stored("snapshots", "jpg"), await stored("snapshots", "jpg")];
	const common = {
		orgId,
		storeId,
		cameraId,
		ruleId: RULE,
		className: "person",
		score: 0.9,
		severity: "high" as const,
		occurredAt: new Date(),
		frameTime: 0,
		box: [0.1, 0.1, 0.5, 0.9] as [number, number, number, number],
	};
	await db.getRepository(Alert).save({ ...common, clipId: clip.id, trackNo: 1, snapshotKey: snapshot, frameKey: frame });
	const edge = await db
		.getRepository(Alert)
		.save({ ...common, source: "edge", clipId: null, trackNo: null, edgeTrackKey: `auto:${serial}`, snapshotKey: edgeSnapshot });
	return { cameraId, files: [video, snapshot, frame, edgeSnapshot], edgeAlertId: edge.id };
}

async function tenant() {
	const owner = await signUp(api, "media");
	const orgId = (await api.post("/api/v1/orgs", { name: "Media" }, { token: owner.token })).body.id as string;
	const store = async () => (await api.post(`/api/v1/orgs/${orgId}/stores`, { name: `Store ${++serial}` }, { token: owner.token })).body.id as string;
	return { token: owner.token, orgId, storeA: await store(), storeB: await store() };
}

it("deleting a camera deletes its videos and pictures and its edge alerts; other cameras keep theirs", async () => {
	const t = await tenant();
	const gone = await cameraWithMedia(t.token, t.orgId, t.storeA);
	const kept = await cameraWithMedia(t.token, t.orgId, t.storeA);
	expect(onDisk(gone.files)).toEqual([true, true, true, true]);
	expect((await api.delete(`/api/v1/orgs/${t.orgId}/stores/${t.storeA}/cameras/${gone.cameraId}`, { token: t.token })).status).toBe(204);
	expect(onDisk(gone.files)).toEqual([false, false, false, false]);
	expect(await (await cluster.db()).getRepository(Alert).existsBy({ id: gone.edgeAlertId })).toBe(false);
	expect(onDisk(kept.files)).toEqual([true, true, true, true]);
	expect(await (await cluster.db()).getRepository(Alert).existsBy({ id: kept.edgeAlertId })).toBe(true);
});

it("deleting a store deletes the media of its cameras only; deleting the organization deletes the rest", async () => {
	const t = await tenant();
	const inA = await cameraWithMedia(t.token, t.orgId, t.storeA);
	const inB = await cameraWithMedia(t.token, t.orgId, t.storeB);
	expect((await api.delete(`/api/v1/orgs/${t.orgId}/stores/${t.storeA}`, { token: t.token })).status).toBe(204);
	expect(onDisk(inA.files)).toEqual([false, false, false, false]);
	expect(onDisk(inB.files)).toEqual([true, true, true, true]);
	expect((await api.delete(`/api/v1/orgs/${t.orgId}`, { token: t.token })).status).toBe(204);
	expect(onDisk(inB.files)).toEqual([false, false, false, false]);
	expect(await (await cluster.db()).getRepository(Alert).countBy({ orgId: t.orgId })).toBe(0);
});
