/**
 * Fault tolerance over NATS: two detector processes share a clip's segments as competing consumers; one is
 * killed with SIGKILL mid-clip. The clip still completes, every sampled frame's detections are stored once,
 * and no alert is raised twice. Needs TRANSPORTER (CI sets it) and the footage in ../shared.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { Alert, Detection } from "../../entities";
import { startCluster, type Cluster } from "../support/cluster";
import { Client, signUp } from "../support/http";
import { eventually, hasStreetClip, streetClip } from "../support/media";
import { SseClient } from "../support/sse";

const ROOT = join(__dirname, "..", "..");
const runnable = Boolean(process.env.TRANSPORTER) && hasStreetClip;
if (!runnable) console.warn("fault.test.ts skipped: needs TRANSPORTER=nats://... and ../shared/media/vtest_10s.mp4");
const describeFault = runnable ? describe : describe.skip;

describeFault("a detector node dies mid-clip", () => {
	let cluster: Cluster;
	const detectors: ChildProcess[] = [];
	const ACK_WAIT = "3000";

	beforeAll(async () => {
		// The detector nodes run as real separate processes from the compiled sources.
		execFileSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", join(ROOT, "tsconfig.build.json")], { stdio: "inherit" });
		cluster = await startCluster({ SERVICES: "api,auth,tenancy,camera,clip,alert", JOB_ACK_WAIT: ACK_WAIT });
		for (let i = 0; i < 2; i++) {
			const child = spawn(process.execPath, [join(ROOT, "dist", "bin", "vigil.js"), "start"], {
				env: {
					...process.env,
					SERVICES: "detector",
					TRANSPORTER: cluster.config.transporter,
					NAMESPACE: cluster.config.namespace,
					DATA_DIR: cluster.config.dataDir,
					JWT_SECRET: cluster.config.jwtSecret,
					ENCRYPTION_KEY: cluster.config.encryptionKey.toString("hex"),
					JOB_ACK_WAIT: ACK_WAIT,
					METRICS_PORT: "0",
					LOG_LEVEL: "warn",
					LOG_FORMAT: "json",
					DETECT_CONCURRENCY: "1",
				},
				stdio: ["ignore", "inherit", "inherit"],
			});
			detectors.push(child);
		}
		await eventually(
			async () => {
				const nodes = cluster.core.registry.getServiceList({ onlyAvailable: true }).filter((s: { name: string }) => s.name === "detector");
				return nodes.length >= 2 ? true : undefined;
			},
			90_000,
			500,
		);
	}, 150_000);

	afterAll(async () => {
		for (const child of detectors) if (child.exitCode === null) child.kill("SIGKILL");
		await cluster?.stop();
	});

	it("the clip completes, each frame is stored once, and no alert is duplicated", async () => {
		const api = new Client(cluster.url);
		const token = (await signUp(api, "fault")).token;
		const org = (await api.post("/api/v1/orgs", { name: "Fault Org" }, { token })).body;
		const store = (await api.post(`/api/v1/orgs/${org.id}/stores`, { name: "S" }, { token })).body;
		const base = `/api/v1/orgs/${org.id}/stores/${store.id}`;
		const camera = (await api.post(`${base}/cameras`, { name: "C", classes: ["person"] }, { token })).body;
		await api.post(`${base}/alert-rules`, { name: "People", classes: ["person"], minScore: 0.5, cooldownSec: 0 }, { token });
		const live = await new SseClient(`${cluster.url}/api/v1/alerts/stream`, { authorization: `Bearer ${token}` }).open();

		const clip = (await api.request("POST", `${base}/cameras/${camera.id}/clips`, { raw: streetClip(), headers: { "content-type": "video/mp4" }, token })).body;
		// Kill one detector while segments are being worked on.
		await eventually(async () => ((await api.get(`${base}/clips/${clip.id}`, { token })).body.progress.framesDone >= 10 ? true : undefined), 120_000, 100);
		detectors[0].kill("SIGKILL");

		const done = await eventually(
			async () => {
				const c = (await api.get(`${base}/clips/${clip.id}`, { token })).body;
				return c.status === "done" && c.summary ? c : undefined;
			},
			180_000,
			500,
		);
		expect(done.progress.framesDone).toBe(50);

		const db = await cluster.db();
		const rows = await db.getRepository(Detection).findBy({ clipId: clip.id });
		const keys = rows.map((d) => `${d.frameIndex}:${d.ordinal}`);
		expect(new Set(keys).size).toBe(keys.length);
		// Every segment's frames were detected: people appear across the whole clip.
		const frames = new Set(rows.map((d) => d.frameIndex));
		for (let segment = 0; segment < 5; segment++) expect([...frames].some((f) => f >= segment * 10 && f < segment * 10 + 10)).toBe(true);

		const alerts = await db.getRepository(Alert).findBy({ clipId: clip.id });
		expect(alerts.length).toBeGreaterThan(0);
		expect(new Set(alerts.map((a) => `${a.trackNo}:${a.ruleId}`)).size).toBe(alerts.length);
		await eventually(async () => (live.alerts().length >= alerts.length ? true : undefined), 30_000);
		const pushed = live.alerts<{ id: string }>().map((a) => a.id);
		expect(new Set(pushed).size).toBe(pushed.length);
		expect(pushed.sort()).toEqual(alerts.map((a) => a.id).sort());
		await live.close();
	}, 360_000);
});
