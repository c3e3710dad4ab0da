/**
 * clip — uploaded videos. An upload is streamed to storage (never held in memory), probed, de-duplicated by
 * its sha256, cut into segments and queued as durable detector jobs. Detector nodes hand their results back
 * through `saveSegment`, which commits them idempotently and queues the durable evaluation of what is new
 * (the alert service finishes the clip: `done` only once its tracks, summary and alerts are written). The
 * database stays the source of truth, so clips left queued or processing are re-enqueued on start.
 */
import type { IncomingHttpHeaders } from "node:http";
import { Readable } from "node:stream";
import Busboy from "busboy";
import FastestValidator from "fastest-validator";
import type { RestSchema, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { And, Between, Equal, In, IsNull, LessThan, MoreThan, MoreThanOrEqual, Not, Raw, type EntityManager, type FindOptionsWhere } from "typeorm";
import { Camera, Clip, ClipSegment, Detection, LiveStream, Track } from "../entities";
import { CLIP_STATUSES, type ClipSource, type ClipStatus } from "../entities/clip.entity";
import { audit } from "../lib/operations/audit";
import { readSetting } from "../lib/platform/config";
import { invalid, notFound, VigilError } from "../lib/platform/errors";
import { clipSeconds, liveStride } from "../lib/platform/metrics";
import { decodeTimeCursor, encodeTimeCursor } from "../lib/platform/pagination";
import { toolPath } from "../lib/media/tools";
import { dropRefusal } from "../lib/media/drop-folder";
import { mediaStorage, TooLargeError, type Storage } from "../lib/media/storage";
import { StillFrames } from "../lib/media/stills";
import { contentRange, requestedRange } from "../lib/media/byte-range";
import { checkRange, decodeRecordingCursor, encodeRecordingCursor, footageEnd, gapsOf, RECORDING_SCHEMAS } from "../lib/media/recording";
import type { Meta, VigilContext } from "../lib/platform/types";
import { probeVideo, VideoError } from "../lib/media/video";
import { PATH_POINTS } from "../lib/vision/tracker";
import { JobQueueMixin, type JobQueueService } from "../mixins/job-queue.mixin";
import { RepositoryMixin, type RepositoryService } from "../mixins/repository.mixin";
import { clipEvaluationId, EVALUATE_QUEUE, type EvaluationJob } from "./alert.contract";
import { DETECT_QUEUE, type SegmentJob, type SegmentResult } from "./detector.contract";
import { cameraPath, id, storePath } from "./schemas";

type ClipService = RepositoryService &
	JobQueueService<{ [DETECT_QUEUE]: SegmentJob; [EVALUATE_QUEUE]: EvaluationJob }> & { storage: Storage; stills: StillFrames; lastLiveStride?: number };

const UPLOAD_TYPES = ["video/mp4", "application/octet-stream", "video/quicktime"];
const LIST_LIMIT_MAX = 200;
/** Seconds a client should wait before retrying an upload refused because the backlog is full. */
const BACKLOG_RETRY_AFTER = 30;
/** A live camera's latest frame is shown while its stream delivered one this recently; else its latest clip's. */
const LIVE_FRAME_FRESH_MS = 15_000;

const uploadParams = { $$strict: "remove", ...cameraPath } as const;
const checkUploadParams = new FastestValidator().compile(uploadParams);

interface CameraInfo {
	id: string;
	orgId: string;
	storeId: string;
	sampleFps: number;
	enabled: boolean;
}

interface ListParams {
	orgId: string;
	storeId: string;
	cameraId?: string;
	status?: ClipStatus;
	from?: Date;
	to?: Date;
	limit: number;
	cursor?: string;
}

const clipPath = { ...storePath, clipId: id } as const;

/** Segments per page of a recording: an hour of 2 s segments is 1800. */
const RECORDING_LIMIT_MAX = 1000;

interface RecordingParams {
	orgId: string;
	storeId: string;
	cameraId: string;
	from: Date;
	to?: Date;
	limit: number;
	cursor?: string;
}

/**
 * Clips whose recorded span [recordedAt, recordedAt + durationSec) overlaps [from, to): started before `to`, ending
 * after `from`. The lower bound on the start keeps the search to a stretch of the (camera_id, recorded_at) index: no
 * clip lasts longer than MAX_CLIP_SECONDS. Uploads (no recordedAt) never match.
 */
const recordedWithin = (from: Date, to: Date, maxClipSeconds: number) =>
	Raw(
		(start) => {
			// TypeORM names the column by its property (`Clip.recordedAt`) and writes the SQL names in afterwards.
			const duration = start.replace(/\.recordedAt$/, ".durationSec");
			return `${start} >= :earliest AND ${start} < :to AND ${start} + ${duration} * interval '1 second' > :from`;
		},
		{ earliest: new Date(from.getTime() - maxClipSeconds * 1000), from, to },
	);

/** A file a stream node already put in media storage (a live segment, a dropped file), handed over to become a clip. */
const handoverParams = {
	orgId: id,
	cameraId: id,
	storageKey: { type: "string", max: 200 },
	size: { type: "number", integer: true, min: 0 },
	sha256: { type: "string", length: 64 },
} as const;
type Handover = { orgId: string; cameraId: string; storageKey: string; size: number; sha256: string };
const storedOf = (p: Handover) => ({ key: p.storageKey, size: p.size, sha256: p.sha256 });

export const presentClip = (c: Clip) => ({
	id: c.id,
	orgId: c.orgId,
	storeId: c.storeId,
	cameraId: c.cameraId,
	source: c.source,
	/** A live segment's wall-clock start; null for uploads. */
	recordedAt: c.recordedAt,
	/** Who sent it: a user's id, `service:<tokenId>`, `folder` (a camera's drop folder); null for live segments. */
	uploadedBy: c.uploadedBy,
	status: c.status,
	failureReason: c.failureReason,
	sizeBytes: c.sizeBytes,
	sha256: c.sha256,
	durationSec: c.durationSec,
	width: c.width,
	height: c.height,
	sampleFps: c.sampleFps,
	progress: { framesDone: c.framesDone, framesTotal: c.framesTotal, ratio: c.framesTotal ? Math.min(1, c.framesDone / c.framesTotal) : 0 },
	summary: c.summary,
	createdAt: c.createdAt,
	startedAt: c.startedAt,
	finishedAt: c.finishedAt,
	/** Set when retention removed the video: the summary and alerts stay, the video and reprocessing are gone. */
	expiredAt: c.expiredAt,
});

/** What a clip's figures mean, for /openapi.json: every count is of confirmed tracks, so they agree. */
const CLIP_SCHEMAS = {
	ClipSummary: {
		type: "object",
		nullable: true,
		description:
			"Written together with the clip's tracks and alerts when the last segment is evaluated (null before). Only confirmed tracks count: an object seen in at least 3 sampled frames.",
		properties: {
			counts: {
				type: "object",
				additionalProperties: { type: "integer" },
				description: "Confirmed tracks per class: each object once, however long it was seen. Adds up to `tracks`.",
			},
			tracks: { type: "integer", description: "Confirmed tracks of the clip, as listed by its tracks route; the sum of `counts`." },
			lineCrossings: {
				type: "object",
				additionalProperties: { type: "integer" },
				description: "Per line zone id: crossings by confirmed tracks (every line zone listed).",
			},
		},
	},
	Clip: {
		type: "object",
		properties: {
			id: { type: "string", format: "uuid" },
			status: {
				type: "string",
				enum: [...CLIP_STATUSES],
				description:
					"`done` or `failed` only once tracks, summary and alerts are written; `failed` when a segment could not be decoded (failureReason says which frames).",
			},
			failureReason: { type: "string", nullable: true },
			width: { type: "integer", description: "Width as the video is displayed (rotation applied)" },
			height: { type: "integer", description: "Height as the video is displayed (rotation applied)" },
			sampleFps: { type: "number", description: "Frames per second analysed" },
			progress: {
				type: "object",
				properties: { framesDone: { type: "integer" }, framesTotal: { type: "integer" }, ratio: { type: "number" } },
				description: "Sampled frames detected so far",
			},
			summary: { $ref: "#/components/schemas/ClipSummary" },
		},
		additionalProperties: true,
	},
	TrackList: {
		type: "object",
		properties: {
			items: {
				type: "array",
				items: {
					type: "object",
					properties: {
						trackNo: { type: "integer" },
						className: { type: "string" },
						firstTime: { type: "number", description: "Seconds from the clip's start" },
						lastTime: { type: "number" },
						bestTime: { type: "number", description: "Time of the most confident detection" },
						bestBox: { type: "array", items: { type: "number" }, description: "x1, y1, x2, y2 as fractions of the frame" },
						maxScore: { type: "number" },
						meanScore: { type: "number" },
						stationary: { type: "boolean" },
						zonesEntered: { type: "array", items: { type: "string" } },
						lineCrossings: {
							type: "object",
							additionalProperties: { type: "object", properties: { count: { type: "integer" }, forward: { type: "integer" }, backward: { type: "integer" } } },
						},
						path: {
							type: "array",
							maxItems: PATH_POINTS,
							items: { type: "array", items: { type: "number" }, minItems: 3, maxItems: 3 },
							description:
								"Where the object stood (bottom centre of its box) as [time, x, y] triples: seconds from the clip's start, then fractions of the frame. Evenly spaced over the track, first to last observation; empty for tracks stored before paths were kept.",
						},
					},
				},
			},
		},
	},
};

/** The sampled frames of a clip and how they fall into segments. */
export function planSegments(durationSec: number, sampleFps: number, segmentSec: number) {
	const framesTotal = Math.max(1, Math.floor(durationSec * sampleFps + 1e-6));
	const perSegment = Math.max(1, Math.round(segmentSec * sampleFps));
	const segments: { index: number; firstFrame: number; frameCount: number }[] = [];
	for (let first = 0, index = 0; first < framesTotal; first += perSegment, index++) {
		segments.push({ index, firstFrame: first, frameCount: Math.min(perSegment, framesTotal - first) });
	}
	return { framesTotal, segments };
}

const ClipServiceSchema: ServiceSchema<ServiceSettingSchema, ClipService> = {
	name: "clip",
	mixins: [RepositoryMixin, JobQueueMixin({ [DETECT_QUEUE]: {}, [EVALUATE_QUEUE]: {} })],
	settings: { rest: "/" },

	actions: {
		upload: {
			// moleculer-web hands a "stream" route the request body unparsed (its typings lack `type`).
			rest: { method: "POST", path: "/orgs/:orgId/stores/:storeId/cameras/:cameraId/clips", type: "stream" } as RestSchema,
			permission: { scope: "store", roles: ["owner", "admin", "staff"], serviceToken: true },
			// Reading a large body over a slow link outlasts REQUEST_TIMEOUT; UPLOAD_TIMEOUT bounds it instead.
			timeout: readSetting("uploadTimeout"),
			streamParams: uploadParams,
			openapi: {
				summary: "Upload an mp4 clip (raw video/mp4 body or multipart/form-data); the same content again returns the existing clip",
				responses: { 201: "Clip", 200: "Clip (already uploaded)" },
			},
			async handler(this: ClipService, ctx: VigilContext<Readable>) {
				const meta = ctx.meta as Meta & { $params: Record<string, unknown>; $requestHeaders?: IncomingHttpHeaders };
				const checked = checkUploadParams(meta.$params);
				if (checked !== true)
					throw new VigilError(
						"Some parameters are not valid",
						422,
						"VALIDATION_FAILED",
						(checked as { field: string; type: string; message: string }[]).map(({ field, type, message }) => ({ field, type, message })),
					);
				const { orgId, storeId, cameraId } = meta.$params as { orgId: string; storeId: string; cameraId: string };
				// Every refusal below happens before the body is stored; Node discards what is left unread.
				const camera = await ctx.call<CameraInfo, object>("camera.get", { orgId, storeId, cameraId });
				await this.assertBacklogRoom();
				const headers = meta.$requestHeaders ?? {};
				if (Number(headers["content-length"]) > this.config.maxUploadBytes) throw tooLarge(this.config.maxUploadBytes);
				const stored = await this.storeUpload(ctx.params, headers);
				const caller = ctx.meta.caller;
				return this.registerClip(
					ctx,
					camera,
					stored,
					caller?.kind === "user" ? caller.userId : caller?.kind === "service" ? `service:${caller.tokenId}` : null,
				);
			},
		},

		/**
		 * The gateway asks this before it forwards an upload's body to another node: refusing there (404, 413, 503)
		 * means no byte of a refused upload crosses the network or waits in memory.
		 */
		checkUpload: {
			visibility: "public",
			permission: { scope: "store", roles: ["owner", "admin", "staff"], serviceToken: true },
			params: { ...cameraPath, contentLength: { type: "number", integer: true, min: 0, optional: true } },
			async handler(this: ClipService, ctx: VigilContext<{ orgId: string; storeId: string; cameraId: string; contentLength?: number }>) {
				const { orgId, storeId, cameraId, contentLength } = ctx.params;
				await ctx.call("camera.get", { orgId, storeId, cameraId });
				if ((contentLength ?? 0) > this.config.maxUploadBytes) throw tooLarge(this.config.maxUploadBytes);
				await this.assertBacklogRoom();
				return { ok: true };
			},
		},

		list: {
			rest: "GET /orgs/:orgId/stores/:storeId/clips",
			permission: { scope: "store", roles: ["owner", "admin", "staff"], serviceToken: true },
			params: {
				$$strict: "remove",
				...storePath,
				cameraId: { ...id, optional: true },
				status: { type: "enum", values: CLIP_STATUSES, optional: true },
				from: { type: "date", convert: true, optional: true, $$t: "Uploaded at or after (ISO 8601)" },
				to: { type: "date", convert: true, optional: true, $$t: "Uploaded before (ISO 8601)" },
				limit: { type: "number", integer: true, convert: true, min: 1, max: LIST_LIMIT_MAX, default: 50 },
				cursor: { type: "string", optional: true, max: 200, $$t: "nextCursor of the previous page" },
			},
			openapi: { summary: "Clips of a store, newest first, with filters and cursor pagination", responses: { 200: "ClipPage" } },
			async handler(this: ClipService, ctx: VigilContext<ListParams>) {
				const p = ctx.params;
				const where: FindOptionsWhere<Clip>[] = [];
				const base: FindOptionsWhere<Clip> = { storeId: p.storeId, ...(p.cameraId && { cameraId: p.cameraId }), ...(p.status && { status: p.status }) };
				const range = p.from && p.to ? Between(p.from, p.to) : p.from ? MoreThanOrEqual(p.from) : p.to ? LessThan(p.to) : undefined;
				if (p.cursor) {
					const { at, id: lastId } = decodeTimeCursor(p.cursor);
					where.push({ ...base, createdAt: range ? And(range, LessThan(at)) : LessThan(at) });
					where.push({ ...base, createdAt: at, id: LessThan(lastId) });
				} else where.push({ ...base, ...(range && { createdAt: range }) });
				const rows = await this.data(ctx)
					.repo(Clip)
					.find({ where, order: { createdAt: "DESC", id: "DESC" }, take: p.limit + 1 });
				const page = rows.slice(0, p.limit);
				return {
					items: page.map(presentClip),
					nextCursor: rows.length > p.limit ? encodeTimeCursor(page[page.length - 1].createdAt, page[page.length - 1].id) : null,
				};
			},
		},

		get: {
			rest: "GET /orgs/:orgId/stores/:storeId/clips/:clipId",
			permission: { scope: "store", roles: ["owner", "admin", "staff"], serviceToken: true },
			params: { $$strict: "remove", ...clipPath },
			openapi: { summary: "A clip with its status, progress and summary", responses: { 200: "Clip" }, schemas: CLIP_SCHEMAS },
			async handler(this: ClipService, ctx: VigilContext<{ orgId: string; storeId: string; clipId: string }>) {
				return presentClip(await this.findClip(ctx));
			},
		},

		detections: {
			rest: "GET /orgs/:orgId/stores/:storeId/clips/:clipId/detections",
			permission: { scope: "store", roles: ["owner", "admin", "staff"] },
			params: { $$strict: "remove", ...clipPath },
			openapi: { summary: "What was detected in each sampled frame of a clip", responses: { 200: "DetectionList" } },
			async handler(this: ClipService, ctx: VigilContext<{ orgId: string; storeId: string; clipId: string }>) {
				const clip = await this.findClip(ctx);
				const rows = await this.data(ctx)
					.repo(Detection)
					.find({ where: { clipId: clip.id }, order: { frameIndex: "ASC", ordinal: "ASC" } });
				return {
					items: rows.map((d) => ({ frameIndex: d.frameIndex, timeSec: d.timeSec, className: d.className, score: d.score, box: [d.x1, d.y1, d.x2, d.y2] })),
				};
			},
		},

		tracks: {
			rest: "GET /orgs/:orgId/stores/:storeId/clips/:clipId/tracks",
			permission: { scope: "store", roles: ["owner", "admin", "staff"] },
			params: { $$strict: "remove", ...clipPath },
			openapi: {
				summary: "The confirmed tracks of a clip (written as they end; all of them once the clip is done)",
				responses: { 200: "TrackList" },
				schemas: CLIP_SCHEMAS,
			},
			async handler(this: ClipService, ctx: VigilContext<{ orgId: string; storeId: string; clipId: string }>) {
				const clip = await this.findClip(ctx);
				const rows = await this.data(ctx)
					.repo(Track)
					.find({ where: { clipId: clip.id }, order: { firstTime: "ASC", trackNo: "ASC" } });
				return {
					items: rows.map((t) => ({
						trackNo: t.trackNo,
						className: t.className,
						firstTime: t.firstTime,
						lastTime: t.lastTime,
						bestTime: t.bestTime,
						bestBox: t.bestBox,
						maxScore: t.maxScore,
						meanScore: t.meanScore,
						stationary: t.stationary,
						zonesEntered: t.zonesEntered,
						lineCrossings: t.lineCrossings,
						path: t.path,
					})),
				};
			},
		},

		/** A segment of a live camera's stream, already in media storage: it becomes a clip like an upload. Stream nodes call it. */
		registerLive: {
			visibility: "public",
			params: { ...handoverParams, recordedAt: { type: "date", convert: true } },
			async handler(this: ClipService, ctx: VigilContext<Handover & { recordedAt: Date }>) {
				const camera = await this.handedOverCamera(ctx.params);
				return this.registerClip(ctx, camera, storedOf(ctx.params), null, { source: "live", recordedAt: ctx.params.recordedAt });
			},
		},

		/** A file a camera dropped into its folder (DROP_DIR), already in media storage: it becomes a clip like an upload. Stream nodes call it. */
		registerDropped: {
			visibility: "public",
			params: handoverParams,
			async handler(this: ClipService, ctx: VigilContext<Handover>) {
				const camera = await this.handedOverCamera(ctx.params, async (camera: Camera) => {
					const refused = dropRefusal(camera);
					if (refused) throw new VigilError(refused.message, 409, refused.code);
					await this.assertBacklogRoom();
				});
				return this.registerClip(ctx, camera, storedOf(ctx.params), "folder", { source: "upload", recordedAt: null });
			},
		},

		recording: {
			rest: "GET /orgs/:orgId/stores/:storeId/cameras/:cameraId/recording",
			permission: { scope: "store", roles: ["owner", "admin", "staff"], serviceToken: true },
			params: {
				$$strict: "remove",
				...cameraPath,
				from: { type: "date", convert: true, $$t: "Start of the range (ISO 8601); a segment that began earlier and runs into it is included" },
				to: { type: "date", convert: true, optional: true, $$t: "End of the range (ISO 8601, default now); at most RECORDING_RANGE_MAX_HOURS after `from`" },
				limit: { type: "number", integer: true, convert: true, min: 1, max: RECORDING_LIMIT_MAX, default: 200 },
				cursor: { type: "string", optional: true, max: 300, $$t: "nextCursor of the previous page" },
			},
			openapi: {
				summary:
					"The camera's recording in a time range: its live segments overlapping [from, to), oldest first, with the gaps where there is no footage; cursor pagination",
				responses: { 200: "RecordingPage" },
				schemas: RECORDING_SCHEMAS,
			},
			async handler(this: ClipService, ctx: VigilContext<RecordingParams>) {
				const { storeId, cameraId, from, limit, cursor } = ctx.params;
				const to = ctx.params.to ?? new Date();
				checkRange(from, to, this.config.recordingRangeMaxHours);
				const after = cursor ? decodeRecordingCursor(cursor) : null;
				if (!(await this.data(ctx).repo(Camera).existsBy({ id: cameraId, storeId }))) throw notFound("Camera");
				const overlapping = recordedWithin(from, to, this.config.maxClipSeconds);
				// Uploads (no recordedAt) are not on the timeline: when they were filmed is unknown. Expired clips have no video.
				// `source` lets PostgreSQL use the (camera_id, recorded_at) index, which covers live segments only.
				const base: FindOptionsWhere<Clip> = { storeId, cameraId, source: "live", expiredAt: IsNull() };
				const where: FindOptionsWhere<Clip>[] = after
					? [
							{ ...base, recordedAt: And(overlapping, MoreThan(after.at)) },
							{ ...base, recordedAt: And(overlapping, Equal(after.at)), id: MoreThan(after.id) },
						]
					: [{ ...base, recordedAt: overlapping }];
				const rows = (await this.data(ctx)
					.repo(Clip)
					.find({ where, order: { recordedAt: "ASC", id: "ASC" }, take: limit + 1 })) as (Clip & { recordedAt: Date })[];
				const page = rows.slice(0, limit);
				const more = rows.length > limit;
				// Gaps from where the previous page's footage reached (clamped: the cursor came back from the client).
				const start = after ? new Date(Math.min(Math.max(after.reach.getTime(), from.getTime()), to.getTime())) : from;
				const { gaps, reach } = gapsOf(page, start, more ? null : to);
				return {
					from,
					to,
					items: page.map((c) => ({ id: c.id, recordedAt: c.recordedAt, endsAt: footageEnd(c), durationSec: c.durationSec, status: c.status })),
					gaps,
					nextCursor: more ? encodeRecordingCursor(page[page.length - 1], reach) : null,
				};
			},
		},

		video: {
			rest: "GET /orgs/:orgId/stores/:storeId/clips/:clipId/video",
			permission: { scope: "store", roles: ["owner", "admin", "staff"] },
			params: { $$strict: "remove", ...clipPath },
			openapi: {
				summary: "The clip's video (MP4), streamed; a Range header gets 206 with those bytes (416 past the end); 404 once retention removed it",
				responses: { 200: "video/mp4", 206: "video/mp4", 416: "RangeNotSatisfiable" },
				schemas: RECORDING_SCHEMAS,
			},
			async handler(this: ClipService, ctx: VigilContext<{ orgId: string; storeId: string; clipId: string }>) {
				return this.videoResponse(ctx, await this.findClip(ctx));
			},
		},

		frame: {
			rest: "GET /orgs/:orgId/stores/:storeId/clips/:clipId/frame",
			permission: { scope: "store", roles: ["owner", "admin", "staff"] },
			params: {
				$$strict: "remove",
				...clipPath,
				at: { type: "number", convert: true, min: 0, max: 24 * 3600, optional: true, $$t: "Seconds into the clip (default 0); past its end, its last frame" },
			},
			openapi: { summary: "A still frame of the clip (JPEG, at most STILL_WIDTH wide): what its tracks are drawn over", responses: { 200: "image/jpeg" } },
			async handler(this: ClipService, ctx: VigilContext<{ orgId: string; storeId: string; clipId: string; at?: number }>) {
				const clip = await this.findClip(ctx);
				// The video of a clip never changes, so its frames may be kept as long as the browser likes.
				return this.still(ctx, clip, ctx.params.at ?? 0, "private, max-age=86400");
			},
		},

		cameraFrame: {
			rest: "GET /orgs/:orgId/stores/:storeId/cameras/:cameraId/frame",
			permission: { scope: "store", roles: ["owner", "admin", "staff"] },
			params: { $$strict: "remove", ...cameraPath },
			openapi: {
				summary:
					"A recent still frame of the camera (JPEG): a live camera's latest, else from its latest clip; its thumbnail and the picture zones are drawn on; 404 before any footage",
				responses: { 200: "image/jpeg" },
			},
			async handler(this: ClipService, ctx: VigilContext<{ orgId: string; storeId: string; cameraId: string }>) {
				const { storeId, cameraId } = ctx.params;
				if (!(await this.data(ctx).repo(Camera).existsBy({ id: cameraId, storeId }))) throw notFound("Camera");
				// A live camera's frame comes from the stream node pulling it, while frames flow.
				const live = await this.data(ctx).repo(LiveStream).findOneBy({ cameraId });
				if (live?.holder && live.lastFrameAt && Date.now() - live.lastFrameAt.getTime() < LIVE_FRAME_FRESH_MS) {
					const frame = await ctx
						.call<string, object>("stream.latestFrame", { cameraId }, { nodeID: live.holder })
						.then((base64) => Buffer.from(base64, "base64"))
						.catch(() => null);
					if (frame) {
						const meta = ctx.meta as { $responseType?: string; $responseHeaders?: Record<string, string> };
						meta.$responseType = "image/jpeg";
						meta.$responseHeaders = { "Cache-Control": "private, max-age=1" };
						return frame;
					}
				}
				const latest = await this.data(ctx)
					.repo(Clip)
					.findOne({ where: { cameraId, storeId, expiredAt: IsNull() }, order: { createdAt: "DESC" } });
				if (!latest) throw notFound("Frame");
				// A second in: the very first frame of a recording is often black or still adjusting its exposure.
				return this.still(ctx, latest, Math.min(1, latest.durationSec / 2), "private, max-age=30");
			},
		},

		remove: {
			rest: "DELETE /orgs/:orgId/stores/:storeId/clips/:clipId",
			permission: { scope: "store", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...clipPath },
			openapi: { summary: "Delete a clip, its stored video and its detections", responses: { 204: null } },
			async handler(this: ClipService, ctx: VigilContext<{ orgId: string; storeId: string; clipId: string }>) {
				const clip = await this.findClip(ctx);
				// The alerts go with the clip (database cascade); their snapshot files must go too.
				await ctx.call("alert.forgetClip", { orgId: clip.orgId, clipId: clip.id });
				await this.data(ctx).transaction(async (tx) => {
					const deleted = await tx.repo(Clip).delete({ id: clip.id });
					if (deleted)
						await audit(ctx, tx, "clip.deleted", { type: "clip", id: clip.id }, { cameraId: clip.cameraId, storeId: clip.storeId, sha256: clip.sha256 });
				});
				await this.storage.delete(clip.storageKey);
				this.stills.forget(`${clip.id}@`);
				ctx.emit("clip.deleted", { clipId: clip.id, cameraId: clip.cameraId, storeId: clip.storeId, orgId: clip.orgId });
				ctx.meta.$statusCode = 204;
				return null;
			},
		},

		/** Operators (`vigil repl`): the organization and store of a clip known only by its id, to call the store's actions with. */
		locate: {
			permission: { scope: "superadmin" },
			params: { $$strict: "remove", clipId: id },
			async handler(this: ClipService, ctx: VigilContext<{ clipId: string }>) {
				const clip = await this.unscoped("an operator finds a clip of any organization by its id")
					.getRepository(Clip)
					.findOne({ where: { id: ctx.params.clipId }, select: { id: true, orgId: true, storeId: true, cameraId: true } });
				if (!clip) throw notFound("Clip");
				return { clipId: clip.id, orgId: clip.orgId, storeId: clip.storeId, cameraId: clip.cameraId };
			},
		},

		reprocess: {
			rest: "POST /orgs/:orgId/stores/:storeId/clips/:clipId/reprocess",
			permission: { scope: "store", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...clipPath },
			openapi: { summary: "Run detection on a clip again (after a model or settings change)", responses: { 202: "Clip" } },
			async handler(this: ClipService, ctx: VigilContext<{ orgId: string; storeId: string; clipId: string }>) {
				await this.assertBacklogRoom();
				const existing = await this.findClip(ctx);
				const clip = await this.data(ctx).transaction(async (tx) => {
					const c = await tx.repo(Clip).findOne({ where: { id: existing.id }, lock: { mode: "pessimistic_write" } });
					if (!c) throw notFound("Clip");
					if (c.expiredAt) throw new VigilError("The clip's video was removed by the retention policy; it cannot be processed again", 409, "CLIP_EXPIRED");
					c.generation += 1;
					Object.assign(c, { status: "queued", framesDone: 0, failureReason: null, summary: null, startedAt: null, finishedAt: null });
					await tx.repo(Clip).save(c);
					await tx.repo(Detection).delete({ clipId: c.id });
					await tx.repo(ClipSegment).update({ clipId: c.id }, { status: "pending", framesDone: 0, error: null });
					await audit(ctx, tx, "clip.reprocessed", { type: "clip", id: c.id }, { cameraId: c.cameraId, storeId: c.storeId, generation: c.generation });
					return c;
				});
				await this.enqueueSegments(clip);
				ctx.emit("clip.reprocessing", { clipId: clip.id });
				ctx.meta.$statusCode = 202;
				return presentClip(clip);
			},
		},

		/** Detector nodes: commit one segment's detections. Idempotent; stale or orphaned results are dropped. */
		saveSegment: {
			visibility: "public",
			params: {
				clipId: id,
				segment: { type: "number", integer: true, min: 0 },
				generation: { type: "number", integer: true, min: 0 },
				frames: {
					type: "array",
					max: 10000,
					items: {
						type: "object",
						props: {
							index: { type: "number", integer: true, min: 0 },
							time: { type: "number", min: 0 },
							detections: {
								type: "array",
								max: 1000,
								items: {
									type: "object",
									props: {
										classId: { type: "number", integer: true, min: 0 },
										className: { type: "string", max: 100 },
										score: { type: "number", min: 0, max: 1 },
										box: { type: "array", length: 4, items: { type: "number", min: 0, max: 1 } },
									},
								},
							},
						},
					},
				},
				error: { type: "string", optional: true, max: 2000 },
			},
			async handler(this: ClipService, ctx: VigilContext<SegmentResult>) {
				// The result names only its clip (no tenant): the clip's id, from our own job, is the key.
				const system = this.unscoped("detector results: a worker commits a segment of a clip by its id");
				const result: { clip: Clip; finished: boolean } | null = await system.transaction((tx) => this.commitSegment(tx, ctx.params));
				if (!result) return { stale: true };
				// Durable: if this send fails, the detector's job is not acknowledged and this runs again.
				await this.queueEvaluation(result.clip, ctx.params.segment);
				if (result.finished) clipSeconds.observe((Date.now() - result.clip.createdAt.getTime()) / 1000);
				return { stale: false, status: result.clip.status };
			},
		},

		/** Queue figures for /readyz, the autoscaler and operators. */
		queueStats: {
			visibility: "public",
			async handler(this: ClipService) {
				return this.queues[DETECT_QUEUE].stats();
			},
		},
	},

	methods: {
		/** The clip of the path's store; one of another store or organization does not exist for this caller. */
		async findClip(this: ClipService, ctx: VigilContext<{ storeId: string; clipId: string }>) {
			const clip = await this.data(ctx).repo(Clip).findOneBy({ id: ctx.params.clipId, storeId: ctx.params.storeId });
			if (!clip) throw notFound("Clip");
			return clip;
		},

		/** The clip's frame at `at` seconds as a JPEG response; 404 when its video is gone or unreadable. */
		async still(this: ClipService, ctx: VigilContext<unknown>, clip: Clip, at: number, cacheControl: string) {
			if (clip.expiredAt) throw notFound("Frame");
			// Tenths of a second are as fine as anyone looks, and keep the cache from filling with near-twins.
			const last = clip.durationSec - Math.max(0.1, 1 / (clip.sourceFps || 1));
			const time = Math.floor(Math.max(0, Math.min(at, last)) * 10) / 10;
			let jpeg: Buffer;
			try {
				jpeg = await this.stills.jpeg(`${clip.id}@${time}`, this.storage.localPath(clip.storageKey), time, clip);
			} catch (err) {
				this.logger.warn("No still frame from a clip", { clipId: clip.id, time }, err);
				throw notFound("Frame");
			}
			const meta = ctx.meta as { $responseType?: string; $responseHeaders?: Record<string, string> };
			meta.$responseType = "image/jpeg";
			meta.$responseHeaders = { "Cache-Control": cacheControl };
			return jpeg;
		},

		/** The clip's video as a streamed MP4 response: whole, or the byte range asked for; 404 when its video is gone. */
		async videoResponse(this: ClipService, ctx: VigilContext<unknown>, clip: Clip) {
			if (clip.expiredAt) throw new VigilError("The clip's video was removed by the retention policy", 404, "NOT_FOUND");
			let size: number;
			try {
				size = await this.storage.size(clip.storageKey);
			} catch (err) {
				this.logger.warn("A clip's video is missing from media storage", { clipId: clip.id }, err);
				throw notFound("Video");
			}
			const meta = ctx.meta as Meta & {
				$requestHeaders?: IncomingHttpHeaders;
				$responseType?: string;
				$responseHeaders?: Record<string, string>;
			};
			const headers = meta.$requestHeaders ?? {};
			const range = requestedRange(headers.range, size, headers["if-range"]?.toString());
			if (range === "unsatisfiable") throw new VigilError(`The range is past the end of the video (${size} bytes)`, 416, "RANGE_NOT_SATISFIABLE", { size });
			meta.$responseType = "video/mp4";
			// The video of a clip never changes: the browser may keep it, for this user only.
			meta.$responseHeaders = {
				"Accept-Ranges": "bytes",
				"Cache-Control": "private, max-age=86400",
				"Content-Disposition": `inline; filename="${clip.id}.mp4"`,
				"Content-Length": String(range ? range.end - range.start + 1 : size),
				...(range && { "Content-Range": contentRange(range, size) }),
			};
			if (range) meta.$statusCode = 206;
			// Streamed from the file (across the transporter too), never read whole into memory.
			return this.storage.get(clip.storageKey, range ?? undefined);
		},

		/** 503 + Retry-After before reading a single byte when the detectors are too far behind. */
		async assertBacklogRoom(this: ClipService) {
			const { pending } = await this.queues[DETECT_QUEUE].stats();
			if (pending >= this.config.maxQueueDepth) {
				throw new VigilError("Too many clips are waiting for detection; retry later", 503, "BACKLOG_FULL", { retryAfter: BACKLOG_RETRY_AFTER, pending });
			}
		},

		/** A raw mp4 body, or the first file of a multipart form, streamed into storage with the size limit. */
		async storeUpload(this: ClipService, body: Readable, headers: IncomingHttpHeaders) {
			const type = String(headers["content-type"] ?? "")
				.split(";")[0]
				.trim()
				.toLowerCase();
			let source: Readable;
			if (type === "multipart/form-data") source = await firstFile(body, headers, this.config.maxUploadBytes);
			else if (UPLOAD_TYPES.includes(type)) source = body;
			else throw new VigilError(`Send the clip as video/mp4 or multipart/form-data, not "${type || "no content type"}"`, 415, "UNSUPPORTED_MEDIA_TYPE");
			try {
				const stored = await this.storage.put("clips", "mp4", source, this.config.maxUploadBytes);
				if (stored.size === 0) {
					await this.storage.delete(stored.key);
					throw invalid("The upload is empty", [{ field: "body", type: "empty", message: "Send the clip's bytes in the request body." }]);
				}
				return stored;
			} catch (err) {
				if (err instanceof TooLargeError) {
					// Read the rest away: a half-read stream would keep the sender's chunks waiting in memory.
					source.resume();
					throw tooLarge(err.limit);
				}
				throw err;
			}
		},

		/** The camera of a file a stream node stored; the file is deleted when the camera is gone or `check` refuses it. */
		async handedOverCamera(this: ClipService, p: Handover, check?: (camera: Camera) => Promise<void>) {
			try {
				const camera = await this.tenantData({ orgId: p.orgId, storeIds: null }).repo(Camera).findOneBy({ id: p.cameraId });
				if (!camera) throw notFound("Camera");
				await check?.(camera);
				return camera;
			} catch (err) {
				// No clip refers to it yet; the stream node stores the file again if it tries again.
				await this.storage.delete(p.storageKey);
				throw err;
			}
		},

		/** Probe, de-duplicate and record the clip with its segments, then queue the segments. */
		async registerClip(
			this: ClipService,
			ctx: VigilContext,
			camera: CameraInfo,
			stored: { key: string; size: number; sha256: string },
			uploadedBy: string | null,
			handedOver?: { source: ClipSource; recordedAt: Date | null },
		) {
			// A live segment or a dropped file arrives from a stream node, with no caller: its camera's organization scopes it.
			const data = handedOver ? this.tenantData({ orgId: camera.orgId, storeIds: null }) : this.data(ctx);
			const repo = data.repo(Clip);
			const discard = () => this.storage.delete(stored.key);
			// The same clip again: an upload by its content (one whose video retention removed does not count: the same
			// content makes a new clip); a live segment by its start, as a stream node that retries sends it.
			const sameClip: FindOptionsWhere<Clip> =
				handedOver?.source === "live" && handedOver.recordedAt
					? { cameraId: camera.id, source: "live", recordedAt: handedOver.recordedAt }
					: { cameraId: camera.id, sha256: stored.sha256, expiredAt: IsNull(), source: Not("live") };
			const existing = await repo.findOneBy(sameClip);
			if (existing) {
				await discard();
				return presentClip(existing);
			}
			let info;
			try {
				info = await probeVideo(this.storage.localPath(stored.key), {
					ffmpeg: toolPath("ffmpeg", this.config.ffmpegPath),
					ffprobe: toolPath("ffprobe", this.config.ffprobePath),
				});
			} catch (err) {
				await discard();
				if (err instanceof VideoError) {
					throw err.kind === "unsupported" ? new VigilError(err.message, 415, "UNSUPPORTED_MEDIA_TYPE") : new VigilError(err.message, 422, "UNDECODABLE_VIDEO");
				}
				throw err;
			}
			if (info.durationSec > this.config.maxClipSeconds) {
				await discard();
				throw invalid(`The clip is longer than ${this.config.maxClipSeconds} s`, [
					{ field: "body", type: "clipTooLong", message: `Clips may last at most ${this.config.maxClipSeconds} seconds.` },
				]);
			}
			const plan = planSegments(info.durationSec, camera.sampleFps, this.config.segmentSeconds);
			let clip: Clip;
			try {
				clip = await data.transaction(async (tx) => {
					const created = await tx.repo(Clip).save({
						...handedOver,
						storeId: camera.storeId,
						cameraId: camera.id,
						status: "queued",
						storageKey: stored.key,
						sizeBytes: stored.size,
						sha256: stored.sha256,
						durationSec: info.durationSec,
						width: info.width,
						height: info.height,
						sourceFps: info.fps,
						sampleFps: camera.sampleFps,
						segmentSec: this.config.segmentSeconds,
						segmentsTotal: plan.segments.length,
						framesTotal: plan.framesTotal,
						uploadedBy,
					});
					await tx.repo(ClipSegment).insert(plan.segments.map((s) => ({ clipId: created.id, ...s })));
					return created;
				});
			} catch (err) {
				await discard();
				// The same content raced in through another request: answer with the clip that won.
				const winner = await repo.findOneBy(sameClip);
				if (winner) return presentClip(winner);
				throw err;
			}
			await this.enqueueSegments(clip);
			ctx.emit("clip.queued", { clipId: clip.id, cameraId: clip.cameraId, storeId: clip.storeId, orgId: clip.orgId });
			ctx.meta.$statusCode = 201;
			return presentClip(clip);
		},

		async enqueueSegments(this: ClipService, clip: Clip, only?: number[]) {
			const data = this.tenantData({ orgId: clip.orgId, storeIds: null });
			const camera = await data.repo(Camera).findOneBy({ id: clip.cameraId });
			const classes = camera?.classes ?? [];
			const segments = await data
				.repo(ClipSegment)
				.find({ where: { clipId: clip.id, status: "pending", ...(only && { index: In(only) }) }, order: { index: "ASC" } });
			// The camera's own choice applies to all its clips; the backlog's only to live segments.
			const stride = Math.max(camera?.detectEvery ?? 1, clip.source === "live" ? await this.liveStride() : 1);
			for (const s of segments) {
				const job: SegmentJob = {
					orgId: clip.orgId,
					clipId: clip.id,
					segment: s.index,
					generation: clip.generation,
					firstFrame: s.firstFrame,
					frameCount: s.frameCount,
					fps: clip.sampleFps,
					storageKey: clip.storageKey,
					width: clip.width,
					height: clip.height,
					cameraId: clip.cameraId,
					classes,
					...(stride > 1 && { stride }),
				};
				await this.queues[DETECT_QUEUE].send(job, { id: `${clip.id}:${s.index}:${clip.generation}` });
			}
		},

		/**
		 * How sparsely a live segment is detected now: every frame until the detector backlog reaches
		 * LIVE_STRIDE_BACKLOG, then one more frame skipped per LIVE_STRIDE_BACKLOG waiting, up to LIVE_STRIDE_MAX. Lag
		 * stays bounded and no segment is dropped; it goes back to every frame as the backlog clears.
		 */
		async liveStride(this: ClipService) {
			const { pending } = await this.queues[DETECT_QUEUE].stats();
			const stride = Math.min(this.config.liveStrideMax, 1 + Math.floor(pending / this.config.liveStrideBacklog));
			if (stride !== this.lastLiveStride)
				this.logger.info(`Live cameras are now detected every ${stride === 1 ? "" : `${stride}th `}frame`, { pending, stride });
			this.lastLiveStride = stride;
			liveStride.set(stride);
			return stride;
		},

		async queueEvaluation(this: ClipService, clip: Clip, segment: number | "resume") {
			await this.queues[EVALUATE_QUEUE].send(
				{ kind: "clip", clipId: clip.id, generation: clip.generation, orgId: clip.orgId },
				{ id: clipEvaluationId(clip.id, clip.generation, segment) },
			);
		},

		async commitSegment(this: ClipService, tx: EntityManager, r: SegmentResult) {
			const clip = await tx.findOne(Clip, { where: { id: r.clipId }, lock: { mode: "pessimistic_write" } });
			if (!clip || clip.generation !== r.generation) return null;
			// A repeated result of a clip already evaluated to its end: what it said is written.
			if (clip.status === "done" || clip.status === "failed") return { clip, finished: false };
			const segment = await tx.findOneBy(ClipSegment, { clipId: clip.id, index: r.segment });
			if (!segment) return null;
			const last = segment.firstFrame + segment.frameCount - 1;
			await tx.delete(Detection, { clipId: clip.id, frameIndex: Between(segment.firstFrame, last) });
			const rows = r.frames
				.filter((f) => f.index >= segment.firstFrame && f.index <= last)
				.flatMap((f) =>
					f.detections.map((d, ordinal) => ({
						clipId: clip.id,
						frameIndex: f.index,
						ordinal,
						timeSec: f.time,
						classId: d.classId,
						className: d.className,
						score: d.score,
						x1: d.box[0],
						y1: d.box[1],
						x2: d.box[2],
						y2: d.box[3],
					})),
				);
			for (let i = 0; i < rows.length; i += 500) await tx.insert(Detection, rows.slice(i, i + 500));
			await tx.update(
				ClipSegment,
				{ clipId: clip.id, index: r.segment },
				{ status: r.error ? "failed" : "done", framesDone: r.frames.length, error: r.error ?? null },
			);
			const segments = await tx.findBy(ClipSegment, { clipId: clip.id });
			clip.framesDone = segments.reduce((sum, s) => sum + s.framesDone, 0);
			if (clip.status === "queued") Object.assign(clip, { status: "processing", startedAt: new Date() });
			// The clip stays `processing` until the alert service has evaluated its last frame.
			const finished = segments.every((s) => s.status !== "pending");
			await tx.save(clip);
			return { clip, finished };
		},
	},

	created(this: ClipService) {
		this.storage = mediaStorage(this.config.dataDir);
		const c = this.config;
		this.stills = StillFrames.withFfmpeg(toolPath("ffmpeg", c.ffmpegPath), {
			maxWidth: c.stillWidth,
			cacheBytes: c.stillCacheBytes,
			concurrency: c.stillGrabsMax,
		});
	},

	async started(this: ClipService) {
		// The database is the source of truth: whatever was queued or running when we stopped is queued again.
		const unfinished = await this.unscoped("restart recovery: unfinished clips of every organization")
			.getRepository(Clip)
			.find({ where: { status: In(["queued", "processing"]) } });
		for (const clip of unfinished) {
			await this.enqueueSegments(clip);
			// Segments may have committed while their evaluation never got queued: it resumes from its stored state.
			await this.queueEvaluation(clip, "resume");
		}
		if (unfinished.length) this.logger.info(`Re-queued the pending segments of ${unfinished.length} unfinished clip(s)`);
	},
};

function tooLarge(limit: number) {
	return new VigilError(`The clip is larger than the limit of ${limit} bytes`, 413, "PAYLOAD_TOO_LARGE", { limit });
}

/** The first file part of a multipart body, as a stream; other fields are ignored. */
function firstFile(body: Readable, headers: IncomingHttpHeaders, maxBytes: number): Promise<Readable> {
	return new Promise((resolve, reject) => {
		let parser: Busboy.Busboy;
		try {
			parser = Busboy({ headers, limits: { files: 1, fileSize: maxBytes + 1 } });
		} catch {
			return reject(new VigilError("The multipart body has no boundary", 400, "BAD_REQUEST"));
		}
		let found = false;
		parser.on("file", (_name, file) => {
			found = true;
			resolve(file);
		});
		parser.on("error", (err) => (found ? undefined : reject(new VigilError(`The multipart body is malformed: ${(err as Error).message}`, 400, "BAD_REQUEST"))));
		parser.on("close", () => {
			if (!found) reject(invalid("The form has no file", [{ field: "file", type: "required", message: "Attach the clip as a file field." }]));
		});
		body.pipe(parser);
	});
}

export default ClipServiceSchema;
