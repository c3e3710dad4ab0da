/** What the decoders share: one image's raw output, and the last steps from candidates to detections. */
import { toSourceBox, type Letterbox } from "./letterbox";
import { nms, type Scored } from "./nms";
import type { DetectOptions, Detection } from "./types";

/** One image's output tensor as plain data, so decoding runs (and is tested) without TensorFlow. */
export interface ModelOutput {
	data: Float32Array;
	/** The tensor's shape; a leading batch dimension of 1 is allowed. */
	shape: readonly number[];
}

export interface DecodeOptions extends DetectOptions {
	/** Keep only these class ids (absent: all). */
	classIds?: ReadonlySet<number>;
}

/** The shape without its leading batch dimension of 1, checked against the data length. */
export function imageDims(output: ModelOutput, rank: number): number[] {
	const dims = output.shape.length === rank + 1 && output.shape[0] === 1 ? output.shape.slice(1) : [...output.shape];
	if (dims.length !== rank) throw new Error(`expected one image's output of rank ${rank}, got shape [${output.shape.join(", ")}]`);
	const size = dims.reduce((a, b) => a * b, 1);
	if (output.data.length < size) throw new Error(`output data has ${output.data.length} values, shape [${output.shape.join(", ")}] needs ${size}`);
	return dims;
}

/** Class-aware NMS on boxes in input pixels, then boxes mapped back to the source frame. */
export function finishDetections(candidates: Scored[], classNames: readonly string[], lb: Letterbox, opts: DetectOptions): Detection[] {
	return nms(candidates, opts.iouThreshold, opts.maxDetections).map((c) => ({
		classId: c.classId,
		className: classNames[c.classId] ?? `class ${c.classId}`,
		score: c.score,
		box: toSourceBox(c.box, lb),
	}));
}
