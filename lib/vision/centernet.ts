/** Decodes the CenterNet detections output: boxes are already decoded inside the model. */
import type { Letterbox } from "./letterbox";
import type { Scored } from "./nms";
import { finishDetections, imageDims, type DecodeOptions, type ModelOutput } from "./output";
import type { Detection } from "./types";

/** `[1, K, 6]` rows of x1, y1, x2, y2 (input pixels), score, class (0-based, a float). */
export function decodeCenterNet(output: ModelOutput, classNames: readonly string[], lb: Letterbox, opts: DecodeOptions): Detection[] {
	const [rows, cols] = imageDims(output, 2);
	if (cols !== 6) throw new Error(`CenterNet output rows have 6 values (x1, y1, x2, y2, score, class), got ${cols}`);
	const d = output.data;
	const candidates: Scored[] = [];
	for (let r = 0; r < rows; r++) {
		const o = r * 6;
		const score = d[o + 4];
		const classId = Math.round(d[o + 5]);
		if (!(score >= opts.minScore) || classId < 0 || (opts.classIds && !opts.classIds.has(classId))) continue;
		candidates.push({ box: [d[o], d[o + 1], d[o + 2], d[o + 3]], score, classId });
	}
	// Peak picking by max-pooling is not NMS: one object can still leave two nearby peaks.
	return finishDetections(candidates, classNames, lb, opts);
}
