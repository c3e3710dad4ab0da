import { changedShare, greyGrid, MotionGate } from "../../lib/vision/motion";

const W = 256,
	H = 192;

/** A grey scene with a darker "person" box at (x, y), and optional per-pixel noise of ±noise levels. */
function scene(person?: { x: number; y: number; w: number; h: number }, noise = 0, seed = 1): Buffer {
	const frame = Buffer.alloc(W * H * 3);
	let state = seed;
	const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
	for (let y = 0; y < H; y++)
		for (let x = 0; x < W; x++) {
			const inside = person && x >= person.x && x < person.x + person.w && y >= person.y && y < person.y + person.h;
			const base = inside ? 60 : 140;
			const value = Math.max(0, Math.min(255, Math.round(base + random() * noise)));
			frame.fill(value, (y * W + x) * 3, (y * W + x) * 3 + 3);
		}
	return frame;
}

describe("motion gate", () => {
	it("looks at the first frame, then skips a still scene, sensor noise included", () => {
		const gate = new MotionGate(W, H);
		expect(gate.look(scene(undefined, 6, 1))).toBe(true);
		for (let seed = 2; seed < 8; seed++) expect(gate.look(scene(undefined, 6, seed))).toBe(false);
	});

	it("looks again when a small, distant person moves into the scene or walks on", () => {
		const gate = new MotionGate(W, H);
		expect(gate.look(scene())).toBe(true);
		// 8x16 px of a 256x192 frame: a person far away.
		expect(gate.look(scene({ x: 100, y: 100, w: 8, h: 16 }))).toBe(true);
		expect(gate.look(scene({ x: 100, y: 100, w: 8, h: 16 }))).toBe(false);
		expect(gate.look(scene({ x: 112, y: 100, w: 8, h: 16 }))).toBe(true);
	});

	it("compares with the last frame looked at, so slow change adds up until it counts", () => {
		const gate = new MotionGate(W, H);
		// A shadow that darkens 4 grey levels a frame: never 10 against the frame before, 12 against the one looked at after three.
		const shade = (level: number) => {
			const frame = scene();
			for (let y = 60; y < 140; y++) for (let x = 50; x < 90; x++) frame.fill(140 - level, (y * W + x) * 3, (y * W + x) * 3 + 3);
			return frame;
		};
		expect(gate.look(shade(0))).toBe(true);
		expect([4, 8, 12, 16, 20, 24].map((level) => gate.look(shade(level)))).toEqual([false, false, true, false, false, true]);
	});

	it("a grid cell is its block's mean grey", () => {
		const { cells, columns, rows } = greyGrid(scene(), W, H, 64);
		expect([columns, rows]).toEqual([64, 48]);
		expect(cells[0]).toBeCloseTo(140, 0);
		expect(changedShare(cells, cells, 1)).toBe(0);
	});
});
