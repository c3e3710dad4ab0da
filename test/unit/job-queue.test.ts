/**
 * The in-process job queue (embedded mode): what services rely on when Vigil runs without NATS.
 * Two queue instances on one hub stand for two nodes.
 */
import { ServiceBroker, type ServiceSchema } from "moleculer";
import { loadConfig } from "../../lib/platform/config";
import { createJobQueue, InProcessHub, JOB_QUEUE_SETTINGS, resolveJobQueueSettings, retryDelayMs, type JobQueue, type JobQueueSettings } from "../../lib/jobs";
import { registry } from "../../lib/platform/metrics";
import { attachNodeContext } from "../../lib/platform/node-context";
import { JobQueueMixin, type JobQueueService } from "../../mixins/job-queue.mixin";
import { concurrencyProbe } from "../support/concurrency";

interface Segment {
	clip: string;
	index: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await check())) {
		if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
		await sleep(10);
	}
}

/** A promise with its resolve function, to hold a handler until the test lets it go. */
function gate(): { promise: Promise<void>; open: () => void } {
	let open = () => {};
	const promise = new Promise<void>((resolve) => (open = resolve));
	return { promise, open };
}

let queues: JobQueue<unknown>[] = [];
let serial = 0;

/** A queue instance on `hub`, standing for one node; closed after each test. */
function node<T = Segment>(hub: InProcessHub, name: string, nodeId: string, settings: Partial<JobQueueSettings> = {}): JobQueue<T> {
	const queue = createJobQueue<T>(name, settings, { hub, nodeId });
	queues.push(queue as JobQueue<unknown>);
	return queue;
}

const uniqueName = (what: string) => `unit_${what}_${++serial}`;

afterEach(async () => {
	await Promise.all(queues.map((q) => q.close()));
	queues = [];
});

