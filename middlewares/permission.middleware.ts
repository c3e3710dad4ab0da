/**
 * Enforces the `permission` declared on each action, in one place. An action reachable over HTTP (`rest`)
 * without a declared permission is a bug, so the service fails to start instead of silently being open.
 */
import type { Middleware, Service, ServiceBroker } from "moleculer";
import { authorize } from "../lib/security/access";
import { nodeAccessCache } from "../lib/security/access-cache";
import { nodeDatabase } from "../lib/platform/node-context";
import type { Meta, Permission, VigilContext } from "../lib/platform/types";

const isStream = (value: unknown): boolean => typeof (value as { pipe?: unknown } | null)?.pipe === "function";

export const PermissionMiddleware = {
	name: "Permission",

	serviceCreated(service: Service) {
		for (const [name, action] of Object.entries(service.schema.actions ?? {})) {
			if (typeof action === "object" && action.rest && !action.permission)
				throw new Error(`Action ${service.name}.${name} has a REST route but declares no permission`);
		}
	},

	localAction(this: { broker: ServiceBroker } | ServiceBroker, handler: (ctx: VigilContext) => Promise<unknown>, action: { permission?: Permission }) {
		const permission = action.permission;
		if (!permission) return handler;
		return async function checkPermission(this: Service, ctx: VigilContext) {
			const meta = ctx.meta as Meta;
			// A refused upload is never read; if its sender then goes away, the stream errors: that must not crash us.
			if (isStream(ctx.params)) (ctx.params as unknown as NodeJS.ReadableStream).on("error", () => undefined);
			// Streamed uploads carry their path parameters in meta; everything else in params.
			const params = isStream(ctx.params) ? ((meta as { $params?: Record<string, unknown> }).$params ?? {}) : ((ctx.params ?? {}) as Record<string, unknown>);
			ctx.locals.access = await authorize(() => nodeDatabase(ctx.broker), meta.caller, permission, params, meta.authError, nodeAccessCache(ctx.broker));
			return handler.call(this, ctx);
		};
	},
} as unknown as Middleware;
