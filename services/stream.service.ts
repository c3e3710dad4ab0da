/**
 * stream — pulls live cameras. Every enabled camera with a stream URL is pulled by exactly one stream node: the
 * node holding its lease (`live_streams`), renewed every third of STREAM_LEASE_SECONDS and taken over by another
 * stream node once it lapses (its holder died, or lost the database). Cameras spread across stream nodes: each
 * takes its share of the unheld ones per scan. A stream is cut into segments of SEGMENT_SECONDS that become the
 * camera's clips (source `live`, with their wall-clock start) and go through the same durable detector queue as
 * uploads. How the pull goes is the camera's stream status in the API; its latest frame is served from here.
 * With DROP_DIR set, each scan also takes the files cameras dropped into their folders there (lib/media/drop-folder.ts).
 */
import { createReadStream } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import type { ServiceSchema, ServiceSettingSchema } from "moleculer";
import { In, IsNull, Not, type DataSource } from "typeorm";
import { Camera, LiveStream } from "../entities";
import { STREAM_KINDS } from "../entities/camera.entity";
import type { LiveStatus } from "../entities/live-stream.entity";
import { DropFolder, dropOutcome, dropRefusal, nodeFolder, type DropOutcome, type DroppedFile } from "../lib/media/drop-folder";
import { LiveSession, type LiveSegment, type LiveState } from "../lib/media/live";
import { mediaStorage, type Storage } from "../lib/media/storage";
import { toolPath } from "../lib/media/tools";
import { markCamerasSeen } from "../lib/operations/liveness";
import { liveSegmentsDropped } from "../lib/platform/metrics";
import { notFound } from "../lib/platform/errors";
import type { VigilContext } from "../lib/platform/types";
import { RepositoryMixin, type RepositoryService } from "../mixins/repository.mixin";
import { id } from "./schemas";

/** How often a stream that flows marks its camera seen and records its last frame: liveness needs no finer grain. */
const SEEN_EVERY_MS = 5000;
const RECONNECT_BASE_MS = 1000;
/** Moleculer errors of a call that no handler ran. */
const NOT_DELIVERED = new Set(["ServiceNotFoundError", "ServiceNotAvailableError"]);

interface Pull {
	cameraId: string;
	orgId: string;
	storeId: string;
	/** The sealed URL the session was started with: a changed URL restarts it. */
	sealedUrl: string;
	session: LiveSession;
	lastSeenWrite: number;
	/** Aborted when the pull ends: a hand-over waiting to retry gives up. */
	ended: AbortController;
}

type StreamService = RepositoryService & {
	storage: Storage;
	pulls: Map<string, Pull>;
	timer?: NodeJS.Timeout;
	scanning?: Promise<void>;
	stopping: boolean;
	system(): DataSource;
	scan(): Promise<void>;
	streamNodes(): number;
	startPull(camera: Camera): Promise<void>;
	endPull(cameraId: string, release: boolean): Promise<void>;
	releaseLease(cameraId: string): Promise<void>;
	takeSegment(pull: Pull, segment: LiveSegment): Promise<void>;
	handOver(pull: Pull, segment: LiveSegment): Promise<void>;
	recordState(pull: Pull, state: LiveState): Promise<void>;
	recordFrame(pull: Pull, at: Date, force?: boolean): Promise<void>;
	drops?: DropFolder;
	dropping?: Promise<void>;
	takeDrops(): Promise<void>;
	takeDropped(file: DroppedFile): Promise<DropOutcome>;
};

const STATUS_OF: Record<LiveState["status"], LiveStatus> = { connecting: "connecting", streaming: "streaming", error: "error", stopped: "idle" };

