/** The job queue as services see it: the same interface in-process and over NATS JetStream. */

export interface SendOptions {
	/** Dedupe key: a repeated send with the same id is dropped (over NATS within duplicateWindowMs; in-process while pending or running). */
	id?: string;
}

export interface JobControl {
	/** 1 for the first try; over NATS this counts every delivery, including ones to a node that died. */
	attempt: number;
	/** Says "still working" now. The queue also says it every ackWaitMs / 3 while the handler runs. */
	working(): void;
	/** Aborted when this worker can no longer finish the job: its NATS connection closed or stayed down past ackWaitMs, so another node will get it. */
	signal: AbortSignal;
}

/** Does the work and commits its results before resolving: the job is acknowledged only after that. Throwing means "retry later". */
export type JobHandler<T> = (job: T, ctl: JobControl) => Promise<void>;

export interface StartOptions {
	/** Overrides the queue's concurrency setting for this node. */
	concurrency?: number;
}

export interface JobQueueStats {
	/** Jobs sent and not yet finished: waiting, waiting for a retry, or running on any node. */
	pending: number;
	/** Jobs this node (this queue instance) is running now. */
	inFlight: number;
	/** Age of the oldest job not yet finished, from its first send; null when none. */
	oldestAgeMs: number | null;
	/** Jobs kept in the dead letters. */
	deadLetters: number;
}

export interface DeadLetter<T = unknown> {
	/** Names this letter for getDeadLetter, replayDeadLetter and discardDeadLetter (digits; over NATS, its dead-letter stream sequence). */
	letterId: string;
	/** The job's id (its dedupe key when sent). */
	id: string;
	job: T;
	error: string;
	attempts: number;
	failedAt: Date;
	/** Queue and node the job failed on; for a job whose node died, the node that noticed. */
	queue: string;
	node: string;
}

export interface JobQueue<T> {
	readonly name: string;
	send(job: T, opts?: SendOptions): Promise<void>;
	start(handler: JobHandler<T>, opts?: StartOptions): Promise<void>;
	/** Stops taking jobs and waits for the ones in flight. */
	stop(): Promise<void>;
	stats(): Promise<JobQueueStats>;
	/** The most recent dead letters first. */
	listDeadLetters(limit?: number): Promise<DeadLetter<T>[]>;
	/** One dead letter; null when there is none by that id (never was, replayed or discarded). */
	getDeadLetter(letterId: string): Promise<DeadLetter<T> | null>;
	/**
	 * Sends the letter's job again as a fresh job, with a new id (derived from the letter, so a repeated replay
	 * is dropped as a duplicate rather than run twice), then removes the letter. Returns the new job id, or
	 * null when there is no such letter. A replayed job that fails again becomes a new letter.
	 */
	replayDeadLetter(letterId: string): Promise<string | null>;
	/** Removes the letter for good; false when there was none. */
	discardDeadLetter(letterId: string): Promise<boolean>;
	/** stop(), then lets go of what the queue holds (subscriptions, its own NATS connection). */
	close(): Promise<void>;
}

/** What the queue logs through: a Moleculer logger fits. */
export interface JobLogger {
	debug(...args: unknown[]): void;
	info(...args: unknown[]): void;
	warn(...args: unknown[]): void;
	error(...args: unknown[]): void;
}

export const silentLogger: JobLogger = { debug() {}, info() {}, warn() {}, error() {} };
