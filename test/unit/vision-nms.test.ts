import { iou, nms } from "../../lib/vision/nms";
import type { Box } from "../../lib/vision/types";

const det = (classId: number, score: number, box: Box) => ({ classId, score, box });

describe("non-maximum suppression", () => {
	it("measures overlap as intersection over union", () => {
		expect(iou([0, 0, 10, 10], [0, 0, 10, 10])).toBe(1);
		expect(iou([0, 0, 10, 10], [20, 20, 30, 30])).toBe(0);
		expect(iou([0, 0, 10, 10], [10, 0, 20, 10])).toBe(0);
		expect(iou([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(1 / 3, 9);
	});

	it("keeps only the best of overlapping boxes of one class", () => {
		const kept = nms([det(0, 0.6, [1, 1, 11, 11]), det(0, 0.9, [0, 0, 10, 10]), det(0, 0.5, [2, 0, 12, 10])], 0.45, 100);
		expect(kept).toEqual([det(0, 0.9, [0, 0, 10, 10])]);
	});

	it("keeps overlapping boxes of different classes (a person and the bag they carry)", () => {
		const kept = nms([det(0, 0.9, [0, 0, 10, 10]), det(1, 0.8, [0, 0, 10, 10])], 0.45, 100);
		expect(kept.map((k) => k.classId)).toEqual([0, 1]);
	});

	it("keeps boxes of one class that overlap no more than the threshold", () => {
		const kept = nms([det(0, 0.9, [0, 0, 10, 10]), det(0, 0.8, [5, 0, 15, 10])], 0.45, 100);
		expect(kept).toHaveLength(2);
	});

	it("returns at most maxDetections, best first", () => {
		const boxes = [0.3, 0.9, 0.5, 0.7].map((s, i) => det(0, s, [i * 20, 0, i * 20 + 10, 10]));
		expect(nms(boxes, 0.45, 2).map((k) => k.score)).toEqual([0.9, 0.7]);
	});
});
