/** prom-client metrics of this process, exposed at /metrics. One registry per process. */
import client from "prom-client";

export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

export const httpRequests = new client.Counter({
	name: "vigil_http_requests_total",
	help: "HTTP requests answered by the gateway",
	labelNames: ["method", "route", "status"] as const,
	registers: [registry],
});

export const httpDuration = new client.Histogram({
	name: "vigil_http_request_duration_seconds",
	help: "Time to answer an HTTP request, by route pattern",
	labelNames: ["method", "route", "status"] as const,
	buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
	registers: [registry],
});

export const loginFailures = new client.Counter({
	name: "vigil_login_failures_total",
	help: "Failed sign-in attempts (wrong credentials or locked out)",
	labelNames: ["reason"] as const,
	registers: [registry],
});
