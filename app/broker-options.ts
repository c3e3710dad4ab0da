/**
 * Broker options for a Vigil node: a function of a configuration already loaded (once, by the caller), so
 * importing this file reads no environment and writes nothing. `app/node.ts` builds every node from these.
 * Vigil's services need the node context that `createNode` attaches (config, database), so nodes start through
 * `vigil start`, not through moleculer-runner.
 */
import type { BrokerOptions, MetricsReporterOptions } from "moleculer";
import type { Config } from "../lib/platform/config";
import { loggerOptions } from "../lib/platform/logging";
import { PromClientReporter } from "../lib/platform/moleculer-metrics";
import { PermissionMiddleware } from "../middlewares/permission.middleware";
import { RequestScopeMiddleware } from "../middlewares/request-scope.middleware";
import { ValidatorMiddleware } from "../middlewares/validator.middleware";

export function brokerOptions(config: Config, nodeID?: string): BrokerOptions {
	return {
		namespace: config.namespace,
		nodeID,
		// No TRANSPORTER: every service runs in this one process (the embedded default).
		transporter: config.transporter ?? null,
		serializer: "JSON",
		requestTimeout: config.requestTimeout,
		// A stopping node first lets the calls it is serving finish (a detector's saveSegment, an upload).
		tracking: { enabled: true, shutdownTimeout: config.shutdownTimeout },
		retryPolicy: { enabled: false },
		registry: { strategy: "RoundRobin", preferLocal: true },
		heartbeatInterval: 5,
		heartbeatTimeout: 15,
		logger: loggerOptions(config),
		logLevel: config.logLevel,
		// Validation runs as our own middleware, inside the permission check (see validator.middleware.ts).
		validator: false,
		errorHandler(err) {
			throw err;
		},
		// First listed is innermost: request scope, then permission, then validation, then the handler.
		middlewares: [ValidatorMiddleware, PermissionMiddleware, RequestScopeMiddleware],
		// Calls and events per action or event name, their errors and latency, on the same /metrics as Vigil's own
		// (prom-client already collects the process metrics).
		metrics: {
			enabled: true,
			collectProcessMetrics: false,
			reporter: [new PromClientReporter({}) as unknown as MetricsReporterOptions],
		},
		tracing: { enabled: false },
	};
}
