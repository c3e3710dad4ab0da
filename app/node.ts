/**
 * The composition root: builds a Vigil node, a broker with the services named in SERVICES, sharing one config
 * and database. The only module that knows every service; `lib/` knows none.
 */
import "reflect-metadata";
import type { Server } from "node:http";
import { ServiceBroker, type Middleware, type ServiceSchema } from "moleculer";
import { brokerOptions } from "./broker-options";
import createApiService from "../services/api.service";
import AlertService from "../services/alert.service";
import AuditService from "../services/audit.service";
import AuthService from "../services/auth.service";
import CameraService from "../services/camera.service";
import ClipService from "../services/clip.service";
import DetectorService from "../services/detector.service";
import FeedbackService from "../services/feedback.service";
import IngestService from "../services/ingest.service";
import JobsService from "../services/jobs.service";
import createNotifierService from "../services/notifier.service";
import RetentionService from "../services/retention.service";
import StreamService from "../services/stream.service";
import TenancyService from "../services/tenancy.service";
import type { Config, ServiceName } from "../lib/platform/config";
import { startMetricsServer } from "../lib/platform/metrics-server";
import { nodeReadiness } from "../lib/platform/node-health";
import { attachNodeContext, closeNodeDatabase } from "../lib/platform/node-context";
import { OperatorSocketTransporter, operatorSocketPath } from "../lib/platform/operator-socket";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each service types its own `this`
const SCHEMAS: Record<ServiceName, (config: Config) => ServiceSchema<any, any>> = {
	api: createApiService,
	auth: () => AuthService,
	tenancy: () => TenancyService,
	camera: () => CameraService,
	clip: () => ClipService,
	detector: () => DetectorService,
	alert: () => AlertService,
	ingest: () => IngestService,
	feedback: () => FeedbackService,
	notifier: createNotifierService,
	audit: () => AuditService,
	retention: () => RetentionService,
	jobs: () => JobsService,
	stream: () => StreamService,
};

export interface NodeOptions {
	nodeID?: string;
	/**
	 * Embedded mode: open the operator socket in DATA_DIR (when OPERATOR_SOCKET is on) so `vigil repl` can attach.
	 * `vigil start` asks for it; other nodes (tests, `vigil user:create`) do not open it unless asked.
	 */
	operatorSocket?: boolean;
}

export function createNode(config: Config, options: NodeOptions = {}): ServiceBroker {
	let metricsServer: Server | undefined;
	const base = brokerOptions(config, options.nodeID);
	// Nodes without the gateway, and gateway nodes with METRICS_ON_PUBLIC_PORT=false, open the internal endpoint
	// (/metrics, /healthz, /readyz on METRICS_PORT). It opens before the services start, so /healthz answers while
	// a detector loads its model and /readyz says "starting".
	const internalEndpoint = config.metricsPort > 0 && (!config.services.includes("api") || !config.metricsOnPublicPort);
	const attachable = Boolean(options.operatorSocket && config.operatorSocket && !config.transporter);
	const broker: ServiceBroker = new ServiceBroker({
		...base,
		...(attachable && { transporter: new OperatorSocketTransporter({ path: operatorSocketPath(config.dataDir), role: "hub" }) }),
		middlewares: [
			...(base.middlewares ?? []),
			{
				name: "InternalEndpoint",
				async starting() {
					if (internalEndpoint) metricsServer = await startMetricsServer(config.metricsPort, config.host, config.metricsToken, () => nodeReadiness(broker));
				},
			} as unknown as Middleware,
		],
		stopped: async (): Promise<void> => {
			await new Promise((resolve) => (metricsServer ? metricsServer.close(resolve) : resolve(undefined)));
			await closeNodeDatabase(broker);
		},
	});
	attachNodeContext(broker, config);
	for (const name of config.services) broker.createService(SCHEMAS[name](config));
	return broker;
}