describe("in-process job queue", () => {
	it("runs every job sent exactly once, on one of the nodes", async () => {
		const hub = new InProcessHub();
		const name = uniqueName("once");
		const a = node(hub, name, "a", { concurrency: 3 });
		const b = node(hub, name, "b", { concurrency: 3 });
		const runs = new Map<number, string[]>();
		const handler = (nodeId: string) => async (job: Segment) => {
			await sleep(5);
			runs.set(job.index, [...(runs.get(job.index) ?? []), nodeId]);
		};
		await a.start(handler("a"));
		await b.start(handler("b"));
		for (let index = 0; index < 30; index++) await a.send({ clip: "c1", index });

		// Pending counts a job until its handler returns: at 0 every run is recorded and nothing is left to run.
		await until(async () => (await a.stats()).pending === 0, "all jobs done");
		expect([...runs.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i));
		expect([...runs.values()].every((nodes) => nodes.length === 1)).toBe(true);
		expect(new Set([...runs.values()].flat())).toEqual(new Set(["a", "b"]));
		expect(await b.stats()).toEqual({ pending: 0, inFlight: 0, oldestAgeMs: null, deadLetters: 0 });
	});

	it("retries a failing job with growing delays, then keeps it in the dead letters with its error and attempt count", async () => {
		const hub = new InProcessHub();
		const name = uniqueName("poison");
		const worker = node(hub, name, "worker-1", { maxDeliver: 4, retryBaseMs: 40, retryMaxMs: 1000 });
		const attempts: { attempt: number; at: number }[] = [];
		await worker.start(async (_job, ctl) => {
			attempts.push({ attempt: ctl.attempt, at: Date.now() });
			throw new Error(`camera offline (attempt ${ctl.attempt})`);
		});
		await worker.send({ clip: "broken", index: 0 }, { id: "broken:0" });

		await until(async () => (await worker.stats()).deadLetters === 1, "the dead letter");
		expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4]);
		const gaps = attempts.slice(1).map((a, i) => a.at - attempts[i].at);
		expect(gaps[0]).toBeGreaterThanOrEqual(18); // base 40 ms, equal jitter: 20 to 40 ms
		expect(gaps[1]).toBeGreaterThanOrEqual(gaps[0] - 5);
		expect(gaps[2]).toBeGreaterThanOrEqual(gaps[1] - 5);
		expect(gaps[2]).toBeGreaterThan(gaps[0]);

		const [letter, ...others] = await worker.listDeadLetters(10);
		expect(others).toEqual([]);
		expect(letter).toMatchObject({
			id: "broken:0",
			job: { clip: "broken", index: 0 },
			error: "camera offline (attempt 4)",
			attempts: 4,
			queue: name,
			node: "worker-1",
		});
		expect(letter.failedAt).toBeInstanceOf(Date);
		expect(await worker.stats()).toMatchObject({ pending: 0, inFlight: 0, deadLetters: 1 });
		expect(await registry.getSingleMetricAsString("vigil_jobs_dead_lettered_total")).toContain(
			`vigil_jobs_dead_lettered_total{queue="${name}",reason="failed"} 1`,
		);
		expect(await registry.getSingleMetricAsString("vigil_jobs_failed_total")).toContain(`vigil_jobs_failed_total{queue="${name}"} 4`);
	});

	it("a job that fails once succeeds on its second attempt and never reaches the dead letters", async () => {
		const hub = new InProcessHub();
		const worker = node(hub, uniqueName("flaky"), "w", { retryBaseMs: 10 });
		const seen: number[] = [];
		await worker.start(async (_job, ctl) => {
			seen.push(ctl.attempt);
			if (ctl.attempt === 1) throw new Error("storage busy");
		});
		await worker.send({ clip: "c", index: 1 });
		await until(async () => (await worker.stats()).pending === 0, "the job to finish");
		expect(seen).toEqual([1, 2]);
		expect((await worker.stats()).deadLetters).toBe(0);
	});

	it("never runs more jobs at once than each node's concurrency", async () => {
		const hub = new InProcessHub();
		const name = uniqueName("limit");
		const { handler, max, maxTotal } = concurrencyProbe(30);
		const a = node(hub, name, "a", { concurrency: 2 });
		const b = node(hub, name, "b", { concurrency: 2 });
		await a.start(handler("a"));
		await b.start(handler("b"));
		for (let index = 0; index < 16; index++) await a.send({ clip: "c", index });
		await until(async () => (await a.stats()).pending === 0, "all jobs done");
		expect(maxTotal()).toBe(4);
		expect(max).toEqual({ a: 2, b: 2 });
	});

	it("lets start() override the queue's concurrency on this node", async () => {
		const hub = new InProcessHub();
		const q = node(hub, uniqueName("override"), "n", { concurrency: 1 });
		const hold = gate();
		let running = 0;
		let most = 0;
		await q.start(
			async () => {
				most = Math.max(most, ++running);
				await hold.promise;
				running--;
			},
			{ concurrency: 3 },
		);
		for (let index = 0; index < 5; index++) await q.send({ clip: "c", index });
		await until(async () => (await q.stats()).inFlight === 3, "three jobs in flight");
		hold.open();
		await until(async () => (await q.stats()).pending === 0, "all jobs done");
		// The most at once over the whole run, not at one moment.
		expect(most).toBe(3);
	});

	it("drops a repeated send with the same id while the job is pending or running", async () => {
		const hub = new InProcessHub();
		const name = uniqueName("dedupe");
		const sender = node(hub, name, "sender");
		const worker = node(hub, name, "worker");
		await sender.send({ clip: "c", index: 0 }, { id: "c:0" });
		await sender.send({ clip: "c", index: 0 }, { id: "c:0" });
		await sender.send({ clip: "c", index: 1 }, { id: "c:1" });
		expect((await sender.stats()).pending).toBe(2);

		const hold = gate();
		const runs: number[] = [];
		await worker.start(async (job) => {
			runs.push(job.index);
			await hold.promise;
		});
		await until(() => runs.length === 1, "the first job to start");
		await sender.send({ clip: "c", index: 0 }, { id: "c:0" }); // still running: dropped
		hold.open();
		await until(async () => (await sender.stats()).pending === 0, "both jobs done");
		expect(runs).toEqual([0, 1]);

		// In-process, an id is only remembered while its job is pending: once done, the same id runs again.
		await sender.send({ clip: "c", index: 0 }, { id: "c:0" });
		await until(() => runs.length === 3, "the job sent again");
	});

	it("reports pending jobs, jobs in flight on this node and the age of the oldest", async () => {
		const hub = new InProcessHub();
		const name = uniqueName("stats");
		const q = node(hub, name, "n");
		expect(await q.stats()).toEqual({ pending: 0, inFlight: 0, oldestAgeMs: null, deadLetters: 0 });
		for (let index = 0; index < 3; index++) await q.send({ clip: "c", index });
		await sleep(40);
		const waiting = await q.stats();
		expect(waiting).toMatchObject({ pending: 3, inFlight: 0, deadLetters: 0 });
		expect(waiting.oldestAgeMs).toBeGreaterThanOrEqual(35);

		const hold = gate();
		await q.start(() => hold.promise);
		await until(async () => (await q.stats()).inFlight === 1, "one job in flight");
		expect(await q.stats()).toMatchObject({ pending: 3, inFlight: 1 });
		expect(await registry.getSingleMetricAsString("vigil_job_queue_depth")).toContain(`vigil_job_queue_depth{queue="${name}"} 3`);
		expect(await registry.getSingleMetricAsString("vigil_jobs_in_flight")).toContain(`vigil_jobs_in_flight{queue="${name}",node="n"} 1`);
		hold.open();
		await until(async () => (await q.stats()).pending === 0, "all jobs done");
		expect(await q.stats()).toEqual({ pending: 0, inFlight: 0, oldestAgeMs: null, deadLetters: 0 });
	});

	it("stop() takes no new jobs and waits for the ones in flight", async () => {
		const hub = new InProcessHub();
		const q = node(hub, uniqueName("stop"), "n", { concurrency: 2 });
		let finished = 0;
		const started: number[] = [];
		await q.start(async (job) => {
			started.push(job.index);
			await sleep(80);
			finished++;
		});
		await q.send({ clip: "c", index: 0 });
		await until(() => started.length === 1, "the job to start");
		await q.stop();
		expect(finished).toBe(1);
		await q.send({ clip: "c", index: 1 });
		expect(await q.stats()).toMatchObject({ pending: 1, inFlight: 0 });
		// Another node is the barrier: it takes the job, which the stopped one would have had first.
		const other = node(hub, q.name, "other");
		const taken: number[] = [];
		await other.start(async (job) => void taken.push(job.index));
		await until(() => taken.length === 1, "the other node to run the job");
		expect(taken).toEqual([1]);
		expect(started).toEqual([0]);
	});

	it("hands the handler a working() signal and an AbortSignal, and copies jobs as JSON", async () => {
		const hub = new InProcessHub();
		const q = node<{ at: Date | string }>(hub, uniqueName("ctl"), "n");
		let seen: unknown;
		await q.start(async (job, ctl) => {
			ctl.working();
			expect(ctl.signal.aborted).toBe(false);
			seen = job.at;
		});
		await q.send({ at: new Date("2024-05-01T00:00:00Z") });
		await until(() => seen !== undefined, "the job");
		expect(seen).toBe("2024-05-01T00:00:00.000Z");
		await expect(q.send(undefined as never)).rejects.toThrow(/JSON/);
	});
});

