/**
 * The job queue without NATS (embedded mode): jobs live in this process's memory, so they are lost when it
 * stops. Same interface and the same retry, growing delay and dead-letter behaviour as over JetStream. Queues
 * of one name on one hub share their jobs: each queue instance is a "node" with its own workers.
 */
import { randomUUID } from "node:crypto";
import { reportDepth } from "./metrics";
import type { JobQueueSettings } from "./settings";
import type { DeadLetter, JobHandler, JobLogger, JobQueue, JobQueueStats, SendOptions, StartOptions } from "./types";
import { replayJobId, resolveConcurrency, WorkerPool, type Delivery, type DeliverySource } from "./workers";

interface Entry {
	id: string;
	/** The job as JSON: a job that would not survive NATS fails in embedded mode too, and nobody shares it by reference. */
	payload: string;
	deliveries: number;
	sentAt: number;
	availableAt: number;
}

interface StoredDeadLetter {
	letterId: string;
	id: string;
	payload: string;
	error: string;
	attempts: number;
	failedAt: Date;
	node: string;
}

/** Dead letters kept per queue (newest first): enough for an admin to look, bounded so memory is. */
const DEAD_LETTERS_KEPT = 1000;

/** The shared state of one queue name: waiting jobs (some delayed for a retry), running ones, dead letters. */
class QueueState {
	readonly waiting: Entry[] = [];
	readonly running = new Map<string, Entry>();
	readonly dead: StoredDeadLetter[] = [];
	private lettersBuried = 0;
	private readonly takers: ((entry: Entry | null) => void)[] = [];
	private timer: NodeJS.Timeout | undefined;

	has(id: string): boolean {
		return this.running.has(id) || this.waiting.some((e) => e.id === id);
	}

	add(entry: Entry): void {
		this.waiting.push(entry);
		this.dispatch();
	}

	/** The next job that is due, for the first worker that asked; null when `stop` aborts the wait. */
	take(stop: AbortSignal): Promise<Entry | null> {
		if (stop.aborted) return Promise.resolve(null);
		return new Promise((resolve) => {
			const taker = (entry: Entry | null) => {
				stop.removeEventListener("abort", cancel);
				resolve(entry);
			};
			const cancel = () => {
				const i = this.takers.indexOf(taker);
				if (i >= 0) this.takers.splice(i, 1);
				if (this.takers.length === 0) this.clearTimer();
				resolve(null);
			};
			stop.addEventListener("abort", cancel, { once: true });
			this.takers.push(taker);
			this.dispatch();
		});
	}

	finish(entry: Entry): void {
		this.running.delete(entry.id);
	}

	retry(entry: Entry, delayMs: number): void {
		this.running.delete(entry.id);
		entry.availableAt = Date.now() + delayMs;
		this.add(entry);
	}

	bury(entry: Entry, letter: Omit<StoredDeadLetter, "letterId">): void {
		this.running.delete(entry.id);
		this.dead.unshift({ ...letter, letterId: String(++this.lettersBuried) });
		this.dead.length = Math.min(this.dead.length, DEAD_LETTERS_KEPT);
	}

	/** Takes a letter out of the dead letters; undefined when there is none by that id. */
	unbury(letterId: string): StoredDeadLetter | undefined {
		const i = this.dead.findIndex((d) => d.letterId === letterId);
		return i < 0 ? undefined : this.dead.splice(i, 1)[0];
	}

	private dispatch(): void {
		this.clearTimer();
		const now = Date.now();
		while (this.takers.length > 0) {
			const i = this.waiting.findIndex((e) => e.availableAt <= now);
			if (i < 0) break;
			const [entry] = this.waiting.splice(i, 1);
			this.running.set(entry.id, entry);
			this.takers.shift()?.(entry);
		}
		if (this.takers.length > 0 && this.waiting.length > 0) {
			const due = this.waiting.reduce((min, e) => Math.min(min, e.availableAt), Infinity);
			this.timer = setTimeout(() => this.dispatch(), Math.max(0, due - now));
		}
	}

	private clearTimer(): void {
		clearTimeout(this.timer);
		this.timer = undefined;
	}
}

/** Where in-process queues meet: one per broker (the mixin), or the process-wide default. */
export class InProcessHub {
	private readonly queues = new Map<string, QueueState>();

	state(name: string): QueueState {
		let state = this.queues.get(name);
		if (!state) this.queues.set(name, (state = new QueueState()));
		return state;
	}
}

