import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import ffmpegInstaller from "@ffmpeg-installer/ffmpeg";
import * as tf from "@tensorflow/tfjs";
import { load as loadYaml } from "js-yaml";
import { BACKENDS } from "../../lib/vision/backend";
import { loadDetector, type Detector } from "../../lib/vision/detector";
import { ffmpegFilter, letterbox, type Letterbox } from "../../lib/vision/letterbox";
import type { Detection } from "../../lib/vision/types";
import { describeWhen, requireService } from "../support/require";
import { tinyFrame, writeTinyYoloModel } from "../support/vision-models";

// ../shared sits beside the checkout in development and CI only; tests that need it say so and skip (fail under CI).
const shared = path.resolve(__dirname, "../../../shared");
const dartsDir = path.join(shared, "models/yolov8n-darts-int8");
const video = path.join(shared, "media/vtest_10s.mp4");
const videoSize = { width: 768, height: 576 };
const bundledDir = path.resolve(__dirname, "../../models/centernet-coco");
const opts = { minScore: 0.3, iouThreshold: 0.45, maxDetections: 100 };

const describeIf = (needed: string[], what: string) => {
	const missing = needed.filter((p) => !existsSync(p)).map((p) => path.relative(path.resolve(__dirname, "../.."), p));
	return describeWhen(!missing.length || requireService(`${missing.join(", ")} (for ${what})`, false));
};

/** One frame of a video as the model takes it: RGB24 at the input size, made by our ffmpeg filter. */
function videoFrame(file: string, lb: Letterbox, atSec: number): Buffer {
	const args = ["-v", "error", "-ss", String(atSec), "-i", file, "-frames:v", "1", "-vf", ffmpegFilter(lb), "-pix_fmt", "rgb24", "-f", "rawvideo", "pipe:1"];
	return execFileSync(ffmpegInstaller.path, args, { maxBuffer: 64 << 20 });
}

function expectWellFormed(found: Detection[], classNames: readonly string[], minScore: number): void {
	for (const d of found) {
		expect(classNames[d.classId]).toBe(d.className);
		expect(d.score).toBeGreaterThanOrEqual(minScore);
		expect(d.score).toBeLessThanOrEqual(1);
		const [x1, y1, x2, y2] = d.box;
		expect([x1, y1, x2, y2].every((v) => v >= 0 && v <= 1)).toBe(true);
		expect(x2).toBeGreaterThanOrEqual(x1);
		expect(y2).toBeGreaterThanOrEqual(y1);
	}
}

describe("frames made with the letterbox filter", () => {
	it("are exactly the model's input size with grey bars where the letterbox says, even at odd sizes", () => {
		const lb = letterbox({ width: 333, height: 555 }, { width: 800, height: 608, letterbox: true });
		expect(lb.pad.left % 2).toBe(1); // odd offsets are where a yuv420p pad would round
		const args = [
			"-v",
			"error",
			"-f",
			"lavfi",
			"-i",
			"color=c=red:s=333x555:d=1,format=yuv420p",
			"-frames:v",
			"1",
			"-vf",
			ffmpegFilter(lb),
			"-pix_fmt",
			"rgb24",
			"-f",
			"rawvideo",
			"pipe:1",
		];
		const frame = execFileSync(ffmpegInstaller.path, args, { maxBuffer: 64 << 20 });
		expect(frame.length).toBe(800 * 608 * 3);
		const pixel = (x: number, y: number) => [...frame.subarray((y * 800 + x) * 3, (y * 800 + x) * 3 + 3)];
		const y = 300;
		expect(pixel(lb.pad.left - 1, y)).toEqual([114, 114, 114]);
		expect(pixel(lb.pad.left, y)[0]).toBeGreaterThan(200);
		expect(pixel(lb.pad.left + lb.content.width - 1, y)[0]).toBeGreaterThan(200);
		expect(pixel(lb.pad.left + lb.content.width, y)).toEqual([114, 114, 114]);
	});
});

