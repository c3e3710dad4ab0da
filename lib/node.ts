/** Builds a Vigil node: a broker with the services named in SERVICES, sharing one config and database. */
import "reflect-metadata";
import { ServiceBroker, type ServiceSchema } from "moleculer";
import { brokerOptions } from "../moleculer.config";
import createApiService from "../services/api.service";
import AuthService from "../services/auth.service";
import CameraService from "../services/camera.service";
import TenancyService from "../services/tenancy.service";
import type { Config, ServiceName } from "./config";
import { attachNodeContext, closeNodeDatabase } from "./node-context";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each service types its own `this`
const SCHEMAS: Record<ServiceName, (config: Config) => ServiceSchema<any, any>> = {
	api: createApiService,
	auth: () => AuthService,
	tenancy: () => TenancyService,
	camera: () => CameraService,
};

export function createNode(config: Config, options: { nodeID?: string } = {}): ServiceBroker {
	const broker: ServiceBroker = new ServiceBroker({
		...brokerOptions(config, options.nodeID),
		stopped: (): Promise<void> => closeNodeDatabase(broker),
	});
	attachNodeContext(broker, config);
	for (const name of config.services) broker.createService(SCHEMAS[name](config));
	return broker;
}
