/**
 * Gives a service durable job queues as `this.queues[name]` (see lib/jobs): over NATS JetStream when the node
 * has a transporter, in this process otherwise. Queues are created in `created()` and closed in `stopped()`
 * (after the service's own `stopped`, which Moleculer runs first), waiting for jobs in flight.
 *
 *   mixins: [JobQueueMixin({ detector: { concurrency: 2 } })],
 *   async started() { await this.queues.detector.start(async (job, ctl) => { ... }); },
 *   // elsewhere, on any node: await this.queues.detector.send(job, { id: "clip-1:3" });
 *
 * The services of one node share one NATS connection (or one in-process hub, so a sender and a worker on the
 * same embedded node meet).
 */
import type { ServiceBroker, ServiceSchema, Service } from "moleculer";
import type { NatsConnection } from "nats";
import { connectToNats, createJobQueue, InProcessHub, type JobQueue, type JobQueueSettings } from "../lib/jobs";
import { nodeConfig } from "../lib/platform/node-context";

/** `this` in a service using the mixin; `Jobs` maps queue names to their job types. */
export type JobQueueService<Jobs extends Record<string, unknown> = Record<string, unknown>> = Service & {
	queues: { [K in keyof Jobs]: JobQueue<Jobs[K]> };
};

interface SharedConnection {
	connection?: Promise<NatsConnection>;
	users: number;
}

const hubs = new WeakMap<ServiceBroker, InProcessHub>();
const connections = new WeakMap<ServiceBroker, SharedConnection>();

function hubOf(broker: ServiceBroker): InProcessHub {
	let hub = hubs.get(broker);
	if (!hub) hubs.set(broker, (hub = new InProcessHub()));
	return hub;
}

/** One NATS connection per node, opened on first use and closed when the last service using it stops. */
function shareConnection(broker: ServiceBroker, url: string): { get: () => Promise<NatsConnection>; release: () => Promise<void> } {
	let shared = connections.get(broker);
	if (!shared) connections.set(broker, (shared = { users: 0 }));
	const entry = shared;
	entry.users++;
	return {
		get() {
			entry.connection ??= connectToNats(url, `vigil-jobs-${broker.nodeID}`).catch((err) => {
				entry.connection = undefined;
				throw err;
			});
			return entry.connection;
		},
		async release() {
			if (--entry.users > 0 || !entry.connection) return;
			const pending = entry.connection;
			entry.connection = undefined;
			const nc = await pending.catch(() => undefined);
			if (nc && !nc.isClosed()) await nc.drain();
		},
	};
}

type MixinThis = JobQueueService & { jobQueueConnection?: { release: () => Promise<void> } };

export function JobQueueMixin(queues: Record<string, Partial<JobQueueSettings>>): Partial<ServiceSchema> {
	const schema: Partial<ServiceSchema<Record<string, unknown>, MixinThis>> = {
		created(this: MixinThis) {
			const { transporter, namespace, jobMaxAttempts, jobAckWait, deadLetterMaxAge, deadLetterMaxBytes } = nodeConfig(this.broker);
			const shared = transporter ? shareConnection(this.broker, transporter) : undefined;
			this.jobQueueConnection = shared;
			this.queues = {};
			for (const [name, settings] of Object.entries(queues)) {
				// The node's JOB_MAX_ATTEMPTS, JOB_ACK_WAIT and DEAD_LETTER_MAX_* apply unless the service says otherwise.
				this.queues[name] = createJobQueue(
					name,
					{
						maxDeliver: jobMaxAttempts,
						ackWaitMs: jobAckWait,
						deadLetterMaxAgeMs: deadLetterMaxAge * 86_400_000,
						deadLetterMaxBytes,
						...settings,
					},
					{
						connection: shared?.get,
						hub: shared ? undefined : hubOf(this.broker),
						nodeId: this.broker.nodeID,
						namespace,
						logger: this.logger,
					},
				);
			}
		},
		async stopped(this: MixinThis) {
			await Promise.all(Object.values(this.queues ?? {}).map((q) => q.close()));
			await this.jobQueueConnection?.release();
		},
	};
	/** Moleculer types mixins with the plain Service as `this`; ours also has `queues`. */
	return schema as unknown as Partial<ServiceSchema>;
}