describe("detector on a model with a dynamic batch dimension", () => {
	let dir: string;
	let detector: Detector;
	const source = { width: 16, height: 16 };
	const frameA = tinyFrame([{ n: 3, values: [128, 128, 100, 200, 255, 0] }]);
	const frameB = tinyFrame([{ n: 7, values: [64, 200, 50, 50, 0, 230] }]);

	beforeAll(async () => {
		dir = writeTinyYoloModel();
		detector = await loadDetector(dir);
		await detector.warmUp();
	});
	afterAll(() => {
		detector.dispose();
		rmSync(dir, { recursive: true, force: true });
	});
	afterEach(() => jest.restoreAllMocks());

	it("runs up to maxBatch frames in one inference and keeps each frame's detections apart", async () => {
		expect(detector.maxBatch).toBe(4);
		const execute = jest.spyOn(tf.GraphModel.prototype, "execute");
		const batched = await detector.detect([frameA, frameB, frameA], [source, source, source], opts);
		expect(execute).toHaveBeenCalledTimes(1);
		expect(batched.map((f) => f.map((d) => d.className))).toEqual([["a"], ["b"], ["a"]]);
		const alone = [await detector.detect([frameA], [source], opts), await detector.detect([frameB], [source], opts)];
		expect(batched[0]).toEqual(alone[0][0]);
		expect(batched[1]).toEqual(alone[1][0]);
		expect(batched[1][0].score).toBeCloseTo(230 / 255, 5);
	});

	it("splits more frames than maxBatch into several inferences, in order", async () => {
		const execute = jest.spyOn(tf.GraphModel.prototype, "execute");
		const frames = [frameA, frameB, frameB, frameA, frameB, frameA];
		const found = await detector.detect(
			frames,
			frames.map(() => source),
			opts,
		);
		expect(execute).toHaveBeenCalledTimes(2);
		expect(found.map((f) => f[0].className)).toEqual(["a", "b", "b", "a", "b", "a"]);
	});

	it("keeps only the classes asked for, and refuses class names the model does not know", async () => {
		expect(await detector.detect([frameA, frameB], [source, source], { ...opts, classes: ["b"] })).toEqual([[], [expect.objectContaining({ className: "b" })]]);
		await expect(detector.detect([frameA], [source], { ...opts, classes: ["person"] })).rejects.toThrow(/no class "person"/);
	});

	it("refuses frames that are not RGB24 at the input size", async () => {
		await expect(detector.detect([new Uint8Array(10)], [source], opts)).rejects.toThrow(/RGB24 at 16x16/);
		await expect(detector.detect([frameA], [], opts)).rejects.toThrow(RangeError);
	});

	it("fails at warm-up, not on every frame, when the output does not fit the metadata's classes", async () => {
		const wrong = writeTinyYoloModel();
		writeFileSync(path.join(wrong, "metadata.yaml"), "task: detect\nimgsz: [16, 16]\nnames: {0: a, 1: b, 2: c}\n");
		const mismatched = await loadDetector(wrong);
		await expect(mismatched.warmUp()).rejects.toThrow(/not a YOLO detect output for 3 classes/);
		mismatched.dispose();
		rmSync(wrong, { recursive: true, force: true });
	});

	it("holds no more tensors after many detect calls than before", async () => {
		const before = tf.memory().numTensors;
		for (let i = 0; i < 50; i++) await detector.detect([frameA, frameB, frameA, frameB, frameA], Array(5).fill(source), opts);
		expect(tf.memory().numTensors).toBe(before);
	});
});