describe("in-process dead letters", () => {
	/** A worker whose handler fails while `failing` says so; resolves once `count` jobs are dead letters. */
	async function deadLetters(hub: InProcessHub, name: string, jobs: Segment[], failing: () => boolean) {
		const worker = node(hub, name, "worker-1", { maxDeliver: 2, retryBaseMs: 5, retryMaxMs: 10 });
		const runs: { job: Segment; attempt: number }[] = [];
		await worker.start(async (job, ctl) => {
			runs.push({ job, attempt: ctl.attempt });
			if (failing()) throw new Error(`no disk for ${job.clip}`);
		});
		for (const job of jobs) await worker.send(job, { id: `${job.clip}:${job.index}` });
		await until(async () => (await worker.stats()).deadLetters === jobs.length, "the dead letters");
		return { worker, runs };
	}

	it("lists letters newest first and finds one by its letter id, with its error and attempts", async () => {
		const hub = new InProcessHub();
		const { worker } = await deadLetters(hub, uniqueName("inspect"), [{ clip: "a", index: 0 }], () => true);
		await worker.send({ clip: "b", index: 1 }, { id: "b:1" });
		await until(async () => (await worker.stats()).deadLetters === 2, "the second dead letter");
		const [newest, oldest] = await worker.listDeadLetters(10);
		expect([newest.id, oldest.id]).toEqual(["b:1", "a:0"]);
		expect(newest.letterId).not.toBe(oldest.letterId);
		expect(await worker.getDeadLetter(oldest.letterId)).toMatchObject({
			letterId: oldest.letterId,
			id: "a:0",
			job: { clip: "a", index: 0 },
			error: "no disk for a",
			attempts: 2,
		});
		expect(await worker.getDeadLetter("999")).toBeNull();
	});

	it("replay sends the job again as a fresh job that runs, and the letter leaves the list", async () => {
		const hub = new InProcessHub();
		let failing = true;
		const { worker, runs } = await deadLetters(hub, uniqueName("replay"), [{ clip: "r", index: 7 }], () => failing);
		const [letter] = await worker.listDeadLetters(10);
		failing = false;
		const jobId = await worker.replayDeadLetter(letter.letterId);
		expect(jobId).toBe(`r:7~replay${letter.letterId}`);
		await until(() => runs.length === 3, "the replayed run");
		expect(runs[2]).toEqual({ job: { clip: "r", index: 7 }, attempt: 1 });
		await until(async () => (await worker.stats()).pending === 0, "the replayed job to finish");
		expect(await worker.listDeadLetters(10)).toEqual([]);
		expect(await worker.getDeadLetter(letter.letterId)).toBeNull();
		expect(await worker.replayDeadLetter(letter.letterId)).toBeNull();
	});

	it("a replayed job that fails again becomes a new letter", async () => {
		const hub = new InProcessHub();
		const { worker } = await deadLetters(hub, uniqueName("again"), [{ clip: "x", index: 0 }], () => true);
		const [first] = await worker.listDeadLetters(10);
		await worker.replayDeadLetter(first.letterId);
		await until(async () => (await worker.listDeadLetters(10)).some((l) => l.letterId !== first.letterId), "the new letter");
		const letters = await worker.listDeadLetters(10);
		expect(letters).toHaveLength(1);
		expect(letters[0].id).toBe(`x:0~replay${first.letterId}`);
	});

	it("discard removes a letter for good; other letters stay", async () => {
		const hub = new InProcessHub();
		let failing = true;
		const { worker, runs } = await deadLetters(
			hub,
			uniqueName("discard"),
			[
				{ clip: "d", index: 0 },
				{ clip: "d", index: 1 },
			],
			() => failing,
		);
		const [keep, drop] = await worker.listDeadLetters(10);
		expect(await worker.discardDeadLetter(drop.letterId)).toBe(true);
		expect(await worker.discardDeadLetter(drop.letterId)).toBe(false);
		expect((await worker.listDeadLetters(10)).map((l) => l.letterId)).toEqual([keep.letterId]);
		expect(await worker.stats()).toMatchObject({ pending: 0, deadLetters: 1 });
		// A job sent after the discard is the barrier: a discarded job brought back would run before it.
		failing = false;
		await worker.send({ clip: "e", index: 0 });
		await until(() => runs.some((r) => r.job.clip === "e"), "the job sent after the discard");
		expect(runs.filter((r) => r.job.clip === "d")).toHaveLength(4);
	});

	it("a sender-only queue instance on the same hub manages the worker's letters", async () => {
		const hub = new InProcessHub();
		const name = uniqueName("manager");
		await deadLetters(hub, name, [{ clip: "m", index: 0 }], () => true);
		const manager = node(hub, name, "admin-node");
		const [letter] = await manager.listDeadLetters(10);
		expect(letter).toMatchObject({ id: "m:0", node: "worker-1" });
		expect(await manager.discardDeadLetter(letter.letterId)).toBe(true);
		expect(await manager.listDeadLetters(10)).toEqual([]);
	});
});

