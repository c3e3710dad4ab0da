/**
 * The internal endpoint of a node: /metrics for Prometheus, /healthz and /readyz for the kubelet. Every node can
 * open it (METRICS_PORT); it is meant for the cluster network only, never for the ingress.
 */
import { createServer, type Server } from "node:http";
import { safeEqual } from "../security/secrets";
import { registry } from "./metrics";

/** Answers a scrape: the text exposition, or 401 when a token is configured and not presented. */
export async function metricsResponse(authorization: string | undefined, token: string): Promise<{ status: number; type: string; body: string }> {
	if (token && !safeEqual(authorization ?? "", `Bearer ${token}`)) return { status: 401, type: "text/plain", body: "metrics token required\n" };
	return { status: 200, type: registry.contentType, body: await registry.metrics() };
}

/** What /readyz reports: each check "ok" or why not. */
export interface Readiness {
	ready: boolean;
	checks: Record<string, string>;
}

/**
 * Probes carry no token: /healthz says the process answers, /readyz asks `readiness` (503 until ready). Only
 * /metrics is guarded by METRICS_TOKEN.
 */
export function startMetricsServer(port: number, host: string, token: string, readiness: () => Promise<Readiness>): Promise<Server> {
	const json = (res: import("node:http").ServerResponse, status: number, body: unknown) =>
		res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" }).end(JSON.stringify(body));
	const server = createServer((req, res) => {
		const path = req.url?.split("?")[0];
		if (req.method !== "GET") return void res.writeHead(405).end();
		if (path === "/healthz") return json(res, 200, { status: "ok" });
		if (path === "/readyz")
			return void readiness().then(
				({ ready, checks }) => json(res, ready ? 200 : 503, { status: ready ? "ready" : "not ready", checks }),
				(err: Error) => json(res, 503, { status: "not ready", error: err.message }),
			);
		if (path === "/metrics")
			return void metricsResponse(req.headers.authorization, token).then(({ status, type, body }) => res.writeHead(status, { "Content-Type": type }).end(body));
		res.writeHead(404).end();
	});
	return new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(port, host, () => resolve(server));
	});
}
