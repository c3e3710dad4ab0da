/**
 * Detector throughput on real frames, per backend: the bundled model (or the one named) on vtest_10s.mp4.
 * Frames are decoded and scaled before timing starts, so the figures are inference plus the detector's own work
 * (input conversion, decoding, NMS), set against the bare graph on the same pre-made input tensors.
 *
 *   node dist/bench/detector.js [modelDir] [video] [frames]     (run from the repository root)
 *   BENCH_BACKENDS=wasm,cpu limits the backends tried.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import ffmpegInstaller from "@ffmpeg-installer/ffmpeg";
import * as tf from "@tensorflow/tfjs";
import { BACKENDS, type BackendName } from "../lib/vision/backend";
import { loadDetector, type Detector } from "../lib/vision/detector";
import { decodeCenterNet } from "../lib/vision/centernet";
import { ffmpegFilter, letterbox } from "../lib/vision/letterbox";
import { describeModelDir, loadGraphModel, type ModelDescription } from "../lib/vision/model-files";
import type { ModelOutput } from "../lib/vision/output";
import type { Size } from "../lib/vision/types";
import { decodeYolo } from "../lib/vision/yolo";

const modelDir = process.argv[2] ?? "models/centernet-coco";
const video = process.argv[3] ?? "../shared/media/vtest_10s.mp4";
const frameCount = Number(process.argv[4] ?? 20);
// The plain-JS cpu backend takes seconds per frame: a few frames tell the story.
const CPU_FRAMES = 2;
const opts = { minScore: 0.3, iouThreshold: 0.45, maxDetections: 100 };

async function main(): Promise<void> {
	const model = await describeModelDir(modelDir);
	const source = probeSize(video);
	const frames = readFrames(video, model, source, frameCount);
	console.log(`model ${model.modelName} (${model.kind}, input ${model.input.width}x${model.input.height}, batch dim ${model.inputShape[0]})`);
	console.log(`${frames.length} frames of ${path.basename(video)} (${source.width}x${source.height}), decoded and scaled before timing\n`);
	console.log(pad("backend", 14) + pad("detector fps", 14) + pad("bare fps", 10) + pad("detector ms", 13) + pad("bare ms", 9) + "overhead");
	const batching: string[] = [];
	const wanted = process.env.BENCH_BACKENDS?.split(",");
	for (const backend of BACKENDS.filter((b) => !wanted || wanted.includes(b))) {
		let detector: Detector;
		try {
			detector = await loadDetector(modelDir, { backend });
		} catch {
			console.log(pad(backend, 14) + "not available");
			continue;
		}
		const sample = backend === "cpu" ? frames.slice(0, CPU_FRAMES) : frames;
		await detector.warmUp();
		const { full, bare, own } = await interleaved(detector, model, sample, source);
		const overhead = full / bare;
		console.log(
			pad(backend, 14) +
				pad((1000 / full).toFixed(2), 14) +
				pad((1000 / bare).toFixed(2), 10) +
				pad(full.toFixed(1), 13) +
				pad(bare.toFixed(1), 9) +
				`${overhead.toFixed(3)}x (${(full - bare).toFixed(1)} ms/frame)`,
		);
		const ownMs = own.input + own.decode;
		console.log(
			`${" ".repeat(14)}detector's own work timed alone: input ${own.input.toFixed(2)} ms + decode/NMS ${own.decode.toFixed(3)} ms = ${ownMs.toFixed(2)} ms/frame, i.e. ${((bare + ownMs) / bare).toFixed(4)}x the bare model`,
		);
		if (detector.maxBatch >= 4) {
			const [b1, b4] = [await detectorMs(detector, sample, source, 1), await detectorMs(detector, sample, source, 4)];
			batching.push(`${backend}: batch 1 ${b1.toFixed(1)} ms/frame, batch 4 ${b4.toFixed(1)} ms/frame`);
		}
		detector.dispose();
		report(backend);
	}
	console.log(
		batching.length
			? `\n${batching.join("\n")}`
			: `\nbatch 4: not measured, the model's input batch is fixed at ${model.inputShape[0]} (the detector runs frames one by one)`,
	);
}

/** Median ms per frame of the detector, `batch` frames per call. */
async function detectorMs(detector: Detector, frames: Uint8Array[], source: Size, batch: number): Promise<number> {
	const times: number[] = [];
	for (let i = 0; i + batch <= frames.length; i += batch) {
		const started = performance.now();
		await detector.detect(frames.slice(i, i + batch), Array(batch).fill(source), opts);
		times.push((performance.now() - started) / batch);
	}
	return median(times);
}

/**
 * Median ms per frame of the detector and of the graph alone (execute on input tensors made beforehand, then read
 * the output), frame by frame in alternating order so that a busy machine slows both alike.
 */
