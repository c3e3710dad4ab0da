/**
 * camera — the cameras of a store and their zones. Stream URLs are sealed with AES-256-GCM at rest and only
 * ever leave masked; zones are validated polygons or tripwires in normalised frame coordinates.
 */
import type { ServiceSchema } from "moleculer";
import { In } from "typeorm";
import { Camera, LiveStream, Zone } from "../entities";
import { CAMERA_KINDS, STREAM_KINDS } from "../entities/camera.entity";
import { ZONE_KINDS } from "../entities/zone.entity";
import { audit } from "../lib/operations/audit";
import { deleteMedia, mediaKeysOf } from "../lib/media/cleanup";
import { invalid, notFound } from "../lib/platform/errors";
import { camerasLiveness, type Liveness } from "../lib/operations/liveness";
import { validateZoneShape, type Point } from "../lib/vision/geometry";
import { maskUrl, seal, unseal } from "../lib/security/secrets";
import type { VigilContext } from "../lib/platform/types";
import { RepositoryMixin, type RepositoryService } from "../mixins/repository.mixin";
import { cameraPath, id, optional, storePath, timezone } from "./schemas";

type CameraService = RepositoryService;

const STREAM_PROTOCOLS = ["rtsp", "rtsps", "http", "https", "rtmp", "rtmps"];

const objectClass = { type: "string", trim: true, min: 1, max: 50, pattern: /^[a-z0-9_ -]+$/i } as const;
const cameraFields = {
	name: { type: "string", trim: true, min: 1, max: 200 },
	kind: { type: "enum", values: CAMERA_KINDS, $$t: "How the camera delivers video" },
	vendor: { type: "string", optional: true, nullable: true, max: 100 },
	streamUrl: {
		type: "string",
		optional: true,
		nullable: true,
		max: 2048,
		pattern: /^[a-z][a-z0-9+.-]*:\/\/\S+$/i,
		$$t: "Stream URL; may carry credentials (stored encrypted, returned masked)",
	},
	timezone,
	enabled: { type: "boolean" },
	sampleFps: { type: "number", min: 0.1, max: 30, $$t: "Frames per second analysed" },
	detectEvery: {
		type: "number",
		integer: true,
		min: 1,
		max: 10,
		$$t: "Detect every n-th analysed frame (1: all); the frames between keep the detections before them and the tracker bridges them",
	},
	classes: { type: "array", items: objectClass, max: 80, $$t: "Object classes to detect, e.g. person, car" },
} as const;

const zoneFields = {
	name: { type: "string", trim: true, min: 1, max: 100 },
	kind: { type: "enum", values: ZONE_KINDS, default: "polygon", $$t: "polygon (an area) or line (a tripwire)" },
	points: {
		type: "array",
		min: 2,
		max: 100,
		items: { type: "array", length: 2, items: { type: "number", min: 0, max: 1 } },
		$$t: "[[x, y], ...] with x and y in 0..1 from the top-left of the frame",
	},
	classes: { type: "array", items: objectClass, max: 80, default: [] as string[], $$t: "Classes that count in this zone; empty = all" },
} as const;

interface CameraParams {
	orgId: string;
	storeId: string;
	cameraId: string;
	name?: string;
	kind?: Camera["kind"];
	vendor?: string | null;
	streamUrl?: string | null;
	timezone?: string;
	enabled?: boolean;
	sampleFps?: number;
	detectEvery?: number;
	classes?: string[];
}

interface ZoneParams {
	orgId: string;
	storeId: string;
	cameraId: string;
	zoneId: string;
	name?: string;
	kind?: Zone["kind"];
	points?: Point[];
	classes?: string[];
}

const presentZone = (z: Zone) => ({
	id: z.id,
	cameraId: z.cameraId,
	name: z.name,
	kind: z.kind,
	points: z.points,
	classes: z.classes,
	createdAt: z.createdAt,
	updatedAt: z.updatedAt,
});

