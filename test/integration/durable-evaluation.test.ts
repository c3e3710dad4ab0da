/**
 * Nothing is lost between detection and alert: the node running `clip` and `alert` is killed (SIGKILL) while a
 * clip's segments are committing, then started again. The clip must end `done` with the same summary, tracks and
 * alerts as a clean run of the same footage on another camera. Real processes on a private nats-server and a
 * fresh database; this runs in the PostgreSQL + NATS pass (TRANSPORTER and DATABASE_URL set), once.
 */
import { startCluster, type Cluster } from "../support/cluster";
import { Client, signUp } from "../support/http";
import { eventually, requireFootage, streetClip } from "../support/media";
import { privateServers, processTestsRunnable, startNode, stopProcess, type NodeProcess } from "../support/processes";
import { describeWhen } from "../support/require";

const runnable = processTestsRunnable("durable-evaluation.test.ts", () => requireFootage("the durable evaluation test"));

interface Outcome {
	summary: unknown;
	tracks: unknown[];
	alerts: unknown[];
}

describeWhen(runnable)("a clip/alert node killed while segments commit", () => {
	let cluster: Cluster;
	let servers: Awaited<ReturnType<typeof privateServers>>;
	let core: NodeProcess;
	let detector: NodeProcess;
	let env: Record<string, string>;

	beforeAll(async () => {
		// Short ack wait, so a job whose node died comes back quickly; many attempts, so retries while the node is down cannot run out.
		servers = await privateServers("fault", { JOB_ACK_WAIT: "3000", JOB_MAX_ATTEMPTS: "50" });
		env = servers.env;
		core = startNode({ ...env, SERVICES: "clip,alert" });
		detector = startNode({ ...env, SERVICES: "detector", DETECT_CONCURRENCY: "1" });
		cluster = await startCluster({ ...env, SERVICES: "api,auth,tenancy,camera" });
		await eventually(
			async () => (cluster.core.registry.getServiceList({ onlyAvailable: true }).some((s: { name: string }) => s.name === "detector") ? true : undefined),
			120_000,
			500,
		);
	}, 240_000);

	afterAll(async () => {
		for (const node of [core, detector]) if (node) await stopProcess(node.child, "SIGKILL");
		await cluster?.stop();
		await servers?.stop();
	}, 60_000);

	it("ends the clip done with the summary, tracks and alerts of a clean run", async () => {
		const api = new Client(cluster.url);
		const { token } = await signUp(api, "durable");
		const org = (await api.post("/api/v1/orgs", { name: "Durable" }, { token })).body;
		const store = (await api.post(`/api/v1/orgs/${org.id}/stores`, { name: "S" }, { token })).body;
		const base = `/api/v1/orgs/${org.id}/stores/${store.id}`;
		const [clean, crashed] = [
			(await api.post(`${base}/cameras`, { name: "Clean", classes: ["person"] }, { token })).body,
			(await api.post(`${base}/cameras`, { name: "Crashed", classes: ["person"] }, { token })).body,
		];
		expect((await api.post(`${base}/alert-rules`, { name: "People", classes: ["person"], cooldownSec: 0 }, { token })).status).toBe(201);

		const upload = async (cameraId: string) =>
			(await api.request("POST", `${base}/cameras/${cameraId}/clips`, { raw: streetClip(), headers: { "content-type": "video/mp4" }, token })).body
				.id as string;
		const clip = (clipId: string) => api.get(`${base}/clips/${clipId}`, { token }).then((r) => r.body);
		const finished = (clipId: string) =>
			eventually(
				async () => {
					const c = await clip(clipId);
					return c.status === "done" || c.status === "failed" ? c : undefined;
				},
				240_000,
				250,
			);
		const outcome = async (clipId: string): Promise<Outcome> => {
			const c = await finished(clipId);
			const tracks = (await api.get(`${base}/clips/${clipId}/tracks`, { token })).body.items;
			const alerts = (
				(await api.get(`${base}/alerts?limit=200`, { token })).body.items as {
					clipId: string;
					trackNo: number;
					ruleId: string;
					className: string;
					score: number;
					frameTime: number;
					box: number[];
					hasSnapshot: boolean;
				}[]
			)
				.filter((a) => a.clipId === clipId)
				.map(({ trackNo, ruleId, className, score, frameTime, box, hasSnapshot }) => ({ trackNo, ruleId, className, score, frameTime, box, hasSnapshot }))
				.sort((a, b) => a.trackNo - b.trackNo);
			return { summary: { status: c.status, ...c.summary, framesDone: c.progress.framesDone }, tracks, alerts };
		};

		const cleanRun = await outcome(await upload(clean.id));
		expect(cleanRun.alerts.length).toBeGreaterThan(0);
		expect(cleanRun.summary).toMatchObject({ status: "done", framesDone: 50 });
		// Each track's path, for drawing it over a still: anchor points in the frame, from its first to its last observation.
		const tracks = cleanRun.tracks as { firstTime: number; lastTime: number; path: [number, number, number][] }[];
		expect(tracks.length).toBeGreaterThan(0);
		for (const { firstTime, lastTime, path } of tracks) {
			expect(path.length).toBeGreaterThan(0);
			expect(path.length).toBeLessThanOrEqual(64);
			expect(path[0][0]).toBeCloseTo(firstTime, 5);
			expect(path[path.length - 1][0]).toBeCloseTo(lastTime, 5);
			for (const [time, x, y] of path) {
				expect(time).toBeGreaterThanOrEqual(firstTime - 1e-6);
				expect(time).toBeLessThanOrEqual(lastTime + 1e-6);
				for (const v of [x, y]) expect(v >= 0 && v <= 1).toBe(true);
			}
		}

		const clipId = await upload(crashed.id);
		// Killed once a segment has committed and while more are coming: evaluation of what committed is pending or running.
		await eventually(async () => ((await clip(clipId)).progress.framesDone >= 10 ? true : undefined), 120_000, 50);
		await stopProcess(core.child, "SIGKILL");
		core = startNode({ ...env, SERVICES: "clip,alert" });

		expect(await outcome(clipId)).toEqual(cleanRun);
	}, 480_000);
});
