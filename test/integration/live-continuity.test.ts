/**
 * A live camera's consecutive segments are one stream to the tracker: a person walking across the cut between two
 * segments is one track and raises one alert (with no cooldown to hide a second one), counted in the segment where
 * they were first confirmed. A segment evaluated before the one before it waits, and goes on once that one is done.
 * Segments are fixtures (a small generated video, detections written straight to the database): no detector runs.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { Alert, Clip, ClipEvaluation, ClipSegment, Detection, Track } from "../../entities";
import { mediaStorage } from "../../lib/media/storage";
import { startCluster, type Cluster } from "../support/cluster";
import { Client, signUp } from "../support/http";
import { eventually, testPatternVideo } from "../support/media";

const WIDTH = 160,
	HEIGHT = 120,
	FPS = 5,
	FRAMES = 10;

let cluster: Cluster;
let orgId: string, storeId: string, cameraId: string;
let video: { key: string; size: number };

beforeAll(async () => {
	cluster = await startCluster({ SERVICES: "api,auth,tenancy,camera,clip,alert" });
	const api = new Client(cluster.url);
	const owner = (await signUp(api, "continuity")).token;
	orgId = (await api.post("/api/v1/orgs", { name: "Continuity" }, { token: owner })).body.id;
	storeId = (await api.post(`/api/v1/orgs/${orgId}/stores`, { name: "Street" }, { token: owner })).body.id;
	cameraId = (await api.post(`/api/v1/orgs/${orgId}/stores/${storeId}/cameras`, { name: "Live", sampleFps: FPS }, { token: owner })).body.id;
	// No cooldown: a second alert for the same person would not be held back by one.
	const rule = await api.post(`/api/v1/orgs/${orgId}/stores/${storeId}/alert-rules`, { name: "People", classes: ["person"], cooldownSec: 0 }, { token: owner });
	expect(rule.status).toBe(201);
	const file = testPatternVideo({ width: WIDTH, height: HEIGHT, fps: FPS, frames: FRAMES });
	video = await mediaStorage(cluster.config.dataDir).put("clips", "mp4", Readable.from([readFileSync(file)]));
}, 120_000);
afterAll(() => cluster?.stop());

/** A live segment of the camera starting at `recordedAt`, its detections written: one person walking right from `x0`, frame after frame. */
async function segment(recordedAt: Date, x0: number): Promise<Clip> {
	const db = await cluster.db();
	const clip = await db.getRepository(Clip).save({
		orgId,
		storeId,
		cameraId,
		source: "live" as const,
		recordedAt,
		status: "processing" as const,
		storageKey: video.key,
		sizeBytes: video.size,
		sha256: randomBytes(32).toString("hex"),
		durationSec: FRAMES / FPS,
		width: WIDTH,
		height: HEIGHT,
		sourceFps: FPS,
		sampleFps: FPS,
		segmentSec: FRAMES / FPS,
		segmentsTotal: 1,
		framesTotal: FRAMES,
		framesDone: FRAMES,
	});
	await db.getRepository(ClipSegment).insert({ clipId: clip.id, index: 0, firstFrame: 0, frameCount: FRAMES, status: "done", framesDone: FRAMES });
	await db.getRepository(Detection).insert(
		Array.from({ length: FRAMES }, (_, frame) => {
			const x = x0 + frame * 0.03;
			return {
				clipId: clip.id,
				frameIndex: frame,
				ordinal: 0,
				timeSec: frame / FPS,
				classId: 0,
				className: "person",
				score: 0.9,
				x1: x,
				y1: 0.2,
				x2: x + 0.15,
				y2: 0.7,
			};
		}),
	);
	return clip;
}

const finished = (clipId: string) =>
	eventually(async () => {
		const clip = await (await cluster.db()).getRepository(Clip).findOneBy({ id: clipId });
		return clip?.status === "done" ? clip : undefined;
	}, 30_000);

it("a person walking across the cut between two live segments is one track and one alert, counted once", async () => {
	const db = await cluster.db();
	const t0 = new Date(Date.now() - 60_000);
	const first = await segment(t0, 0.05);
	// The next segment starts where the first ended; the person walks on from where they were.
	const second = await segment(new Date(t0.getTime() + (FRAMES / FPS) * 1000), 0.05 + FRAMES * 0.03);

	// The second is evaluated first: it waits for the first, writing nothing.
	await cluster.core.call("alert.evaluateClip", { clipId: second.id });
	await cluster.core.call("alert.evaluateClip", { clipId: first.id });
	await finished(first.id);
	const done = await finished(second.id);

	const alerts = await db.getRepository(Alert).find({ where: { cameraId } });
	expect(alerts).toHaveLength(1);
	expect(alerts[0].clipId).toBe(first.id);
	const firstDone = await db.getRepository(Clip).findOneByOrFail({ id: first.id });
	expect(firstDone.summary?.counts).toEqual({ person: 1 });
	expect(done.summary?.counts ?? {}).toEqual({});
	// Stored once, where it was confirmed, ending at the cut.
	expect(await db.getRepository(Track).countBy({ clipId: first.id })).toBe(1);
	expect(await db.getRepository(Track).countBy({ clipId: second.id })).toBe(0);
	expect((await db.getRepository(ClipEvaluation).findOneByOrFail({ clipId: second.id })).handover).not.toBeNull();
}, 90_000);

it("after a break in the stream, the next segment starts afresh: a person then is a new track and a new alert", async () => {
	const db = await cluster.db();
	const t0 = new Date(Date.now() - 30_000);
	const first = await segment(t0, 0.05);
	// Ten seconds of nothing between them: a reconnect, not a cut.
	const later = await segment(new Date(t0.getTime() + (FRAMES / FPS) * 1000 + 10_000), 0.05 + FRAMES * 0.03);
	await cluster.core.call("alert.evaluateClip", { clipId: first.id });
	await finished(first.id);
	await cluster.core.call("alert.evaluateClip", { clipId: later.id });
	const done = await finished(later.id);
	expect(done.summary?.counts).toEqual({ person: 1 });
	expect(await db.getRepository(Alert).countBy({ clipId: later.id })).toBe(1);
}, 90_000);
