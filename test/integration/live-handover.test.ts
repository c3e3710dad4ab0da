/**
 * A live segment the pipeline cannot take yet (no clip service, as while it restarts) is kept on the stream node
 * and handed over once a clip service is back, in recording order, none of them lost: the recording has no gap.
 * Segments are told apart by their start, so a frozen camera's identical segments are all kept.
 */
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import type { ServiceSchema } from "moleculer";
import { mediaStorage } from "../../lib/media/storage";
import ClipServiceSchema from "../../services/clip.service";
import { startCluster, type Cluster } from "../support/cluster";
import { Client, signUp } from "../support/http";
import { eventually, testPatternVideo } from "../support/media";
import { describeWhen } from "../support/require";
import { rtspAvailable, startRtspServer, type RtspServer } from "../support/rtsp";

const FPS = 10;
const WAIT_MS = 60_000;

describeWhen(rtspAvailable())("live segments while the clip service is away", () => {
	let cluster: Cluster;
	let server: RtspServer;

	beforeAll(async () => {
		// A keyframe every second: stream-copied segments are cut at SEGMENT_SECONDS (1 s here).
		server = await startRtspServer({ file: testPatternVideo({ width: 160, height: 120, fps: FPS, frames: 20 * FPS, keyframeEvery: FPS }) });
		cluster = await startCluster({
			SERVICES: "api,auth,tenancy,camera,clip,alert,stream",
			SEGMENT_SECONDS: "1",
			STREAM_LEASE_SECONDS: "3",
			STREAM_RECONNECT_MAX_MS: "1000",
		});
	}, 60_000);
	afterAll(async () => {
		await cluster?.stop();
		await server?.stop();
	}, 60_000);

	it(
		"keeps its segments while no clip service runs and hands them all over, in order, when one is back",
		async () => {
			const api = new Client(cluster.url);
			const owner = (await signUp(api, "handover")).token;
			const orgId = (await api.post("/api/v1/orgs", { name: "Handover" }, { token: owner })).body.id;
			const storeBase = `/api/v1/orgs/${orgId}/stores/${(await api.post(`/api/v1/orgs/${orgId}/stores`, { name: "Door" }, { token: owner })).body.id}`;
			const camera = await api.post(`${storeBase}/cameras`, { name: "Door", kind: "rtsp", streamUrl: server.url, sampleFps: 1 }, { token: owner });
			expect(camera.status).toBe(201);

			const clipsOf = async () => {
				const res = await api.get(`${storeBase}/clips?cameraId=${camera.body.id}&limit=100`, { token: owner });
				return (res.body.items ?? []) as { recordedAt: string; durationSec: number }[];
			};
			await eventually(async () => ((await clipsOf()).length >= 1 ? true : undefined), WAIT_MS);

			// The clip service goes away until four segments wait on the stream node behind the one it keeps offering.
			const away = Date.now();
			await cluster.core.destroyService(cluster.core.getLocalService("clip"));
			const stream = cluster.core.getLocalService("stream") as unknown as { pulls: Map<string, { session: { waiting(): number } }> };
			await eventually(async () => ((stream.pulls.get(camera.body.id)?.session.waiting() ?? 0) >= 4 ? true : undefined), WAIT_MS);
			const back = Date.now();
			cluster.core.createService(ClipServiceSchema as unknown as ServiceSchema);
			const clips = await eventually(async () => {
				const items = await clipsOf();
				const during = items.filter((c) => Date.parse(c.recordedAt) >= away && Date.parse(c.recordedAt) < back);
				return during.length >= 3 ? items : undefined;
			}, WAIT_MS);
			// Each segment starts where the one before it ended: nothing between them went missing.
			const ordered = clips.map((c) => ({ start: Date.parse(c.recordedAt), duration: c.durationSec })).sort((a, b) => a.start - b.start);
			for (let i = 1; i < ordered.length; i++) expect(ordered[i].start - (ordered[i - 1].start + ordered[i - 1].duration * 1000)).toBeLessThan(500);
		},
		3 * WAIT_MS,
	);

	it("a live segment is one by its start, not its bytes: a frozen camera's identical segments are all kept, a repeated hand-over is one clip", async () => {
		const api = new Client(cluster.url);
		const owner = (await signUp(api, "frozen")).token;
		const orgId = (await api.post("/api/v1/orgs", { name: "Frozen" }, { token: owner })).body.id;
		const storeBase = `/api/v1/orgs/${orgId}/stores/${(await api.post(`/api/v1/orgs/${orgId}/stores`, { name: "Back" }, { token: owner })).body.id}`;
		const cameraId = (await api.post(`${storeBase}/cameras`, { name: "Back door", sampleFps: 1 }, { token: owner })).body.id;
		const bytes = readFileSync(testPatternVideo({ width: 64, height: 48, fps: 5, frames: 10 }));
		const handOver = async (recordedAt: Date) => {
			const stored = await mediaStorage(cluster.config.dataDir).put("clips", "mp4", Readable.from([bytes]));
			const clip = await cluster.core.call("clip.registerLive", {
				orgId,
				cameraId,
				storageKey: stored.key,
				size: stored.size,
				sha256: stored.sha256,
				recordedAt,
			});
			return (clip as { id: string }).id;
		};
		const start = Date.now();
		const first = await handOver(new Date(start));
		const second = await handOver(new Date(start + 2000));
		const again = await handOver(new Date(start));
		expect(second).not.toBe(first);
		expect(again).toBe(first);
		const items = (await api.get(`${storeBase}/clips?cameraId=${cameraId}`, { token: owner })).body.items as { id: string }[];
		expect(items.map((c) => c.id).sort()).toEqual([first, second].sort());
	});
});
