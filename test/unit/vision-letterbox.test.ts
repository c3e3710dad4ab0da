import { ffmpegFilter, letterbox, toSourceBox } from "../../lib/vision/letterbox";

const yolo640 = { width: 640, height: 640, letterbox: true };

describe("letterbox: source frames into the model's input and boxes back", () => {
	it("centres a wide frame between grey bars above and below, keeping its aspect", () => {
		const lb = letterbox({ width: 1280, height: 720 }, yolo640);
		expect(lb.content).toEqual({ width: 640, height: 360 });
		expect(lb.pad).toEqual({ left: 0, top: 140, right: 0, bottom: 140 });
		expect(ffmpegFilter(lb)).toBe("scale=640:360:flags=bilinear,format=rgb24,pad=640:640:0:140:color=0x727272");
	});

	it("centres a tall frame between grey bars left and right", () => {
		const lb = letterbox({ width: 720, height: 1280 }, yolo640);
		expect(lb.content).toEqual({ width: 360, height: 640 });
		expect(lb.pad).toEqual({ left: 140, top: 0, right: 140, bottom: 0 });
		expect(ffmpegFilter(lb)).toBe("scale=360:640:flags=bilinear,format=rgb24,pad=640:640:140:0:color=0x727272");
	});

	it("puts the odd pixel of an odd bar at the bottom, as Ultralytics does, and sizes always add up", () => {
		const lb = letterbox({ width: 1000, height: 999 }, yolo640);
		expect(lb.content).toEqual({ width: 640, height: 639 });
		expect(lb.pad).toEqual({ left: 0, top: 0, right: 0, bottom: 1 });
		for (const [w, h] of [
			[333, 555],
			[768, 576],
			[1921, 1079],
			[7, 3000],
		]) {
			const b = letterbox({ width: w, height: h }, { width: 800, height: 608, letterbox: true });
			expect(b.pad.left + b.content.width + b.pad.right).toBe(800);
			expect(b.pad.top + b.content.height + b.pad.bottom).toBe(608);
			expect(Math.min(...Object.values(b.pad))).toBeGreaterThanOrEqual(0);
		}
	});

	it("maps boxes back to the source frame for a wide source", () => {
		const lb = letterbox({ width: 1280, height: 720 }, yolo640);
		// The source box [0.25, 0.5, 0.5, 1] lands at x 160..320 and y 140 + 180 .. 140 + 360 in the input.
		expectBox(toSourceBox([160, 320, 320, 500], lb), [0.25, 0.5, 0.5, 1]);
	});

	it("maps boxes back to the source frame for a tall source", () => {
		const lb = letterbox({ width: 720, height: 1280 }, yolo640);
		expectBox(toSourceBox([140 + 180, 160, 140 + 360, 320], lb), [0.5, 0.25, 1, 0.5]);
	});

	it("clamps boxes that spill into the grey bars to the frame", () => {
		const lb = letterbox({ width: 1280, height: 720 }, yolo640);
		expectBox(toSourceBox([-20, 100, 700, 600], lb), [0, 0, 1, 1]);
	});

	it("stretches without bars when the model does not letterbox (CenterNet)", () => {
		const lb = letterbox({ width: 768, height: 576 }, { width: 512, height: 512, letterbox: false });
		expect(lb.content).toEqual({ width: 512, height: 512 });
		expect(lb.pad).toEqual({ left: 0, top: 0, right: 0, bottom: 0 });
		expect(ffmpegFilter(lb)).toBe("scale=512:512:flags=bilinear,format=rgb24");
		expectBox(toSourceBox([128, 256, 256, 512], lb), [0.25, 0.5, 0.5, 1]);
	});

	it("needs no bars when the source already has the input's aspect", () => {
		const lb = letterbox({ width: 1920, height: 1920 }, yolo640);
		expect(ffmpegFilter(lb)).toBe("scale=640:640:flags=bilinear,format=rgb24");
	});

	it("refuses sizes that are not positive whole pixels", () => {
		expect(() => letterbox({ width: 0, height: 720 }, yolo640)).toThrow(RangeError);
		expect(() => letterbox({ width: 1280, height: 720 }, { width: 640.5, height: 640, letterbox: true })).toThrow(/input size/);
	});
});

function expectBox(actual: number[], expected: number[]): void {
	expected.forEach((v, i) => expect(actual[i]).toBeCloseTo(v, 6));
}
