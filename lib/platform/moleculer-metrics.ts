/**
 * Moleculer's built-in metrics (action calls, events received, their errors and latency) in Vigil's prom-client
 * registry, so the one /metrics endpoint carries both. Moleculer's own Prometheus reporter would open a port of
 * its own and label every series with the node ID and the caller; this reporter keeps the action or event name
 * alone (a bounded set), and counts calls where their handler ran, so a call through the gateway counts once.
 */
import { MetricReporters, type BaseMetric } from "moleculer";
import client from "prom-client";
import { registry } from "./metrics";

/** Seconds: most actions answer in milliseconds, an upload or a retention run can take a minute. */
const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

function metric<M extends client.Metric>(name: string, make: () => M): M {
	return (registry.getSingleMetric(name) as M | undefined) ?? make();
}

const counter = (name: string, help: string, label: string) =>
	metric(name, () => new client.Counter({ name, help, labelNames: [label], registers: [registry] }));
const histogram = (name: string, help: string, label: string) =>
	metric(name, () => new client.Histogram({ name, help, labelNames: [label], buckets: BUCKETS, registers: [registry] }));

const requests = counter("moleculer_request_total", "Action calls handled on this node, by action", "action");
const requestErrors = counter("moleculer_request_error_total", "Action calls handled on this node that failed, by action", "action");
const requestTime = histogram("moleculer_request_time_seconds", "Time an action's handler took on this node, by action", "action");
const events = counter("moleculer_event_received_total", "Events handled on this node, by event name", "event");
const eventErrors = counter("moleculer_event_received_error_total", "Event handlers on this node that failed, by event name", "event");
const eventTime = histogram("moleculer_event_received_time_seconds", "Time an event handler took on this node, by event name", "event");

type Labels = Record<string, unknown>;

/** Handed to the broker's `metrics.reporter`; one per broker. */
export class PromClientReporter extends MetricReporters.Base {
	/** Moleculer reports a counter's new total per label set; prom-client counters take increments. */
	private readonly totals = new Map<string, number>();

	override metricChanged(metric: BaseMetric, value: unknown, labels?: Labels): void {
		if (!labels || typeof value !== "number") return;
		const action = { action: String(labels.action) };
		const event = { event: String(labels.event) };
		const local = labels.type === "local";
		switch (metric.name) {
			case "moleculer.request.total":
				if (local) requests.inc(action, this.increment(metric, value, labels));
				break;
			case "moleculer.request.error.total":
				if (local) requestErrors.inc(action, this.increment(metric, value, labels));
				break;
			case "moleculer.request.time":
				if (local) requestTime.observe(action, value / 1000);
				break;
			case "moleculer.event.received.total":
				events.inc(event, this.increment(metric, value, labels));
				break;
			case "moleculer.event.received.error.total":
				eventErrors.inc(event, this.increment(metric, value, labels));
				break;
			case "moleculer.event.received.time":
				eventTime.observe(event, value / 1000);
				break;
		}
	}

	private increment(metric: BaseMetric, total: number, labels: Labels): number {
		const key = `${metric.name} ${JSON.stringify(labels)}`;
		const delta = total - (this.totals.get(key) ?? 0);
		this.totals.set(key, total);
		return Math.max(0, delta);
	}
}
