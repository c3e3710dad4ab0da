/**
 * Detection keeps up or degrades on purpose: a still scene skips inference after each segment's first frame and
 * keeps its detections; a live segment queued while the detectors are behind is detected every n-th frame (the
 * frames between keep the detections before them); an upload queued behind the same backlog is detected on every
 * frame; a camera its owner set to detect every other frame is detected so. The clips are queued with no detector running, so the backlog is there when they are; then one starts.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { ServiceSchema } from "moleculer";
import { mediaStorage } from "../../lib/media/storage";
import { toolPath } from "../../lib/media/tools";
import { registry } from "../../lib/platform/metrics";
import DetectorServiceSchema from "../../services/detector.service";
import { startCluster, type Cluster } from "../support/cluster";
import { Client, signUp } from "../support/http";
import { describeWithFootage, eventually, STREET_CLIP, streetClip } from "../support/media";

const STRIDE_BACKLOG = 2;
const STRIDE_MAX = 3;
/** About 70 inferences of the bundled model on one core, with room for a loaded machine. */
const DONE_MS = 240_000;

/** A cut of the street clip re-encoded with a keyframe at its start, as a live segment is; or its first frame held still. */
function streetCut(args: string[]): Buffer {
	const file = join(mkdtempSync(join(tmpdir(), "vigil-degrade-")), "cut.mp4");
	const made = spawnSync(toolPath("ffmpeg"), ["-v", "error", ...args, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-an", "-y", file]);
	if (made.status !== 0) throw new Error(`ffmpeg: ${made.stderr}`);
	return readFileSync(file);
}

type Row = { frameIndex: number; className: string; score: number; box: number[] };

describeWithFootage("detection under load and on still scenes", () => {
	let cluster: Cluster;
	let api: Client;
	let owner: string;
	let storeBase: string;
	let cameraId: string;

	beforeAll(async () => {
		cluster = await startCluster({
			SERVICES: "api,auth,tenancy,camera,clip,alert",
			LIVE_STRIDE_BACKLOG: String(STRIDE_BACKLOG),
			LIVE_STRIDE_MAX: String(STRIDE_MAX),
		});
		api = new Client(cluster.url);
		owner = (await signUp(api, "degrade")).token;
		const orgId = (await api.post("/api/v1/orgs", { name: "Degrade" }, { token: owner })).body.id;
		storeBase = `/api/v1/orgs/${orgId}/stores/${(await api.post(`/api/v1/orgs/${orgId}/stores`, { name: "Street" }, { token: owner })).body.id}`;
		cameraId = (await api.post(`${storeBase}/cameras`, { name: "Street", sampleFps: 5 }, { token: owner })).body.id;
	}, 60_000);
	afterAll(() => cluster?.stop(), 60_000);

	const upload = async (video: Buffer) => {
		const res = await api.request("POST", `${storeBase}/cameras/${cameraId}/clips`, { raw: video, headers: { "content-type": "video/mp4" }, token: owner });
		expect(res.status).toBe(201);
		return res.body.id as string;
	};
	const detections = async (clipId: string) => {
		const rows = (await api.get(`${storeBase}/clips/${clipId}/detections`, { token: owner })).body.items as Row[];
		const byFrame = new Map<number, string>();
		for (const r of rows) byFrame.set(r.frameIndex, (byFrame.get(r.frameIndex) ?? "") + JSON.stringify([r.className, r.score, r.box]));
		return byFrame;
	};
	const skipped = async (reason: string) =>
		(await registry.getSingleMetric("vigil_detector_frames_skipped_total")!.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

	it(
		"skips still frames, widens a live segment's stride under backlog, and detects every frame of an upload",
		async () => {
			const [stillBefore, strideBefore] = [await skipped("still"), await skipped("stride")];
			// 10 s of street: five segments waiting, more than STRIDE_BACKLOG.
			const street = await upload(streetClip());
			const still = await upload(streetCut(["-i", STREET_CLIP, "-vf", "select=eq(n\\,0),loop=40:1:0,setpts=N/10/TB", "-r", "10", "-frames:v", "40"]));
			const segment = streetCut(["-ss", "2", "-t", "4", "-i", STREET_CLIP, "-g", "40"]);
			const stored = await mediaStorage(cluster.config.dataDir).put("clips", "mp4", Readable.from([segment]));
			const orgId = storeBase.split("/")[4];
			// A camera whose owner chose to detect every other frame: its upload too.
			const entrance = await api.post(`${storeBase}/cameras`, { name: "Entrance", sampleFps: 5, detectEvery: 2 }, { token: owner });
			expect(entrance.body.detectEvery).toBe(2);
			const sparse = await api.request("POST", `${storeBase}/cameras/${entrance.body.id}/clips`, {
				raw: streetCut(["-ss", "5", "-t", "2", "-i", STREET_CLIP]),
				headers: { "content-type": "video/mp4" },
				token: owner,
			});
			expect(sparse.status).toBe(201);
			const live = (
				(await cluster.core.call("clip.registerLive", {
					orgId,
					cameraId,
					storageKey: stored.key,
					size: stored.size,
					sha256: stored.sha256,
					recordedAt: new Date().toISOString(),
				})) as { id: string }
			).id;

			cluster.core.createService(DetectorServiceSchema as unknown as ServiceSchema);
			const clip = async (id: string) => (await api.get(`${storeBase}/clips/${id}`, { token: owner })).body;
			for (const id of [street, still, live, sparse.body.id])
				await eventually(async () => ((await clip(id)).status === "done" ? true : undefined), DONE_MS, 500);

			// The live segment: every STRIDE_MAX-th frame of each 2 s segment detected, the frames between repeat it.
			const liveFrames = await detections(live);
			const liveClip = await clip(live);
			expect(liveClip.progress).toMatchObject({ framesDone: 20, framesTotal: 20 });
			for (let i = 0; i < 20; i++) if ((i % 10) % STRIDE_MAX !== 0) expect(liveFrames.get(i)).toBe(liveFrames.get(i - 1));
			expect(new Set(liveFrames.values()).size).toBeGreaterThan(2);
			// 12 frames of the live segment (20 frames, every third detected) and 5 of the sparse camera's upload (10, every other).
			expect((await skipped("stride")) - strideBefore).toBe(17);

			// The upload behind the same backlog: every frame detected, people moving from one to the next.
			const streetFrames = await detections(street);
			let repeated = 0;
			for (let i = 1; i < 50; i++) if (streetFrames.get(i) === streetFrames.get(i - 1)) repeated++;
			expect(repeated).toBeLessThan(5);

			// The camera detected every other frame: the frames between repeat the one before.
			const sparseFrames = await detections(sparse.body.id);
			for (let i = 1; i < 10; i += 2) expect(sparseFrames.get(i)).toBe(sparseFrames.get(i - 1));
			expect(new Set(sparseFrames.values()).size).toBeGreaterThan(2);

			// The still scene: one inference per segment, the rest keep its detections.
			const stillFrames = await detections(still);
			expect(stillFrames.size).toBeGreaterThan(0);
			for (let i = 0; i < 20; i++) if (i % 10 !== 0) expect(stillFrames.get(i)).toBe(stillFrames.get(i - 1));
			expect((await skipped("still")) - stillBefore).toBeGreaterThanOrEqual(18);
		},
		DONE_MS + 60_000,
	);
});
