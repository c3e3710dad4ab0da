/**
 * ingest — edge boxes that run their own detector. A box (a store's service token) posts batches of detection
 * events, each checked on its own and stored once (idempotent by the box's event id), then handed to the alert
 * service; it sends heartbeats, which answer the commands an admin queued for it until it acknowledges them.
 * Cameras are online, stale or offline from when they were last seen (events, heartbeats, clip uploads).
 */
import type { ServiceSchema, ServiceSettingSchema } from "moleculer";
import { In } from "typeorm";
import { Camera, CameraLiveness, EdgeBox, EdgeCommand, EdgeEvent, ServiceToken } from "../entities";
import { EDGE_COMMAND_KINDS, EDGE_COMMAND_STATUSES, type EdgeCommandKind, type EdgeCommandStatus } from "../entities/edge-command.entity";
import { audit } from "../lib/operations/audit";
import { conflict, invalid, notFound, VigilError } from "../lib/platform/errors";
import { edgeEvents } from "../lib/platform/metrics";
import { LIVENESS_STATUSES, livenessOf, markCamerasSeen, type LivenessStatus, type LivenessThresholds } from "../lib/operations/liveness";
import type { Caller, VigilContext } from "../lib/platform/types";
import { VigilValidator } from "../middlewares/validator.middleware";
import { JobQueueMixin, type JobQueueService } from "../mixins/job-queue.mixin";
import { RepositoryMixin, type RepositoryService } from "../mixins/repository.mixin";
import { EVALUATE_QUEUE, type EvaluationJob } from "./alert.contract";
import { id, orgPath, storePath } from "./schemas";

type ServiceCaller = Extract<Caller, { kind: "service" }>;
type ItemError = { field: string; type: string; message: string };
type ItemChecker = (item: unknown) => true | { field?: string; type?: string; message?: string }[];
type IngestService = RepositoryService &
	JobQueueService<{ [EVALUATE_QUEUE]: EvaluationJob }> & {
		checkEvent: ItemChecker;
		thresholds(): LivenessThresholds;
		eventErrors(item: unknown, now: Date): ItemError[];
		deliverPending(ctx: VigilContext<unknown>, now: Date): Promise<EdgeCommand[]>;
	};

/** ISO 8601 with a time zone: a time without one would mean the box's local time, which we cannot know. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** One detection event, checked on its own so one bad event never costs the batch. */
const eventSchema = {
	$$strict: "remove",
	id: { type: "string", min: 1, max: 100, $$t: "The box's id for the event: sending it again is a no-op" },
	cameraId: { ...id, $$t: "A camera of the token's store" },
	time: { type: "string", max: 40, pattern: ISO_TIME, $$t: "When it was seen (ISO 8601 with a time zone)" },
	className: { type: "string", trim: true, min: 1, max: 50, pattern: /^[a-z0-9_ -]+$/i },
	score: { type: "number", min: 0, max: 1 },
	box: { type: "array", length: 4, items: { type: "number", min: 0, max: 1 }, $$t: "[x1, y1, x2, y2] in 0..1 from the top-left, x1 < x2, y1 < y2" },
	trackId: { type: "string", min: 1, max: 100, optional: true, nullable: true, $$t: "The box's own track id: its events stay one track" },
	plate: { type: "string", trim: true, min: 1, max: 20, optional: true, nullable: true, $$t: "Licence plate text read by the box" },
} as const;

interface EventItem {
	id: string;
	cameraId: string;
	time: string;
	className: string;
	score: number;
	box: [number, number, number, number];
	trackId?: string | null;
	plate?: string | null;
}

type ItemResult = { index: number; id: string | null; status: "accepted" | "duplicate" | "rejected"; errors?: ItemError[] };

/** A command's payload is a small JSON object (configuration, which clip to reprocess...). */
const COMMAND_PAYLOAD_MAX = 16 * 1024;
/** Commands one heartbeat answer carries at most; the rest come with the next one. */
const COMMANDS_PER_HEARTBEAT = 50;
const LIST_LIMIT_MAX = 200;
/** Largest value of an `integer` column (a heartbeat's queue depth). */
const INT4_MAX = 2_147_483_647;

const presentCommand = (c: EdgeCommand) => ({
	id: c.id,
	storeId: c.storeId,
	tokenId: c.tokenId,
	kind: c.kind,
	payload: c.payload,
	status: c.status,
	createdBy: c.createdBy,
	createdAt: c.createdAt,
	deliveredCount: c.deliveredCount,
	firstDeliveredAt: c.firstDeliveredAt,
	lastDeliveredAt: c.lastDeliveredAt,
	ackedAt: c.ackedAt,
	resultMessage: c.resultMessage,
});

