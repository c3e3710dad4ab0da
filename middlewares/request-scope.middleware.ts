/** Runs each action inside its request's logging scope, so every log line it writes names the request id. */
import type { Middleware } from "moleculer";
import { requestScope } from "../lib/platform/logging";
import type { VigilContext } from "../lib/platform/types";

export const RequestScopeMiddleware = {
	name: "RequestScope",
	localAction(handler: (ctx: VigilContext) => Promise<unknown>) {
		return function inRequestScope(this: unknown, ctx: VigilContext) {
			const requestId = ctx.meta.requestId ?? ctx.requestID ?? undefined;
			return requestId ? requestScope.run({ requestId }, () => handler.call(this, ctx)) : handler.call(this, ctx);
		};
	},
} as unknown as Middleware;