const StreamServiceSchema: ServiceSchema<ServiceSettingSchema, StreamService> = {
	name: "stream",
	mixins: [RepositoryMixin],

	actions: {
		/** The latest frame of a camera this node pulls (JPEG, as base64: it crosses the transporter as JSON); asked of the holding node by its id. */
		latestFrame: {
			visibility: "public",
			params: { cameraId: id },
			async handler(this: StreamService, ctx: VigilContext<{ cameraId: string }>) {
				const path = this.pulls.get(ctx.params.cameraId)?.session.latestFramePath();
				if (!path) throw notFound("Frame");
				try {
					return (await readFile(path)).toString("base64");
				} catch {
					throw notFound("Frame");
				}
			},
		},
	},

	methods: {
		system(this: StreamService): DataSource {
			return this.unscoped("stream leases: the cameras of every organization, pulled by whichever node holds them");
		},

		/** One round: renew what this node holds, let go of what it should not pull, take its share of the rest. */
		async scan(this: StreamService) {
			const system = this.system();
			const leaseSeconds = this.config.streamLeaseSeconds;
			const cameras = await system.getRepository(Camera).find({
				select: { id: true, orgId: true, storeId: true, streamUrlEnc: true },
				where: { enabled: true, kind: In([...STREAM_KINDS]), streamUrlEnc: Not(IsNull()) },
			});
			const wanted = new Map(cameras.map((c) => [c.id, c]));

			// Renew; a lease another node took (this one was too slow) ends that pull here.
			const held = [...this.pulls.keys()];
			const renewed = new Set<string>();
			if (held.length) {
				const result = await system
					.createQueryBuilder()
					.update(LiveStream)
					.set({ leaseExpiresAt: () => `now() + make_interval(secs => ${Number(leaseSeconds)})` })
					.where("holder = :holder AND camera_id IN (:...held)", { holder: this.broker.nodeID, held })
					.returning(["cameraId"])
					.execute();
				for (const row of result.raw as { camera_id: string }[]) renewed.add(row.camera_id);
			}
			for (const cameraId of held) {
				const camera = wanted.get(cameraId);
				const pull = this.pulls.get(cameraId)!;
				if (!renewed.has(cameraId)) await this.endPull(cameraId, false);
				else if (!camera) await this.endPull(cameraId, true);
				// A changed URL: released here, taken again below with the new one.
				else if (camera.streamUrlEnc !== pull.sealedUrl) await this.endPull(cameraId, true);
			}

			// Take a fair share of the cameras nobody holds: unheld ones divided by the stream nodes alive.
			const free = this.config.streamMaxCameras - this.pulls.size;
			const candidates = shuffle(cameras.filter((c) => !this.pulls.has(c.id)));
			if (free <= 0 || !candidates.length) return;
			const share = Math.ceil(candidates.length / this.streamNodes());
			let taken = 0;
			for (const camera of candidates) {
				if (taken >= Math.min(free, share)) break;
				const [won] = await system.query(
					`INSERT INTO live_streams (camera_id, org_id, holder, lease_expires_at, status, since)
					 VALUES ($1, $2, $3, now() + make_interval(secs => $4), 'connecting', now())
					 ON CONFLICT (camera_id) DO UPDATE SET holder = EXCLUDED.holder, lease_expires_at = EXCLUDED.lease_expires_at,
					   status = 'connecting', error = NULL, message = NULL, since = now()
					 WHERE live_streams.holder IS NULL OR live_streams.lease_expires_at < now() OR live_streams.holder = EXCLUDED.holder
					 RETURNING camera_id`,
					[camera.id, camera.orgId, this.broker.nodeID, leaseSeconds],
				);
				if (!won) continue;
				taken++;
				await this.startPull(camera);
			}
		},

		/** Stream nodes alive now (this one included), for the share each takes. */
		streamNodes(this: StreamService): number {
			const services = this.broker.registry.getServiceList({ onlyAvailable: true }) as { name: string; nodeID: string }[];
			return Math.max(1, new Set(services.filter((s) => s.name === "stream").map((s) => s.nodeID)).size);
		},

		async startPull(this: StreamService, camera: Camera) {
			let url: string | null;
			try {
				url = await this.broker.call<string | null, object>("camera.streamUrl", { orgId: camera.orgId, cameraId: camera.id });
			} catch (err) {
				this.logger.warn("No stream URL for a live camera; trying again next scan", { cameraId: camera.id }, err);
				await this.releaseLease(camera.id);
				return;
			}
			if (!url) return this.releaseLease(camera.id);
			const c = this.config;
			const pull: Pull = {
				cameraId: camera.id,
				orgId: camera.orgId,
				storeId: camera.storeId,
				sealedUrl: camera.streamUrlEnc ?? "",
				lastSeenWrite: 0,
				ended: new AbortController(),
				session: undefined as unknown as LiveSession,
			};
			pull.session = new LiveSession(
				{
					url,
					segmentSeconds: c.segmentSeconds,
					// Per node: with a shared DATA_DIR, a node that lost the camera and is still stopping never touches
					// the files of the node that took it.
					dir: join(c.dataDir, "live", nodeFolder(this.broker.nodeID), camera.id),
					ffmpeg: toolPath("ffmpeg", c.ffmpegPath),
					stallSeconds: c.streamStallSeconds,
					backoff: { baseMs: RECONNECT_BASE_MS, maxMs: c.streamReconnectMaxMs },
					logger: this.logger,
				},
				{
					segment: (segment) => this.takeSegment(pull, segment),
					state: (state) => void this.recordState(pull, state),
					frame: (at) => void this.recordFrame(pull, at),
				},
			);
			this.pulls.set(camera.id, pull);
			pull.session.start();
			this.logger.info("Pulling a live camera", { cameraId: camera.id });
		},

		/** Stops pulling; `release` gives the lease back so another node may take the camera at once. */
		async endPull(this: StreamService, cameraId: string, release: boolean) {
			const pull = this.pulls.get(cameraId);
			if (!pull) return;
			this.pulls.delete(cameraId);
			pull.ended.abort();
			await pull.session.stop();
			if (release) await this.releaseLease(cameraId);
			this.logger.info("Stopped pulling a live camera", { cameraId, released: release });
		},

		async releaseLease(this: StreamService, cameraId: string) {
			const system = this.system();
			await system.query(
				`UPDATE live_streams SET holder = NULL, lease_expires_at = NULL, status = 'idle', error = NULL, message = NULL, since = now() WHERE camera_id = $1 AND holder = $2`,
				[cameraId, this.broker.nodeID],
			);
		},

		/**
		 * A finished segment becomes a clip of the camera: stored like an upload, then the same pipeline. While the
		 * pipeline cannot take it (clip service or database away), it is kept and tried again with backoff, and the
		 * segments after it wait their turn (the tracker reads them in order); only its own fault, a stop, or a backlog
		 * beyond STREAM_PENDING_SEGMENTS drops it, and a drop is counted and logged.
		 */
		async takeSegment(this: StreamService, pull: Pull, segment: LiveSegment) {
			const context = { cameraId: pull.cameraId, segment: segment.index };
			const drop = (reason: "rejected" | "backlog" | "stopped", err?: unknown) => {
				liveSegmentsDropped.inc({ reason });
				this.logger.error(`A live segment was dropped (${reason})`, context, err);
			};
			try {
				for (let attempt = 1; ; attempt++) {
					try {
						await this.handOver(pull, segment);
						return;
					} catch (err) {
						if (dropOutcome(err).kind === "rejected") return drop("rejected", err);
						if (pull.ended.signal.aborted) return drop("stopped", err);
						if (pull.session.waiting() >= this.config.streamPendingSegments) return drop("backlog", err);
						const waitMs = Math.round(Math.random() * Math.min(this.config.streamReconnectMaxMs, RECONNECT_BASE_MS * 2 ** Math.min(attempt - 1, 20)));
						this.logger.warn(`A live segment could not be handed to the pipeline; trying again in ${waitMs} ms`, { ...context, attempt }, err);
						const waited = await sleep(waitMs, true, { signal: pull.ended.signal }).catch(() => false);
						if (!waited) return drop("stopped", err);
					}
				}
			} finally {
				await rm(segment.file, { force: true });
			}
		},

		async handOver(this: StreamService, pull: Pull, segment: LiveSegment) {
			const stored = await this.storage.put("clips", "mp4", createReadStream(segment.file));
			try {
				await this.broker.call("clip.registerLive", {
					orgId: pull.orgId,
					cameraId: pull.cameraId,
					storageKey: stored.key,
					size: stored.size,
					sha256: stored.sha256,
					recordedAt: segment.startedAt.toISOString(),
				});
			} catch (err) {
				// Only a call that never reached a clip service leaves the copy surely unused; one that timed out may
				// have made the clip, and the retry then finds it by content.
				if (NOT_DELIVERED.has((err as { name?: string }).name ?? "")) await this.storage.delete(stored.key);
				throw err;
			}
			const system = this.system();
			await system.query(`UPDATE live_streams SET segments = segments + 1 WHERE camera_id = $1`, [pull.cameraId]);
		},

		/** One pass over the drop folders: each settled file is registered like an upload; what was not taken is logged. */
		async takeDrops(this: StreamService) {
			const results = await this.drops!.scan(
				(file) => this.takeDropped(file),
				() => this.stopping,
			);
			for (const { outcome, ...file } of results) {
				if (outcome === "done") this.logger.info("A dropped file was taken", file);
				else this.logger.warn(`A dropped file was not taken (${outcome})`, file);
			}
		},

		/** A settled file of a camera's drop folder: stored like an upload, then registered as the camera's clip. */
		async takeDropped(this: StreamService, file: DroppedFile): Promise<DropOutcome> {
			try {
				const camera = await this.unscoped("drop folders: a file names its camera by its folder, in any organization")
					.getRepository(Camera)
					.findOne({ select: { id: true, orgId: true, enabled: true, kind: true, streamUrlEnc: true }, where: { id: file.cameraId } });
				// Refused before the copy; the clip service checks again (the camera may change meanwhile).
				if (!camera) return { kind: "rejected", reason: { code: "NOT_FOUND", message: "Camera not found" } };
				const refused = dropRefusal(camera);
				if (refused) return { kind: "rejected", reason: refused };
				const stored = await this.storage.put("clips", "mp4", createReadStream(file.path), this.config.maxUploadBytes);
				// The same content as a clip of the camera answers with that clip: taken all the same.
				await this.broker.call("clip.registerDropped", {
					orgId: camera.orgId,
					cameraId: camera.id,
					storageKey: stored.key,
					size: stored.size,
					sha256: stored.sha256,
				});
				return { kind: "done" };
			} catch (err) {
				return dropOutcome(err);
			}
		},

		async recordState(this: StreamService, pull: Pull, state: LiveState) {
			if (this.pulls.get(pull.cameraId) !== pull) return;
			const error = state.status === "error" ? state.error : null;
			const message = state.status === "error" ? state.message : null;
			try {
				const system = this.system();
				await system
					.getRepository(LiveStream)
					.update({ cameraId: pull.cameraId, holder: this.broker.nodeID }, { status: STATUS_OF[state.status], error, message, since: new Date() });
				if (state.status === "streaming") await this.recordFrame(pull, new Date(), true);
			} catch (err) {
				this.logger.warn("Could not record a live camera's state", { cameraId: pull.cameraId }, err);
			}
		},

		/** Frames flowing: the camera is seen (liveness) and its last frame time kept, a few times a minute at most. */
		async recordFrame(this: StreamService, pull: Pull, at: Date, force = false) {
			if (!force && Date.now() - pull.lastSeenWrite < SEEN_EVERY_MS) return;
			pull.lastSeenWrite = Date.now();
			try {
				const system = this.system();
				await system.getRepository(LiveStream).update({ cameraId: pull.cameraId, holder: this.broker.nodeID }, { lastFrameAt: at });
				await markCamerasSeen(system, new Map([[pull.cameraId, at]]), "stream");
			} catch (err) {
				this.logger.warn("Could not record a live camera's frame", { cameraId: pull.cameraId }, err);
			}
		},
	},

	created(this: StreamService) {
		this.storage = mediaStorage(this.config.dataDir);
		this.pulls = new Map();
		this.stopping = false;
		const c = this.config;
		if (c.dropDir)
			this.drops = new DropFolder({
				dir: c.dropDir,
				node: this.broker.nodeID,
				settleMs: c.dropSettleSeconds * 1000,
				maxAttempts: c.dropMaxAttempts,
				claimTimeoutMs: c.dropClaimTimeout * 1000,
			});
	},

	async started(this: StreamService) {
		const every = (this.config.streamLeaseSeconds * 1000) / 3;
		const tick = () => {
			if (this.stopping) return;
			// Beside the scan, never in it: a large dropped file must not hold up the renewal of the leases.
			if (this.drops && !this.dropping)
				this.dropping = this.takeDrops()
					.catch((err) => this.logger.warn("A drop folder pass failed; the next one tries again", err))
					.finally(() => (this.dropping = undefined));
			if (this.scanning) return;
			this.scanning = this.scan()
				.catch((err) => this.logger.warn("A stream scan failed; the next one tries again", err))
				.finally(() => (this.scanning = undefined));
		};
		this.timer = setInterval(tick, every);
		tick();
	},

	async stopped(this: StreamService) {
		this.stopping = true;
		clearInterval(this.timer);
		await Promise.all([this.scanning, this.dropping]);
		// Released on the way out, so another stream node takes the cameras at once rather than after the lease.
		await Promise.all([...this.pulls.keys()].map((cameraId) => this.endPull(cameraId, true).catch(() => undefined)));
	},
};

function shuffle<T>(items: T[]): T[] {
	for (let i = items.length - 1; i > 0; i--) {
		const j = Math.floor(Math.random() * (i + 1));
		[items[i], items[j]] = [items[j], items[i]];
	}
	return items;
}

export default StreamServiceSchema;