const CameraServiceSchema: ServiceSchema = {
	name: "camera",
	mixins: [RepositoryMixin],
	// Action `rest` paths are written in full under /api/v1 (not prefixed with the service name).
	settings: { rest: "/" },

	actions: {
		create: {
			rest: "POST /orgs/:orgId/stores/:storeId/cameras",
			permission: { scope: "store", roles: ["owner", "admin"] },
			params: {
				$$strict: "remove",
				...storePath,
				...cameraFields,
				kind: { ...cameraFields.kind, default: "rtsp" },
				timezone: { ...timezone, optional: true },
				enabled: { type: "boolean", default: true },
				sampleFps: { ...cameraFields.sampleFps, default: 5 },
				detectEvery: { ...cameraFields.detectEvery, default: 1 },
				classes: { ...cameraFields.classes, default: ["person", "car"] },
			},
			openapi: { summary: "Add a camera to a store", responses: { 201: "Camera" } },
			async handler(this: CameraService, ctx: VigilContext<CameraParams>) {
				const p = ctx.params;
				const camera = await this.data(ctx)
					.repo(Camera)
					.save({
						storeId: p.storeId,
						name: p.name,
						kind: p.kind,
						vendor: p.vendor ?? null,
						streamUrlEnc: this.sealStreamUrl(p.streamUrl),
						timezone: p.timezone ?? (await this.storeTimezone(ctx)),
						enabled: p.enabled,
						sampleFps: p.sampleFps,
						detectEvery: p.detectEvery,
						classes: p.classes,
					});
				ctx.emit("camera.created", { id: camera.id, orgId: camera.orgId, storeId: camera.storeId });
				ctx.meta.$statusCode = 201;
				return this.present(camera);
			},
		},

		list: {
			rest: "GET /orgs/:orgId/stores/:storeId/cameras",
			permission: { scope: "store", roles: ["owner", "admin", "staff"], serviceToken: true },
			params: { $$strict: "remove", ...storePath },
			openapi: { summary: "Cameras of a store", responses: { 200: "CameraList" } },
			async handler(this: CameraService, ctx: VigilContext<{ orgId: string; storeId: string }>) {
				const cameras = await this.data(ctx)
					.repo(Camera)
					.find({ where: { storeId: ctx.params.storeId }, order: { name: "ASC" } });
				const ids = cameras.map((c) => c.id);
				const [seen, streams] = await Promise.all([this.liveness(ctx, ids), this.streams(ctx, ids)]);
				return { items: cameras.map((c) => this.present(c, seen.get(c.id), streams.get(c.id))) };
			},
		},

		/** Operators (`vigil repl`): the organization and store of a camera known only by its id, to call the store's actions with. */
		locate: {
			permission: { scope: "superadmin" },
			params: { $$strict: "remove", cameraId: id },
			async handler(this: CameraService, ctx: VigilContext<{ cameraId: string }>) {
				const camera = await this.unscoped("an operator finds a camera of any organization by its id")
					.getRepository(Camera)
					.findOneBy({ id: ctx.params.cameraId });
				if (!camera) throw notFound("Camera");
				return { cameraId: camera.id, name: camera.name, orgId: camera.orgId, storeId: camera.storeId };
			},
		},

		get: {
			rest: "GET /orgs/:orgId/stores/:storeId/cameras/:cameraId",
			permission: { scope: "store", roles: ["owner", "admin", "staff"], serviceToken: true },
			params: { $$strict: "remove", ...cameraPath },
			openapi: { summary: "A camera", responses: { 200: "Camera" } },
			async handler(this: CameraService, ctx: VigilContext<CameraParams>) {
				const camera = await this.findCamera(ctx);
				const [seen, streams] = await Promise.all([this.liveness(ctx, [camera.id]), this.streams(ctx, [camera.id])]);
				return this.present(camera, seen.get(camera.id), streams.get(camera.id));
			},
		},

		update: {
			rest: "PATCH /orgs/:orgId/stores/:storeId/cameras/:cameraId",
			permission: { scope: "store", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...cameraPath, ...optional(cameraFields) },
			openapi: { summary: "Change a camera; send streamUrl: null to remove the stream", responses: { 200: "Camera" } },
			async handler(this: CameraService, ctx: VigilContext<CameraParams>) {
				const camera = await this.findCamera(ctx);
				const { orgId: _o, storeId: _s, cameraId: _c, streamUrl, ...changes } = ctx.params;
				Object.assign(camera, changes);
				if (streamUrl !== undefined) camera.streamUrlEnc = this.sealStreamUrl(streamUrl);
				const saved = await this.data(ctx).repo(Camera).save(camera);
				ctx.emit("camera.updated", { id: saved.id, orgId: saved.orgId, storeId: saved.storeId });
				return this.present(saved, (await this.liveness(ctx, [saved.id])).get(saved.id));
			},
		},

		remove: {
			rest: "DELETE /orgs/:orgId/stores/:storeId/cameras/:cameraId",
			permission: { scope: "store", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...cameraPath },
			openapi: { summary: "Delete a camera and its zones", responses: { 204: null } },
			async handler(this: CameraService, ctx: VigilContext<CameraParams>) {
				const camera = await this.findCamera(ctx);
				const media = await this.data(ctx).transaction(async (tx) => {
					const keys = await mediaKeysOf(tx, { cameraId: camera.id });
					const deleted = await tx.repo(Camera).delete({ id: camera.id });
					if (deleted)
						await audit(ctx, tx, "camera.deleted", { type: "camera", id: camera.id }, { name: camera.name, storeId: camera.storeId, files: keys.length });
					return keys;
				});
				await deleteMedia(this.config.dataDir, media, this.logger, { cameraId: camera.id });
				ctx.emit("camera.deleted", { id: camera.id, orgId: camera.orgId, storeId: camera.storeId });
				ctx.meta.$statusCode = 204;
				return null;
			},
		},

		createZone: {
			rest: "POST /orgs/:orgId/stores/:storeId/cameras/:cameraId/zones",
			permission: { scope: "store", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...cameraPath, ...zoneFields },
			openapi: { summary: "Draw a zone (area or tripwire) on a camera's view", responses: { 201: "Zone" } },
			async handler(this: CameraService, ctx: VigilContext<ZoneParams>) {
				const camera = await this.findCamera(ctx);
				const p = ctx.params as Required<ZoneParams>;
				this.assertZoneShape(p.kind, p.points);
				const zone = await this.data(ctx).repo(Zone).save({ cameraId: camera.id, name: p.name, kind: p.kind, points: p.points, classes: p.classes });
				ctx.meta.$statusCode = 201;
				return presentZone(zone);
			},
		},

		listZones: {
			rest: "GET /orgs/:orgId/stores/:storeId/cameras/:cameraId/zones",
			permission: { scope: "store", roles: ["owner", "admin", "staff"], serviceToken: true },
			params: { $$strict: "remove", ...cameraPath },
			openapi: { summary: "Zones of a camera", responses: { 200: "ZoneList" } },
			async handler(this: CameraService, ctx: VigilContext<ZoneParams>) {
				const camera = await this.findCamera(ctx);
				const zones = await this.data(ctx)
					.repo(Zone)
					.find({ where: { cameraId: camera.id }, order: { name: "ASC" } });
				return { items: zones.map(presentZone) };
			},
		},

		updateZone: {
			rest: "PATCH /orgs/:orgId/stores/:storeId/cameras/:cameraId/zones/:zoneId",
			permission: { scope: "store", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...cameraPath, zoneId: id, ...optional({ ...zoneFields, kind: { type: "enum", values: ZONE_KINDS } }) },
			openapi: { summary: "Change a zone", responses: { 200: "Zone" } },
			async handler(this: CameraService, ctx: VigilContext<ZoneParams>) {
				const zone = await this.findZone(ctx);
				const { name, kind, points, classes } = ctx.params;
				Object.assign(zone, { ...(name !== undefined && { name }), ...(kind && { kind }), ...(points && { points }), ...(classes && { classes }) });
				this.assertZoneShape(zone.kind, zone.points);
				return presentZone(await this.data(ctx).repo(Zone).save(zone));
			},
		},

		removeZone: {
			rest: "DELETE /orgs/:orgId/stores/:storeId/cameras/:cameraId/zones/:zoneId",
			permission: { scope: "store", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...cameraPath, zoneId: id },
			openapi: { summary: "Delete a zone", responses: { 204: null } },
			async handler(this: CameraService, ctx: VigilContext<ZoneParams>) {
				const zone = await this.findZone(ctx);
				await this.data(ctx).repo(Zone).delete({ id: zone.id });
				ctx.meta.$statusCode = 204;
				return null;
			},
		},

		/** Internal: the stream URL in clear, for the services that open the stream (named with its organization). Never routed over HTTP. */
		streamUrl: {
			visibility: "public",
			params: { orgId: id, cameraId: id },
			async handler(this: CameraService, ctx: VigilContext<{ orgId: string; cameraId: string }>) {
				const camera = await this.tenantData({ orgId: ctx.params.orgId, storeIds: null }).repo(Camera).findOneBy({ id: ctx.params.cameraId });
				if (!camera) throw notFound("Camera");
				return camera.streamUrlEnc ? unseal(this.config.encryptionKey, camera.streamUrlEnc) : null;
			},
		},
	},

	methods: {
		/** The camera of the path's store; one of another store or organization does not exist for this caller. */
		async findCamera(this: CameraService, ctx: VigilContext<{ storeId: string; cameraId: string }>) {
			const camera = await this.data(ctx).repo(Camera).findOneBy({ id: ctx.params.cameraId, storeId: ctx.params.storeId });
			if (!camera) throw notFound("Camera");
			return camera;
		},

		async findZone(this: CameraService, ctx: VigilContext<ZoneParams>) {
			const camera = await this.findCamera(ctx);
			const zone = await this.data(ctx).repo(Zone).findOneBy({ id: ctx.params.zoneId, cameraId: camera.id });
			if (!zone) throw notFound("Zone");
			return zone;
		},

		async storeTimezone(this: CameraService, ctx: VigilContext<{ orgId: string; storeId: string }>): Promise<string> {
			const store = await ctx.call<{ timezone: string }, object>("tenancy.getStore", { orgId: ctx.params.orgId, storeId: ctx.params.storeId });
			return store.timezone;
		},

		sealStreamUrl(this: CameraService, url: string | null | undefined): string | null {
			if (!url) return null;
			let protocol = "";
			try {
				protocol = new URL(url).protocol.replace(":", "");
			} catch {
				/* reported below like an unsupported protocol */
			}
			if (!STREAM_PROTOCOLS.includes(protocol))
				throw invalid("Unsupported stream URL", [
					{ field: "streamUrl", type: "streamProtocol", message: `The stream URL must use one of: ${STREAM_PROTOCOLS.join(", ")}.` },
				]);
			return seal(this.config.encryptionKey, url);
		},

		assertZoneShape(this: CameraService, kind: Zone["kind"], points: Point[]) {
			const problems = validateZoneShape(kind, points);
			if (problems.length) throw invalid("The zone's shape is not valid", problems);
		},

		/** Online, stale or offline from when each camera was last seen (lib/operations/liveness.ts). */
		liveness(this: CameraService, ctx: VigilContext<unknown>, cameraIds: string[]): Promise<Map<string, Liveness>> {
			return camerasLiveness(this.data(ctx), cameraIds, { staleAfter: this.config.cameraStaleAfter, offlineAfter: this.config.cameraOfflineAfter });
		},

		/** How each live camera's stream goes, as the stream node pulling it records it. */
		async streams(this: CameraService, ctx: VigilContext<unknown>, cameraIds: string[]): Promise<Map<string, LiveStream>> {
			if (!cameraIds.length) return new Map();
			const rows = await this.data(ctx)
				.repo(LiveStream)
				.findBy({ cameraId: In(cameraIds) });
			return new Map(rows.map((r) => [r.cameraId, r]));
		},

		present(this: CameraService, c: Camera, liveness: Liveness = { status: "unknown", lastSeenAt: null }, stream?: LiveStream) {
			const streamUrl = c.streamUrlEnc ? maskUrl(unseal(this.config.encryptionKey, c.streamUrlEnc)) : null;
			return {
				id: c.id,
				orgId: c.orgId,
				storeId: c.storeId,
				name: c.name,
				kind: c.kind,
				vendor: c.vendor,
				streamUrl,
				timezone: c.timezone,
				enabled: c.enabled,
				sampleFps: c.sampleFps,
				detectEvery: c.detectEvery,
				classes: c.classes,
				liveness,
				// Only cameras with a stream to pull have one; null until a stream node has taken it.
				stream:
					c.streamUrlEnc && (STREAM_KINDS as readonly string[]).includes(c.kind)
						? stream
							? {
									status: stream.status,
									error: stream.error,
									message: stream.message,
									since: stream.since,
									lastFrameAt: stream.lastFrameAt,
									segments: stream.segments,
								}
							: { status: "idle", error: null, message: null, since: null, lastFrameAt: null, segments: 0 }
						: null,
				createdAt: c.createdAt,
				updatedAt: c.updatedAt,
			};
		},
	},
};

export default CameraServiceSchema;
