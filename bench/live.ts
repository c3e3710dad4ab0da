/**
 * How many 5 fps live cameras one CPU detector node keeps up with, at full rate and with motion gating, and what
 * decoding costs per frame. Two scenes, each encoded as a camera sends it (H.264, a keyframe every segment) and cut
 * into SEGMENT_SECONDS segments by stream copy, as the stream node does:
 *   street  the street clip: people walking through the whole view all the time (a busy entrance);
 *   quiet   its first 2 s, then its last frame held: someone passes a fifth of the time (a shop after hours).
 * Every segment is detected as a detector node does it (same decoder, same loop), one at a time
 * (DETECT_CONCURRENCY=1), and timed. From those times: cameras kept up with = segment length / mean time per
 * segment, and the lag (segment finished minus segment recorded) of N cameras queued on the one node, simulated over
 * ten minutes with the measured times (each camera's segments arrive every SEGMENT_SECONDS, staggered).
 * Decoding is set against one bare ffmpeg over the whole clip; "upload" decodes each segment of the original clip
 * (one keyframe, at 0 s) with its own ffmpeg and seek, as uploads are; "live" decodes the stream-copied segments.
 *
 *   node dist/bench/live.js [video] [modelDir]     (run from the repository root)
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { toolPath } from "../lib/media/tools";
import { FrameDecodeError, probeVideo, readFrames } from "../lib/media/video";
import { bundledModelDir } from "../lib/platform/paths";
import { loadDetector, type Detector } from "../lib/vision/detector";
import { ffmpegFilter, letterbox } from "../lib/vision/letterbox";
import { defaultMotionOptions } from "../lib/vision/motion";
import { SegmentDetection } from "../lib/vision/segment-detection";
import type { Size } from "../lib/vision/types";

const video = process.argv[2] ?? "../shared/media/vtest_10s.mp4";
const modelDir = process.argv[3] ?? bundledModelDir();
const FPS = 5;
const SEGMENT_SECONDS = 2;
const BATCH = 4;
const SIMULATED_SECONDS = 600;
const detect = { minScore: 0.3, iouThreshold: 0.45, maxDetections: 100 };
const ffmpeg = toolPath("ffmpeg", process.env.FFMPEG_PATH);

function run(args: string[]): void {
	const done = spawnSync(ffmpeg, ["-v", "error", "-y", ...args]);
	if (done.status !== 0) throw new Error(`ffmpeg ${args.join(" ")}: ${done.stderr}`);
}

/** The scene as a camera sends it, cut into stream-copied segments: their files, in order. */
function liveSegments(dir: string, name: string, input: string[]): string[] {
	const encoded = path.join(dir, `${name}.mp4`);
	run([...input, "-c:v", "libx264", "-preset", "veryfast", "-g", String(10 * SEGMENT_SECONDS), "-pix_fmt", "yuv420p", "-an", encoded]);
	const out = path.join(dir, name);
	run(["-i", encoded, "-c", "copy", "-f", "segment", "-segment_time", String(SEGMENT_SECONDS), "-reset_timestamps", "1", `${out}-%03d.mp4`]);
	return readdirSync(dir)
		.filter((f) => f.startsWith(`${name}-`))
		.sort()
		.map((f) => path.join(dir, f));
}

interface Decoded {
	frames: Buffer[];
	cpuSeconds: number;
	wallSeconds: number;
}