describe("job queue settings", () => {
	it("has a default, a unit and a reason for every setting", () => {
		expect(resolveJobQueueSettings("q")).toEqual({
			concurrency: 1,
			ackWaitMs: 30000,
			maxDeliver: 5,
			retryBaseMs: 1000,
			retryMaxMs: 60000,
			duplicateWindowMs: 120000,
			maxAgeMs: 0,
			maxBytes: 0,
			deadLetterMaxAgeMs: 14 * 86_400_000,
			deadLetterMaxBytes: 2 ** 30,
		});
		for (const setting of Object.values(JOB_QUEUE_SETTINGS)) {
			expect(setting.doc.length).toBeGreaterThan(20);
			expect(setting.unit).toBeTruthy();
		}
	});

	it("refuses bad values and unknown names, naming the queue and the setting", () => {
		expect(() => resolveJobQueueSettings("detector", { ackWaitMs: 10 })).toThrow(/jobs\.detector\.ackWaitMs must be an integer from 1000/);
		expect(() => resolveJobQueueSettings("detector", { concurrency: 1.5 })).toThrow(/jobs\.detector\.concurrency/);
		expect(() => resolveJobQueueSettings("detector", { retryBaseMs: 5000, retryMaxMs: 100 })).toThrow(/retryMaxMs must be at least retryBaseMs/);
		expect(() => resolveJobQueueSettings("detector", { ackWait: 1000 } as never)).toThrow(/jobs\.detector\.ackWait is not a job queue setting/);
		expect(() => createJobQueue("has.dot")).toThrow(/letters, digits/);
	});

	it("grows the retry delay exponentially with jitter, up to the cap", () => {
		const settings = { retryBaseMs: 1000, retryMaxMs: 60000 };
		expect([1, 2, 3, 4].map((n) => retryDelayMs(n, settings, () => 1))).toEqual([1000, 2000, 4000, 8000]);
		expect([1, 2, 3, 4].map((n) => retryDelayMs(n, settings, () => 0))).toEqual([500, 1000, 2000, 4000]);
		expect(retryDelayMs(20, settings, () => 1)).toBe(60000);
		expect(retryDelayMs(20, settings, () => 0)).toBe(30000);
		// Below the cap, a delay is never shorter than the one before, whatever the jitter.
		for (let n = 1; n <= 5; n++) expect(retryDelayMs(n + 1, settings, Math.random)).toBeGreaterThanOrEqual(retryDelayMs(n, settings, () => 1));
	});
});

