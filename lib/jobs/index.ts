/**
 * Durable work distribution: `createJobQueue` gives the same JobQueue over NATS JetStream (when a NATS URL or
 * connection is given) or in this process (embedded mode). Services use it through mixins/job-queue.mixin.ts.
 */
import { hostname } from "node:os";
import { defaultHub, InProcessHub, InProcessJobQueue } from "./in-process";
import { NatsJobQueue, type NatsConnectionSource } from "./nats";
import { resolveJobQueueSettings, validateQueueName, type JobQueueSettings } from "./settings";
import { silentLogger, type JobLogger, type JobQueue } from "./types";

export interface JobQueueOptions {
	/** NATS URL (`nats://host:4222`): the queue opens its own connection. Neither this nor `connection`: in-process. */
	natsUrl?: string;
	/** A NATS connection to borrow (never closed by the queue), or a function handing out a shared one. */
	connection?: NatsConnectionSource;
	/** Names this node in dead letters and metrics (the Moleculer nodeID); default host-pid. */
	nodeId?: string;
	/** Prefix of stream names and subjects (the Moleculer namespace); default "vigil". */
	namespace?: string;
	logger?: JobLogger;
	/** In-process only: queues of one name on one hub share their jobs; default one hub per process. */
	hub?: InProcessHub;
}

export function createJobQueue<T>(name: string, settings: Partial<JobQueueSettings> = {}, options: JobQueueOptions = {}): JobQueue<T> {
	validateQueueName(name);
	const resolved = resolveJobQueueSettings(name, settings);
	const nodeId = options.nodeId ?? `${hostname()}-${process.pid}`;
	const logger = options.logger ?? silentLogger;
	if (options.natsUrl || options.connection) {
		return new NatsJobQueue<T>(name, resolved, {
			natsUrl: options.natsUrl,
			connection: options.connection,
			nodeId,
			namespace: options.namespace ?? "vigil",
			logger,
		});
	}
	return new InProcessJobQueue<T>(name, resolved, { hub: options.hub ?? defaultHub, nodeId, logger });
}

export { InProcessHub } from "./in-process";
export { connectToNats, jobStreamNames, NODE_DIED, type JobStreamNames, type NatsConnectionSource } from "./nats";
export { retryDelayMs } from "./retry";
export { JOB_QUEUE_SETTINGS, resolveJobQueueSettings, type JobQueueSettings } from "./settings";
export type { DeadLetter, JobControl, JobHandler, JobLogger, JobQueue, JobQueueStats, SendOptions, StartOptions } from "./types";
