/**
 * The composition root: builds a Vigil node, a broker with the services named in SERVICES, sharing one config
 * and database. The only module that knows every service; `lib/` knows none.
 */
import "reflect-metadata";
import type { Server } from "node:http";
import { ServiceBroker, type ServiceSchema } from "moleculer";
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
import { attachNodeContext, closeNodeDatabase } from "../lib/platform/node-context";

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

export function createNode(config: Config, options: { nodeID?: string } = {}): ServiceBroker {
	let metricsServer: Server | undefined;
	const broker: ServiceBroker = new ServiceBroker({
		...brokerOptions(config, options.nodeID),
		// Gateway nodes serve /metrics on the API port; every other node gets its own small endpoint.
		started: async () => {
			if (!config.services.includes("api") && config.metricsPort > 0)
				metricsServer = await startMetricsServer(config.metricsPort, config.host, config.metricsToken);
		},
		stopped: async (): Promise<void> => {
			await new Promise((resolve) => (metricsServer ? metricsServer.close(resolve) : resolve(undefined)));
			await closeNodeDatabase(broker);
		},
	});
	attachNodeContext(broker, config);
	for (const name of config.services) broker.createService(SCHEMAS[name](config));
	return broker;
}
