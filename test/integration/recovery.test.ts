/**
 * Losing nothing: a clip whose video breaks partway ends failed with the reason and keeps what was detected
 * before; and a node restart picks up clips that were still queued (the database is the source of truth).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServiceBroker } from "moleculer";
import { toolPath } from "../../lib/media/tools";
import { createNode } from "../../app/node";
import { deleteStreams, startCluster, testConfig, waitForReady, type Cluster } from "../support/cluster";
import { Client, signUp } from "../support/http";
import { describeWithFootage, eventually, STREET_CLIP } from "../support/media";

async function tenant(api: Client, name: string) {
	const token = (await signUp(api, name)).token;
	const org = (await api.post("/api/v1/orgs", { name }, { token })).body;
	const store = (await api.post(`/api/v1/orgs/${org.id}/stores`, { name: "S" }, { token })).body;
	const base = `/api/v1/orgs/${org.id}/stores/${store.id}`;
	const camera = (await api.post(`${base}/cameras`, { name: "C", classes: ["person"] }, { token })).body;
	return { token, base, camera: camera.id as string };
}

const urlOf = (broker: ServiceBroker) =>
	`http://127.0.0.1:${((broker.getLocalService("api") as unknown as { server: import("node:http").Server }).server.address() as { port: number }).port}`;

describeWithFootage("recovery", () => {
	it("a clip that breaks partway ends failed with the reason, keeping the detections made before", async () => {
		// A faststart copy cut short: its first seconds decode (so the upload is accepted), the rest does not.
		const dir = mkdtempSync(join(tmpdir(), "vigil-broken-"));
		const faststart = join(dir, "faststart.mp4");
		execFileSync(toolPath("ffmpeg"), ["-v", "error", "-y", "-i", STREET_CLIP, "-c", "copy", "-movflags", "+faststart", faststart]);
		const broken = readFileSync(faststart).subarray(0, 380_000);
		rmSync(dir, { recursive: true, force: true });

		const cluster: Cluster = await startCluster();
		try {
			const api = new Client(cluster.url);
			const { token, base, camera } = await tenant(api, "broken");
			const uploaded = await api.request("POST", `${base}/cameras/${camera}/clips`, { raw: broken, headers: { "content-type": "video/mp4" }, token });
			expect(uploaded.status).toBe(201);
			const ended = await eventually(
				async () => {
					const c = (await api.get(`${base}/clips/${uploaded.body.id}`, { token })).body;
					return c.status === "failed" || c.status === "done" ? c : undefined;
				},
				120_000,
				500,
			);
			expect(ended.status).toBe("failed");
			expect(ended.failureReason).toMatch(/Decoding failed/);
			const detections = (await api.get(`${base}/clips/${uploaded.body.id}/detections`, { token })).body.items as { frameIndex: number }[];
			expect(detections.some((d) => d.frameIndex < 10)).toBe(true);
		} finally {
			await cluster.stop();
		}
	}, 150_000);

	it("clips still queued when a node stops are processed after it starts again", async () => {
		const dataDir = mkdtempSync(join(tmpdir(), "vigil-restart-"));
		// The same data directory and database for both lives of the node (on-disk PGlite when no DATABASE_URL).
		const config = testConfig({ DATA_DIR: dataDir, DATABASE_URL: process.env.DATABASE_URL ?? "" });
		const withoutDetector = createNode({ ...config, services: config.services.filter((s) => s !== "detector") }, { nodeID: `first-${config.namespace}` });
		await withoutDetector.start();
		let clipId: string, token: string, base: string;
		try {
			await waitForReady(urlOf(withoutDetector));
			const api = new Client(urlOf(withoutDetector));
			const t = await tenant(api, "restart");
			({ token, base } = t);
			const uploaded = await api.request("POST", `${base}/cameras/${t.camera}/clips`, {
				raw: readFileSync(STREET_CLIP),
				headers: { "content-type": "video/mp4" },
				token,
			});
			expect(uploaded.body.status).toBe("queued");
			clipId = uploaded.body.id;
		} finally {
			await withoutDetector.stop();
		}

		const again = createNode(config, { nodeID: `second-${config.namespace}` });
		await again.start();
		try {
			const api = new Client(urlOf(again));
			await waitForReady(urlOf(again));
			const done = await eventually(
				async () => {
					const c = (await api.get(`${base}/clips/${clipId}`, { token })).body;
					return c.status === "done" ? c : undefined;
				},
				180_000,
				500,
			);
			expect(done.progress.framesDone).toBe(50);
		} finally {
			await again.stop();
			if (config.transporter) await deleteStreams(config.transporter, config.namespace);
			rmSync(dataDir, { recursive: true, force: true });
		}
	}, 210_000);
});
