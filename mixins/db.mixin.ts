/**
 * Gives a service its node's database (`this.db`, TypeORM, migrated) and config (`this.config`), and a
 * `health` action the gateway's /readyz asks. All services of a node share one connection pool.
 */
import type { ServiceSchema, ServiceSettingSchema } from "moleculer";
import { nodeConfig, nodeDatabase } from "../lib/platform/node-context";
import type { VigilService } from "../lib/platform/types";

const dbMixin: Partial<ServiceSchema<ServiceSettingSchema, VigilService>> = {
	actions: {
		health: {
			visibility: "public",
			async handler(this: VigilService) {
				await this.db.query("SELECT 1");
				return { database: "ok" };
			},
		},
	},
	created(this: VigilService) {
		this.config = nodeConfig(this.broker);
	},
	async started(this: VigilService) {
		this.db = await nodeDatabase(this.broker);
	},
};

/** Moleculer types mixins with the plain Service as `this`; ours is a VigilService. */
export const DbMixin = dbMixin as unknown as Partial<ServiceSchema>;
