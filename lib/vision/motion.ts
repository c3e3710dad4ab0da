/**
 * Motion gating: whether a frame differs enough from the last frame the detector looked at to be worth another
 * inference. Judged on a small grey copy (a grid of block means), so it costs a fraction of a millisecond where
 * inference costs hundreds; block means also smooth away the sensor and compression noise of a still scene.
 */

export interface MotionOptions {
	/** Grey levels (0..255) a grid cell's mean must move by to count as changed. */
	cellDelta: number;
	/** Share of the grid's cells (0..1) that must change for the frame to have motion. */
	minArea: number;
	/** Cells across the frame's longer side. */
	grid: number;
}

export const defaultMotionOptions: MotionOptions = { cellDelta: 10, minArea: 0.0004, grid: 64 };

/** Grey grid of an RGB24 frame: each cell the mean luma of its block, read every other pixel both ways. */
export function greyGrid(frame: Uint8Array, width: number, height: number, grid: number): { cells: Float32Array; columns: number; rows: number } {
	const cellSize = Math.max(1, Math.ceil(Math.max(width, height) / grid));
	const columns = Math.ceil(width / cellSize);
	const rows = Math.ceil(height / cellSize);
	const sums = new Float32Array(columns * rows);
	const counts = new Uint32Array(columns * rows);
	for (let y = 0; y < height; y += 2) {
		const rowCell = Math.floor(y / cellSize) * columns;
		let at = y * width * 3;
		for (let x = 0; x < width; x += 2, at += 6) {
			const cell = rowCell + Math.floor(x / cellSize);
			// Rec. 601 luma in integer weights (sum 256).
			sums[cell] += (77 * frame[at] + 150 * frame[at + 1] + 29 * frame[at + 2]) / 256;
			counts[cell]++;
		}
	}
	for (let i = 0; i < sums.length; i++) sums[i] /= counts[i] || 1;
	return { cells: sums, columns, rows };
}

/** Share of cells (0..1) whose mean moved by more than `cellDelta` between two grids of the same frame size. */
export function changedShare(a: Float32Array, b: Float32Array, cellDelta: number): number {
	let changed = 0;
	for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > cellDelta) changed++;
	return a.length ? changed / a.length : 0;
}

/**
 * One stream of frames of one size. `look(frame)` says whether the frame must be detected: the first always, then
 * any that moved against the last frame looked at (not the one before it, so slow motion adds up until it counts).
 */
export class MotionGate {
	private reference?: Float32Array;
	private readonly options: MotionOptions;

	constructor(
		private readonly width: number,
		private readonly height: number,
		options: Partial<MotionOptions> = {},
	) {
		this.options = { ...defaultMotionOptions, ...options };
	}

	look(frame: Uint8Array): boolean {
		const { cells } = greyGrid(frame, this.width, this.height, this.options.grid);
		if (this.reference && changedShare(this.reference, cells, this.options.cellDelta) < this.options.minArea) return false;
		this.reference = cells;
		return true;
	}
}
