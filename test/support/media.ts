/** The real footage in ../shared (a fresh clone elsewhere lacks it: tests using it skip and say so; CI has it). */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toolPath } from "../../lib/media/tools";
import { requireService } from "./require";

export const SHARED = join(__dirname, "..", "..", "..", "shared");
export const STREET_CLIP = join(SHARED, "media", "vtest_10s.mp4");
export const hasStreetClip = existsSync(STREET_CLIP);
export const streetClip = (): Buffer => readFileSync(STREET_CLIP);

/** The footage, or a visible skip (a failure under CI, which has it). */
export const requireFootage = (what: string): boolean => hasStreetClip || requireService(`../shared/media/vtest_10s.mp4 (for ${what})`, false);

/** describe() when the footage is there, else a visible skip (under CI, a failure). */
export function describeWithFootage(name: string, fn: () => void) {
	if (requireFootage(name)) describe(name, fn);
	else describe.skip(name, fn);
}

/** Polls until `check` returns a value (not undefined) or the time is up. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 60000, everyMs = 250): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error(`Condition not met within ${timeoutMs} ms`);
		await new Promise((r) => setTimeout(r, everyMs));
	}
}

/**
 * A small video of ffmpeg's test pattern, for fixture clips whose frames only need to exist: mpeg4, or H.264 with
 * a keyframe every `keyframeEvery` frames where it must stream over RTSP and be cut into short segments.
 */
export function testPatternVideo(size: { width: number; height: number; fps: number; frames: number; keyframeEvery?: number }): string {
	const file = join(mkdtempSync(join(tmpdir(), "vigil-pattern-")), "pattern.mp4");
	const source = `testsrc=size=${size.width}x${size.height}:rate=${size.fps}:duration=${size.frames / size.fps}`;
	const codec = size.keyframeEvery ? ["-c:v", "libx264", "-g", String(size.keyframeEvery), "-preset", "ultrafast"] : ["-c:v", "mpeg4"];
	const made = spawnSync(toolPath("ffmpeg"), ["-v", "error", "-f", "lavfi", "-i", source, ...codec, "-pix_fmt", "yuv420p", "-y", file]);
	if (made.status !== 0) throw new Error(`ffmpeg: ${made.stderr}`);
	return file;
}
