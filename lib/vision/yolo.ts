/** Decodes Ultralytics YOLO detect outputs (no NMS inside the model) into detections on the source frame. */
import type { Letterbox } from "./letterbox";
import type { Scored } from "./nms";
import { finishDetections, imageDims, type DecodeOptions, type ModelOutput } from "./output";
import type { Detection } from "./types";

/**
 * - `v8`: YOLOv8 / YOLO11 `[1, 4 + nc, N]`: cx, cy, w, h rows, then nc class-score rows (already sigmoid).
 * - `v8-transposed`: the same values anchor by anchor, `[1, N, 4 + nc]` (some converters transpose it).
 * - `v5`: YOLOv5 `[1, N, 5 + nc]`: cx, cy, w, h, objectness, nc class scores; score = objectness x class.
 */
export type YoloLayout = "v8" | "v8-transposed" | "v5";

export function yoloLayout(shape: readonly number[], numClasses: number): { layout: YoloLayout; anchors: number } {
	const dims = shape.length === 3 && shape[0] === 1 ? shape.slice(1) : shape;
	if (dims.length === 2) {
		const [a, b] = dims;
		if (a === 4 + numClasses) return { layout: "v8", anchors: b };
		if (b === 5 + numClasses) return { layout: "v5", anchors: a };
		if (b === 4 + numClasses) return { layout: "v8-transposed", anchors: a };
	}
	throw new Error(
		`output shape [${shape.join(", ")}] is not a YOLO detect output for ${numClasses} classes: ` +
			`expected [1, ${4 + numClasses}, N] (YOLOv8/YOLO11) or [1, N, ${5 + numClasses}] (YOLOv5)`,
	);
}

/** Confidence threshold, class-aware NMS, then boxes mapped back through the letterbox. */
export function decodeYolo(output: ModelOutput, classNames: readonly string[], lb: Letterbox, opts: DecodeOptions): Detection[] {
	const nc = classNames.length;
	const { layout, anchors } = yoloLayout(output.shape, nc);
	imageDims(output, 2);
	const d = output.data;
	// Where value `attr` of anchor `n` lives: d[n * anchorStride + attr * attrStride].
	const attrStride = layout === "v8" ? anchors : 1;
	const anchorStride = layout === "v8" ? 1 : layout === "v5" ? 5 + nc : 4 + nc;
	const firstClass = layout === "v5" ? 5 : 4;
	const candidates: Scored[] = [];
	for (let n = 0; n < anchors; n++) {
		const base = n * anchorStride;
		const objectness = layout === "v5" ? d[base + 4 * attrStride] : 1;
		if (!(objectness >= opts.minScore)) continue; // class scores are at most 1: nothing here can pass
		let best = -Infinity;
		let classId = -1;
		for (let c = 0; c < nc; c++) {
			const v = d[base + (firstClass + c) * attrStride];
			if (v > best) {
				best = v;
				classId = c;
			}
		}
		const score = best * objectness;
		// Like Ultralytics, the class filter applies to the best class: a car is not reported as a weak person.
		if (!(score >= opts.minScore) || (opts.classIds && !opts.classIds.has(classId))) continue;
		const cx = d[base],
			cy = d[base + attrStride],
			w = d[base + 2 * attrStride],
			h = d[base + 3 * attrStride];
		candidates.push({ box: [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], score, classId });
	}
	if (layout === "v5") scaleNormalisedBoxes(candidates, lb);
	return finishDetections(candidates, classNames, lb, opts);
}

/**
 * YOLOv5's own TF export divides boxes by the input size (for int8 calibration); pixel boxes never all fit in
 * 0..1.5 px. Scaling them to input pixels lets one letterbox mapping serve both.
 */
function scaleNormalisedBoxes(candidates: Scored[], lb: Letterbox): void {
	const normalised = candidates.length > 0 && candidates.every((c) => c.box.every((v) => Math.abs(v) <= 1.5));
	if (!normalised) return;
	const { width, height } = lb.input;
	for (const c of candidates) c.box = [c.box[0] * width, c.box[1] * height, c.box[2] * width, c.box[3] * height];
}
