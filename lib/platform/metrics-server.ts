/** /metrics for nodes that run no gateway, so every node of the cluster can be scraped. */
import { createServer, type Server } from "node:http";
import { safeEqual } from "../security/secrets";
import { registry } from "./metrics";

/** Answers a scrape: the text exposition, or 401 when a token is configured and not presented. */
export async function metricsResponse(authorization: string | undefined, token: string): Promise<{ status: number; type: string; body: string }> {
	if (token && !safeEqual(authorization ?? "", `Bearer ${token}`)) return { status: 401, type: "text/plain", body: "metrics token required\n" };
	return { status: 200, type: registry.contentType, body: await registry.metrics() };
}

export function startMetricsServer(port: number, host: string, token: string): Promise<Server> {
	const server = createServer((req, res) => {
		if (req.method !== "GET" || req.url?.split("?")[0] !== "/metrics") {
			res.writeHead(404).end();
			return;
		}
		metricsResponse(req.headers.authorization, token).then(({ status, type, body }) => res.writeHead(status, { "Content-Type": type }).end(body));
	});
	return new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(port, host, () => resolve(server));
	});
}
