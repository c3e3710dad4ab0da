/**
 * The job queue over NATS JetStream, against the shared server at 127.0.0.1:4222 (JOB_QUEUE_NATS_URL to
 * change it). Each run uses queue names of its own and deletes its streams at the end; the reconnect test
 * starts a private nats-server it kills and restarts. Where NATS (or the nats-server binary) is missing the
 * tests skip with a warning; under CI=true they fail instead.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServiceBroker, type ServiceSchema } from "moleculer";
import { connect, nanos, type NatsConnection } from "nats";
import { loadConfig } from "../../lib/platform/config";
import { createJobQueue, jobStreamNames, NODE_DIED, type JobQueue, type JobQueueSettings } from "../../lib/jobs";
import { attachNodeContext } from "../../lib/platform/node-context";
import { JobQueueMixin, type JobQueueService } from "../../mixins/job-queue.mixin";
import { concurrencyProbe } from "../support/concurrency";
import { commandAvailable, describeWhen, reachable, requireService } from "../support/require";

const NATS_URL = process.env.JOB_QUEUE_NATS_URL ?? "nats://127.0.0.1:4222";
const NATS_SERVER = process.env.NATS_SERVER_BIN ?? "nats-server";
const RUN = randomBytes(4).toString("hex");
/** ackWaitMs in these tests: short, so "silent for ack_wait" takes a second. */
const ACK_WAIT = 1000;

interface Segment {
	clip: string;
	index: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` (a check that throws, as a stats() call during a NATS outage does, counts as "not yet"). */
async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	let last: unknown;
	for (;;) {
		try {
			if (await check()) return;
		} catch (err) {
			last = err;
		}
		if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`);
		await sleep(25);
	}
}

function gate(): { promise: Promise<void>; open: () => void } {
	let open = () => {};
	const promise = new Promise<void>((resolve) => (open = resolve));
	return { promise, open };
}

/** Whether a local port accepts connections (asynchronous: polled while the test's own NATS starts). */
function listening(port: number, timeoutMs = 200): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = createConnection({ host: "127.0.0.1", port });
		const done = (ok: boolean) => {
			socket.destroy();
			resolve(ok);
		};
		socket.setTimeout(timeoutMs, () => done(false));
		socket.once("connect", () => done(true));
		socket.once("error", () => done(false));
	});
}

const natsUp = requireService(`NATS at ${NATS_URL}`, reachable(NATS_URL), "start it, or set JOB_QUEUE_NATS_URL");
/** The restart test runs its own nats-server, which it kills. */
const natsServerBinary =
	natsUp && requireService(`the nats-server binary (${NATS_SERVER})`, commandAvailable(NATS_SERVER, ["--version"]), "put it on PATH or set NATS_SERVER_BIN");
let admin: NatsConnection;
/** Every queue (namespace, name) this run created, so its streams can be deleted. */
const created: { namespace: string; name: string }[] = [];
let open: JobQueue<unknown>[] = [];
const connections: NatsConnection[] = [];

const queueName = (what: string) => `t${RUN}_${what}`;

/** One queue instance standing for one node, with its own connection (or the one given). */
function node<T = Segment>(
	name: string,
	nodeId: string,
	settings: Partial<JobQueueSettings> = {},
	connection?: NatsConnection,
	natsUrl = NATS_URL,
): JobQueue<T> {
	if (!created.some((c) => c.name === name)) created.push({ namespace: "vigil", name });
	const queue = createJobQueue<T>(name, { ackWaitMs: ACK_WAIT, ...settings }, connection ? { connection, nodeId } : { natsUrl, nodeId });
	open.push(queue as JobQueue<unknown>);
	return queue;
}

/** A node whose connection the test can close abruptly, as if its process died. */
async function mortalNode<T = Segment>(
	name: string,
	nodeId: string,
	settings: Partial<JobQueueSettings> = {},
): Promise<{ queue: JobQueue<T>; die: () => Promise<void> }> {
	const nc = await connect({ servers: NATS_URL, reconnect: false });
	connections.push(nc);
	return { queue: node<T>(name, nodeId, settings, nc), die: () => nc.close() };
}

