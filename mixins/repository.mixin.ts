/**
 * The one way services reach the database. `this.data(ctx)` is the caller's tenant (organization and allowed
 * stores, from the permission check): every read and write through it is narrowed to that tenant, so a
 * forgotten filter cannot leak another organization's rows. `this.tenantData(scope)` is the same for work done
 * on a known tenant's behalf (a job of one clip). Work that spans tenants or touches no tenant's data (sweeps,
 * retention, workers, users and sessions) asks for `this.unscoped(reason)`: the reason is greppable, and lint
 * allows no other handle in services/.
 *
 *   const camera = await this.data(ctx).repo(Camera).findOneBy({ id, storeId });   // orgId and stores added
 *   await this.unscoped("retention sweep: every organization").getRepository(Clip).find(...);
 */
import type { ServiceSchema } from "moleculer";
import type { DataSource } from "typeorm";
import { ScopedData, type TenantScope } from "../lib/platform/scoped-data";
import { nodeAccessCache } from "../lib/security/access-cache";
import type { Access, VigilService } from "../lib/platform/types";

/** Any call context: only what the permission check established is read. */
type Call = { locals?: { access?: Access } };
import { DbMixin } from "./db.mixin";

export type RepositoryService = VigilService & {
	data(ctx: Call): ScopedData;
	tenantData(scope: TenantScope): ScopedData;
	unscoped(reason: string): DataSource;
};

const repositoryMixin: Partial<ServiceSchema> = {
	mixins: [DbMixin],
	events: {
		/**
		 * Broadcast by tenancy and auth once a change of who may see what has committed. Every node that checks
		 * permissions runs a service with this mixin, so each drops its cached access reads here (several services
		 * of one node clearing the same cache is harmless).
		 */
		"access.changed"(this: RepositoryService) {
			nodeAccessCache(this.broker).clear();
		},
	},
	methods: {
		data(this: RepositoryService, ctx: Call): ScopedData {
			const access = ctx.locals?.access;
			if (!access)
				throw new Error(`${this.name}: this call has no tenant (its permission is not org or store scoped); use this.tenantData or this.unscoped(reason)`);
			return new ScopedData(this.db.manager, { orgId: access.orgId, storeIds: access.storeIds });
		},
		tenantData(this: RepositoryService, scope: TenantScope): ScopedData {
			return new ScopedData(this.db.manager, scope);
		},
		unscoped(this: RepositoryService, _reason: string): DataSource {
			return this.db;
		},
	},
};

/** Moleculer types mixins with the plain Service as `this`. */
export const RepositoryMixin = repositoryMixin as Partial<ServiceSchema>;