export const defaultHub = new InProcessHub();

export interface InProcessJobQueueOptions {
	hub: InProcessHub;
	nodeId: string;
	logger: JobLogger;
}

export class InProcessJobQueue<T> implements JobQueue<T>, DeliverySource<T> {
	private readonly state: QueueState;
	private readonly pool: WorkerPool<T>;
	private readonly unreport: () => void;
	private closed = false;

	constructor(
		readonly name: string,
		private readonly settings: JobQueueSettings,
		private readonly options: InProcessJobQueueOptions,
	) {
		this.state = options.hub.state(name);
		this.pool = new WorkerPool(name, options.nodeId, settings, this, options.logger);
		this.unreport = reportDepth(name, async () => this.depth());
	}

	async send(job: T, opts: SendOptions = {}): Promise<void> {
		if (this.closed) throw new Error(`Job queue ${this.name} is closed`);
		const payload = JSON.stringify(job);
		if (payload === undefined) throw new TypeError(`Job queue ${this.name}: a job must be a JSON value`);
		const id = opts.id ?? randomUUID();
		if (this.state.has(id)) {
			this.options.logger.debug(`Job queue ${this.name}: job ${id} is already pending; repeated send dropped`);
			return;
		}
		const now = Date.now();
		this.state.add({ id, payload, deliveries: 0, sentAt: now, availableAt: now });
	}

	async start(handler: JobHandler<T>, opts: StartOptions = {}): Promise<void> {
		if (this.closed) throw new Error(`Job queue ${this.name} is closed`);
		this.pool.start(handler, resolveConcurrency(this.name, opts.concurrency, this.settings.concurrency));
	}

	stop(): Promise<void> {
		return this.pool.stop();
	}

	async stats(): Promise<JobQueueStats> {
		return { ...this.depth(), inFlight: this.pool.inFlight, deadLetters: this.state.dead.length };
	}

	async listDeadLetters(limit = 100): Promise<DeadLetter<T>[]> {
		return this.state.dead.slice(0, limit).map((d) => this.present(d));
	}

	async getDeadLetter(letterId: string): Promise<DeadLetter<T> | null> {
		const letter = this.state.dead.find((d) => d.letterId === letterId);
		return letter ? this.present(letter) : null;
	}

	async replayDeadLetter(letterId: string): Promise<string | null> {
		if (this.closed) throw new Error(`Job queue ${this.name} is closed`);
		const letter = this.state.unbury(letterId);
		if (!letter) return null;
		const id = replayJobId(letter.id, letterId);
		const now = Date.now();
		this.state.add({ id, payload: letter.payload, deliveries: 0, sentAt: now, availableAt: now });
		return id;
	}

	async discardDeadLetter(letterId: string): Promise<boolean> {
		return this.state.unbury(letterId) !== undefined;
	}

	private present(d: StoredDeadLetter): DeadLetter<T> {
		return {
			letterId: d.letterId,
			id: d.id,
			job: JSON.parse(d.payload) as T,
			error: d.error,
			attempts: d.attempts,
			failedAt: d.failedAt,
			queue: this.name,
			node: d.node,
		};
	}

	async close(): Promise<void> {
		this.closed = true;
		await this.stop();
		this.unreport();
	}

	async next(stop: AbortSignal): Promise<Delivery<T> | null> {
		const entry = await this.state.take(stop);
		if (!entry) return null;
		entry.deliveries++;
		const { state } = this;
		return {
			id: entry.id,
			job: JSON.parse(entry.payload) as T,
			attempt: entry.deliveries,
			heartbeat() {},
			async ack() {
				state.finish(entry);
			},
			async retry(delayMs) {
				state.retry(entry, delayMs);
			},
			deadLetter: async (error, attempts) => {
				state.bury(entry, { id: entry.id, payload: entry.payload, error, attempts, failedAt: new Date(), node: this.options.nodeId });
			},
		};
	}

	private depth(): { pending: number; oldestAgeMs: number | null } {
		const { waiting, running } = this.state;
		const pending = waiting.length + running.size;
		if (pending === 0) return { pending, oldestAgeMs: null };
		let oldest = Infinity;
		for (const e of waiting) oldest = Math.min(oldest, e.sentAt);
		for (const e of running.values()) oldest = Math.min(oldest, e.sentAt);
		return { pending, oldestAgeMs: Date.now() - oldest };
	}
}
