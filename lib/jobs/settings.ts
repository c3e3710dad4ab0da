/**
 * Settings of one job queue. Every setting has a default, a unit and a reason; a service declares only what
 * it changes (`{ concurrency: 2 }`). Declare a queue's settings once and share them between the services that
 * send to it and the ones that work it: over NATS the last node to start writes them into the consumer.
 */
import { ConfigError } from "../platform/config";

interface JobSetting {
	default: number;
	min: number;
	max: number;
	unit: string;
	doc: string;
}

export const JOB_QUEUE_SETTINGS = {
	concurrency: {
		default: 1,
		min: 1,
		max: 1000,
		unit: "jobs",
		doc: "Jobs of this queue one node runs at once: video work is CPU or GPU bound, so one at a time unless a service knows better.",
	},
	ackWaitMs: {
		default: 30000,
		min: 1000,
		max: 3600000,
		unit: "ms",
		doc: 'How long a worker may stay silent before its job is given to another node; a live worker says "still working" every third of it.',
	},
	maxDeliver: {
		default: 5,
		min: 1,
		max: 1000,
		unit: "attempts",
		doc: "Attempts before a job goes to the dead letters: enough to ride out a restart, few enough that a poison job stops soon.",
	},
	retryBaseMs: {
		default: 1000,
		min: 0,
		max: 3600000,
		unit: "ms",
		doc: "Delay before the first retry; it doubles with each attempt (with jitter) so a struggling dependency gets room.",
	},
	retryMaxMs: { default: 60000, min: 0, max: 86400000, unit: "ms", doc: "Cap on the retry delay, so a failing job is still retried at least this often." },
	duplicateWindowMs: {
		default: 120000,
		min: 1000,
		max: 86400000,
		unit: "ms",
		doc: "How long NATS remembers a job id to drop a repeated send (in-process: while the job is pending or running).",
	},
	maxAgeMs: {
		default: 0,
		min: 0,
		max: 315_360_000_000,
		unit: "ms",
		doc: "NATS drops a job still waiting after this long, so a queue left without workers cannot grow for ever (0: no limit; in-process: not applied).",
	},
	maxBytes: {
		default: 0,
		min: 0,
		max: 2 ** 50,
		unit: "bytes",
		doc: "Size of the jobs' stream at which NATS drops the oldest waiting job (0: no limit; in-process: not applied).",
	},
	deadLetterMaxAgeMs: {
		default: 14 * 86_400_000,
		min: 0,
		max: 315_360_000_000,
		unit: "ms",
		doc: "Dead letters older than this are dropped by NATS: long enough to look into a failure after a holiday (0: kept until replayed or deleted).",
	},
	deadLetterMaxBytes: {
		default: 2 ** 30,
		min: 0,
		max: 2 ** 50,
		unit: "bytes",
		doc: "Size of the dead-letter stream at which NATS drops the oldest letters, so a poison flood cannot fill the NATS disk (0: no limit).",
	},
} satisfies Record<string, JobSetting>;

export type JobQueueSettings = { [K in keyof typeof JOB_QUEUE_SETTINGS]: number };

/** Letters, digits, `_` and `-`: the name becomes part of stream names, subjects and the durable consumer. */
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export function validateQueueName(name: string): string {
	if (!QUEUE_NAME.test(name)) throw new ConfigError(`job queue "${name}"`, "must be 1 to 64 letters, digits, _ or -");
	return name;
}

/** Fills in defaults and checks ranges; a bad value fails at start with the queue and setting named. */
export function resolveJobQueueSettings(name: string, given: Partial<JobQueueSettings> = {}): JobQueueSettings {
	const resolved = {} as JobQueueSettings;
	for (const [key, setting] of Object.entries(JOB_QUEUE_SETTINGS) as [keyof JobQueueSettings, JobSetting][]) {
		const value = given[key] ?? setting.default;
		if (!Number.isInteger(value) || value < setting.min || value > setting.max) {
			throw new ConfigError(`jobs.${name}.${key}`, `must be an integer from ${setting.min} to ${setting.max} (${setting.unit}), got ${String(value)}`);
		}
		resolved[key] = value;
	}
	for (const key of Object.keys(given)) {
		if (!(key in JOB_QUEUE_SETTINGS))
			throw new ConfigError(`jobs.${name}.${key}`, `is not a job queue setting; known: ${Object.keys(JOB_QUEUE_SETTINGS).join(", ")}`);
	}
	if (resolved.retryMaxMs < resolved.retryBaseMs) throw new ConfigError(`jobs.${name}.retryMaxMs`, `must be at least retryBaseMs (${resolved.retryBaseMs})`);
	return resolved;
}
