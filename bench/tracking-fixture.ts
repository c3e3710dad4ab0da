/**
 * Writes the detections the tracker's footage test replays: the bundled detector (or the one named) on the shared
 * street clip, sampled as a clip is (5 fps by default), people only, with a low score floor so the test sees the
 * low-score boxes of half-hidden people that the tracker's second pass is for. Boxes are rounded to 4 decimals
 * (a tenth of a pixel at 768x576), which keeps the file small and its diffs readable.
 *
 *   node dist/bench/tracking-fixture.js [video] [out.json] [modelDir]     (run from the repository root)
 *   FIXTURE_FPS (default 5) and FIXTURE_MIN_SCORE (default 0.1) change the sampling and the floor.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { toolPath } from "../lib/media/tools";
import { probeVideo, readFrames } from "../lib/media/video";
import { bundledModelDir } from "../lib/platform/paths";
import { loadDetector } from "../lib/vision/detector";
import { ffmpegFilter, letterbox } from "../lib/vision/letterbox";
import type { Detection } from "../lib/vision/types";

const video = process.argv[2] ?? "../shared/media/vtest_10s.mp4";
const out = process.argv[3] ?? "test/fixtures/street-detections.json";
const modelDir = process.argv[4] ?? bundledModelDir();
const fps = Number(process.env.FIXTURE_FPS ?? 5);
const minScore = Number(process.env.FIXTURE_MIN_SCORE ?? 0.1);
/** As the detector service has them. */
const opts = { minScore, iouThreshold: 0.45, maxDetections: 100, classes: ["person"] };

/** One detection as stored: score and box, rounded. The class is always person. */
export type FixtureDetection = [score: number, x1: number, y1: number, x2: number, y2: number];

export interface TrackingFixture {
	video: string;
	model: string;
	width: number;
	height: number;
	fps: number;
	minScore: number;
	/** Detections per sampled frame, frame k at k / fps seconds. */
	frames: FixtureDetection[][];
}

const round = (v: number) => Math.round(v * 1e4) / 1e4;

async function main(): Promise<void> {
	const info = await probeVideo(video, { ffprobe: toolPath("ffprobe"), ffmpeg: toolPath("ffmpeg") });
	const model = await loadDetector(modelDir);
	await model.warmUp();
	const source = { width: info.width, height: info.height };
	const frameCount = Math.floor(info.durationSec * fps + 1e-6);
	const frames: FixtureDetection[][] = [];
	for await (const frame of readFrames(toolPath("ffmpeg"), {
		file: video,
		startSec: 0,
		durationSec: (frameCount + 0.5) / fps,
		fps,
		scaleFilter: ffmpegFilter(letterbox(source, model.input)),
		width: model.input.width,
		height: model.input.height,
		maxFrames: frameCount,
	})) {
		const [found] = await model.detect([frame], [source], opts);
		frames.push(found.map((d: Detection) => [round(d.score), ...(d.box.map(round) as Detection["box"])]));
	}
	model.dispose();
	const fixture: TrackingFixture = { video: path.basename(video), model: model.modelName, ...source, fps, minScore, frames };
	// One frame per line: small, and a change to the detector shows frame by frame in a diff.
	const body = fixture.frames.map((f) => `    ${JSON.stringify(f)}`).join(",\n");
	const head = JSON.stringify({ ...fixture, frames: undefined }, null, 2).replace(/\n}$/, "");
	writeFileSync(out, `${head},\n  "frames": [\n${body}\n  ]\n}\n`);
	const boxes = frames.reduce((n, f) => n + f.length, 0);
	console.log(`${frames.length} frames, ${boxes} detections (${model.modelName} on ${model.backend}) -> ${out}`);
}

main().catch((err) => {
	console.error(err);
	process.exit(1);
});