describeWhen(natsUp)("job queue over NATS JetStream", () => {
	beforeAll(async () => {
		admin = await connect({ servers: NATS_URL });
	});

	afterEach(async () => {
		await Promise.all(open.map((q) => q.close().catch(() => undefined)));
		open = [];
		await Promise.all(connections.splice(0).map((nc) => nc.close().catch(() => undefined)));
	});

	afterAll(async () => {
		const jsm = await admin.jetstreamManager();
		for (const { namespace, name } of created) {
			const names = jobStreamNames(namespace, name);
			for (const stream of [names.stream, names.deadStream]) await jsm.streams.delete(stream).catch(() => undefined);
		}
		await admin.close();
	});

	it("runs every job sent exactly once, on one of the nodes", async () => {
		const name = queueName("once");
		const a = node(name, "node-a", { concurrency: 2 });
		const b = node(name, "node-b", { concurrency: 2 });
		const runs = new Map<number, string[]>();
		const handler = (nodeId: string) => async (job: Segment, ctl: { attempt: number }) => {
			expect(ctl.attempt).toBe(1);
			await sleep(10);
			runs.set(job.index, [...(runs.get(job.index) ?? []), nodeId]);
		};
		await a.start(handler("node-a"));
		await b.start(handler("node-b"));
		for (let index = 0; index < 20; index++) await a.send({ clip: "c1", index });

		await until(() => runs.size === 20, "all 20 jobs");
		// The work-queue stream keeps a job until it is acked: once empty, nothing is left to redeliver.
		await until(async () => (await a.stats()).pending === 0, "every job acked");
		expect([...runs.values()].every((nodes) => nodes.length === 1)).toBe(true);
		expect(new Set([...runs.values()].flat())).toEqual(new Set(["node-a", "node-b"]));
		expect(await a.stats()).toEqual({ pending: 0, inFlight: 0, oldestAgeMs: null, deadLetters: 0 });
	});

	it("retries a failing job with growing delays, then dead-letters it with its error, attempts and origin", async () => {
		const name = queueName("poison");
		const worker = node(name, "node-a", { maxDeliver: 3, retryBaseMs: 300, retryMaxMs: 5000 });
		const attempts: { attempt: number; at: number }[] = [];
		await worker.start(async (_job, ctl) => {
			attempts.push({ attempt: ctl.attempt, at: Date.now() });
			throw new Error(`decoder crashed\non attempt ${ctl.attempt}`);
		});
		await worker.send({ clip: "broken", index: 3 }, { id: "broken:3" });

		await until(async () => (await worker.stats()).deadLetters === 1, "the dead letter");
		expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
		const [first, second] = attempts.slice(1).map((a, i) => a.at - attempts[i].at);
		expect(first).toBeGreaterThanOrEqual(140); // 150 to 300 ms
		expect(second).toBeGreaterThanOrEqual(first - 20); // 300 to 600 ms
		expect(second).toBeGreaterThanOrEqual(290);

		const letters = await worker.listDeadLetters(10);
		expect(letters).toHaveLength(1);
		expect(letters[0]).toMatchObject({
			id: "broken:3",
			job: { clip: "broken", index: 3 },
			error: "decoder crashed on attempt 3",
			attempts: 3,
			queue: name,
			node: "node-a",
		});
		expect(Date.now() - letters[0].failedAt.getTime()).toBeLessThan(10000);
		// Terminated, it left the work-queue stream: nothing is left to deliver again.
		await until(async () => (await worker.stats()).pending === 0, "the job to leave the work queue");
		expect(attempts).toHaveLength(3);
		expect(await worker.stats()).toMatchObject({ pending: 0, inFlight: 0, deadLetters: 1 });
	});

	it("never runs more jobs at once than each node's concurrency", async () => {
		const name = queueName("limit");
		const { handler, max, maxTotal } = concurrencyProbe(150);
		const a = node(name, "node-a", { concurrency: 2 });
		const b = node(name, "node-b", { concurrency: 2 });
		for (let index = 0; index < 12; index++) await a.send({ clip: "c", index });
		await a.start(handler("a"));
		await b.start(handler("b"));
		await until(async () => (await a.stats()).pending === 0, "all jobs done");
		expect(maxTotal()).toBe(4);
		expect(max).toEqual({ a: 2, b: 2 });
	});

	it("drops a repeated send with the same id (within the duplicate window, even once done)", async () => {
		const name = queueName("dedupe");
		const sender = node(name, "sender");
		await sender.send({ clip: "c", index: 0 }, { id: "c:0" });
		await sender.send({ clip: "c", index: 0 }, { id: "c:0" });
		await sender.send({ clip: "c", index: 1 }, { id: "c:1" });
		expect((await sender.stats()).pending).toBe(2);

		const worker = node(name, "worker");
		const runs: number[] = [];
		await worker.start(async (job) => void runs.push(job.index));
		await until(async () => (await sender.stats()).pending === 0, "both jobs done");
		await sender.send({ clip: "c", index: 0 }, { id: "c:0" });
		// A job sent after the repeat is delivered after it, were it stored: once it ran, the repeat had its chance.
		await sender.send({ clip: "c", index: 2 }, { id: "c:2" });
		await until(() => runs.includes(2), "the job sent after the repeat");
		expect(runs).toEqual([0, 1, 2]);
		expect((await sender.stats()).pending).toBe(0);
	});

	it("does not hand a job longer than ack_wait to another node while its worker is alive", async () => {
		const name = queueName("long");
		const a = node(name, "node-a");
		const b = node(name, "node-b");
		const runs: { node: string; attempt: number }[] = [];
		const handler = (nodeId: string) => async (_job: Segment, ctl: { attempt: number }) => {
			runs.push({ node: nodeId, attempt: ctl.attempt });
			await sleep(ACK_WAIT * 3.5);
		};
		await a.start(handler("node-a"));
		await a.send({ clip: "long", index: 0 });
		await until(() => runs.length === 1, "the job to start");
		await b.start(handler("node-b"));
		await until(async () => (await a.stats()).pending === 0, "the long job to finish");
		expect(runs).toEqual([{ node: "node-a", attempt: 1 }]);
	});

	it("gives the job of a worker that died mid-job to another worker", async () => {
		const name = queueName("crash");
		const mortal = await mortalNode(name, "node-doomed");
		let aborted: unknown;
		const taken = gate();
		await mortal.queue.start(async (_job, ctl) => {
			taken.open();
			await new Promise((resolve) => ctl.signal.addEventListener("abort", resolve));
			aborted = ctl.signal.reason;
		});
		await mortal.queue.send({ clip: "crash", index: 0 });
		await taken.promise;
		const diedAt = Date.now();
		await mortal.die();
		await until(() => aborted !== undefined, "the dead node's handler to be told");
		expect(String(aborted)).toMatch(/NATS connection closed/);

		const survivor = node(name, "node-survivor");
		const runs: { job: Segment; attempt: number; afterMs: number }[] = [];
		await survivor.start(async (job, ctl) => void runs.push({ job, attempt: ctl.attempt, afterMs: Date.now() - diedAt }));
		await until(() => runs.length === 1, "the redelivery");
		expect(runs[0]).toMatchObject({ job: { clip: "crash", index: 0 }, attempt: 2 });
		expect(runs[0].afterMs).toBeGreaterThanOrEqual(ACK_WAIT * 0.8);
		await until(async () => (await survivor.stats()).pending === 0, "the job to be acked");
	});

	it("dead-letters a job whose node died on every attempt", async () => {
		const name = queueName("doomed");
		const settings = { maxDeliver: 2 };
		for (const nodeId of ["node-1", "node-2"]) {
			const mortal = await mortalNode(name, nodeId, settings);
			const taken = gate();
			await mortal.queue.start(async (_job, ctl) => {
				taken.open();
				await new Promise((resolve) => ctl.signal.addEventListener("abort", resolve));
			});
			if (nodeId === "node-1") await mortal.queue.send({ clip: "oom", index: 9 }, { id: "oom:9" });
			await taken.promise;
			await mortal.die();
		}
		const watcher = node(name, "node-watcher", settings);
		const runs: unknown[] = [];
		await watcher.start(async (job) => void runs.push(job));
		await until(async () => (await watcher.stats()).deadLetters === 1, "the abandoned job in the dead letters");
		const [letter] = await watcher.listDeadLetters(5);
		expect(letter).toMatchObject({ id: "oom:9", job: { clip: "oom", index: 9 }, error: NODE_DIED, attempts: 2, queue: name, node: "node-watcher" });
		expect(runs).toEqual([]);
		expect(await watcher.stats()).toMatchObject({ pending: 0, inFlight: 0, oldestAgeMs: null });
	});

	it("reports pending jobs, jobs in flight on this node and the age of the oldest", async () => {
		const name = queueName("stats");
		const q = node(name, "node-a");
		expect(await q.stats()).toEqual({ pending: 0, inFlight: 0, oldestAgeMs: null, deadLetters: 0 });
		for (let index = 0; index < 3; index++) await q.send({ clip: "c", index });
		await sleep(150);
		const waiting = await q.stats();
		expect(waiting).toMatchObject({ pending: 3, inFlight: 0, deadLetters: 0 });
		expect(waiting.oldestAgeMs).toBeGreaterThanOrEqual(100);
		expect(waiting.oldestAgeMs).toBeLessThan(5000);

		const hold = gate();
		await q.start(() => hold.promise);
		await until(async () => (await q.stats()).inFlight === 1, "one job in flight");
		expect(await q.stats()).toMatchObject({ pending: 3, inFlight: 1 });
		hold.open();
		await until(async () => (await q.stats()).pending === 0, "all jobs done");
		expect(await q.stats()).toEqual({ pending: 0, inFlight: 0, oldestAgeMs: null, deadLetters: 0 });
	});

	it("updates the stream and the consumer when a queue's settings change", async () => {
		const name = queueName("settings");
		const names = jobStreamNames("vigil", name);
		const jsm = await admin.jetstreamManager();
		await node(name, "old", { ackWaitMs: 1000, maxDeliver: 3, duplicateWindowMs: 60000 }).stats();
		let consumer = await jsm.consumers.info(names.stream, names.durable);
		expect(consumer.config).toMatchObject({ ack_wait: nanos(1000), max_deliver: 3, ack_policy: "explicit", deliver_policy: "all" });
		expect((await jsm.streams.info(names.stream)).config).toMatchObject({
			retention: "workqueue",
			storage: "file",
			duplicate_window: nanos(60000),
			subjects: [names.subject],
		});

		await node(name, "new", { ackWaitMs: 2000, maxDeliver: 4, duplicateWindowMs: 90000 }).send({ clip: "c", index: 0 });
		consumer = await jsm.consumers.info(names.stream, names.durable);
		expect(consumer.config).toMatchObject({ ack_wait: nanos(2000), max_deliver: 4 });
		expect((await jsm.streams.info(names.stream)).config.duplicate_window).toBe(nanos(90000));
	});

	(natsServerBinary ? it : it.skip)(
		"rides out NATS restarts: a send during the outage arrives, a job in flight is acked once, a worker cut off past ack_wait is told",
		async () => {
			const port = await freePort();
			const dir = mkdtempSync(join(tmpdir(), "vigil-nats-"));
			const url = `nats://127.0.0.1:${port}`;
			let server = await startNatsServer(port, dir);
			try {
				const name = queueName("restart");
				// ack_wait longer than the outage: the worker keeps its job while NATS is away.
				const sender = node(name, "sender", { ackWaitMs: 3000 }, undefined, url);
				const worker = node(name, "worker", { ackWaitMs: 3000 }, undefined, url);
				const done: number[] = [];
				const runs: string[] = [];
				const slowStarted = gate();
				await worker.start(async (job, ctl) => {
					runs.push(`${job.index}#${ctl.attempt}`);
					if (job.index === 3) {
						slowStarted.open();
						await sleep(1500);
					}
					done.push(job.index);
				});
				await sender.send({ clip: "r", index: 1 });
				await until(() => done.length === 1, "the job before the restart");
				// Its ack must have reached the server: an ack lost in the crash is redelivered (at-least-once), by design.
				await until(async () => (await sender.stats()).pending === 0, "the first job to be acked");

				await stopProcess(server, "SIGKILL");
				const sending = sender.send({ clip: "r", index: 2 });
				await sleep(700);
				server = await startNatsServer(port, dir);
				await sending;
				await until(() => done.length === 2, "the job sent during the outage", 15000);
				expect(done).toEqual([1, 2]);
				// As for the first job: its ack must reach the server before the next crash, or it is redelivered by design.
				await until(async () => (await sender.stats()).pending === 0, "the second job to be acked", 15000);

				await sender.send({ clip: "r", index: 3 });
				await slowStarted.promise;
				await stopProcess(server, "SIGKILL");
				await sleep(200);
				server = await startNatsServer(port, dir);
				await sleep(1000); // a request sent while JetStream is still starting times out (5 s) instead of failing fast
				await until(async () => (await sender.stats()).pending === 0, "the job in flight to be acked", 15000);
				expect(runs).toEqual(["1#1", "2#1", "3#1"]);

				// NATS away for longer than ack_wait: the job is no longer this worker's, and its handler is told.
				const leased = node(queueName("lease"), "worker", { ackWaitMs: 1000, retryBaseMs: 100 }, undefined, url);
				const leaseRuns: number[] = [];
				let reason: unknown;
				const leaseTaken = gate();
				await leased.start(async (_job, ctl) => {
					leaseRuns.push(ctl.attempt);
					if (ctl.attempt > 1) return;
					leaseTaken.open();
					await new Promise((resolve) => ctl.signal.addEventListener("abort", resolve));
					reason = ctl.signal.reason;
					ctl.signal.throwIfAborted();
				});
				await leased.send({ clip: "l", index: 0 });
				await leaseTaken.promise;
				await stopProcess(server, "SIGKILL");
				await until(() => reason !== undefined, "the handler to be told its job is lost", 5000);
				expect(String(reason)).toMatch(/longer than ackWaitMs/);
				server = await startNatsServer(port, dir);
				await until(() => leaseRuns.length === 2, "the job to come back", 15000);
				expect(leaseRuns).toEqual([1, 2]);
			} finally {
				for (const q of open) await q.close().catch(() => undefined);
				open = [];
				await stopProcess(server, "SIGTERM");
				rmSync(dir, { recursive: true, force: true });
			}
		},
		120_000,
	); // worst case of its waits: four nats-server starts (10 s each) and the untils (15 + 15 + 5 + 15 s)

	it("dead letters: inspect one by its letter id, replay it as a fresh job that runs, discard another", async () => {
		const name = queueName("letters");
		let failing = true;
		const worker = node(name, "node-a", { maxDeliver: 2, retryBaseMs: 10, retryMaxMs: 20 });
		const runs: { job: Segment; attempt: number }[] = [];
		await worker.start(async (job, ctl) => {
			runs.push({ job, attempt: ctl.attempt });
			if (failing) throw new Error(`bucket offline for ${job.clip}`);
		});
		await worker.send({ clip: "a", index: 0 }, { id: "a:0" });
		await worker.send({ clip: "b", index: 1 }, { id: "b:1" });
		await until(async () => (await worker.stats()).deadLetters === 2, "two dead letters");

		// A node that only manages letters: it must not touch the work queue's consumer settings.
		const names = jobStreamNames("vigil", name);
		const jsm = await admin.jetstreamManager();
		const manager = node(name, "admin-node", { maxDeliver: 9, ackWaitMs: 5000 });
		const letters = await manager.listDeadLetters(10);
		expect(letters.map((l) => l.id).sort()).toEqual(["a:0", "b:1"]);
		expect(Number(letters[0].letterId)).toBeGreaterThan(Number(letters[1].letterId)); // newest first
		const a = letters.find((l) => l.id === "a:0")!;
		const b = letters.find((l) => l.id === "b:1")!;
		expect(await manager.getDeadLetter(a.letterId)).toMatchObject({
			letterId: a.letterId,
			job: { clip: "a", index: 0 },
			error: "bucket offline for a",
			attempts: 2,
			node: "node-a",
		});
		expect(await manager.getDeadLetter("999999")).toBeNull();
		expect(await manager.getDeadLetter("not-a-number")).toBeNull();

		failing = false;
		const jobId = await manager.replayDeadLetter(a.letterId);
		expect(jobId).toBe(`a:0~replay${a.letterId}`);
		await until(() => runs.length === 5, "the replayed job to run");
		expect(runs[4]).toEqual({ job: { clip: "a", index: 0 }, attempt: 1 });
		await until(async () => (await worker.stats()).pending === 0, "the replayed job to finish");
		expect(await manager.replayDeadLetter(a.letterId)).toBeNull();

		expect(await manager.discardDeadLetter(b.letterId)).toBe(true);
		expect(await manager.discardDeadLetter(b.letterId)).toBe(false);
		expect(await manager.listDeadLetters(10)).toEqual([]);
		expect(await worker.stats()).toMatchObject({ pending: 0, deadLetters: 0 });
		expect((await jsm.consumers.info(names.stream, names.durable)).config).toMatchObject({ max_deliver: 2, ack_wait: nanos(ACK_WAIT) });
		// The discarded job is never run again: a job sent after the discard runs, and "b" still ran only twice.
		await worker.send({ clip: "c", index: 2 }, { id: "c:2" });
		await until(() => runs.some((r) => r.job.clip === "c"), "the job sent after the discard");
		expect(runs.filter((r) => r.job.clip === "b")).toHaveLength(2);
	});

	it("dead letters of a queue nobody has used yet: an empty list, not an error", async () => {
		const manager = node(queueName("unused"), "admin-node");
		expect(await manager.listDeadLetters(10)).toEqual([]);
		expect(await manager.getDeadLetter("1")).toBeNull();
		expect(await manager.discardDeadLetter("1")).toBe(false);
	});

	it("JobQueueMixin: a service on one node sends, a service on another node works the queue", async () => {
		const namespace = `t${RUN}-mixin`;
		const queue = "segments";
		created.push({ namespace, name: queue });
		const config = loadConfig({
			DATA_DIR: mkdtempSync(join(tmpdir(), "vigil-job-queue-")),
			JWT_SECRET: "x".repeat(40),
			ENCRYPTION_KEY: "00".repeat(32),
			TRANSPORTER: NATS_URL,
			NAMESPACE: namespace,
		});
		type Jobs = { segments: Segment };
		const settings = { segments: { ackWaitMs: ACK_WAIT } };
		const done: { job: Segment; node: string }[] = [];
		const clips = new ServiceBroker({ nodeID: `clips-${RUN}`, logger: false });
		const detector = new ServiceBroker({ nodeID: `detector-${RUN}`, logger: false });
		attachNodeContext(clips, config);
		attachNodeContext(detector, config);
		clips.createService({
			name: "clips",
			mixins: [JobQueueMixin(settings)],
			actions: {
				async split(this: JobQueueService<Jobs>, ctx: { params: Segment }) {
					await this.queues.segments.send(ctx.params, { id: `${ctx.params.clip}:${ctx.params.index}` });
				},
				async depth(this: JobQueueService<Jobs>) {
					return this.queues.segments.stats();
				},
			},
		} as unknown as ServiceSchema);
		detector.createService({
			name: "detector",
			mixins: [JobQueueMixin(settings)],
			async started(this: JobQueueService<Jobs>) {
				await this.queues.segments.start(async (job) => void done.push({ job, node: this.broker.nodeID }));
			},
		} as unknown as ServiceSchema);
		await Promise.all([clips.start(), detector.start()]);
		try {
			await clips.call("clips.split", { clip: "m", index: 0 });
			await clips.call("clips.split", { clip: "m", index: 0 });
			await clips.call("clips.split", { clip: "m", index: 1 });
			await until(() => done.length === 2, "both segments on the detector node");
			expect(done).toEqual([
				{ job: { clip: "m", index: 0 }, node: `detector-${RUN}` },
				{ job: { clip: "m", index: 1 }, node: `detector-${RUN}` },
			]);
			await until(async () => ((await clips.call("clips.depth")) as { pending: number }).pending === 0, "the queue to drain");
			const jsm = await admin.jetstreamManager();
			expect((await jsm.streams.info(jobStreamNames(namespace, queue).stream)).config.subjects).toEqual([`${namespace}.jobs.segments`]);
		} finally {
			await Promise.all([clips.stop(), detector.stop()]);
			rmSync(config.dataDir, { recursive: true, force: true });
		}
	});
});

function freePort(): Promise<number> {
	return new Promise((resolve) => {
		const srv = createServer().listen(0, "127.0.0.1", () => {
			const { port } = srv.address() as { port: number };
			srv.close(() => resolve(port));
		});
	});
}

async function startNatsServer(port: number, dir: string): Promise<ChildProcess> {
	const child = spawn(NATS_SERVER, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir], { stdio: "ignore" });
	await until(() => listening(port), `nats-server on port ${port}`, 10000);
	return child;
}

function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
	return new Promise((resolve) => {
		child.once("exit", () => resolve());
		child.kill(signal);
	});
}
