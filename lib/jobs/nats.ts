/**
 * The job queue over NATS JetStream. Per queue: a work-queue stream `<ns>_jobs_<name>` on subject
 * `<ns>.jobs.<name>`, a durable pull consumer named after the queue, and a dead-letter stream
 * `<ns>_dead_<name>` on `<ns>.dead.<name>`. Senders and workers both create (or update) what they need.
 *
 * A job is acknowledged only after its handler resolves. A worker that goes quiet for ackWaitMs loses its job
 * to another node; a live one says "still working" every ackWaitMs / 3. A job whose node died on every attempt
 * is reported by the server's max-deliveries advisory, which one worker node copies to the dead letters.
 */
import { randomUUID } from "node:crypto";
import {
	AckPolicy,
	connect,
	DeliverPolicy,
	DiscardPolicy,
	Events,
	headers,
	nanos,
	RetentionPolicy,
	StorageType,
	type Consumer,
	type ConsumerConfig,
	type JetStreamClient,
	type JetStreamManager,
	type JsMsg,
	type Msg,
	type NatsConnection,
	type StreamConfig,
	type Subscription,
} from "nats";
import { jobsDeadLettered, reportDepth } from "./metrics";
import type { JobQueueSettings } from "./settings";
import type { DeadLetter, JobHandler, JobLogger, JobQueue, JobQueueStats, SendOptions, StartOptions } from "./types";
import { errorMessage, QueueGoneError, replayJobId, resolveConcurrency, sleep, WorkerPool, type Delivery, type DeliverySource } from "./workers";

/** A connection the queue borrows (and never closes), or a function that hands one out (a shared per-node connection). */
export type NatsConnectionSource = NatsConnection | (() => Promise<NatsConnection>);

export interface NatsJobQueueOptions {
	/** The queue opens (and closes) its own connection to this URL, unless `connection` is given. */
	natsUrl?: string;
	connection?: NatsConnectionSource;
	nodeId: string;
	/** Prefix of stream names and subjects, so deployments sharing a NATS never meet (the Moleculer namespace). */
	namespace: string;
	logger: JobLogger;
}

export interface JobStreamNames {
	stream: string;
	subject: string;
	durable: string;
	deadStream: string;
	deadSubject: string;
	/** Where the server reports a job delivered maxDeliver times without an ack or a nak. */
	maxDeliveriesAdvisory: string;
}

export function jobStreamNames(namespace: string, queue: string): JobStreamNames {
	const ns = namespace.replace(/[^A-Za-z0-9_-]/g, "_");
	const stream = `${ns}_jobs_${queue}`;
	return {
		stream,
		subject: `${ns}.jobs.${queue}`,
		durable: queue,
		deadStream: `${ns}_dead_${queue}`,
		deadSubject: `${ns}.dead.${queue}`,
		maxDeliveriesAdvisory: `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${queue}`,
	};
}

