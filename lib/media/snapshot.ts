/** The JPEG attached to an alert: one frame of the clip at source size with the object's box drawn on it. */
import { spawn } from "node:child_process";
import jpeg from "jpeg-js";
import type { Box } from "../vision/types";

/**
 * One frame at `timeSec` as RGB24 at `size`, the clip's displayed size (ffmpeg turns a rotated video upright).
 * The frame is scaled to exactly that size: rows of one width read as another are a garbled picture, so a
 * clip recorded before its size was known upright gets a stretched frame instead.
 */
export function grabFrame(ffmpeg: string, file: string, timeSec: number, size: { width: number; height: number }): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const args = [
			"-v",
			"error",
			"-nostdin",
			"-ss",
			timeSec.toFixed(3),
			"-i",
			file,
			"-frames:v",
			"1",
			"-vf",
			`scale=${size.width}:${size.height}`,
			"-f",
			"rawvideo",
			"-pix_fmt",
			"rgb24",
			"pipe:1",
		];
		const child = spawn(ffmpeg, args, { stdio: ["ignore", "pipe", "pipe"] });
		const chunks: Buffer[] = [];
		let stderr = "";
		child.stdout.on("data", (c: Buffer) => chunks.push(c));
		child.stderr.on("data", (d: Buffer) => (stderr += d));
		child.on("error", reject);
		child.on("close", (code) => {
			const frame = Buffer.concat(chunks);
			if (frame.length < size.width * size.height * 3)
				return reject(new Error(`No frame at ${timeSec}s (ffmpeg ${code}): ${stderr.trim().split("\n").pop() ?? ""}`));
			resolve(frame.subarray(0, size.width * size.height * 3));
		});
	});
}

/** Draws the box (normalised coordinates) in red, a few pixels thick, and encodes the frame as JPEG. */
export function annotatedJpeg(rgb: Buffer, size: { width: number; height: number }, box: Box, quality = 85): Buffer {
	const { width, height } = size;
	const rgba = Buffer.alloc(width * height * 4);
	for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
		rgba[j] = rgb[i];
		rgba[j + 1] = rgb[i + 1];
		rgba[j + 2] = rgb[i + 2];
		rgba[j + 3] = 255;
	}
	const thickness = Math.max(2, Math.round(Math.min(width, height) / 200));
	const [x1, y1, x2, y2] = [box[0] * width, box[1] * height, box[2] * width, box[3] * height].map(Math.round);
	const paint = (x: number, y: number) => {
		if (x < 0 || y < 0 || x >= width || y >= height) return;
		const p = (y * width + x) * 4;
		rgba[p] = 255;
		rgba[p + 1] = 32;
		rgba[p + 2] = 32;
	};
	for (let t = 0; t < thickness; t++) {
		for (let x = x1; x <= x2; x++) {
			paint(x, y1 + t);
			paint(x, y2 - t);
		}
		for (let y = y1; y <= y2; y++) {
			paint(x1 + t, y);
			paint(x2 - t, y);
		}
	}
	return jpeg.encode({ data: rgba, width, height }, quality).data;
}

/** The frame as it is, without a box: a clean image for training datasets. */
export function frameJpeg(rgb: Buffer, size: { width: number; height: number }, quality = 90): Buffer {
	const rgba = Buffer.alloc(size.width * size.height * 4, 255);
	for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
		rgba[j] = rgb[i];
		rgba[j + 1] = rgb[i + 1];
		rgba[j + 2] = rgb[i + 2];
	}
	return jpeg.encode({ data: rgba, width: size.width, height: size.height }, quality).data;
}
