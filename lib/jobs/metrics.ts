/**
 * Job queue metrics, registered into the process registry of lib/metrics.ts. Depth and oldest age are read
 * when Prometheus scrapes (from the queues open in this process); the rest is counted as jobs run.
 */
import client from "prom-client";
import { registry } from "../platform/metrics";

/** Reuses a metric already registered under the name (a second import of this module, or hot reload). */
function metric<M extends client.Metric>(name: string, make: () => M): M {
	return (registry.getSingleMetric(name) as M | undefined) ?? make();
}

export interface DepthSnapshot {
	pending: number;
	oldestAgeMs: number | null;
}

/** Per queue name, the open queues that can say how deep it is (any one of them will do). */
const depthSources = new Map<string, Set<() => Promise<DepthSnapshot>>>();
const SCRAPE_TIMEOUT_MS = 2000;

/** Registers a queue as a source of its depth; returns the function that unregisters it. */
export function reportDepth(queue: string, source: () => Promise<DepthSnapshot>): () => void {
	const sources = depthSources.get(queue) ?? new Set();
	depthSources.set(queue, sources);
	sources.add(source);
	return () => {
		sources.delete(source);
		if (sources.size === 0) depthSources.delete(queue);
	};
}

async function readDepths(): Promise<Map<string, DepthSnapshot>> {
	const depths = new Map<string, DepthSnapshot>();
	await Promise.all(
		[...depthSources].map(async ([queue, sources]) => {
			for (const source of sources) {
				let timer: NodeJS.Timeout | undefined;
				const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), SCRAPE_TIMEOUT_MS)));
				const snapshot = await Promise.race([source().catch(() => undefined), timeout]).finally(() => clearTimeout(timer));
				if (snapshot) return void depths.set(queue, snapshot);
			}
		}),
	);
	return depths;
}

/** Both depth gauges are filled from one read per scrape. */
let scrape: Promise<Map<string, DepthSnapshot>> | undefined;
function depthsForScrape(): Promise<Map<string, DepthSnapshot>> {
	if (!scrape) {
		scrape = readDepths();
		void scrape.finally(() => setTimeout(() => (scrape = undefined), 100).unref());
	}
	return scrape;
}

export const queueDepth = metric(
	"vigil_job_queue_depth",
	() =>
		new client.Gauge({
			name: "vigil_job_queue_depth",
			help: "Jobs sent and not yet finished (waiting, waiting for a retry, or running), per queue",
			labelNames: ["queue"] as const,
			registers: [registry],
			async collect() {
				this.reset();
				for (const [queue, depth] of await depthsForScrape()) this.set({ queue }, depth.pending);
			},
		}),
);

export const oldestJobAge = metric(
	"vigil_job_oldest_age_seconds",
	() =>
		new client.Gauge({
			name: "vigil_job_oldest_age_seconds",
			help: "Age of the oldest job not yet finished, per queue (0 when empty)",
			labelNames: ["queue"] as const,
			registers: [registry],
			async collect() {
				this.reset();
				for (const [queue, depth] of await depthsForScrape()) this.set({ queue }, (depth.oldestAgeMs ?? 0) / 1000);
			},
		}),
);

export const jobsInFlight = metric(
	"vigil_jobs_in_flight",
	() =>
		new client.Gauge({
			name: "vigil_jobs_in_flight",
			help: "Jobs running on this node, per queue",
			labelNames: ["queue", "node"] as const,
			registers: [registry],
		}),
);

export const jobsProcessed = metric(
	"vigil_jobs_processed_total",
	() =>
		new client.Counter({
			name: "vigil_jobs_processed_total",
			help: "Jobs whose handler succeeded (and that were acknowledged)",
			labelNames: ["queue"] as const,
			registers: [registry],
		}),
);

export const jobsFailed = metric(
	"vigil_jobs_failed_total",
	() =>
		new client.Counter({
			name: "vigil_jobs_failed_total",
			help: "Attempts whose handler threw (each is retried or dead-lettered)",
			labelNames: ["queue"] as const,
			registers: [registry],
		}),
);

export const jobsDeadLettered = metric(
	"vigil_jobs_dead_lettered_total",
	() =>
		new client.Counter({
			name: "vigil_jobs_dead_lettered_total",
			help: "Jobs moved to the dead letters, by reason: failed (last attempt threw), died (its node died every time), invalid (unreadable)",
			labelNames: ["queue", "reason"] as const,
			registers: [registry],
		}),
);

export const jobDuration = metric(
	"vigil_job_duration_seconds",
	() =>
		new client.Histogram({
			name: "vigil_job_duration_seconds",
			help: "Time a handler ran, by outcome (ok or failed)",
			labelNames: ["queue", "outcome"] as const,
			buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
			registers: [registry],
		}),
);