/** PostgreSQL's class 22 (data exception): a value out of range or not representable, caused by the input alone. */
const isDataException = (err: unknown) => /^22/.test(String((err as { code?: unknown })?.code ?? ""));

const LIVENESS_ORDER: Record<LivenessStatus, number> = { offline: 0, stale: 1, unknown: 2, online: 3 };

const IngestServiceSchema: ServiceSchema<ServiceSettingSchema, IngestService> = {
	name: "ingest",
	mixins: [RepositoryMixin, JobQueueMixin({ [EVALUATE_QUEUE]: {} })],
	settings: { rest: "/" },

	actions: {
		events: {
			rest: "POST /ingest/events",
			permission: { scope: "service" },
			params: {
				$$strict: "remove",
				events: {
					type: "array",
					min: 1,
					items: { type: "any", $$t: "{ id, cameraId, time, className, score, box, trackId?, plate? }: each event is checked on its own" },
					$$t: "Detection events, at most EDGE_BATCH_MAX (100) per batch; the body may be sent with Content-Encoding gzip or br",
				},
			},
			openapi: {
				summary: "Edge box: a batch of detection events, each accepted, rejected (with its errors) or a duplicate",
				responses: { 200: "IngestResult" },
			},
			async handler(this: IngestService, ctx: VigilContext<{ events: unknown[] }>) {
				const caller = ctx.meta.caller as ServiceCaller;
				const items = ctx.params.events;
				if (items.length > this.config.edgeBatchMax)
					throw new VigilError(`A batch holds at most ${this.config.edgeBatchMax} events; send the rest in another batch`, 413, "BATCH_TOO_LARGE", {
						limit: this.config.edgeBatchMax,
						received: items.length,
					});

				const now = new Date();
				const results: ItemResult[] = items.map((item, index) => ({
					index,
					id: typeof (item as { id?: unknown })?.id === "string" ? (item as { id: string }).id : null,
					status: "accepted",
				}));
				const valid: { index: number; item: EventItem; time: Date }[] = [];
				items.forEach((raw, index) => {
					const item = raw !== null && typeof raw === "object" && !Array.isArray(raw) ? { ...raw } : raw;
					const errors = this.eventErrors(item, now);
					if (errors.length) Object.assign(results[index], { status: "rejected", errors });
					else valid.push({ index, item: item as EventItem, time: new Date((item as EventItem).time) });
				});

				// Another store's camera is as unknown as one that does not exist.
				const cameraIds = [...new Set(valid.map((v) => v.item.cameraId))];
				const known = new Set(
					cameraIds.length
						? (
								await this.data(ctx)
									.repo(Camera)
									.find({ where: { id: In(cameraIds), storeId: caller.storeId }, select: { id: true } })
							).map((c) => c.id)
						: [],
				);
				const seenInBatch = new Set<string>();
				const toStore = valid.filter(({ index, item }) => {
					if (!known.has(item.cameraId)) {
						Object.assign(results[index], {
							status: "rejected",
							errors: [{ field: "cameraId", type: "unknownCamera", message: "No camera with this id in the token's store." }],
						});
						return false;
					}
					if (seenInBatch.has(item.id)) {
						results[index].status = "duplicate";
						return false;
					}
					seenInBatch.add(item.id);
					return true;
				});

				const row = ({ item, time }: (typeof toStore)[number]) => ({
					orgId: caller.orgId,
					storeId: caller.storeId,
					cameraId: item.cameraId,
					tokenId: caller.tokenId,
					eventId: item.id,
					time,
					className: item.className,
					score: item.score,
					box: item.box,
					trackId: item.trackId ?? null,
					plate: item.plate ?? null,
				});
				const insert = async (batch: typeof toStore) => {
					const inserted = await this.unscoped("insert-or-ignore of a box's events (it resends batches); each row names the token's organization and store")
						.createQueryBuilder()
						.insert()
						.into(EdgeEvent)
						.values(batch.map(row))
						.orIgnore()
						.returning("event_id")
						.updateEntity(false)
						.execute();
					return (inserted.raw as { event_id: string }[]).map((r) => r.event_id);
				};
				const storedIds = new Set<string>();
				const unstorable = new Set<number>();
				try {
					if (toStore.length) for (const eventId of await insert(toStore)) storedIds.add(eventId);
				} catch (err) {
					// One value the database refuses (a data exception, class 22) must not cost the other events: store them one by one.
					if (!isDataException(err)) throw err;
					for (const one of toStore) {
						try {
							for (const eventId of await insert([one])) storedIds.add(eventId);
						} catch (itemErr) {
							if (!isDataException(itemErr)) throw itemErr;
							unstorable.add(one.index);
							Object.assign(results[one.index], {
								status: "rejected",
								errors: [{ field: "", type: "unstorable", message: "A value of this event cannot be stored." }],
							});
						}
					}
				}
				for (const { index, item } of toStore) if (!storedIds.has(item.id) && !unstorable.has(index)) results[index].status = "duplicate";

				// Duplicates too: a box resends a batch whose answer it lost, and that batch's evaluation may be the one missing.
				const stored = toStore.filter(({ index }) => !unstorable.has(index));
				if (stored.length) {
					const [oldest, newest] = [new Map<string, Date>(), new Map<string, Date>()];
					for (const { item, time } of stored) {
						const [first, last] = [oldest.get(item.cameraId), newest.get(item.cameraId)];
						if (!first || time < first) oldest.set(item.cameraId, time);
						if (!last || time > last) newest.set(item.cameraId, time);
					}
					await markCamerasSeen(this.data(ctx), newest, "event", now);
					// Durable: the alert service replays each camera's events around this batch's time span. If a send
					// fails the box gets a 5xx and resends; its events are then duplicates, evaluated all the same.
					for (const [cameraId, last] of newest) {
						const job: EvaluationJob = { kind: "edge", cameraId, orgId: caller.orgId, oldest: oldest.get(cameraId)?.toISOString(), newest: last.toISOString() };
						await this.queues[EVALUATE_QUEUE].send(job);
					}
				}
				const count = (status: ItemResult["status"]) => results.filter((r) => r.status === status).length;
				const answer = { accepted: count("accepted"), rejected: count("rejected"), duplicates: count("duplicate"), results };
				edgeEvents.inc({ outcome: "accepted" }, answer.accepted);
				edgeEvents.inc({ outcome: "rejected" }, answer.rejected);
				edgeEvents.inc({ outcome: "duplicate" }, answer.duplicates);
				return answer;
			},
		},

		heartbeat: {
			rest: "POST /ingest/heartbeat",
			permission: { scope: "service" },
			params: {
				$$strict: "remove",
				uptimeSec: { type: "number", min: 0, optional: true, $$t: "Seconds since the box started" },
				queueDepth: { type: "number", integer: true, min: 0, max: INT4_MAX, optional: true, $$t: "Events waiting on the box to be sent" },
				camerasOnline: { type: "array", items: "uuid", max: 1000, default: [] as string[], $$t: "Cameras the box receives video from now" },
				configVersion: { type: "string", max: 100, optional: true, nullable: true },
				softwareVersion: { type: "string", max: 100, optional: true, nullable: true },
				ackCommandIds: { type: "array", items: "uuid", max: 100, default: [] as string[], $$t: "Commands carried out (acknowledged as done)" },
			},
			openapi: {
				summary: "Edge box: report health; the answer is the server time and the commands still pending for this box",
				responses: { 200: "HeartbeatReply" },
			},
			async handler(
				this: IngestService,
				ctx: VigilContext<{
					uptimeSec?: number;
					queueDepth?: number;
					camerasOnline: string[];
					configVersion?: string | null;
					softwareVersion?: string | null;
					ackCommandIds: string[];
				}>,
			) {
				const caller = ctx.meta.caller as ServiceCaller;
				const p = ctx.params;
				const now = new Date();
				const online = p.camerasOnline.length
					? (
							await this.data(ctx)
								.repo(Camera)
								.find({ where: { id: In([...new Set(p.camerasOnline)]), storeId: caller.storeId }, select: { id: true } })
						).map((c) => c.id)
					: [];
				// What a heartbeat leaves out keeps its last reported value.
				const reported = Object.fromEntries(
					Object.entries({ uptimeSec: p.uptimeSec, queueDepth: p.queueDepth, configVersion: p.configVersion, softwareVersion: p.softwareVersion }).filter(
						([, v]) => v !== undefined,
					),
				);
				await this.unscoped("upsert of the box's own row (its heartbeats may cross); organization and store are the token's")
					.getRepository(EdgeBox)
					.upsert(
						{
							tokenId: caller.tokenId,
							orgId: caller.orgId,
							storeId: caller.storeId,
							lastHeartbeatAt: now,
							camerasOnline: online,
							ip: ctx.meta.ip ?? null,
							...reported,
						},
						["tokenId"],
					);
				await markCamerasSeen(this.data(ctx), new Map(online.map((cameraId) => [cameraId, now])), "heartbeat", now);
				const acknowledged = p.ackCommandIds.length
					? await this.data(ctx)
							.repo(EdgeCommand)
							.update({ id: In(p.ackCommandIds), tokenId: caller.tokenId, status: "pending" }, { status: "done", ackedAt: now })
					: 0;
				const commands = await this.deliverPending(ctx, now);
				return {
					serverTime: now,
					acknowledged,
					commands: commands.map((c) => ({ id: c.id, kind: c.kind, payload: c.payload, createdAt: c.createdAt })),
					...(online.length < new Set(p.camerasOnline).size && { unknownCameraIds: p.camerasOnline.filter((cameraId) => !online.includes(cameraId)) }),
				};
			},
		},

		ackCommand: {
			rest: "POST /ingest/commands/:commandId/ack",
			permission: { scope: "service" },
			params: {
				$$strict: "remove",
				commandId: id,
				status: { type: "enum", values: ["done", "failed"], $$t: "done: carried out; failed: could not (say why in message)" },
				message: { type: "string", max: 1000, optional: true, nullable: true },
			},
			openapi: { summary: "Edge box: acknowledge a command as done or failed", responses: { 200: "EdgeCommand" } },
			async handler(this: IngestService, ctx: VigilContext<{ commandId: string; status: Exclude<EdgeCommandStatus, "pending">; message?: string | null }>) {
				const caller = ctx.meta.caller as ServiceCaller;
				const repo = this.data(ctx).repo(EdgeCommand);
				const command = await repo.findOneBy({ id: ctx.params.commandId, tokenId: caller.tokenId });
				if (!command) throw notFound("Edge command");
				if (command.status === ctx.params.status) return presentCommand(command);
				if (command.status !== "pending") throw conflict(`This command was already acknowledged as ${command.status}`, "COMMAND_ACKNOWLEDGED");
				const changed = await repo.update(
					{ id: command.id, status: "pending" },
					{ status: ctx.params.status, ackedAt: new Date(), resultMessage: ctx.params.message ?? null },
				);
				if (!changed) throw conflict("This command was acknowledged meanwhile", "COMMAND_ACKNOWLEDGED");
				const acked = await repo.findOneBy({ id: command.id });
				// Gone meanwhile: its box's token was deleted.
				if (!acked) throw notFound("Edge command");
				return presentCommand(acked);
			},
		},

		listBoxes: {
			rest: "GET /orgs/:orgId/stores/:storeId/edge/boxes",
			permission: { scope: "store", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...storePath },
			openapi: {
				summary: "Edge boxes of a store (its service tokens) with their last heartbeat, status and pending commands",
				responses: { 200: "EdgeBoxList" },
			},
			async handler(this: IngestService, ctx: VigilContext<{ orgId: string; storeId: string }>) {
				const { storeId } = ctx.params;
				const data = this.data(ctx);
				const [allTokens, boxes] = await Promise.all([
					data.repo(ServiceToken).find({ where: { storeId }, order: { createdAt: "ASC" } }),
					data.repo(EdgeBox).findBy({ storeId }),
				]);
				const tokens = allTokens.filter((t) => !t.revokedAt);
				// A store has a few boxes: one count each.
				const pending = await Promise.all(tokens.map((t) => data.repo(EdgeCommand).countBy({ storeId, tokenId: t.id, status: "pending" })));
				const byToken = new Map(boxes.map((b) => [b.tokenId, b]));
				const pendingOf = new Map(tokens.map((t, i) => [t.id, pending[i]]));
				const now = new Date();
				return {
					items: tokens.map((t) => {
						const box = byToken.get(t.id);
						return {
							tokenId: t.id,
							name: t.name,
							status: livenessOf(box?.lastHeartbeatAt, now, this.thresholds()).status,
							lastHeartbeatAt: box?.lastHeartbeatAt ?? null,
							uptimeSec: box?.uptimeSec ?? null,
							queueDepth: box?.queueDepth ?? null,
							camerasOnline: box?.camerasOnline ?? [],
							configVersion: box?.configVersion ?? null,
							softwareVersion: box?.softwareVersion ?? null,
							ip: box?.ip ?? null,
							pendingCommands: pendingOf.get(t.id) ?? 0,
						};
					}),
				};
			},
		},

		createCommand: {
			rest: "POST /orgs/:orgId/stores/:storeId/edge/commands",
			permission: { scope: "store", roles: ["owner", "admin"] },
			params: {
				$$strict: "remove",
				...storePath,
				tokenId: { ...id, $$t: "The edge box: one of the store's service tokens" },
				kind: { type: "enum", values: EDGE_COMMAND_KINDS },
				payload: {
					type: "object",
					optional: true,
					nullable: true,
					$$t: "What the box needs for it (new configuration, which clips...), at most 16 KB of JSON",
				},
			},
			openapi: { summary: "Queue a command for an edge box; it gets it with its next heartbeat", responses: { 201: "EdgeCommand" } },
			async handler(
				this: IngestService,
				ctx: VigilContext<{ orgId: string; storeId: string; tokenId: string; kind: EdgeCommandKind; payload?: Record<string, unknown> | null }>,
			) {
				const { storeId, tokenId, kind, payload } = ctx.params;
				const token = await this.data(ctx).repo(ServiceToken).findOneBy({ id: tokenId, storeId });
				if (!token || token.revokedAt)
					throw invalid("Not an edge box of this store", [
						{ field: "tokenId", type: "unknownBox", message: "Use the id of one of this store's service tokens that is not revoked." },
					]);
				if (payload && Buffer.byteLength(JSON.stringify(payload)) > COMMAND_PAYLOAD_MAX)
					throw invalid("The payload is too large", [
						{ field: "payload", type: "objectMaxSize", message: `The payload must be at most ${COMMAND_PAYLOAD_MAX} bytes of JSON.` },
					]);
				const caller = ctx.meta.caller;
				const command = await this.data(ctx)
					.repo(EdgeCommand)
					.save({ storeId, tokenId, kind, payload: payload ?? null, createdBy: caller?.kind === "user" ? caller.userId : null });
				await audit(ctx, this.data(ctx), "edge.command_created", { type: "edge_command", id: command.id }, { tokenId, kind });
				ctx.meta.$statusCode = 201;
				return presentCommand(command);
			},
		},

		listCommands: {
			rest: "GET /orgs/:orgId/stores/:storeId/edge/commands",
			permission: { scope: "store", roles: ["owner", "admin"] },
			params: {
				$$strict: "remove",
				...storePath,
				tokenId: { ...id, optional: true },
				status: { type: "enum", values: EDGE_COMMAND_STATUSES, optional: true },
				limit: { type: "number", integer: true, convert: true, min: 1, max: LIST_LIMIT_MAX, default: 50 },
			},
			openapi: { summary: "Commands queued for a store's edge boxes, newest first", responses: { 200: "EdgeCommandList" } },
			async handler(this: IngestService, ctx: VigilContext<{ orgId: string; storeId: string; tokenId?: string; status?: EdgeCommandStatus; limit: number }>) {
				const p = ctx.params;
				const rows = await this.data(ctx)
					.repo(EdgeCommand)
					.find({
						where: { storeId: p.storeId, ...(p.tokenId && { tokenId: p.tokenId }), ...(p.status && { status: p.status }) },
						order: { createdAt: "DESC" },
						take: p.limit,
					});
				return { items: rows.map(presentCommand) };
			},
		},

		cameraHealth: {
			rest: "GET /orgs/:orgId/cameras/health",
			permission: { scope: "org", roles: ["owner", "admin", "staff"] },
			params: {
				$$strict: "remove",
				...orgPath,
				status: { type: "enum", values: LIVENESS_STATUSES, optional: true, $$t: "Only this status; absent: stale and offline" },
				storeId: { ...id, optional: true, $$t: "Only this store" },
			},
			openapi: { summary: "Cameras of the stores you can see that are stale or offline (or of one status), worst first", responses: { 200: "CameraHealth" } },
			async handler(this: IngestService, ctx: VigilContext<{ orgId: string; status?: LivenessStatus; storeId?: string }>) {
				const p = ctx.params;
				// The caller's data holds only the stores they may see (staff: theirs).
				const data = this.data(ctx);
				const cameras = await data.repo(Camera).find({ where: { ...(p.storeId && { storeId: p.storeId }) }, relations: { store: true } });
				const seen = cameras.length ? await data.repo(CameraLiveness).findBy({ cameraId: In(cameras.map((c) => c.id)) }) : [];
				const lastSeen = new Map(seen.map((s) => [s.cameraId, s.lastSeenAt]));
				const now = new Date();
				const all = cameras.map((c) => ({
					cameraId: c.id,
					name: c.name,
					storeId: c.storeId,
					storeName: c.store?.name ?? null,
					enabled: c.enabled,
					...livenessOf(lastSeen.get(c.id), now, this.thresholds()),
				}));
				const counts = { online: 0, stale: 0, offline: 0, unknown: 0 };
				for (const c of all) counts[c.status]++;
				const wanted = (s: LivenessStatus) => (p.status ? s === p.status : s === "stale" || s === "offline");
				const items = all
					.filter((c) => wanted(c.status))
					.sort(
						(a, b) =>
							LIVENESS_ORDER[a.status] - LIVENESS_ORDER[b.status] ||
							(a.lastSeenAt?.getTime() ?? 0) - (b.lastSeenAt?.getTime() ?? 0) ||
							a.name.localeCompare(b.name),
					);
				return { counts, items };
			},
		},
	},

	events: {
		/** An uploaded clip is a sign of life of its camera. */
		"clip.queued": {
			group: "ingest",
			async handler(this: IngestService, ctx: VigilContext<{ cameraId: string; orgId: string }>) {
				await markCamerasSeen(this.tenantData({ orgId: ctx.params.orgId, storeIds: null }), new Map([[ctx.params.cameraId, new Date()]]), "clip");
			},
		},
	},

	methods: {
		thresholds(this: IngestService): LivenessThresholds {
			return { staleAfter: this.config.cameraStaleAfter, offlineAfter: this.config.cameraOfflineAfter };
		},

		/** Schema errors of one event, then what a schema cannot say (time, box order). */
		eventErrors(this: IngestService, item: unknown, now: Date): ItemError[] {
			const checked = this.checkEvent(item);
			if (checked !== true) return checked.map((e) => ({ field: e.field ?? "", type: e.type ?? "invalid", message: e.message ?? "Not valid" }));
			const event = item as EventItem;
			const errors: ItemError[] = [];
			const time = Date.parse(event.time);
			const year = new Date(time).getUTCFullYear();
			if (Number.isNaN(time)) errors.push({ field: "time", type: "date", message: "The 'time' field must be a valid ISO 8601 time." });
			// PostgreSQL has no year 0 (the pattern lets "0000-..." through).
			else if (year < 1) errors.push({ field: "time", type: "dateMin", message: "The 'time' field must be in the year 1 or later." });
			else if (time > now.getTime() + this.config.edgeMaxClockSkew * 1000)
				errors.push({
					field: "time",
					type: "dateMax",
					message: `The 'time' field is more than ${this.config.edgeMaxClockSkew} s ahead of the server clock; check the box's clock.`,
				});
			const [x1, y1, x2, y2] = event.box;
			if (!(x1 < x2 && y1 < y2)) errors.push({ field: "box", type: "boxOrder", message: "The 'box' field must be [x1, y1, x2, y2] with x1 < x2 and y1 < y2." });
			return errors;
		},

		/** This box's pending commands, oldest first, recorded as delivered once more. */
		async deliverPending(this: IngestService, ctx: VigilContext<unknown>, now: Date): Promise<EdgeCommand[]> {
			const { tokenId } = ctx.meta.caller as ServiceCaller;
			const pending = await this.data(ctx)
				.repo(EdgeCommand)
				.find({ where: { tokenId, status: "pending" }, order: { createdAt: "ASC" }, take: COMMANDS_PER_HEARTBEAT });
			if (pending.length) {
				await this.unscoped("delivery counters are SQL expressions the scoped update cannot write; the ids are this box's commands just read")
					.createQueryBuilder()
					.update(EdgeCommand)
					.set({ deliveredCount: () => "delivered_count + 1", firstDeliveredAt: () => "COALESCE(first_delivered_at, :now)", lastDeliveredAt: now })
					.where({ id: In(pending.map((c) => c.id)) })
					.setParameter("now", now)
					.execute();
			}
			return pending;
		},
	},

	created(this: IngestService) {
		// The validator middleware's own checker, so an event reads its errors like any parameter.
		this.checkEvent = new VigilValidator().compile(eventSchema) as ItemChecker;
	},
};

export default IngestServiceSchema;
