import { decodeCenterNet } from "../../lib/vision/centernet";
import { letterbox } from "../../lib/vision/letterbox";

const names = ["person", "bicycle", "car"];
const opts = { minScore: 0.3, iouThreshold: 0.45, maxDetections: 100 };
// 768x576 street footage stretched to CenterNet's 512x512 input.
const stretched = letterbox({ width: 768, height: 576 }, { width: 512, height: 512, letterbox: false });

/** [1, 100, 6]: x1, y1, x2, y2 in input pixels, score, class; unused rows stay zero like the model's tail. */
function output(rows: number[][]) {
	const data = new Float32Array(100 * 6);
	rows.forEach((r, i) => data.set(r, i * 6));
	return { data, shape: [1, 100, 6] };
}

describe("CenterNet output decoding", () => {
	it("names the class and maps the box back to the source frame", () => {
		const [d] = decodeCenterNet(output([[128, 256, 256, 512, 0.62, 0]]), names, stretched, opts);
		expect(d).toMatchObject({ classId: 0, className: "person" });
		expect(d.score).toBeCloseTo(0.62, 6);
		[0.25, 0.5, 0.5, 1].forEach((v, i) => expect(d.box[i]).toBeCloseTo(v, 6));
	});

	it("drops low scores and the empty tail of the 100 rows", () => {
		const found = decodeCenterNet(
			output([
				[0, 0, 50, 50, 0.29, 2],
				[300, 300, 400, 400, 0.3, 2],
			]),
			names,
			stretched,
			opts,
		);
		expect(found.map((d) => d.className)).toEqual(["car"]);
	});

	it("suppresses a second peak on the same person but keeps the bicycle under them", () => {
		const found = decodeCenterNet(
			output([
				[100, 100, 200, 300, 0.7, 0],
				[104, 98, 204, 296, 0.4, 0],
				[100, 200, 200, 320, 0.5, 1],
			]),
			names,
			stretched,
			opts,
		);
		expect(found.map((d) => d.className)).toEqual(["person", "bicycle"]);
	});

	it("keeps only the classes asked for", () => {
		const found = decodeCenterNet(
			output([
				[0, 0, 50, 50, 0.9, 2],
				[100, 100, 200, 300, 0.5, 0],
			]),
			names,
			stretched,
			{ ...opts, classIds: new Set([0]) },
		);
		expect(found.map((d) => d.className)).toEqual(["person"]);
	});
});