async function interleaved(
	detector: Detector,
	model: ModelDescription,
	frames: Uint8Array[],
	source: Size,
): Promise<{ full: number; bare: number; own: { input: number; decode: number } }> {
	const graph = await loadGraphModel(model.graphFile);
	const output = model.outputName ?? graph.outputNodes[0];
	const inputs = frames.map((f) =>
		tf.tensor4d(
			Float32Array.from(f, (v) => v * model.pixelScale),
			[1, model.input.height, model.input.width, 3],
		),
	);
	tf.dispose(graph.execute(inputs[0], output)); // its own warm-up
	const bareOne = async (x: tf.Tensor4D): Promise<number> => {
		const started = performance.now();
		const y = graph.execute(x, output) as tf.Tensor;
		await y.data(); // GPU backends only finish when the result is read
		y.dispose();
		return performance.now() - started;
	};
	const fullOne = async (frame: Uint8Array): Promise<number> => {
		const started = performance.now();
		await detector.detect([frame], [source], opts);
		return performance.now() - started;
	};
	const full: number[] = [];
	const bare: number[] = [];
	for (let i = 0; i < frames.length; i++) {
		if (i % 2) full.push(await fullOne(frames[i]));
		bare.push(await bareOne(inputs[i]));
		if (!(i % 2)) full.push(await fullOne(frames[i]));
	}
	const own = ownWorkMs(model, frames[0], await readOutput(graph, inputs[0], output), source);
	tf.dispose(inputs);
	graph.dispose();
	return { full: median(full), bare: median(bare), own };
}

async function readOutput(graph: tf.GraphModel, x: tf.Tensor4D, output: string): Promise<ModelOutput> {
	const y = graph.execute(x, output) as tf.Tensor;
	const data = (await y.data()) as Float32Array;
	const shape = y.shape;
	y.dispose();
	return { data, shape };
}

/**
 * The detector's work around the graph, timed alone (the same steps as lib/vision/detector.ts): pixels to a
 * float tensor, and decoding with NMS. On a busy machine this is steadier than the difference of two medians.
 */
function ownWorkMs(model: ModelDescription, frame: Uint8Array, output: ModelOutput, source: Size): { input: number; decode: number } {
	const reps = 50;
	let started = performance.now();
	for (let r = 0; r < reps; r++) {
		const pixels = new Float32Array(frame.length);
		pixels.set(frame);
		const raw = tf.tensor4d(pixels, [1, model.input.height, model.input.width, 3]);
		if (model.pixelScale !== 1) tf.mul(raw, model.pixelScale).dispose();
		raw.dispose();
	}
	const input = (performance.now() - started) / reps;
	const lb = letterbox(source, model.input);
	const decode = model.kind === "yolo" ? decodeYolo : decodeCenterNet;
	started = performance.now();
	for (let r = 0; r < reps; r++) decode(output, model.classNames, lb, { ...opts, minScore: 0.05 });
	return { input, decode: (performance.now() - started) / reps };
}

function readFrames(file: string, model: ModelDescription, source: Size, count: number): Uint8Array[] {
	const lb = letterbox(source, model.input);
	const args = ["-v", "error", "-i", file, "-frames:v", String(count), "-vf", ffmpegFilter(lb), "-pix_fmt", "rgb24", "-f", "rawvideo", "pipe:1"];
	const raw = execFileSync(ffmpegInstaller.path, args, { maxBuffer: 1 << 30 });
	const size = model.input.width * model.input.height * 3;
	return Array.from({ length: Math.floor(raw.length / size) }, (_, i) => raw.subarray(i * size, (i + 1) * size));
}

/** ffmpeg prints the stream's size on stderr; no ffprobe needed. */
function probeSize(file: string): Size {
	let text = "";
	try {
		execFileSync(ffmpegInstaller.path, ["-hide_banner", "-i", file], { stdio: ["ignore", "ignore", "pipe"] });
	} catch (err) {
		text = String((err as { stderr?: Buffer }).stderr ?? "");
	}
	const m = /Video:.*?(\d{2,5})x(\d{2,5})/.exec(text);
	if (!m) throw new Error(`cannot read the video size of ${file}`);
	return { width: Number(m[1]), height: Number(m[2]) };
}

function report(backend: BackendName): void {
	const { numTensors } = tf.memory();
	if (numTensors > 0) console.log(`  (${backend}: ${numTensors} tensors still held after dispose)`);
}

function median(values: number[]): number {
	const s = [...values].sort((a, b) => a - b);
	return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function pad(text: string, width: number): string {
	return text.padEnd(width);
}

main().catch((err) => {
	console.error(err);
	process.exit(1);
});