async function decode(file: string, startSec: number, frameCount: number, source: Size, input: Detector["input"]): Promise<Decoded> {
	const frames: Buffer[] = [];
	let cpuSeconds = 0;
	const started = process.hrtime.bigint();
	try {
		for await (const frame of readFrames(
			ffmpeg,
			{
				file,
				startSec,
				durationSec: (frameCount + 0.5) / FPS,
				fps: FPS,
				scaleFilter: ffmpegFilter(letterbox(source, input)),
				width: input.width,
				height: input.height,
				maxFrames: frameCount,
			},
			undefined,
			(cpu) => (cpuSeconds = cpu ?? 0),
		))
			frames.push(frame);
	} catch (err) {
		if (!(err instanceof FrameDecodeError)) throw err;
	}
	return { frames, cpuSeconds, wallSeconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/** Seconds one node takes per segment of a scene: decoding and detection, as a detector node does them. */
async function segmentTimes(model: Detector, files: string[], source: Size, motion: boolean): Promise<{ seconds: number[]; detected: number; frames: number }> {
	const seconds: number[] = [];
	let detected = 0,
		frames = 0;
	for (const file of files) {
		const started = process.hrtime.bigint();
		const detection = new SegmentDetection(model, {
			source,
			detect,
			batch: BATCH,
			stride: 1,
			motion: motion ? defaultMotionOptions : undefined,
			inferred: (_s, count) => (detected += count),
		});
		try {
			for await (const frame of readFrames(ffmpeg, {
				file,
				startSec: 0,
				durationSec: SEGMENT_SECONDS + 0.5 / FPS,
				fps: FPS,
				scaleFilter: ffmpegFilter(letterbox(source, model.input)),
				width: model.input.width,
				height: model.input.height,
				maxFrames: SEGMENT_SECONDS * FPS,
			}))
				await detection.add(frame);
		} catch (err) {
			// The last segment may be shorter: what it had is detected.
			if (!(err instanceof FrameDecodeError)) throw err;
		}
		await detection.flush();
		frames += detection.frames.length;
		seconds.push(Number(process.hrtime.bigint() - started) / 1e9);
	}
	return { seconds, detected, frames };
}

/** Lag of each segment (finished minus recorded end) for `cameras` cameras on one node, FIFO, measured times in turn. */
function simulateLag(cameras: number, times: number[]): { p95: number; max: number; growing: boolean } {
	const arrivals: { at: number }[] = [];
	for (let c = 0; c < cameras; c++)
		for (let t = SEGMENT_SECONDS + (c * SEGMENT_SECONDS) / cameras; t <= SIMULATED_SECONDS; t += SEGMENT_SECONDS) arrivals.push({ at: t });
	arrivals.sort((a, b) => a.at - b.at);
	let free = 0;
	const lags = arrivals.map((a, i) => {
		free = Math.max(free, a.at) + times[i % times.length];
		return free - a.at;
	});
	const sorted = [...lags].sort((a, b) => a - b);
	const lastMinute = lags.slice(-Math.ceil(lags.length / 10));
	const firstMinute = lags.slice(0, Math.ceil(lags.length / 10));
	const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
	return { p95: sorted[Math.floor(sorted.length * 0.95)], max: sorted[sorted.length - 1], growing: mean(lastMinute) > mean(firstMinute) + 2 * SEGMENT_SECONDS };
}

const pad = (s: string, n: number) => s.padEnd(n);
const ms = (seconds: number) => `${(seconds * 1000).toFixed(1)} ms`;

async function main(): Promise<void> {
	const dir = mkdtempSync(path.join(tmpdir(), "vigil-bench-live-"));
	try {
		const info = await probeVideo(video, { ffprobe: toolPath("ffprobe", process.env.FFPROBE_PATH), ffmpeg });
		const source = { width: info.width, height: info.height };
		const clipFrames = Math.floor(info.durationSec * FPS + 1e-6);
		const model = await loadDetector(modelDir);
		await model.warmUp();
		console.log(`model ${model.modelName} on ${model.backend}, ${FPS} fps, ${SEGMENT_SECONDS} s segments, batch ${BATCH}, one segment at a time; ${ffmpeg}\n`);

		// Decoding per frame: the bare baseline, the upload way and the live way.
		const bare = await decode(video, 0, clipFrames, source, model.input);
		const perSegment = SEGMENT_SECONDS * FPS;
		const upload = { cpuSeconds: 0, wallSeconds: 0 };
		for (let first = 0; first < clipFrames; first += perSegment) {
			const d = await decode(video, first / FPS, Math.min(perSegment, clipFrames - first), source, model.input);
			upload.cpuSeconds += d.cpuSeconds;
			upload.wallSeconds += d.wallSeconds;
		}
		const street = liveSegments(dir, "street", ["-i", video]);
		const live = { cpuSeconds: 0, wallSeconds: 0 };
		for (const file of street) {
			const d = await decode(file, 0, perSegment, source, model.input);
			live.cpuSeconds += d.cpuSeconds;
			live.wallSeconds += d.wallSeconds;
		}
		console.log(pad("decoding per frame", 44) + pad("ffmpeg CPU", 14) + pad("wall", 12) + "CPU vs bare");
		for (const [name, d] of [
			["bare: one ffmpeg over the clip", bare],
			["upload: an ffmpeg and a seek per segment", upload],
			["live: stream-copied segments", live],
		] as const)
			console.log(
				pad(name, 44) + pad(ms(d.cpuSeconds / clipFrames), 14) + pad(ms(d.wallSeconds / clipFrames), 12) + `${(d.cpuSeconds / bare.cpuSeconds).toFixed(2)}x`,
			);

		// The floor: the model alone on frames decoded beforehand, in the same batches.
		const started = process.hrtime.bigint();
		for (let i = 0; i < bare.frames.length; i += BATCH) {
			const batch = bare.frames.slice(i, i + BATCH);
			await model.detect(
				batch,
				batch.map(() => source),
				detect,
			);
		}
		const inferenceFloor = Number(process.hrtime.bigint() - started) / 1e9 / bare.frames.length;
		const floorSegment = inferenceFloor * perSegment;
		console.log(
			`\nbare inference: ${ms(inferenceFloor)} a frame, ${ms(floorSegment)} a segment: ${(SEGMENT_SECONDS / floorSegment).toFixed(2)} cameras at full rate at best`,
		);

		const held = Math.max(0, info.durationSec - 2);
		const quiet = liveSegments(dir, "quiet", ["-i", video, "-vf", `trim=duration=2,tpad=stop_mode=clone:stop_duration=${held}`, "-r", String(info.fps || 10)]);
		console.log(
			`\n${pad("scene", 9)}${pad("motion gate", 13)}${pad("detected", 11)}${pad("per segment", 14)}${pad("cameras", 9)}lag p95 (max) at that many cameras, and one more`,
		);
		for (const [scene, files] of [
			["street", street],
			["quiet", quiet],
		] as const)
			for (const motion of [false, true]) {
				const { seconds, detected, frames } = await segmentTimes(model, files, source, motion);
				const mean = seconds.reduce((s, x) => s + x, 0) / seconds.length;
				const cameras = Math.floor(SEGMENT_SECONDS / mean);
				const at = (n: number) => {
					if (n < 1) return "-";
					const lag = simulateLag(n, seconds);
					return lag.growing ? `${n}: falls behind` : `${n}: ${lag.p95.toFixed(1)} s (${lag.max.toFixed(1)} s)`;
				};
				console.log(
					pad(scene, 9) +
						pad(motion ? "on" : "off", 13) +
						pad(`${detected}/${frames}`, 11) +
						pad(ms(mean), 14) +
						pad(`${(mean / floorSegment).toFixed(2)}x`, 9) +
						pad(`${(SEGMENT_SECONDS / mean).toFixed(2)}`, 9) +
						`${at(cameras)}; ${at(cameras + 1)}`,
				);
			}
		model.dispose();
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

main().catch((err) => {
	console.error(err);
	process.exit(1);
});
