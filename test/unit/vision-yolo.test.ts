import { letterbox } from "../../lib/vision/letterbox";
import { decodeYolo, yoloLayout } from "../../lib/vision/yolo";

const names = ["person", "car", "dog"];
const opts = { minScore: 0.25, iouThreshold: 0.45, maxDetections: 100 };
const wide = letterbox({ width: 1280, height: 720 }, { width: 640, height: 640, letterbox: true });
const tall = letterbox({ width: 720, height: 1280 }, { width: 640, height: 640, letterbox: true });

/** An anchor as the model sees it: box centre and size in input pixels, one score per class. */
interface Anchor {
	cx: number;
	cy: number;
	w: number;
	h: number;
	scores: number[];
	objectness?: number;
}

/** YOLOv8 / YOLO11: [1, 4 + nc, N], one row per value, one column per anchor. */
function v8Output(anchors: Anchor[]) {
	const rows = 4 + names.length;
	const data = new Float32Array(rows * anchors.length);
	anchors.forEach((a, n) => [a.cx, a.cy, a.w, a.h, ...a.scores].forEach((v, r) => (data[r * anchors.length + n] = v)));
	return { data, shape: [1, rows, anchors.length] };
}

/** YOLOv5: [1, N, 5 + nc], one row per anchor with objectness after the box. */
function v5Output(anchors: Anchor[], scale = { x: 1, y: 1 }) {
	const cols = 5 + names.length;
	const data = new Float32Array(cols * anchors.length);
	anchors.forEach((a, n) => data.set([a.cx * scale.x, a.cy * scale.y, a.w * scale.x, a.h * scale.y, a.objectness ?? 1, ...a.scores], n * cols));
	return { data, shape: [1, anchors.length, cols] };
}

// A person at [0.25, 0.5, 0.5, 1] of a 1280x720 frame: x 160..320, y 320..500 in the letterboxed 640 input.
const personWide: Anchor = { cx: 240, cy: 410, w: 160, h: 180, scores: [0.9, 0.05, 0] };

describe("YOLO output decoding", () => {
	it("tells the layouts apart from the shape and the class count", () => {
		expect(yoloLayout([1, 84, 8400], 80)).toEqual({ layout: "v8", anchors: 8400 });
		expect(yoloLayout([1, 25200, 85], 80)).toEqual({ layout: "v5", anchors: 25200 });
		expect(yoloLayout([1, 8400, 84], 80)).toEqual({ layout: "v8-transposed", anchors: 8400 });
		expect(yoloLayout([1, 11, 13125], 7)).toEqual({ layout: "v8", anchors: 13125 });
		expect(() => yoloLayout([1, 84, 8400], 3)).toThrow(/\[1, 7, N\].*\[1, N, 8\]/);
	});

	it("decodes a YOLOv8 output into a named, scored box on a wide source frame", () => {
		const [d] = decodeYolo(v8Output([personWide]), names, wide, opts);
		expect(d).toMatchObject({ classId: 0, className: "person" });
		expect(d.score).toBeCloseTo(0.9, 6);
		expectBox(d.box, [0.25, 0.5, 0.5, 1]);
	});

	it("undoes the side bars of a tall source frame", () => {
		// [0.5, 0.25, 1, 0.5] of a 720x1280 frame: x 140 + 180 .. 140 + 360, y 160..320.
		const [d] = decodeYolo(v8Output([{ cx: 410, cy: 240, w: 180, h: 160, scores: [0, 0.8, 0] }]), names, tall, opts);
		expect(d.className).toBe("car");
		expectBox(d.box, [0.5, 0.25, 1, 0.5]);
	});

	it("reads the same boxes from an anchor-by-anchor (transposed) YOLOv8 output", () => {
		const { data } = v5Output([{ ...personWide }]);
		const transposed = new Float32Array([...data.subarray(0, 4), ...data.subarray(5)]);
		const [d] = decodeYolo({ data: transposed, shape: [1, 1, 4 + names.length] }, names, wide, opts);
		expectBox(d.box, [0.25, 0.5, 0.5, 1]);
	});

	it("drops anchors below the confidence threshold and keeps one exactly at it", () => {
		const out = v8Output([
			{ ...personWide, scores: [0.2, 0.1, 0.1] },
			{ ...personWide, cx: 500, scores: [0, 0, 0.25] },
		]);
		expect(decodeYolo(out, names, wide, opts).map((d) => d.className)).toEqual(["dog"]);
	});

	it("suppresses duplicates of one class but keeps overlapping objects of different classes", () => {
		const out = v8Output([
			personWide,
			{ ...personWide, cx: 244, scores: [0.7, 0, 0] }, // the same person, found twice
			{ ...personWide, cx: 250, scores: [0, 0, 0.6] }, // a dog in front of them
		]);
		const found = decodeYolo(out, names, wide, opts);
		expect(found.map((d) => [d.className, Number(d.score.toFixed(2))])).toEqual([
			["person", 0.9],
			["dog", 0.6],
		]);
	});

	it("filters by class on the best class, so a car is never reported as a weak person", () => {
		const out = v8Output([
			{ ...personWide, scores: [0.4, 0.8, 0] },
			{ ...personWide, cx: 500, scores: [0.5, 0, 0] },
		]);
		const found = decodeYolo(out, names, wide, { ...opts, classIds: new Set([0]) });
		expect(found.map((d) => [d.className, d.score])).toEqual([["person", 0.5]]);
	});

	it("returns at most maxDetections, best first", () => {
		const out = v8Output([0.3, 0.9, 0.6].map((s, i) => ({ ...personWide, cx: 100 + i * 200, scores: [s, 0, 0] })));
		expect(decodeYolo(out, names, wide, { ...opts, maxDetections: 2 }).map((d) => d.score.toFixed(1))).toEqual(["0.9", "0.6"]);
	});

	it("decodes YOLOv5 outputs, scoring objectness times class score", () => {
		const out = v5Output([
			{ ...personWide, objectness: 0.9, scores: [0.5, 0, 0] },
			{ ...personWide, cx: 500, objectness: 0.1, scores: [1, 0, 0] }, // confident class, but probably nothing there
		]);
		const found = decodeYolo(out, names, wide, opts);
		expect(found).toHaveLength(1);
		expect(found[0].score).toBeCloseTo(0.45, 6);
		expectBox(found[0].box, [0.25, 0.5, 0.5, 1]);
	});

	it("accepts YOLOv5's own TF export, whose boxes are divided by the input size", () => {
		const out = v5Output([{ ...personWide, objectness: 0.9, scores: [0.9, 0, 0] }], { x: 1 / 640, y: 1 / 640 });
		expectBox(decodeYolo(out, names, wide, opts)[0].box, [0.25, 0.5, 0.5, 1]);
	});

	it("rejects an output that does not match the model's classes", () => {
		expect(() => decodeYolo(v8Output([personWide]), ["person"], wide, opts)).toThrow(/not a YOLO detect output/);
	});
});

function expectBox(actual: number[], expected: number[]): void {
	expected.forEach((v, i) => expect(actual[i]).toBeCloseTo(v, 5));
}