/** Opens a connection that reconnects for ever (0.5 s apart): the queue outlives NATS restarts. */
export function connectToNats(url: string, name: string): Promise<NatsConnection> {
	return connect({ servers: url.split(",").map((s) => s.trim()), name, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
}

/** How long one idle pull waits on the server; stop() interrupts it, so this only bounds idle traffic. */
const PULL_EXPIRES_MS = 10000;
/** How long send() keeps retrying through a NATS outage before it gives up (msgID makes retries safe). */
const SEND_RETRY_FOR_MS = 20000;
/** What the dead letters record for a job whose node died (or went silent past ackWaitMs) on its last attempt. */
export const NODE_DIED = "node died during the job";

const ERR_STREAM_CONFIG_DIFFERS = 10058;
const ERR_STREAM_NOT_FOUND = 10059;
const ERR_CONSUMER_NOT_FOUND = 10014;
const ERR_MESSAGE_NOT_FOUND = 10037;
/** Deleting a sequence the stream does not hold (already deleted, or never there). */
const ERR_MESSAGE_DELETE_FAILED = 10057;

function apiErrorCode(err: unknown): number | undefined {
	return (err as { api_error?: { err_code?: number } } | undefined)?.api_error?.err_code;
}

/** NATS header values are one line; errors are kept readable and bounded. */
function headerValue(text: string): string {
	return (
		text
			.replace(/[\r\n]+/g, " ")
			.trim()
			.slice(0, 2000) || "(no message)"
	);
}

/** A stream's age and size limits as NATS takes them: 0 means no limit in our settings, -1 for NATS' max_bytes. */
function limits(maxAgeMs: number, maxBytes: number): Pick<StreamConfig, "max_age" | "max_bytes"> {
	return { max_age: maxAgeMs > 0 ? nanos(maxAgeMs) : 0, max_bytes: maxBytes > 0 ? maxBytes : -1 };
}

/** The dead-letter stream of a queue: the same settings wherever it is created (its limits come from the queue's settings). */
function deadLetterStream(name: string, subject: string, settings: JobQueueSettings): Partial<StreamConfig> & { name: string } {
	return {
		name,
		subjects: [subject],
		retention: RetentionPolicy.Limits,
		storage: StorageType.File,
		discard: DiscardPolicy.Old,
		duplicate_window: nanos(120000),
		...limits(settings.deadLetterMaxAgeMs, settings.deadLetterMaxBytes),
	};
}

/** A letter id is its dead-letter stream sequence; anything else names no letter. */
function letterSeq(letterId: string): number | null {
	if (!/^[1-9]\d{0,15}$/.test(letterId)) return null;
	return Number(letterId);
}

const HEADER = {
	jobId: "Vigil-Job-Id",
	error: "Vigil-Error",
	attempts: "Vigil-Attempts",
	queue: "Vigil-Queue",
	node: "Vigil-Node",
	failedAt: "Vigil-Failed-At",
} as const;

interface Ready {
	nc: NatsConnection;
	js: JetStreamClient;
	jsm: JetStreamManager;
}

export class NatsJobQueue<T> implements JobQueue<T>, DeliverySource<T> {
	readonly names: JobStreamNames;
	private readonly pool: WorkerPool<T>;
	private readonly logger: JobLogger;
	private readonly unreport: () => void;
	private ownConnection: Promise<NatsConnection> | undefined;
	private ready: Promise<Ready> | undefined;
	private deadReady: Promise<Ready> | undefined;
	private consumer: Promise<Consumer> | undefined;
	private advisories: Subscription | undefined;
	private readonly watched = new WeakSet<NatsConnection>();
	/** Set while the connection is down; fires when it has been down for ackWaitMs (the jobs in flight are gone). */
	private leaseTimer: NodeJS.Timeout | undefined;
	private closing = false;
	/** The connection closed under us: this instance can take no more jobs. */
	private gone = false;

	constructor(
		readonly name: string,
		private readonly settings: JobQueueSettings,
		private readonly options: NatsJobQueueOptions,
	) {
		if (!options.natsUrl && !options.connection) throw new Error(`Job queue ${name}: a NATS URL or connection is needed`);
		this.names = jobStreamNames(options.namespace, name);
		this.logger = options.logger;
		this.pool = new WorkerPool(name, options.nodeId, settings, this, options.logger);
		// Scrapes only report queues already set up: reading metrics never opens a connection.
		this.unreport = reportDepth(name, async () => {
			if (!this.ready) throw new Error("not connected");
			const { pending, oldestAgeMs } = await this.stats();
			return { pending, oldestAgeMs };
		});
	}

	async send(job: T, opts: SendOptions = {}): Promise<void> {
		if (this.closing) throw new Error(`Job queue ${this.name} is closed`);
		const json = JSON.stringify(job);
		if (json === undefined) throw new TypeError(`Job queue ${this.name}: a job must be a JSON value`);
		const payload = new TextEncoder().encode(json);
		const id = opts.id ?? randomUUID();
		const deadline = Date.now() + SEND_RETRY_FOR_MS;
		for (let failures = 1; ; failures++) {
			try {
				const { js } = await this.setUp();
				const ack = await js.publish(this.names.subject, payload, { msgID: id, expect: { streamName: this.names.stream } });
				if (ack.duplicate) this.logger.debug(`Job queue ${this.name}: job ${id} was sent before; repeated send dropped`);
				return;
			} catch (err) {
				const wait = Math.min(2000, 100 * 2 ** failures);
				if (this.gone || this.closing || apiErrorCode(err) !== undefined || Date.now() + wait > deadline) throw err;
				this.logger.debug(`Job queue ${this.name}: send failed (${errorMessage(err)}); retrying in ${wait} ms`);
				// "no responders": the stream may have been deleted under us; set it up again.
				if ((err as { code?: string }).code === "503") this.ready = undefined;
				await sleep(wait);
			}
		}
	}

	async start(handler: JobHandler<T>, opts: StartOptions = {}): Promise<void> {
		if (this.closing) throw new Error(`Job queue ${this.name} is closed`);
		const concurrency = resolveConcurrency(this.name, opts.concurrency, this.settings.concurrency);
		const { nc } = await this.setUp();
		// One worker node (a queue group) takes each advisory about a job whose node died on every attempt.
		this.advisories ??= nc.subscribe(this.names.maxDeliveriesAdvisory, {
			queue: `${this.names.stream}_dead_letters`,
			callback: (err, msg) => {
				if (err) return this.logger.warn(`Job queue ${this.name}: advisory subscription failed: ${err.message}`);
				this.buryAbandoned(msg).catch((e) => this.logger.error(`Job queue ${this.name}: could not dead-letter an abandoned job: ${errorMessage(e)}`));
			},
		});
		this.pool.start(handler, concurrency);
	}

	async stop(): Promise<void> {
		await this.pool.stop();
		this.advisories?.unsubscribe();
		this.advisories = undefined;
	}

	async stats(): Promise<JobQueueStats> {
		const { jsm } = await (this.ready ?? this.setUpForReading());
		const [jobs, dead] = await Promise.all([jsm.streams.info(this.names.stream), jsm.streams.info(this.names.deadStream)]);
		const pending = jobs.state.messages;
		const oldestAgeMs = pending > 0 ? Math.max(0, Date.now() - Date.parse(jobs.state.first_ts)) : null;
		return { pending, inFlight: this.pool.inFlight, oldestAgeMs, deadLetters: dead.state.messages };
	}

	async listDeadLetters(limit = 100): Promise<DeadLetter<T>[]> {
		const { jsm } = await this.setUpDeadLetters();
		const { state } = await jsm.streams.info(this.names.deadStream);
		const letters: DeadLetter<T>[] = [];
		for (let seq = state.last_seq; state.messages > 0 && seq >= state.first_seq && letters.length < limit; seq--) {
			const letter = await this.readDeadLetter(jsm, seq);
			if (letter) letters.push(letter);
		}
		return letters;
	}

	async getDeadLetter(letterId: string): Promise<DeadLetter<T> | null> {
		const seq = letterSeq(letterId);
		if (seq === null) return null;
		const { jsm } = await this.setUpDeadLetters();
		return this.readDeadLetter(jsm, seq);
	}

	async replayDeadLetter(letterId: string): Promise<string | null> {
		const seq = letterSeq(letterId);
		if (seq === null) return null;
		const { js, jsm } = await this.setUpDeadLetters();
		let stored;
		try {
			stored = await jsm.streams.getMessage(this.names.deadStream, { seq });
		} catch (err) {
			if (apiErrorCode(err) === ERR_MESSAGE_NOT_FOUND) return null;
			throw err;
		}
		const id = replayJobId(stored.header?.get(HEADER.jobId) || `${this.names.deadStream}:${seq}`, letterId);
		// The work stream must already exist (the job came from it): a sender-only node never redefines it.
		await js.publish(this.names.subject, stored.data, { msgID: id, expect: { streamName: this.names.stream } });
		await this.deleteDeadLetter(jsm, seq);
		return id;
	}

	async discardDeadLetter(letterId: string): Promise<boolean> {
		const seq = letterSeq(letterId);
		if (seq === null) return false;
		const { jsm } = await this.setUpDeadLetters();
		return this.deleteDeadLetter(jsm, seq);
	}

	private async readDeadLetter(jsm: JetStreamManager, seq: number): Promise<DeadLetter<T> | null> {
		let m;
		try {
			m = await jsm.streams.getMessage(this.names.deadStream, { seq });
		} catch (err) {
			if (apiErrorCode(err) === ERR_MESSAGE_NOT_FOUND) return null;
			throw err;
		}
		const text = new TextDecoder().decode(m.data);
		let job: T;
		try {
			job = JSON.parse(text) as T;
		} catch {
			job = text as T;
		}
		const h = m.header;
		return {
			letterId: String(seq),
			id: h.get(HEADER.jobId),
			job,
			error: h.get(HEADER.error),
			attempts: Number(h.get(HEADER.attempts)),
			failedAt: new Date(h.get(HEADER.failedAt) || m.time),
			queue: h.get(HEADER.queue),
			node: h.get(HEADER.node),
		};
	}

	private async deleteDeadLetter(jsm: JetStreamManager, seq: number): Promise<boolean> {
		try {
			return await jsm.streams.deleteMessage(this.names.deadStream, seq, false);
		} catch (err) {
			const code = apiErrorCode(err);
			if (code === ERR_MESSAGE_NOT_FOUND || code === ERR_MESSAGE_DELETE_FAILED) return false;
			throw err;
		}
	}

	async close(): Promise<void> {
		this.closing = true;
		await this.stop();
		this.unreport();
		clearTimeout(this.leaseTimer);
		const own = await this.ownConnection?.catch(() => undefined);
		if (own && !own.isClosed()) await own.close();
	}

	// --- the worker side -------------------------------------------------------------------------------

	async next(stop: AbortSignal): Promise<Delivery<T> | null> {
		if (this.gone) throw new QueueGoneError("its NATS connection closed");
		let consumer: Consumer;
		let nc: NatsConnection;
		try {
			const ready = await this.setUp();
			nc = ready.nc;
			this.consumer ??= ready.js.consumers.get(this.names.stream, this.names.durable);
			consumer = await this.consumer;
		} catch (err) {
			this.consumer = undefined;
			throw err;
		}
		if (stop.aborted) return null;
		// One message per pull: a node never holds a job it has no free worker for.
		const messages = await consumer.fetch({ max_messages: 1, expires: PULL_EXPIRES_MS });
		const interrupt = () => messages.stop();
		stop.addEventListener("abort", interrupt, { once: true });
		try {
			for await (const msg of messages) return await this.delivery(msg, nc);
			return null;
		} catch (err) {
			if (this.gone) throw new QueueGoneError("its NATS connection closed");
			// The consumer or stream may have gone: set them up again on the next try.
			this.ready = undefined;
			this.consumer = undefined;
			throw err;
		} finally {
			stop.removeEventListener("abort", interrupt);
		}
	}

	private async delivery(msg: JsMsg, nc: NatsConnection): Promise<Delivery<T> | null> {
		const id = msg.headers?.get("Nats-Msg-Id") || `${this.names.stream}:${msg.seq}`;
		const attempt = msg.info.redeliveryCount;
		let job: T;
		try {
			job = JSON.parse(new TextDecoder().decode(msg.data)) as T;
		} catch (err) {
			await this.publishDeadLetter(id, msg.seq, msg.data, `job is not valid JSON: ${errorMessage(err)}`, attempt, this.options.nodeId);
			msg.term();
			jobsDeadLettered.inc({ queue: this.name, reason: "invalid" });
			this.logger.error(`Job queue ${this.name}: job ${id} is not valid JSON; moved to the dead letters`);
			return null;
		}
		return {
			id,
			job,
			attempt,
			heartbeat: () => {
				try {
					msg.working();
				} catch {
					// The connection is closed: the job is already lost to this node (watch() aborts its signal).
				}
			},
			ack: async () => {
				// On a closed connection ackAck would only time out; the job is another node's by now.
				if (nc.isClosed()) throw new Error("the NATS connection is closed");
				if (!(await msg.ackAck())) throw new Error("NATS did not confirm the ack");
			},
			retry: async (delayMs) => msg.nak(delayMs),
			deadLetter: async (error, attempts) => {
				await this.publishDeadLetter(id, msg.seq, msg.data, error, attempts, this.options.nodeId);
				// Terminated: the work queue lets the job go and the server never redelivers it.
				msg.term();
			},
		};
	}

	/** The server gave up on a job (delivered maxDeliver times, never acked nor nak'd): its node died each time. */
	private async buryAbandoned(advisory: Msg): Promise<void> {
		const { stream_seq: seq, deliveries } = advisory.json<{ stream_seq: number; deliveries: number }>();
		const { jsm } = await this.setUp();
		let stored;
		try {
			stored = await jsm.streams.getMessage(this.names.stream, { seq });
		} catch (err) {
			if (apiErrorCode(err) === ERR_MESSAGE_NOT_FOUND) return; // acked late after all, or already buried
			throw err;
		}
		const id = stored.header?.get("Nats-Msg-Id") || `${this.names.stream}:${seq}`;
		await this.publishDeadLetter(id, seq, stored.data, NODE_DIED, deliveries, this.options.nodeId);
		// A work queue keeps a message the consumer gave up on: remove it so it does not count as pending.
		await jsm.streams.deleteMessage(this.names.stream, seq, false).catch((err) => {
			if (apiErrorCode(err) !== ERR_MESSAGE_NOT_FOUND) throw err;
		});
		jobsDeadLettered.inc({ queue: this.name, reason: "died" });
		this.logger.warn(`Job queue ${this.name}: job ${id} was abandoned ${deliveries} times (its node died or went silent); moved to the dead letters`);
	}

	/** The msgID (queue stream and sequence) makes a second copy of the same dead job a duplicate. */
	private async publishDeadLetter(id: string, seq: number, data: Uint8Array, error: string, attempts: number, node: string): Promise<void> {
		const { js } = await this.setUp();
		const h = headers();
		h.set(HEADER.jobId, headerValue(id));
		h.set(HEADER.error, headerValue(error));
		h.set(HEADER.attempts, String(attempts));
		h.set(HEADER.queue, this.name);
		h.set(HEADER.node, headerValue(node));
		h.set(HEADER.failedAt, new Date().toISOString());
		await js.publish(this.names.deadSubject, data, { headers: h, msgID: `${this.names.stream}:${seq}`, expect: { streamName: this.names.deadStream } });
	}

	// --- connection, streams and consumer ----------------------------------------------------------------

	private setUp(): Promise<Ready> {
		this.ready ??= this.prepare().catch((err) => {
			this.ready = undefined;
			throw err;
		});
		return this.ready;
	}

	private async prepare(): Promise<Ready> {
		const nc = await this.connection();
		if (nc.isClosed()) {
			this.gone = true;
			throw new QueueGoneError("its NATS connection closed");
		}
		this.watch(nc);
		const jsm = await nc.jetstreamManager();
		const { stream, subject, deadStream, deadSubject, durable } = this.names;
		await this.upsertStream(jsm, {
			name: stream,
			subjects: [subject],
			retention: RetentionPolicy.Workqueue,
			storage: StorageType.File,
			discard: DiscardPolicy.Old,
			duplicate_window: nanos(this.settings.duplicateWindowMs),
			...limits(this.settings.maxAgeMs, this.settings.maxBytes),
		});
		await this.upsertStream(jsm, deadLetterStream(deadStream, deadSubject, this.settings));
		await this.upsertConsumer(jsm, stream, {
			durable_name: durable,
			ack_policy: AckPolicy.Explicit,
			deliver_policy: DeliverPolicy.All,
			ack_wait: nanos(this.settings.ackWaitMs),
			max_deliver: this.settings.maxDeliver,
		});
		return { nc, jsm, js: nc.jetstream() };
	}

	/**
	 * What reading the figures needs. A node that only reads them (the jobs service) must not write its settings
	 * over those of the queue's senders and workers, so an existing work stream and consumer are left as they are;
	 * only where there are none yet are they made, as setUp makes them.
	 */
	private async setUpForReading(): Promise<Ready> {
		const ready = await this.setUpDeadLetters();
		try {
			await ready.jsm.streams.info(this.names.stream);
			return ready;
		} catch (err) {
			if (apiErrorCode(err) !== ERR_STREAM_NOT_FOUND) throw err;
			return this.setUp();
		}
	}

	/**
	 * What managing dead letters needs: the connection and the dead-letter stream (with this queue's dead-letter limits),
	 * never the work stream or consumer, so a node that only manages letters leaves the queue's settings alone.
	 */
	private setUpDeadLetters(): Promise<Ready> {
		this.deadReady ??= (async () => {
			const nc = await this.connection();
			if (nc.isClosed()) throw new QueueGoneError("its NATS connection closed");
			const jsm = await nc.jetstreamManager();
			await this.upsertStream(jsm, deadLetterStream(this.names.deadStream, this.names.deadSubject, this.settings));
			return { nc, jsm, js: nc.jetstream() };
		})().catch((err) => {
			this.deadReady = undefined;
			throw err;
		});
		return this.deadReady;
	}

	private connection(): Promise<NatsConnection> {
		const source = this.options.connection;
		if (typeof source === "function") return source();
		if (source) return Promise.resolve(source);
		this.ownConnection ??= connectToNats(this.options.natsUrl as string, `vigil-jobs-${this.name}-${this.options.nodeId}`).catch((err) => {
			this.ownConnection = undefined;
			throw err;
		});
		return this.ownConnection;
	}

	/** Idempotent: `add` succeeds when the stream exists as configured; a changed configuration is applied with `update`. */
	private async upsertStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
		try {
			await jsm.streams.add(config);
		} catch (err) {
			if (apiErrorCode(err) !== ERR_STREAM_CONFIG_DIFFERS) throw err;
			await jsm.streams.update(config.name, config);
			this.logger.info(`Job queue ${this.name}: stream ${config.name} updated to the new settings`);
		}
	}

	private async upsertConsumer(jsm: JetStreamManager, stream: string, config: Partial<ConsumerConfig> & { durable_name: string }): Promise<void> {
		let current;
		try {
			current = await jsm.consumers.info(stream, config.durable_name);
		} catch (err) {
			if (apiErrorCode(err) !== ERR_CONSUMER_NOT_FOUND && apiErrorCode(err) !== ERR_STREAM_NOT_FOUND) throw err;
			await jsm.consumers.add(stream, config);
			return;
		}
		if (current.config.ack_wait !== config.ack_wait || current.config.max_deliver !== config.max_deliver) {
			await jsm.consumers.update(stream, config.durable_name, { ack_wait: config.ack_wait, max_deliver: config.max_deliver });
			this.logger.info(`Job queue ${this.name}: consumer updated to ackWaitMs ${this.settings.ackWaitMs}, maxDeliver ${this.settings.maxDeliver}`);
		}
	}

	/** Follows the connection: a long outage means the jobs in flight now belong to other nodes; a close ends this queue. */
	private watch(nc: NatsConnection): void {
		if (this.watched.has(nc)) return;
		this.watched.add(nc);
		void nc.closed().then(() => {
			clearTimeout(this.leaseTimer);
			if (this.closing) return;
			this.gone = true;
			this.pool.abortInFlight(new Error("The NATS connection closed: the job will be redelivered to another node"));
			this.logger.error(`Job queue ${this.name}: the NATS connection closed; this node takes no more jobs from it`);
		});
		void (async () => {
			for await (const status of nc.status()) {
				if (this.closing) break;
				if (status.type === Events.Disconnect) {
					this.logger.warn(`Job queue ${this.name}: disconnected from NATS; reconnecting`);
					this.leaseTimer ??= setTimeout(() => {
						this.pool.abortInFlight(new Error("Lost NATS for longer than ackWaitMs: the job has been given to another node"));
					}, this.settings.ackWaitMs);
				} else if (status.type === Events.Reconnect) {
					this.logger.info(`Job queue ${this.name}: reconnected to NATS`);
					clearTimeout(this.leaseTimer);
					this.leaseTimer = undefined;
				}
			}
		})().catch(() => undefined);
	}
}
