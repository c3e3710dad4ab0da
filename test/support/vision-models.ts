/**
 * A hand-written YOLOv8-layout graph model with a dynamic batch dimension: the real exports are fixed at batch 1,
 * and batching must still be proven. The graph only reshapes its input, so a test sets the output by painting
 * the frame: input [B, 16, 16, 3] (pixels / 255) becomes output [B, 6, 128] = cx, cy, w, h, score a, score b
 * for 128 anchors.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export const TINY = { size: 16, anchors: 128, classNames: ["a", "b"] };

export function writeTinyYoloModel(): string {
	const dir = mkdtempSync(path.join(tmpdir(), "vigil-tiny-yolo-"));
	const shape = (...sizes: number[]) => ({ dim: sizes.map((size) => ({ size: String(size) })) });
	const model = {
		format: "graph-model",
		generatedBy: "vigil tests",
		convertedBy: "hand-written",
		modelTopology: {
			node: [
				{ name: "x", op: "Placeholder", attr: { dtype: { type: "DT_FLOAT" }, shape: { shape: shape(-1, TINY.size, TINY.size, 3) } } },
				{ name: "shape", op: "Const", attr: { dtype: { type: "DT_INT32" }, value: { tensor: { dtype: "DT_INT32", tensorShape: shape(3) } } } },
				{ name: "Identity", op: "Reshape", input: ["x", "shape"], attr: { T: { type: "DT_FLOAT" }, Tshape: { type: "DT_INT32" } } },
			],
			library: {},
			versions: { producer: 1 },
		},
		weightsManifest: [{ paths: ["tiny.bin"], weights: [{ name: "shape", shape: [3], dtype: "int32" }] }],
	};
	writeFileSync(path.join(dir, "model.json"), JSON.stringify(model));
	writeFileSync(path.join(dir, "tiny.bin"), Buffer.from(new Int32Array([-1, 4 + TINY.classNames.length, TINY.anchors]).buffer));
	writeFileSync(path.join(dir, "metadata.yaml"), `task: detect\nstride: 32\nimgsz:\n- ${TINY.size}\n- ${TINY.size}\nnames:\n  0: a\n  1: b\n`);
	return dir;
}

/** A frame whose output puts these values (0..255, i.e. 0..1 after scaling) on anchor `n`. */
export function tinyFrame(anchors: { n: number; values: [number, number, number, number, number, number] }[]): Uint8Array {
	const frame = new Uint8Array(TINY.size * TINY.size * 3);
	for (const { n, values } of anchors) values.forEach((v, row) => (frame[row * TINY.anchors + n] = v));
	return frame;
}
