/**
 * Detecting one segment's frames as they come from the decoder: frames with no motion since the last one detected
 * and those between a stride skip inference and keep the detections of the frame detected before them; the rest
 * go to the model in batches. No broker in here: the detector service and the benches run the same loop.
 */
import type { DetectRequest, Detector } from "./detector";
import { MotionGate, type MotionOptions } from "./motion";
import type { Detection, Size } from "./types";

export interface SegmentDetectionOptions {
	/** Size of the video the frames were letterboxed from: boxes come back in its terms. */
	source: Size;
	detect: DetectRequest;
	batch: number;
	/** Detect every stride-th frame (1: all). */
	stride: number;
	/** Motion gating; absent: every frame within the stride is detected. */
	motion?: Partial<MotionOptions>;
	/** Hears each inference's wall time and the number of frames it took. */
	inferred?(seconds: number, frames: number): void;
	/** Hears each frame that skipped inference, and why. */
	skipped?(reason: "still" | "stride"): void;
	/** Called after each batch: the work is alive. */
	progress?(): void;
}

export class SegmentDetection {
	/** Detections per frame, in decoding order. */
	readonly frames: Detection[][] = [];
	private readonly gate?: MotionGate;
	private pending: boolean[] = [];
	private batch: Buffer[] = [];
	private held: Detection[] = [];
	private position = 0;

	constructor(
		private readonly model: Detector,
		private readonly options: SegmentDetectionOptions,
	) {
		if (options.motion) this.gate = new MotionGate(model.input.width, model.input.height, options.motion);
	}

	/** The next decoded frame (kept, not copied). */
	async add(frame: Buffer): Promise<void> {
		// The segment's first frame is always detected: segments go to different nodes, each on its own.
		const skip = this.position++ % this.options.stride !== 0 ? "stride" : this.gate && !this.gate.look(frame) ? "still" : undefined;
		if (skip) this.options.skipped?.(skip);
		else this.batch.push(frame);
		this.pending.push(!skip);
		if (this.batch.length >= Math.min(this.options.batch, this.model.maxBatch)) await this.flush();
	}

	/** Detects what is waiting; call once the frames end (or fail), before reading `frames`. */
	async flush(): Promise<void> {
		if (!this.pending.length) return;
		let results: Detection[][] = [];
		if (this.batch.length) {
			const started = process.hrtime.bigint();
			results = await this.model.detect(
				this.batch,
				this.batch.map(() => this.options.source),
				this.options.detect,
			);
			this.options.inferred?.(Number(process.hrtime.bigint() - started) / 1e9, this.batch.length);
		}
		let next = 0;
		for (const detected of this.pending) {
			if (detected) this.held = results[next++];
			this.frames.push(this.held);
		}
		this.pending = [];
		this.batch = [];
		this.options.progress?.();
	}
}
