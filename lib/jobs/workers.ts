/**
 * The worker side shared by both queues: N loops per node, each taking one job at a time, running the handler
 * with a "still working" heartbeat, then acknowledging it, retrying it later or moving it to the dead letters.
 */
import { jobDuration, jobsDeadLettered, jobsFailed, jobsInFlight, jobsProcessed } from "./metrics";
import { retryDelayMs } from "./retry";
import type { JobQueueSettings } from "./settings";
import type { JobHandler, JobLogger } from "./types";

/** One delivery of a job to this node, and the ways it can end. */
export interface Delivery<T> {
	id: string;
	job: T;
	/** 1-based: how many times the job has been handed out, this one included. */
	attempt: number;
	heartbeat(): void;
	ack(): Promise<void>;
	retry(delayMs: number): Promise<void>;
	deadLetter(error: string, attempts: number): Promise<void>;
}

export interface DeliverySource<T> {
	/** The next job, or null when nothing came (or `stop` was aborted). Throws QueueGoneError when no more can come. */
	next(stop: AbortSignal): Promise<Delivery<T> | null>;
}

/** This queue instance can take no more jobs (its NATS connection closed). */
export class QueueGoneError extends Error {
	override name = "QueueGoneError";
}

export function errorMessage(err: unknown): string {
	if (err instanceof Error) return err.message || err.name;
	return typeof err === "string" ? err : (JSON.stringify(err) ?? String(err));
}

/** The id of a dead letter's job sent again: the original id (without earlier replay marks) and the letter. */
export function replayJobId(jobId: string, letterId: string): string {
	return `${jobId.replace(/~replay\d+$/, "")}~replay${letterId}`;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
	return new Promise((resolve) => {
		if (signal?.aborted) return resolve();
		const done = () => {
			clearTimeout(timer);
			signal?.removeEventListener("abort", done);
			resolve();
		};
		const timer = setTimeout(done, ms);
		signal?.addEventListener("abort", done, { once: true });
	});
}

/** How long a loop waits after failing to fetch (NATS down, stream gone): 250 ms doubling to 5 s. */
const FETCH_BACKOFF = { retryBaseMs: 250, retryMaxMs: 5000 };

export class WorkerPool<T> {
	private stopping: AbortController | undefined;
	private loops: Promise<void>[] = [];
	private readonly running = new Set<AbortController>();

	constructor(
		private readonly queue: string,
		private readonly node: string,
		private readonly settings: JobQueueSettings,
		private readonly source: DeliverySource<T>,
		private readonly logger: JobLogger,
	) {}

	get inFlight(): number {
		return this.running.size;
	}

	get started(): boolean {
		return this.loops.length > 0;
	}

	start(handler: JobHandler<T>, concurrency: number): void {
		if (this.started) throw new Error(`Job queue ${this.queue} is already started on this node`);
		const stopping = (this.stopping = new AbortController());
		this.loops = Array.from({ length: concurrency }, (_, i) => this.loop(handler, stopping.signal, i));
	}

	/** Stops taking jobs and waits until the ones in flight are settled. */
	async stop(): Promise<void> {
		this.stopping?.abort();
		await Promise.all(this.loops);
		this.loops = [];
	}

	/** Tells the handlers in flight that their jobs are no longer theirs to finish. */
	abortInFlight(reason: Error): void {
		for (const job of this.running) job.abort(reason);
	}

	private async loop(handler: JobHandler<T>, stop: AbortSignal, index: number): Promise<void> {
		let failures = 0;
		while (!stop.aborted) {
			let delivery: Delivery<T> | null;
			try {
				delivery = await this.source.next(stop);
				failures = 0;
			} catch (err) {
				if (err instanceof QueueGoneError) {
					this.logger.error(`Job queue ${this.queue}: worker ${index} stops: ${err.message}`);
					return;
				}
				if (stop.aborted) return;
				const wait = retryDelayMs(++failures, FETCH_BACKOFF);
				const message = `Job queue ${this.queue}: cannot fetch jobs (${errorMessage(err)}); retrying in ${wait} ms`;
				if (failures === 1) this.logger.warn(message);
				else this.logger.debug(message);
				await sleep(wait, stop);
				continue;
			}
			if (delivery) await this.run(handler, delivery);
		}
	}

	private async run(handler: JobHandler<T>, delivery: Delivery<T>): Promise<void> {
		const { queue, node, settings } = this;
		const lease = new AbortController();
		this.running.add(lease);
		jobsInFlight.inc({ queue, node });
		let settled = false;
		const working = () => {
			if (!settled) delivery.heartbeat();
		};
		const heartbeat = setInterval(working, Math.max(100, Math.floor(settings.ackWaitMs / 3)));
		const startedAt = performance.now();
		let failure: { error: unknown } | undefined;
		try {
			await handler(delivery.job, { attempt: delivery.attempt, working, signal: lease.signal });
		} catch (error) {
			failure = { error };
		} finally {
			settled = true;
			clearInterval(heartbeat);
		}
		jobDuration.observe({ queue, outcome: failure ? "failed" : "ok" }, (performance.now() - startedAt) / 1000);
		try {
			if (!failure) {
				await delivery.ack();
				jobsProcessed.inc({ queue });
			} else {
				jobsFailed.inc({ queue });
				const message = errorMessage(failure.error);
				if (delivery.attempt >= settings.maxDeliver) {
					await delivery.deadLetter(message, delivery.attempt);
					jobsDeadLettered.inc({ queue, reason: "failed" });
					this.logger.warn(`Job queue ${queue}: job ${delivery.id} failed on its last attempt (${delivery.attempt}) and went to the dead letters: ${message}`);
				} else {
					const delay = retryDelayMs(delivery.attempt, settings);
					await delivery.retry(delay);
					this.logger.info(
						`Job queue ${queue}: job ${delivery.id} failed (attempt ${delivery.attempt} of ${settings.maxDeliver}), retrying in ${delay} ms: ${message}`,
					);
				}
			}
		} catch (err) {
			this.logger.warn(`Job queue ${queue}: could not settle job ${delivery.id} (it will come back): ${errorMessage(err)}`);
		} finally {
			this.running.delete(lease);
			jobsInFlight.dec({ queue, node });
		}
	}
}

export function resolveConcurrency(queue: string, given: number | undefined, fallback: number): number {
	const concurrency = given ?? fallback;
	if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000)
		throw new Error(`Job queue ${queue}: concurrency must be an integer from 1 to 1000, got ${String(concurrency)}`);
	return concurrency;
}