describeIf([dartsDir, video], "a real Ultralytics export")("a real Ultralytics YOLOv8 export (test data only, AGPL)", () => {
	let detector: Detector;
	beforeAll(async () => {
		detector = await loadDetector(dartsDir);
	});
	afterAll(() => detector?.dispose());

	it("takes its class names and input size from metadata.yaml", () => {
		const metadata = loadYaml(readFileSync(path.join(dartsDir, "metadata.yaml"), "utf8")) as { names: Record<string, string>; imgsz: number[] };
		expect(detector).toMatchObject({ kind: "yolo", modelName: "yolov8n-darts-int8", maxBatch: 1 });
		expect(detector.classNames).toEqual(Object.values(metadata.names));
		expect(detector.input).toEqual({ width: metadata.imgsz[1], height: metadata.imgsz[0], letterbox: true });
		expect(BACKENDS).toContain(detector.backend);
	});

	it("runs a letterboxed video frame end to end without leaking tensors", async () => {
		await detector.warmUp(); // also checks the output is [1, 4 + 7, N]
		const lb = letterbox(videoSize, detector.input);
		const frame = videoFrame(video, lb, 1);
		const before = tf.memory().numTensors;
		const [found] = await detector.detect([frame], [videoSize], { ...opts, minScore: 0.05 });
		expect(Array.isArray(found)).toBe(true);
		expectWellFormed(found, detector.classNames, 0.05);
		expect(tf.memory().numTensors).toBe(before);
	});
});

describeIf([video], "the bundled model on street footage")("the bundled CenterNet model on street footage", () => {
	let detector: Detector;
	let frame: Buffer;
	beforeAll(async () => {
		detector = await loadDetector(bundledDir);
		frame = videoFrame(video, letterbox(videoSize, detector.input), 1);
	});
	afterAll(() => detector?.dispose());

	it("loads with no configuration: 80 COCO classes, 512x512 stretched", () => {
		expect(detector).toMatchObject({ kind: "centernet", modelName: "centernet-coco", input: { width: 512, height: 512, letterbox: false }, maxBatch: 1 });
		expect(detector.classNames[0]).toBe("person");
	});

	it("finds pedestrians, standing upright, with sensible scores", async () => {
		const [people] = await detector.detect([frame], [videoSize], { ...opts, classes: ["person"] });
		expect(people.length).toBeGreaterThanOrEqual(1);
		expectWellFormed(people, detector.classNames, opts.minScore);
		const best = people[0];
		expect(best.score).toBeGreaterThan(0.3);
		const [x1, y1, x2, y2] = best.box;
		expect((y2 - y1) * videoSize.height).toBeGreaterThan((x2 - x1) * videoSize.width); // taller than wide
		expect((x2 - x1) * (y2 - y1)).toBeLessThan(0.25); // one person, not the whole scene
	});

	it("holds no more tensors after repeated detect calls than before", async () => {
		await detector.detect([frame], [videoSize], opts);
		const before = tf.memory().numTensors;
		for (let i = 0; i < 3; i++) await detector.detect([frame], [videoSize], opts);
		expect(tf.memory().numTensors).toBe(before);
	});
});

describe("choosing the backend", () => {
	it("runs on the backend asked for, and says plainly when that one is not installed", async () => {
		const dir = writeTinyYoloModel();
		try {
			const onCpu = await loadDetector(dir, { backend: "cpu" });
			expect(onCpu.backend).toBe("cpu");
			expect(tf.getBackend()).toBe("cpu");
			onCpu.dispose();
			await expect(onCpu.detect([new Uint8Array(16 * 16 * 3)], [{ width: 16, height: 16 }], opts)).rejects.toThrow(/disposed/);
			const hasNode = (() => {
				try {
					require.resolve("@tensorflow/tfjs-node");
					return true;
				} catch {
					return false;
				}
			})();
			if (hasNode) {
				const onNode = await loadDetector(dir, { backend: "tfjs-node" });
				expect(onNode.backend).toBe("tfjs-node");
				onNode.dispose();
			} else {
				// Why a backend was passed over reaches the caller, which logs it.
				const passedOver: string[] = [];
				const unavailableBackend = (backend: string, reason: string) => passedOver.push(`${backend}: ${reason}`);
				await expect(loadDetector(dir, { backend: "tfjs-node", unavailableBackend })).rejects.toThrow(/"tfjs-node" is not available here: not installed/);
				expect(passedOver).toEqual(["tfjs-node: not installed"]);
			}
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});
});
