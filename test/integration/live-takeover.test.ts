/**
 * A live camera outlives what happens around it. The stream node pulling it is killed outright and the other
 * stream node takes the camera over within the lease; the camera's RTSP server stops and starts again, and the
 * camera goes offline and comes back. Neither raises an alert twice, with no cooldown to hide a second one.
 *
 * How "twice" is told: the street footage loops, each pass one segment (the clip has one keyframe, at its start),
 * and the alerts of a pass depend only on the footage and on what the tracker carried into it. The segments make
 * chains: the tracker goes on from one segment to the next, and starts afresh after a break in the stream (more
 * than 2 s between segments). A disruption breaks the stream (the segment being cut is lost, reconnecting takes
 * seconds), so each pass after it must raise exactly what the pass at the same place in the clean chain raised:
 * nothing from two nodes pulling at once, a segment registered or evaluated twice, or the lost segment.
 * What this cannot tell from the clean run, by design: a person in view across the break is a new track once
 * tracking starts afresh, and is alerted again (the first pass of a chain raises more than one that goes on).
 *
 * Real processes: two `vigil start` nodes, each running stream, clip, alert and detector, on a private
 * nats-server and a fresh database, against GStreamer's RTSP server; the gateway and the camera service run here.
 * Runs in the PostgreSQL + NATS pass only.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { Alert, Clip, LiveStream } from "../../entities";
import { toolPath } from "../../lib/media/tools";
import { startCluster, type Cluster } from "../support/cluster";
import { Client, signUp } from "../support/http";
import { eventually, requireFootage, STREET_CLIP } from "../support/media";
import { privateServers, processTestsRunnable, startNode, stopProcess, type NodeProcess } from "../support/processes";
import { describeWhen } from "../support/require";
import { rtspAvailable, startRtspServer, type RtspServer } from "../support/rtsp";

const LEASE_SECONDS = 3;
/**
 * The dead node renewed its lease at most a third of it before it died, so the lease lapses at most LEASE_SECONDS
 * after the kill; the other node scans every third of the lease, so it takes the camera at most that long after;
 * one more second for the scan's queries and this test's polling on a busy two-core machine.
 */
const TAKEOVER_BOUND_MS = LEASE_SECONDS * 1000 + (LEASE_SECONDS * 1000) / 3 + 1000;
/** The most a pause between two segments may last for the tracker to go on across it (lib/alerting/clip-evaluation.ts). */
const MAX_CUT_GAP_MS = 2000;
/** One pass of the street clip: one segment. */
const PASS_MS = 10_000;
/** Nodes load the detector model; the first keyframe comes at most a pass after connecting. */
const STREAM_UP_MS = 60_000;
/** Frames analysed per second: enough for the tracker to follow people who walk, light on two cores. */
const SAMPLE_FPS = 2;
/** A pass is detected (twenty frames) and evaluated well within this once it has been cut, even on two busy cores. */
const DETECTED_MS = 90_000;

const runnable = processTestsRunnable("live-takeover.test.ts", () => requireFootage("the live takeover test")) && rtspAvailable();

/**
 * Passes of a chain (segments the tracker reads as one stream) compared after each disruption with the clean chain's:
 * the first goes on from nothing, the second from the first.
 */
const CHAIN_COMPARED = 2;
/** Passes in one footage file: more than the camera shows before the file is replaced (200 s). */
const PASSES_PER_FILE = 20;

/**
 * Footage for the camera: passes `first` to `first + PASSES_PER_FILE - 1` of the street clip, one after the other,
 * each the same pictures but its own bytes (an SEI user-data message naming the pass, in its first frame: stream
 * copied, nothing re-encoded, so the detector sees the same frames). Vigil knows a clip by its content, so live
 * segments equal byte for byte would be one clip: a camera looping one file would make no clip after its second pass.
 * The RTSP server serves every new viewer from the file's start: the file is replaced before each disruption, so
 * the passes after it are new ones too.
 */
function footage(dir: string, first: number): string {
	const ffmpeg = toolPath("ffmpeg");
	const passes = Array.from({ length: PASSES_PER_FILE }, (_, i) => {
		const file = join(dir, `pass-${first + i}.mp4`);
		const sei = `h264_metadata=sei_user_data=086f3693-b7b3-4f2c-9653-21492feee5b8+vigil-pass-${first + i}`;
		execFileSync(ffmpeg, ["-v", "error", "-i", STREET_CLIP, "-c", "copy", "-bsf:v", sei, "-y", file]);
		return file;
	});
	const list = join(dir, `passes-${first}.txt`);
	writeFileSync(list, passes.map((file) => `file '${file}'\n`).join(""));
	const out = join(dir, `passes-${first}.mp4`);
	execFileSync(ffmpeg, ["-v", "error", "-f", "concat", "-safe", "0", "-i", list, "-c", "copy", "-y", out]);
	for (const file of passes) rmSync(file);
	return out;
}

