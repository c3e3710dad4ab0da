/**
 * Smoke test of a detector node's TensorFlow backend: which backend loaded, on which device, and frames/s of the
 * shipped detector over N frames of real footage. Run it in the GPU image to see the GPU is used; it runs
 * anywhere (on a machine without a GPU it reports the CPU backend it fell back to).
 *
 *   node dist/bench/gpu-smoke.js [video] [frames]      (npm run bench:gpu-smoke -- [video] [frames] from a checkout)
 *
 * DETECTOR_BACKEND and DETECTOR_MODEL apply as they do to a detector node: with DETECTOR_BACKEND=tfjs-node-gpu (the
 * GPU image's setting) a missing GPU binding, or a GPU build that sees no GPU, fails the smoke test. Without a
 * video (the default is the shared street clip), ffmpeg's test pattern is used.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cpus } from "node:os";
import { readSetting } from "../lib/platform/config";
import { bundledModelDir } from "../lib/platform/paths";
import { toolPath } from "../lib/media/tools";
import type { BackendName } from "../lib/vision/backend";
import { loadDetector } from "../lib/vision/detector";
import { ffmpegFilter, letterbox } from "../lib/vision/letterbox";
import type { Size } from "../lib/vision/types";

const STREET_CLIP = "../shared/media/vtest_10s.mp4";
const video = process.argv[2] ?? (existsSync(STREET_CLIP) ? STREET_CLIP : "");
const frameCount = Math.max(1, Number(process.argv[3] ?? 20));
/** The detector's own batching: up to this many frames per inference. */
const BATCH = 4;

async function main(): Promise<void> {
	const wanted = (readSetting("detectorBackend") || undefined) as BackendName | undefined;
	const modelDir = readSetting("detectorModel") || bundledModelDir();
	const detector = await loadDetector(modelDir, { backend: wanted });
	const device = deviceOf(detector.backend);
	console.log(`backend ${detector.backend}${wanted ? " (required by DETECTOR_BACKEND)" : " (best available)"}`);
	console.log(`device  ${device.name}`);
	if (wanted === "tfjs-node-gpu" && !device.gpu) throw new Error("DETECTOR_BACKEND=tfjs-node-gpu, but no GPU is visible to this process");
	const ffmpeg = toolPath("ffmpeg", readSetting("ffmpegPath") || undefined);
	const source = video ? probeSize(ffmpeg, video) : { width: 768, height: 576 };
	const lb = letterbox(source, detector.input);
	const input = video ? ["-i", video] : ["-f", "lavfi", "-i", `testsrc=size=${source.width}x${source.height}:rate=10`];
	const raw = execFileSync(
		ffmpeg,
		["-v", "error", ...input, "-frames:v", String(frameCount), "-vf", ffmpegFilter(lb), "-pix_fmt", "rgb24", "-f", "rawvideo", "pipe:1"],
		{ maxBuffer: 1 << 30 },
	);
	const size = detector.input.width * detector.input.height * 3;
	const frames = Array.from({ length: Math.floor(raw.length / size) }, (_, i) => raw.subarray(i * size, (i + 1) * size));
	if (frames.length === 0) throw new Error(`no frames decoded from ${video || "the test pattern"}`);
	console.log(`model   ${detector.modelName} (${detector.kind}, input ${detector.input.width}x${detector.input.height}, batch up to ${detector.maxBatch})`);
	console.log(`footage ${video || "ffmpeg test pattern"} (${source.width}x${source.height}), ${frames.length} frames`);
	console.log(`warm-up ${(await detector.warmUp()).toFixed(0)} ms`);
	const batch = Math.min(BATCH, detector.maxBatch);
	let detections = 0;
	const started = performance.now();
	for (let i = 0; i < frames.length; i += batch) {
		const chunk = frames.slice(i, i + batch);
		const found = await detector.detect(
			chunk,
			chunk.map(() => source),
			{ minScore: 0.3, iouThreshold: 0.45, maxDetections: 100 },
		);
		detections += found.reduce((n, list) => n + list.length, 0);
	}
	const seconds = (performance.now() - started) / 1000;
	console.log(`speed   ${(frames.length / seconds).toFixed(2)} frames/s (${((seconds * 1000) / frames.length).toFixed(1)} ms/frame, ${detections} detections)`);
	detector.dispose();
}

/** The device a backend computes on: the GPU's name (from nvidia-smi) for the GPU build, else the CPU's. */
function deviceOf(backend: BackendName): { name: string; gpu: boolean } {
	const cpu = `CPU: ${cpus()[0]?.model.trim() ?? "unknown"} (${cpus().length} cores)`;
	if (backend !== "tfjs-node-gpu") return { name: cpu, gpu: false };
	const smi = spawnSync("nvidia-smi", ["--query-gpu=index,name,memory.total,driver_version", "--format=csv,noheader"], { encoding: "utf8" });
	const gpus = smi.status === 0 ? smi.stdout.trim() : "";
	return gpus
		? { name: `GPU ${gpus.split("\n").join("; GPU ")}`, gpu: true }
		: { name: `no GPU visible (nvidia-smi: ${smi.error?.message ?? smi.stderr.trim()}); ${cpu}`, gpu: false };
}

/** ffmpeg prints the stream's size on stderr; no ffprobe needed. */
function probeSize(ffmpeg: string, file: string): Size {
	const { stderr } = spawnSync(ffmpeg, ["-hide_banner", "-i", file], { encoding: "utf8" });
	const m = /Video:.*?(\d{2,5})x(\d{2,5})/.exec(stderr ?? "");
	if (!m) throw new Error(`cannot read the video size of ${file}`);
	return { width: Number(m[1]), height: Number(m[2]) };
}

main().catch((err) => {
	console.error(`gpu smoke test failed: ${err instanceof Error ? err.message : String(err)}`);
	process.exit(1);
});
