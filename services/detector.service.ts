/**
 * detector — a compute node: loads a TF.js object detector once (best backend available), then takes segment
 * jobs from the durable queue as a competing consumer, DETECT_CONCURRENCY at a time. For each job it decodes
 * its own time range of the clip with ffmpeg (frames arrive already scaled to the model's input), detects in
 * batches, and hands the results to the clip service; the job is acknowledged only after they are committed.
 * Frames with no motion since the last one detected (MOTION_GATE), and those between a live segment's stride
 * under backlog, skip inference and keep the detections before them.
 */
import type { ServiceSchema, ServiceSettingSchema } from "moleculer";
import { detectorInfo, framesDetected, framesSkipped, segmentsFailed, stageSeconds } from "../lib/platform/metrics";
import { toolPath } from "../lib/media/tools";
import { bundledModelDir } from "../lib/platform/paths";
import { mediaStorage, type Storage } from "../lib/media/storage";
import type { VigilService } from "../lib/platform/types";
import { FrameDecodeError, readFrames, VideoError } from "../lib/media/video";
import type { BackendName } from "../lib/vision/backend";
import { loadDetector, type Detector } from "../lib/vision/detector";
import { ffmpegFilter, letterbox } from "../lib/vision/letterbox";
import { SegmentDetection } from "../lib/vision/segment-detection";
import { nodeConfig } from "../lib/platform/node-context";
import { JobQueueMixin, type JobQueueService } from "../mixins/job-queue.mixin";
import type { JobControl } from "../lib/jobs/types";
import { DETECT_QUEUE, type SegmentJob, type SegmentResult } from "./detector.contract";

type DetectorService = VigilService & JobQueueService & { model: Detector; storage: Storage };

/** Overlap allowed between boxes of one class before the weaker is dropped (NMS). */
const IOU_THRESHOLD = 0.45;
const MAX_DETECTIONS_PER_FRAME = 100;

const DetectorServiceSchema: ServiceSchema<ServiceSettingSchema, DetectorService> = {
	name: "detector",
	mixins: [JobQueueMixin({ [DETECT_QUEUE]: {} })],

	actions: {
		/** What this node runs: shown on /readyz and useful from the REPL. */
		status: {
			visibility: "public",
			async handler(this: DetectorService) {
				const stats = await this.queues[DETECT_QUEUE].stats();
				return { backend: this.model.backend, model: this.model.modelName, kind: this.model.kind, input: this.model.input, inFlight: stats.inFlight };
			},
		},
	},

	methods: {
		async processSegment(this: DetectorService, job: SegmentJob, ctl: JobControl) {
			const model = this.model;
			const c = this.config;
			const source = { width: job.width, height: job.height };
			const lb = letterbox(source, model.input);
			const opts = {
				minScore: c.detectMinScore,
				iouThreshold: IOU_THRESHOLD,
				maxDetections: MAX_DETECTIONS_PER_FRAME,
				classes: job.classes.length ? job.classes : undefined,
			};
			const detection = new SegmentDetection(model, {
				source,
				detect: opts,
				batch: c.detectBatch,
				stride: job.stride ?? 1,
				motion: c.motionGate ? { cellDelta: c.motionCellDelta, minArea: c.motionMinArea } : undefined,
				inferred: (seconds, count) => {
					stageSeconds.observe({ stage: "inference", backend: model.backend }, seconds);
					framesDetected.inc(count);
				},
				skipped: (reason) => framesSkipped.inc({ reason }),
				progress: () => ctl.working(),
			});
			const decodeCpu = (seconds: number | null) => seconds !== null && stageSeconds.observe({ stage: "decode" }, seconds);
			let error: string | undefined;
			try {
				for await (const frame of readFrames(
					toolPath("ffmpeg", c.ffmpegPath),
					{
						file: this.storage.localPath(job.storageKey),
						startSec: job.firstFrame / job.fps,
						// Half a frame more than needed, so rounding never loses the segment's last frame.
						durationSec: (job.frameCount + 0.5) / job.fps,
						fps: job.fps,
						scaleFilter: ffmpegFilter(lb),
						width: model.input.width,
						height: model.input.height,
						maxFrames: job.frameCount,
					},
					ctl.signal,
					decodeCpu,
				))
					await detection.add(frame);
				await detection.flush();
			} catch (err) {
				// A broken file stays broken: keep what was detected, report why, and do not retry.
				if (!(err instanceof VideoError)) throw err;
				await detection.flush();
				// Said in the clip's frame numbers, so the reason agrees with its progress (frames done / total).
				const at = job.firstFrame + detection.frames.length;
				const why = err instanceof FrameDecodeError ? err.detail : err.message;
				error = `Decoding failed at frame ${at} (segment ${job.segment} decoded ${detection.frames.length} of its ${job.frameCount} frames): ${why}`;
				const reason = err instanceof FrameDecodeError ? err.reason : "decoder_failed";
				segmentsFailed.inc({ reason });
				this.logger.warn(`Clip ${job.clipId} segment ${job.segment}: ${error}`, { clipId: job.clipId, segment: job.segment, reason });
			}
			const frames: SegmentResult["frames"] = detection.frames.map((detections, i) => {
				const index = job.firstFrame + i;
				return { index, time: index / job.fps, detections };
			});
			// This node lost the job (its NATS link went away): another node has it now, so save nothing.
			ctl.signal.throwIfAborted();
			const persistStarted = process.hrtime.bigint();
			await this.broker.call<{ stale: boolean }, SegmentResult>("clip.saveSegment", {
				clipId: job.clipId,
				segment: job.segment,
				generation: job.generation,
				frames,
				...(error && { error }),
			});
			stageSeconds.observe({ stage: "persist" }, Number(process.hrtime.bigint() - persistStarted) / 1e9);
		},
	},

	created(this: DetectorService) {
		this.config = nodeConfig(this.broker);
		this.storage = mediaStorage(this.config.dataDir);
	},

	async started(this: DetectorService) {
		const dir = this.config.detectorModel || bundledModelDir();
		this.model = await loadDetector(dir, {
			backend: (this.config.detectorBackend || undefined) as BackendName | undefined,
			// An optional binding that is not installed is expected; one that is installed and fails is worth a warning.
			unavailableBackend: (backend, reason) =>
				reason === "not installed"
					? this.logger.debug(`TensorFlow.js backend ${backend} is not installed`)
					: this.logger.warn(`TensorFlow.js backend ${backend} failed to load: ${reason}`, { backend, reason }),
		});
		await this.model.warmUp();
		detectorInfo.set({ backend: this.model.backend, model: this.model.modelName }, 1);
		this.logger.info(
			`Detector ready: model ${this.model.modelName} (${this.model.kind}, ${this.model.input.width}x${this.model.input.height}) on backend ${this.model.backend}`,
		);
		await this.queues[DETECT_QUEUE].start((job, ctl) => this.processSegment(job as SegmentJob, ctl), { concurrency: this.config.detectConcurrency });
	},

	async stopped(this: DetectorService) {
		// The job in hand finishes and is acknowledged before the model goes (the mixin's close comes after this).
		await this.queues[DETECT_QUEUE].stop();
		this.model?.dispose();
	},
};

export default DetectorServiceSchema;