/** One live segment of the camera (one pass of the footage) and the alerts its evaluation raised. */
interface Pass {
	clipId: string;
	start: number;
	end: number;
	/** Began more than MAX_CUT_GAP_MS after the one before it (or had none): its tracker started afresh. */
	fresh: boolean;
	/** Each alert as `class@seconds into the pass when its track began`, sorted: what a pass of the same footage raises. */
	alerts: string[];
	/** Its evaluation is done (its alerts are all in). */
	done: boolean;
}

/** The camera's segments in chains: each begins where tracking started afresh (the first segment, or after a break). */
function chains(all: Pass[]): Pass[][] {
	const found: Pass[][] = [];
	for (const pass of all) {
		if (pass.fresh || !found.length) found.push([]);
		found[found.length - 1].push(pass);
	}
	return found;
}

const describePasses = (passes: Pass[]) =>
	passes.map((p) => `${p.fresh ? "fresh" : "on"} ${((p.end - p.start) / 1000).toFixed(1)} s [${p.alerts.join(", ")}]`).join("; ");

/** The processes' node id: Moleculer's default, `<hostname>-<pid>`. */
const nodeIdOf = (node: NodeProcess) => `${hostname().toLowerCase()}-${node.child.pid}`;

/** Process ids whose parent is `pid` (Linux /proc; elsewhere none). */
function childrenOf(pid: number): number[] {
	let entries: string[];
	try {
		entries = readdirSync("/proc").filter((e) => /^\d+$/.test(e));
	} catch {
		return [];
	}
	return entries.flatMap((entry) => {
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
			// pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ")".
			return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid ? [Number(entry)] : [];
		} catch {
			return [];
		}
	});
}

function iou(a: number[], b: number[]): number {
	const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
	const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
	const inter = w * h;
	const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
	return union > 0 ? inter / union : 0;
}

