/**
 * api — the HTTP gateway (moleculer-web). REST under /api/v1 from each action's `rest`, one JSON error shape,
 * request ids, cookie/Bearer authentication, CORS allow-list, security headers, health, metrics and OpenAPI,
 * and the dashboard's built files at `/`.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import type { Server } from "node:http";
import type { CallingOptions, Context, Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import ApiGateway from "moleculer-web";
import { getAbsoluteFSPath } from "swagger-ui-dist";
import {
	clientIp,
	crossSiteRefusal,
	DOCS_CSP,
	isSafeMethod,
	parseCookies,
	prepareRequest,
	type PreparedRequest,
	serializeCookie,
	toErrorResponse,
} from "../lib/platform/http";
import { httpDuration, httpRequests } from "../lib/platform/metrics";
import { metricsResponse } from "../lib/platform/metrics-server";
import { nodeConfig } from "../lib/platform/node-context";
import { buildOpenApi, type RouteInfo } from "../lib/platform/openapi";
import { VigilError } from "../lib/platform/errors";
import { decompressedJsonBodies } from "../lib/platform/encoded-body";
import { NOT_BUILT_PAGE, serveDashboard } from "../lib/platform/static-files";
import {
	type AccessChange,
	type AlertEvent,
	AlertStreamHub,
	type AlertStreamBackend,
	parseResumePoint,
	presentedAccessToken,
	type Visibility,
} from "../lib/alerting/stream";
import { ACCESS_COOKIE, REFRESH_COOKIE } from "../lib/security/tokens";
import type { Config } from "../lib/platform/config";
import type { Caller, Meta } from "../lib/platform/types";
import { version as VERSION } from "../package.json";

/** Services whose health /readyz checks: without them the gateway cannot serve the API. */
const REQUIRED_SERVICES = ["auth", "tenancy", "camera", "clip", "alert"];
const READY_TIMEOUT_MS = 2000;
/** The body parsers moleculer-web builds its routes' `bodyParsers` from (exported by the package, not typed). */
const { bodyParser } = ApiGateway as unknown as {
	bodyParser: { json(options: object): (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void };
};
type CorsHeaderWriter = (this: ApiThis, route: unknown, req: Req, res: Res, isPreflight?: boolean) => void;
/** moleculer-web's own CORS answer, which the gateway's override falls back to for other origins. */
const writeListedCorsHeaders = (ApiGateway.methods as unknown as { writeCorsHeaders: CorsHeaderWriter }).writeCorsHeaders;
const SWAGGER_FILES = new Set(["swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png", "favicon-16x16.png"]);

type Req = PreparedRequest & {
	$ctx?: Context<unknown, Meta>;
	$alias?: { path?: string; fullPath?: string; method?: string };
	originalUrl?: string;
};
type Res = ServerResponse & { $ctx?: Context<unknown, Meta> };

type ApiThis = Service & {
	config: Config;
	aliases: unknown[];
	server: Server;
	alertStreams: AlertStreamHub;
	/** moleculer-web's static-file hook (its `assets` option): answers the requests no route took. */
	serve: (req: Req, res: Res, next: (err?: unknown) => void) => void;
};

/** Streamed routes and the action that decides, before the body travels, whether it would be refused. */
const STREAM_PRECHECKS: Record<string, string> = { "clip.upload": "clip.checkUpload" };

/** The live alert stream is a plain alias (it holds the response open), so it is described here. */
const ALERT_STREAM_ROUTE: RouteInfo = {
	method: "GET",
	path: "/api/v1/alerts/stream",
	action: "api.alertStream",
	permission: { scope: "user" },
	params: { lastEventId: { type: "string", optional: true, pattern: /^\d+$/, $$t: "Resume after this event id (the Last-Event-ID header works too)" } },
	openapi: { summary: "Server-Sent Events: alerts of every store you can see, live; resumes after Last-Event-ID", responses: { 200: "text/event-stream" } },
};

/**
 * GET /api/v1/alerts/stream: Server-Sent Events of the alerts of every store the caller can see (lib/alert-stream.ts).
 * With Last-Event-ID (or ?lastEventId=) the alerts missed since that id are replayed from the database first.
 */
async function openAlertStream(svc: ApiThis, req: Req, res: Res) {
	const ctx = req.$ctx as Context<unknown, Meta>;
	const caller = ctx.meta.caller;
	if (!caller) throw new VigilError("Authentication required", 401, ctx.meta.authError ?? "UNAUTHORIZED");
	if (caller.kind !== "user") throw new VigilError("A service token cannot do this; sign in as a user", 403, "FORBIDDEN");
	const resumeFrom = parseResumePoint(req.headers["last-event-id"] ?? new URL(req.url ?? "", "http://x").searchParams.get("lastEventId"));
	res.writeHead(200, {
		"Content-Type": "text/event-stream; charset=utf-8",
		"Cache-Control": "no-cache, no-transform",
		Connection: "keep-alive",
		"X-Accel-Buffering": "no",
	});
	const stream = await svc.alertStreams.open(res, { caller, token: presentedAccessToken(req.headers), resumeFrom });
	req.on("close", () => stream.dispose());
	if (req.destroyed) stream.dispose();
}

/** The calls the live streams make, as this gateway's broker makes them. */
function alertStreamBackend(svc: ApiThis): AlertStreamBackend {
	return {
		visibleStores: (caller) => svc.broker.call<Visibility, object>("tenancy.visibleStores", {}, { meta: { caller: { kind: "user", ...caller } } }),
		since: (afterSeq, visibility, limit) =>
			svc.broker.call<AlertEvent[], object>("alert.since", { afterSeq, limit, ...(visibility.all ? { allStores: true } : { storeIds: visibility.storeIds }) }),
		checkToken: (token) => svc.broker.call("auth.resolveToken", { token }),
		log: svc.logger,
	};
}

function createApiService(config: Config): ServiceSchema<ServiceSettingSchema, ApiThis> {
	const routeHooks = {
		onBeforeCall(this: ApiThis, ctx: Context<unknown, Meta>, _route: unknown, req: Req, res: Res) {
			const requestId = req.$requestId ?? randomUUID();
			ctx.requestID = requestId;
			ctx.meta.requestId = requestId;
			ctx.meta.ip = clientIp(req, config.trustProxy);
			ctx.meta.userAgent = typeof req.headers["user-agent"] === "string" ? req.headers["user-agent"] : undefined;
			// Streamed uploads need to know what they are reading, a video player which bytes it wants; nothing else of the headers travels.
			(ctx.meta as Meta & { $requestHeaders?: object }).$requestHeaders = {
				"content-type": req.headers["content-type"],
				"content-length": req.headers["content-length"],
				range: req.headers.range,
				"if-range": req.headers["if-range"],
			};
			res.setHeader("X-Request-Id", requestId);
		},
		onAfterCall(this: ApiThis, ctx: Context<unknown, Meta>, _route: unknown, req: Req, res: Res, data: unknown) {
			if (ctx.meta.$statusCode === 201) {
				const id = (data as { id?: unknown } | null)?.id;
				const path = ((req as Req & { originalUrl?: string }).originalUrl ?? req.url ?? "").split("?")[0];
				(ctx.meta as Meta & { $location?: string }).$location = typeof id === "string" ? `${path}/${id}` : path;
			}
			if (ctx.meta.$cookies?.length) {
				res.setHeader(
					"Set-Cookie",
					ctx.meta.$cookies.map((c) => serializeCookie(c, req.$secure ?? false)),
				);
			}
			finish(this, req, res.statusCode === 200 && ctx.meta.$statusCode ? ctx.meta.$statusCode : res.statusCode);
			return data;
		},
		onError(this: ApiThis, req: Req, res: Res, err: Error) {
			sendError(this, req, res, err);
		},
	};

	const sendError = (svc: ApiThis, req: Req, res: Res, err: Error) => {
		const requestId = req.$requestId;
		const { status, body, headers } = toErrorResponse(err as never, { requestId, bodyLimit: config.maxJsonBody });
		if (status >= 500) svc.logger.error("Request failed", { method: req.method, url: req.url, requestId }, err);
		if (res.headersSent) return res.end();
		res.statusCode = status;
		for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
		if (requestId) res.setHeader("X-Request-Id", requestId);
		res.setHeader("Content-Type", "application/json; charset=utf-8");
		res.end(JSON.stringify(body));
		finish(svc, req, status);
	};

	/** One access-log line and the request metrics, labelled by route pattern (not raw URL) to bound cardinality. */
	const finish = (svc: ApiThis, req: Req, status: number, route = req.$alias?.fullPath ?? req.$alias?.path ?? "unmatched") => {
		const seconds = req.$startedAt ? Number(process.hrtime.bigint() - req.$startedAt) / 1e9 : 0;
		const labels = { method: req.method ?? "", route, status: String(status) };
		httpRequests.inc(labels);
		httpDuration.observe(labels, seconds);
		svc.logger.info({ requestId: req.$requestId, method: req.method, route, status, ms: Math.round(seconds * 1000) }, "HTTP request");
	};

	/**
	 * The dashboard takes the GET and HEAD requests no route took: `/`, its own routes (`/stores/...`) and its built
	 * files. What is not the dashboard's goes back (`next`) for the JSON 404; without a build, its pages answer 503.
	 */
	const serveDashboardRequest = (svc: ApiThis, req: Req, res: Res, next: (err?: unknown) => void) => {
		const path = (req.originalUrl ?? req.url ?? "/").split("?")[0];
		serveDashboard(config.dashboardDir, req, res, path).then(
			(outcome) => {
				if (outcome === "not-found") return next();
				if (outcome === "not-built") dashboardNotBuilt(req, res);
				finish(svc, req, res.statusCode, "dashboard");
			},
			(err) => sendError(svc, req, res, err),
		);
	};

	/** A person with a browser reads a page, a program the one JSON error shape; neither is an internal error to log. */
	const dashboardNotBuilt = (req: Req, res: Res) => {
		res.statusCode = 503;
		res.setHeader("Cache-Control", "no-store");
		if (/\btext\/html\b/.test(String(req.headers.accept ?? ""))) {
			res.setHeader("Content-Type", "text/html; charset=utf-8");
			return res.end(req.method === "HEAD" ? undefined : NOT_BUILT_PAGE);
		}
		const notBuilt = new VigilError("The dashboard is not built: run `npm run build`", 503, "DASHBOARD_NOT_BUILT");
		res.setHeader("Content-Type", "application/json; charset=utf-8");
		res.end(req.method === "HEAD" ? undefined : JSON.stringify(toErrorResponse(notBuilt, { requestId: req.$requestId }).body));
	};

	/**
	 * moleculer-web runs a route's `bodyParsers` before its `use` middlewares, and the JSON parser inflates no br and
	 * would cap a gzip body at MAX_JSON_BODY: edge bodies are decompressed first, then the JSON parser runs as usual.
	 */
	const jsonBodies = [
		decompressedJsonBodies({ maxBytes: config.maxJsonBody, maxDecodedBytes: config.maxDecompressedBody }),
		bodyParser.json({ strict: true, limit: config.maxJsonBody }),
	];

	return {
		name: "api",
		mixins: [ApiGateway],

		settings: {
			port: config.port,
			ip: config.host,
			cors: config.corsOrigins.length
				? {
						origin: config.corsOrigins,
						credentials: true,
						methods: ["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
						allowedHeaders: ["Content-Type", "Authorization", "X-Request-Id"],
						exposedHeaders: ["X-Request-Id", "Retry-After"],
						maxAge: 600,
					}
				: undefined,
			routes: [
				{
					name: "api-v1",
					path: "/api/v1",
					autoAliases: true,
					mappingPolicy: "restrict",
					authentication: true,
					authorization: true,
					bodyParsers: false,
					use: jsonBodies,
					aliases: {
						"GET alerts/stream"(this: ApiThis, req: Req, res: Res) {
							openAlertStream(this, req, res).catch((err) => sendError(this, req, res, err));
						},
					},
					...routeHooks,
				},
				{
					name: "system",
					path: "/",
					mappingPolicy: "restrict",
					bodyParsers: { json: false, urlencoded: false },
					aliases: {
						"GET healthz": "api.healthz",
						"GET readyz": "api.readyz",
						"GET openapi.json": "api.openapi",
						// METRICS_ON_PUBLIC_PORT=false: only the internal endpoint (METRICS_PORT) serves them.
						...(config.metricsOnPublicPort && {
							"GET metrics"(req: Req, res: Res) {
								metricsResponse(req.headers.authorization, config.metricsToken).then(({ status, type, body }) => {
									res.statusCode = status;
									res.setHeader("Content-Type", type);
									res.end(body);
								});
							},
						}),
						"GET docs"(req: Req, res: Res) {
							res.setHeader("Content-Security-Policy", DOCS_CSP);
							res.setHeader("Content-Type", "text/html; charset=utf-8");
							res.end(DOCS_PAGE);
						},
						"GET docs/:file"(req: Req & { $params: { file: string } }, res: Res) {
							serveDocsFile(req.$params.file, res);
						},
					},
					...routeHooks,
				},
			],
			onError(this: ApiThis, req: Req, res: Res, err: Error) {
				sendError(this, req, res, err);
			},
			/**
			 * Called for every request before moleculer-web creates its context, routes it or reads a body, so even a
			 * 413 or malformed JSON carries the request id and security headers. The context takes the vetted id
			 * (moleculer-web prefers a caller's X-Correlation-Id, which is left as it chose).
			 */
			rootCallOptions(this: ApiThis, options: CallingOptions, req: Req, res: Res) {
				const requestId = prepareRequest(req, res, { trustProxy: config.trustProxy });
				if (!req.headers["x-correlation-id"]) options.requestID = requestId;
			},
			log4XXResponses: false,
			logRequest: "debug",
			logResponse: "debug",
		},

		actions: {
			// moleculer-web's alias listing would otherwise be auto-routed into the public API.
			listAliases: false,

			healthz: {
				openapi: { summary: "Liveness: the process answers" },
				handler() {
					return { status: "ok" };
				},
			},

			readyz: {
				openapi: { summary: "Readiness: database and transporter reachable (503 otherwise)" },
				async handler(this: ApiThis, ctx: Context<unknown, Meta>) {
					const checks: Record<string, string> = {};
					const transit = this.broker.transit as { connected?: boolean } | undefined;
					checks.transporter = transit ? (transit.connected ? "ok" : "down") : "in-process";
					await Promise.all(
						REQUIRED_SERVICES.map(async (name) => {
							try {
								await ctx.call(`${name}.health`, {}, { timeout: READY_TIMEOUT_MS });
								checks[name] = "ok";
							} catch (err) {
								checks[name] = (err as Error).name === "ServiceNotFoundError" ? "no node runs it" : "unavailable";
							}
						}),
					);
					// Routes are generated a moment after services appear; until then requests would 404.
					for (const name of REQUIRED_SERVICES) {
						if (checks[name] === "ok" && !(this.aliases as { action?: string }[]).some((a) => a.action?.startsWith(`${name}.`)))
							checks[name] = "routes not ready";
					}
					const ready = Object.values(checks).every((v) => v === "ok" || v === "in-process");
					if (!ready) ctx.meta.$statusCode = 503;
					// Detector nodes come and go with the autoscaler: reported, but uploads queue without them.
					const detector = await ctx.call("detector.status", {}, { timeout: READY_TIMEOUT_MS }).catch(() => "no detector node yet");
					return { status: ready ? "ready" : "not ready", checks, detector };
				},
			},

			openapi: {
				openapi: { summary: "This API as an OpenAPI 3.0.3 document" },
				async handler(this: ApiThis & { collectRoutes(): RouteInfo[] }) {
					return buildOpenApi([...this.collectRoutes(), ALERT_STREAM_ROUTE], {
						title: "Vigil API",
						version: VERSION,
						description: "Video analytics for store and home security.",
					});
				},
			},
		},

		events: {
			/** Broadcast by whichever node raised the alert: every gateway pushes it to its own listeners. */
			"alert.raised"(this: ApiThis, ctx: Context<AlertEvent>) {
				this.alertStreams.raised(ctx.params);
			},
			/** Broadcast on acknowledge and resolve: every open dashboard shows the new status. */
			"alert.updated"(this: ApiThis, ctx: Context<AlertEvent>) {
				this.alertStreams.updated(ctx.params);
			},
			/** Broadcast by tenancy and auth when who may see what changed: affected streams are re-checked at once. */
			"access.changed"(this: ApiThis, ctx: Context<AccessChange>) {
				return this.alertStreams.accessChanged(ctx.params);
			},
		},

		methods: {
			/**
			 * moleculer-web refuses an Origin missing from `cors.origin` (403 ORIGIN_NOT_ALLOWED) and its check cannot
			 * see the request, so with CORS_ORIGINS set the dashboard's own writes (browsers send Origin on them) would
			 * be refused. A request from this gateway's own origin (same host) is not cross-origin: it needs no grant.
			 */
			writeCorsHeaders(this: ApiThis, route: unknown, req: Req, res: Res, isPreflight?: boolean) {
				if (fromOwnOrigin(req)) return;
				writeListedCorsHeaders.call(this, route, req, res, isPreflight);
			},

			/**
			 * Runs after authentication. A streamed upload whose body the JSON parser already consumed has nothing
			 * left to read, and the request object must not travel to another node: refuse it here (401 first).
			 */
			async authorize(
				this: ApiThis,
				ctx: Context<unknown, Meta>,
				_route: unknown,
				req: Req & { $alias?: { type?: string; action?: string }; $params?: Record<string, unknown> },
			) {
				if (req.$alias?.type !== "stream") return;
				if (!req.readable) {
					if (!ctx.meta.caller) throw new VigilError("Authentication required", 401, ctx.meta.authError ?? "UNAUTHORIZED");
					throw new VigilError("Send the file as video/mp4 or multipart/form-data", 415, "UNSUPPORTED_MEDIA_TYPE");
				}
				// Refuse before streaming: a body refused on another node after it started flowing would keep coming.
				const precheck = STREAM_PRECHECKS[req.$alias.action ?? ""];
				const declared = Number(req.headers["content-length"]);
				if (precheck) await ctx.call(precheck, { ...req.$params, ...(Number.isFinite(declared) && { contentLength: declared }) });
			},

			/** Authentication: an access JWT or service token from `Authorization: Bearer`, else the access cookie. */
			async authenticate(this: ApiThis, ctx: Context<unknown, Meta>, _route: unknown, req: Req) {
				const cookies = parseCookies(req.headers.cookie);
				const header = req.headers.authorization;
				const bearer = typeof header === "string" && /^Bearer\s/i.test(header);
				// A browser attaches cookies to cross-site requests too: a state change they authenticate must come
				// from our own pages (a Bearer token is never sent by a browser on its own, so it needs no check).
				if (!bearer && (cookies[ACCESS_COOKIE] !== undefined || cookies[REFRESH_COOKIE] !== undefined) && !isSafeMethod(req.method)) {
					const refusal = crossSiteRefusal(req, config.corsOrigins);
					if (refusal) throw new VigilError(refusal, 403, "CSRF_REJECTED");
				}
				if (cookies[REFRESH_COOKIE]) ctx.meta.refreshCookie = cookies[REFRESH_COOKIE];
				let token: string | undefined;
				if (bearer) token = (header as string).slice(7).trim();
				else token = cookies[ACCESS_COOKIE];
				if (token === undefined) return null;
				if (!token) {
					ctx.meta.authError = "TOKEN_INVALID";
					return null;
				}
				try {
					ctx.meta.caller = await ctx.call<Caller, { token: string }>("auth.resolveToken", { token });
				} catch (err) {
					const e = err as { code?: number; type?: string };
					if (e.code === 401 || e.code === 422) ctx.meta.authError = e.code === 401 && e.type ? e.type : "TOKEN_INVALID";
					else throw err;
				}
				return null;
			},

			/** Every REST route with the schema of the action behind it, from this node's view of the cluster. */
			collectRoutes(this: ApiThis): RouteInfo[] {
				const actions = new Map<string, Record<string, unknown>>();
				const services = this.broker.registry.getServiceList({ withActions: true, onlyAvailable: false }) as {
					actions?: Record<string, Record<string, unknown>>;
				}[];
				for (const service of services) for (const [name, def] of Object.entries(service.actions ?? {})) actions.set(name, def);
				const routes: RouteInfo[] = [];
				for (const alias of this.aliases as { method: string; fullPath: string; action?: string; type?: string }[]) {
					if (!alias.action || alias.method === "*") continue;
					const def = actions.get(alias.action) ?? {};
					routes.push({
						method: alias.method,
						path: alias.fullPath,
						action: alias.action,
						params: (def.params ?? def.streamParams) as RouteInfo["params"],
						upload: alias.type === "stream",
						permission: (def.permission as RouteInfo["permission"]) ?? { scope: "public" },
						openapi: def.openapi as RouteInfo["openapi"],
					});
				}
				return routes;
			},
		},

		created(this: ApiThis) {
			this.config = nodeConfig(this.broker);
			this.serve = (req, res, next) => serveDashboardRequest(this, req, res, next);
			this.alertStreams = new AlertStreamHub(alertStreamBackend(this), { reorderWaitMs: config.streamReorderWait, replayMax: config.streamReplayMax });
		},

		stopped(this: ApiThis) {
			this.alertStreams.close();
		},

		started(this: ApiThis) {
			// Node ends a request that takes longer than 5 min by default; large clip uploads may need longer.
			this.server.requestTimeout = config.uploadTimeout;
			const address = this.server.address();
			const port = typeof address === "object" && address ? address.port : config.port;
			this.logger.info(`Vigil listening on http://${config.host === "0.0.0.0" ? "localhost" : config.host}:${port} (dashboard at /, API docs at /docs)`);
			if (!existsSync(join(config.dashboardDir, "index.html")))
				this.logger.warn(`The dashboard is not built (no index.html in ${config.dashboardDir}): run \`npm run build\`; / answers 503 meanwhile`);
		},
	};
}

/** Whether a request's Origin is this gateway's own (the host it was sent to), as the CSRF check judges it too. */
function fromOwnOrigin(req: IncomingMessage): boolean {
	const origin = req.headers.origin;
	if (!origin || !req.headers.host) return false;
	try {
		return new URL(origin).host === req.headers.host;
	} catch {
		return false;
	}
}

async function serveDocsFile(file: string, res: ServerResponse) {
	if (file === "init.js") {
		res.setHeader("Content-Type", "text/javascript; charset=utf-8");
		return res.end(DOCS_INIT);
	}
	if (!SWAGGER_FILES.has(file)) {
		res.statusCode = 404;
		res.setHeader("Content-Type", "application/json; charset=utf-8");
		return res.end(JSON.stringify({ error: { code: "ROUTE_NOT_FOUND", message: "No such file" } }));
	}
	const type = file.endsWith(".css") ? "text/css" : file.endsWith(".js") ? "text/javascript" : "image/png";
	res.setHeader("Content-Type", type);
	res.setHeader("Cache-Control", "public, max-age=86400");
	res.end(await readFile(join(getAbsoluteFSPath(), file)));
}

const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Vigil API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"><link rel="icon" href="/docs/favicon-32x32.png"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script><script src="/docs/swagger-ui-standalone-preset.js"></script><script src="/docs/init.js"></script>
</body></html>`;

const DOCS_INIT = `window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", withCredentials: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "StandaloneLayout" });`;

export default createApiService;
