/**
 * A detector node told to stop (SIGTERM, as Kubernetes does on a rollout or scale-down) finishes the segment in
 * hand, commits and acknowledges it, and only then lets go of its model: no failed attempt, no redelivery, no
 * dead letter. A real process on a private nats-server; runs in the PostgreSQL + NATS pass, once.
 */
import { connect } from "nats";
import { ClipSegment } from "../../entities";
import { jobStreamNames } from "../../lib/jobs";
import { startCluster, type Cluster } from "../support/cluster";
import { Client, signUp } from "../support/http";
import { eventually, requireFootage, streetClip } from "../support/media";
import { privateServers, processTestsRunnable, startNode, stopProcess, type NodeProcess } from "../support/processes";
import { describeWhen } from "../support/require";

const runnable = processTestsRunnable("graceful-stop.test.ts", () => requireFootage("the graceful stop test"));

describeWhen(runnable)("a detector node stopped with SIGTERM mid-job", () => {
	let cluster: Cluster;
	let servers: Awaited<ReturnType<typeof privateServers>>;
	const detectors: NodeProcess[] = [];
	let env: Record<string, string>;

	beforeAll(async () => {
		servers = await privateServers("stop", { JOB_ACK_WAIT: "3000" });
		env = servers.env;
		cluster = await startCluster({ ...env, SERVICES: "api,auth,tenancy,camera,clip,alert" });
		detectors.push(startNode({ ...env, SERVICES: "detector", DETECT_CONCURRENCY: "1" }));
		await eventually(
			async () => (cluster.core.registry.getServiceList({ onlyAvailable: true }).some((s: { name: string }) => s.name === "detector") ? true : undefined),
			120_000,
			250,
		);
	}, 240_000);

	afterAll(async () => {
		for (const node of detectors) await stopProcess(node.child, "SIGKILL");
		await cluster?.stop();
		await servers?.stop();
	}, 60_000);

	it("finishes and acknowledges the segment in hand before it exits", async () => {
		const api = new Client(cluster.url);
		const { token } = await signUp(api, "stopping");
		const org = (await api.post("/api/v1/orgs", { name: "Stop" }, { token })).body;
		const store = (await api.post(`/api/v1/orgs/${org.id}/stores`, { name: "S" }, { token })).body;
		const base = `/api/v1/orgs/${org.id}/stores/${store.id}`;
		const camera = (await api.post(`${base}/cameras`, { name: "C", classes: ["person"] }, { token })).body;
		const clipId = (await api.request("POST", `${base}/cameras/${camera.id}/clips`, { raw: streetClip(), headers: { "content-type": "video/mp4" }, token }))
			.body.id as string;

		// The detector holds a job: stop it now.
		await eventually(async () => ((await cluster.core.call<{ inFlight: number }>("detector.status")).inFlight > 0 ? true : undefined), 120_000, 20);
		const db = await cluster.db();
		const doneBefore = await db.getRepository(ClipSegment).countBy({ clipId, status: "done" });
		const [first] = detectors;
		first.child.kill("SIGTERM");
		expect(await first.exited).toBe(0);
		// The segment it held was committed before it went.
		expect(await db.getRepository(ClipSegment).countBy({ clipId, status: "done" })).toBeGreaterThan(doneBefore);

		detectors.push(startNode({ ...env, SERVICES: "detector", DETECT_CONCURRENCY: "1" }));
		const clip = await eventually(
			async () => {
				const c = (await api.get(`${base}/clips/${clipId}`, { token })).body;
				return c.status === "done" ? c : undefined;
			},
			240_000,
			250,
		);
		expect(clip.progress.framesDone).toBe(50);

		const nc = await connect({ servers: servers.nats.url });
		try {
			const jsm = await nc.jetstreamManager();
			const names = jobStreamNames("stop", "detector");
			const consumer = await jsm.consumers.info(names.stream, names.durable);
			expect(consumer.num_redelivered).toBe(0);
			expect((await jsm.streams.info(names.deadStream)).state.messages).toBe(0);
		} finally {
			await nc.close();
		}
		expect(first.output()).not.toMatch(/"level":"(error|fatal)"/);
	}, 480_000);
});