describeWhen(runnable)("a live camera whose stream node dies or whose server restarts", () => {
	let servers: Awaited<ReturnType<typeof privateServers>>;
	let cluster: Cluster;
	let rtsp: RtspServer;
	let footageDir: string;
	/** What the RTSP server serves to the viewers that connect from now on. */
	let served: string;
	/** Footage of the stream before the kill, from the kill, and from the server's restart: no pass shown twice. */
	let sessions: string[];
	const serve = (session: number) => renameSync(sessions[session], served);
	const nodes: NodeProcess[] = [];
	let api: Client;
	let owner: string;
	let storeBase: string;
	let cameraId: string;

	beforeAll(async () => {
		servers = await privateServers("takeover", {
			STREAM_LEASE_SECONDS: String(LEASE_SECONDS),
			STREAM_STALL_SECONDS: "4",
			STREAM_RECONNECT_MAX_MS: "2000",
			CAMERA_STALE_AFTER: "5",
			CAMERA_OFFLINE_AFTER: "10",
			// A job the killed node held comes back to the other detector soon.
			JOB_ACK_WAIT: "3000",
		});
		footageDir = mkdtempSync(join(tmpdir(), "vigil-takeover-footage-"));
		served = join(footageDir, "camera.mp4");
		sessions = [0, 1, 2].map((session) => footage(footageDir, session * PASSES_PER_FILE));
		serve(0);
		rtsp = await startRtspServer({ path: "street", file: served });
		// The nodes first: the gateway is ready once clip and alert run somewhere.
		for (let i = 0; i < 2; i++) {
			const node = startNode({ ...servers.env, SERVICES: "stream,clip,alert,detector", DETECT_CONCURRENCY: "1" });
			// A node that ends before this test kills it says why.
			void node.exited.then(
				(code) => node.child.signalCode !== "SIGKILL" && console.warn(`node ${node.child.pid} exited (${code}):\n${node.output().slice(-4000)}`),
			);
			nodes.push(node);
		}
		cluster = await startCluster({ ...servers.env, SERVICES: "api,auth,tenancy,camera" });
		await eventually(
			async () => {
				const services = cluster.core.registry.getServiceList({ onlyAvailable: true }) as { name: string; nodeID: string }[];
				const on = (name: string) => new Set(services.filter((s) => s.name === name).map((s) => s.nodeID)).size;
				return on("stream") === 2 && on("detector") === 2 ? true : undefined;
			},
			120_000,
			500,
		);
		api = new Client(cluster.url);
		owner = (await signUp(api, "takeover")).token;
		const orgId = (await api.post("/api/v1/orgs", { name: "Takeover" }, { token: owner })).body.id;
		storeBase = `/api/v1/orgs/${orgId}/stores/${(await api.post(`/api/v1/orgs/${orgId}/stores`, { name: "Street" }, { token: owner })).body.id}`;
		// No cooldown: a second alert for the same person would not be held back by one.
		expect((await api.post(`${storeBase}/alert-rules`, { name: "People", classes: ["person"], cooldownSec: 0 }, { token: owner })).status).toBe(201);
	}, 240_000);

	afterAll(async () => {
		for (const node of nodes) await stopProcess(node.child, "SIGKILL");
		await cluster?.stop();
		await rtsp?.stop();
		await servers?.stop();
		if (footageDir) rmSync(footageDir, { recursive: true, force: true });
	}, 60_000);

	const camera = async () => (await api.get(`${storeBase}/cameras/${cameraId}`, { token: owner })).body;
	const lease = async () => (await cluster.db()).getRepository(LiveStream).findOneBy({ cameraId });

	/** The camera's live segments in recording order, with their alerts; only those whose evaluation is done. */
	async function passes(): Promise<Pass[]> {
		const db = await cluster.db();
		const clips = await db.getRepository(Clip).find({ where: { cameraId, source: "live" }, order: { recordedAt: "ASC" } });
		const alerts = await db.getRepository(Alert).findBy({ cameraId });
		return clips.map((clip, i) => {
			const start = clip.recordedAt!.getTime();
			const previous = clips[i - 1];
			const fresh = !previous || start - (previous.recordedAt!.getTime() + previous.durationSec * 1000) > MAX_CUT_GAP_MS;
			const own = alerts.filter((a) => a.clipId === clip.id);
			return {
				clipId: clip.id,
				start,
				end: start + clip.durationSec * 1000,
				fresh,
				alerts: clip.status === "done" ? own.map((a) => `${a.className}@${((a.occurredAt.getTime() - start) / 1000).toFixed(1)}`).sort() : [],
				done: clip.status === "done",
			};
		});
	}

	/** Waits until `count` segments recorded from `since` on, and all before them, are evaluated; gives those. */
	const evaluatedSince = (since: number, count: number, timeoutMs: number) =>
		eventually(
			async () => {
				const all = await passes();
				const upTo = all.filter((p) => p.start >= since)[count - 1];
				const wanted = upTo ? all.slice(0, all.indexOf(upTo) + 1) : [];
				return upTo && wanted.every((p) => p.done) ? wanted : undefined;
			},
			timeoutMs,
			1000,
		);

	/**
	 * Each chain after the first (a disruption broke the stream before it) raises, pass by pass, what the first chain
	 * (the clean stream) raised at the same place in it: the same footage with the same tracker history. A pass cut
	 * short (the server went away while it was being cut) raises no more than the whole one did.
	 */
	function expectLikeTheCleanChain(all: Pass[]) {
		const [clean, ...later] = chains(all);
		for (const chain of later)
			for (const [k, pass] of chain.slice(0, clean.length).entries()) {
				if (pass.end - pass.start >= clean[k].end - clean[k].start - 50) expect({ k, alerts: pass.alerts }).toEqual({ k, alerts: clean[k].alerts });
				else expect({ k, alerts: clean[k].alerts }).toEqual({ k, alerts: expect.arrayContaining(pass.alerts) });
			}
	}

	/** Nothing raised twice: per track and rule once, no two alerts for one object at the same time, no two segments over the same time. */
	async function expectNoDuplicates() {
		const db = await cluster.db();
		const alerts = await db.getRepository(Alert).findBy({ cameraId });
		expect(new Set(alerts.map((a) => `${a.clipId}:${a.trackNo}:${a.ruleId}`)).size).toBe(alerts.length);
		const twice = alerts.flatMap((a, i) =>
			alerts
				.slice(i + 1)
				.filter((b) => a.className === b.className && Math.abs(a.occurredAt.getTime() - b.occurredAt.getTime()) < 1000 && iou(a.box, b.box) > 0.5)
				.map((b) => [a.id, b.id]),
		);
		expect(twice).toEqual([]);
		// Two nodes never pulled the camera at once: each segment starts once the one before it has ended.
		const all = await passes();
		for (let i = 1; i < all.length; i++) expect(all[i].start).toBeGreaterThanOrEqual(all[i - 1].end - 500);
	}

	it(
		"a clean stream: its segments follow one another, one chain for the tracker, and raise each alert once",
		async () => {
			const created = await api.post(
				`${storeBase}/cameras`,
				{ name: "Street", kind: "rtsp", streamUrl: rtsp.url, sampleFps: SAMPLE_FPS, classes: ["person"] },
				{ token: owner },
			);
			expect(created.status).toBe(201);
			cameraId = created.body.id;
			await eventually(async () => ((await camera()).stream?.status === "streaming" ? true : undefined), STREAM_UP_MS);
			const all = await evaluatedSince(0, CHAIN_COMPARED + 1, (CHAIN_COMPARED + 1) * PASS_MS + STREAM_UP_MS + DETECTED_MS);
			console.log(`clean chain: ${describePasses(all)}`);
			expect(chains(all)).toHaveLength(1);
			expect(all.reduce((n, p) => n + p.alerts.length, 0)).toBeGreaterThan(0);
			await expectNoDuplicates();
		},
		(CHAIN_COMPARED + 1) * PASS_MS + 2 * STREAM_UP_MS + DETECTED_MS,
	);

	it(
		"the node holding the camera is killed: the other takes it over within the lease, and no alert is raised twice",
		async () => {
			const held = await lease();
			const holder = nodes.find((n) => nodeIdOf(n) === held?.holder);
			expect(holder).toBeDefined();
			const survivor = nodes.find((n) => n !== holder)!;

			serve(1);
			// Killed outright, with the ffmpeg it runs, as when its machine or container dies. (The node's process
			// alone killed would leave its ffmpeg running, still pulling the camera into the live folder both nodes share here.)
			const ffmpeg = childrenOf(holder!.child.pid!);
			const killedAt = Date.now();
			holder!.child.kill("SIGKILL");
			for (const pid of ffmpeg) process.kill(pid, "SIGKILL");
			await holder!.exited;

			const taken = await eventually(
				async () => {
					const row = await lease();
					return row?.holder === nodeIdOf(survivor) && row.leaseExpiresAt!.getTime() > Date.now() ? Date.now() : undefined;
				},
				TAKEOVER_BOUND_MS + 10_000,
				100,
			);
			console.log(`taken over ${taken - killedAt} ms after the kill (bound ${TAKEOVER_BOUND_MS} ms)`);
			expect(taken - killedAt).toBeLessThanOrEqual(TAKEOVER_BOUND_MS);

			await eventually(async () => ((await camera()).stream?.status === "streaming" ? true : undefined), STREAM_UP_MS);
			const all = await evaluatedSince(killedAt, CHAIN_COMPARED, CHAIN_COMPARED * PASS_MS + STREAM_UP_MS + DETECTED_MS);
			const before = all.filter((p) => p.start < killedAt);
			const after = all.filter((p) => p.start >= killedAt);
			console.log(
				`kill: the last segment before it ended ${killedAt - before[before.length - 1].end} ms before it, the first after it began ` +
					`${after[0].start - killedAt} ms after it; after it: ${describePasses(after)}`,
			);
			// The segment being cut when the node died is lost with it: the stream breaks, and tracking starts afresh.
			expect(after.map((p) => p.fresh)).toEqual([true, ...after.slice(1).map(() => false)]);
			expectLikeTheCleanChain(all);
			await expectNoDuplicates();
		},
		TAKEOVER_BOUND_MS + CHAIN_COMPARED * PASS_MS + 3 * STREAM_UP_MS + DETECTED_MS,
	);

	it(
		"the RTSP server stops and starts again: the camera goes offline and comes back, and no alert is raised twice",
		async () => {
			serve(2);
			await rtsp.stop();
			const down = await eventually(async () => {
				const view = await camera();
				return view.stream?.status === "error" ? view : undefined;
			}, STREAM_UP_MS);
			expect(["unreachable", "stalled", "exited"]).toContain(down.stream.error);
			await eventually(async () => ((await camera()).liveness.status === "offline" ? true : undefined), STREAM_UP_MS);

			await rtsp.restart();
			const restartedAt = Date.now();
			await eventually(async () => ((await camera()).stream?.status === "streaming" ? true : undefined), STREAM_UP_MS);
			await eventually(async () => ((await camera()).liveness.status === "online" ? true : undefined), STREAM_UP_MS);

			const all = await evaluatedSince(restartedAt, CHAIN_COMPARED, CHAIN_COMPARED * PASS_MS + STREAM_UP_MS + DETECTED_MS);
			const after = all.filter((p) => p.start >= restartedAt);
			console.log(`restart: the first segment after it began ${after[0].start - restartedAt} ms after the server was back; after it: ${describePasses(after)}`);
			expect(after.map((p) => p.fresh)).toEqual([true, ...after.slice(1).map(() => false)]);
			expectLikeTheCleanChain(all);
			await expectNoDuplicates();
		},
		CHAIN_COMPARED * PASS_MS + 5 * STREAM_UP_MS + DETECTED_MS,
	);
});