describe("JobQueueMixin without NATS", () => {
	it("lets a sender service and a worker service on one embedded node meet through the queue", async () => {
		const config = loadConfig({ DATA_DIR: "/tmp/vigil-job-queue-unit", JWT_SECRET: "x".repeat(40), ENCRYPTION_KEY: "00".repeat(32), TRANSPORTER: "" });
		const broker = new ServiceBroker({ nodeID: "embedded-1", logger: false });
		attachNodeContext(broker, config);
		const done: { job: Segment; attempt: number }[] = [];
		const queue = uniqueName("mixin");
		type Jobs = Record<typeof queue, Segment>;
		broker.createService({
			name: "clips",
			mixins: [JobQueueMixin({ [queue]: { retryBaseMs: 10 } })],
			actions: {
				async split(this: JobQueueService<Jobs>, ctx: { params: Segment }) {
					await this.queues[queue].send(ctx.params, { id: `${ctx.params.clip}:${ctx.params.index}` });
				},
				async depth(this: JobQueueService<Jobs>) {
					return this.queues[queue].stats();
				},
			},
		} as unknown as ServiceSchema);
		broker.createService({
			name: "detector",
			mixins: [JobQueueMixin({ [queue]: { retryBaseMs: 10 } })],
			async started(this: JobQueueService<Jobs>) {
				await this.queues[queue].start(async (job, ctl) => {
					done.push({ job, attempt: ctl.attempt });
				});
			},
		} as unknown as ServiceSchema);
		await broker.start();
		try {
			await broker.call("clips.split", { clip: "k", index: 1 });
			await broker.call("clips.split", { clip: "k", index: 2 });
			await until(() => done.length === 2, "both segments");
			expect(done).toEqual([
				{ job: { clip: "k", index: 1 }, attempt: 1 },
				{ job: { clip: "k", index: 2 }, attempt: 1 },
			]);
			expect(await broker.call("clips.depth")).toMatchObject({ pending: 0, deadLetters: 0 });
		} finally {
			await broker.stop();
		}
	});
});
