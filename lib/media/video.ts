/**
 * Video in and out through ffmpeg/ffprobe child processes: probing an upload, and streaming sampled frames as
 * raw RGB from ffmpeg's stdout (no temporary image files), scaled by ffmpeg to the model's input.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { open } from "node:fs/promises";

export interface VideoInfo {
	durationSec: number;
	width: number;
	height: number;
	fps: number;
	codec: string;
}

export class VideoError extends Error {
	constructor(
		message: string,
		readonly kind: "unsupported" | "undecodable",
	) {
		super(message);
		this.name = "VideoError";
	}
}

/**
 * Frames of a range that could not be decoded. `reason` is a label for metrics: "ended_early" (the data ran out
 * before the range's frames: a truncated file) or "decoder_failed" (ffmpeg gave up with an error).
 */
export class FrameDecodeError extends VideoError {
	constructor(
		readonly decoded: number,
		readonly expected: number,
		readonly reason: "ended_early" | "decoder_failed",
		readonly detail: string,
	) {
		super(`Decoding failed after ${decoded} of ${expected} frames: ${detail}`, "undecodable");
		this.name = "FrameDecodeError";
	}
}

/** ISO-BMFF (mp4/mov) files carry an `ftyp` box at offset 4; anything else is not the video we take. */
export async function looksLikeMp4(file: string): Promise<boolean> {
	const handle = await open(file, "r");
	try {
		const head = Buffer.alloc(12);
		const { bytesRead } = await handle.read(head, 0, 12, 0);
		return bytesRead >= 8 && head.toString("latin1", 4, 8) === "ftyp";
	} finally {
		await handle.close();
	}
}

function run(bin: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
	return new Promise((resolve, reject) => {
		const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
		let stdout = "",
			stderr = "";
		child.stdout.on("data", (d: Buffer) => (stdout += d));
		child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d).slice(-8000)));
		const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
		child.on("error", reject);
		child.on("close", (code) => {
			clearTimeout(timer);
			resolve({ code, stdout, stderr });
		});
	});
}

/**
 * Probes a file and makes sure its first frames really decode (a truncated mp4 can still have a readable header).
 * Throws VideoError("unsupported") for non-mp4 content and ("undecodable") for broken video.
 */
export async function probeVideo(file: string, tools: { ffprobe: string; ffmpeg: string }): Promise<VideoInfo> {
	if (!(await looksLikeMp4(file))) throw new VideoError("The content is not an MP4 video", "unsupported");
	const probe = await run(tools.ffprobe, ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", "-select_streams", "v:0", file], 30_000);
	let parsed: { streams?: ProbedStream[]; format?: { duration?: string } } = {};
	try {
		parsed = JSON.parse(probe.stdout || "{}");
	} catch {
		/* handled below */
	}
	const stream = parsed.streams?.[0];
	if (probe.code !== 0 || !stream) throw new VideoError(`No decodable video stream: ${lastLine(probe.stderr) || "ffprobe found none"}`, "undecodable");
	const [num, den] = String(stream.avg_frame_rate ?? stream.r_frame_rate ?? "0/1")
		.split("/")
		.map(Number);
	const durationSec = Number(stream.duration ?? parsed.format?.duration ?? 0);
	// A phone held upright records landscape pixels and a rotation tag; ffmpeg turns decoded frames upright, so
	// the clip's size (and every frame and snapshot made from it) is the displayed one.
	const sideways = quarterTurns(stream) % 2 === 1;
	const [width, height] = sideways ? [Number(stream.height), Number(stream.width)] : [Number(stream.width), Number(stream.height)];
	const info = { durationSec, width, height, fps: den ? num / den : 0, codec: String(stream.codec_name) };
	if (!(info.width > 0 && info.height > 0 && durationSec > 0)) throw new VideoError("The video has no frames or no duration", "undecodable");
	// Decode the first second for real: this is what catches a clip cut off in the middle of its data. Damage the
	// decoder conceals is no reason to refuse (frames still come out, with warnings); missing frames are. The fps
	// filter fills frames the decoder dropped, so only data that runs out leaves the count short.
	const firstSecond = Math.min(1, durationSec);
	const sampling = info.fps > 0 ? ["-vf", `fps=${info.fps},scale=16:16`] : ["-vf", "scale=16:16"];
	const decode = await run(tools.ffmpeg, ["-v", "error", "-nostdin", "-t", String(firstSecond), "-i", file, "-an", ...sampling, "-f", "framecrc", "-"], 30_000);
	const decoded = decode.stdout.split("\n").filter((line) => line.trim() && !line.startsWith("#")).length;
	// One frame of slack: where the cut of -t falls between two frames is a matter of rounding.
	const expected = Math.max(1, Math.floor(firstSecond * info.fps + 1e-6) - 1);
	if (decode.code !== 0 || decoded < expected)
		throw new VideoError(`The video does not decode: ${lastLine(decode.stderr) || `${decoded} of its first ${expected} frames came out`}`, "undecodable");
	return info;
}

interface ProbedStream {
	[field: string]: unknown;
	tags?: { rotate?: string };
	side_data_list?: { rotation?: number }[];
}

/** Quarter turns (0..3) the stream is rotated for display: the display matrix, or the older `rotate` tag. */
function quarterTurns(stream: ProbedStream): number {
	const matrix = stream.side_data_list?.find((d) => typeof d.rotation === "number")?.rotation;
	const degrees = Number(matrix ?? stream.tags?.rotate ?? 0);
	if (!Number.isFinite(degrees)) return 0;
	return ((Math.round(degrees / 90) % 4) + 4) % 4;
}

/** ffmpeg's last log line, as clients see it: without the file's server path, which ffmpeg puts first. */
const lastLine = (text: string) =>
	(text.trim().split("\n").pop()?.trim() ?? "")
		.replace(/^(?:[A-Za-z]:)?[\\/].*?: /, "")
		.replace(/(?<=^|[\s'"(])(?:[A-Za-z]:)?[\\/][^\s'"]*[\\/][^\s'"]*/g, "(file)");

export interface FrameRequest {
	file: string;
	startSec: number;
	durationSec: number;
	fps: number;
	/** ffmpeg filter that produces exactly width x height (e.g. a letterbox), applied after fps sampling. */
	scaleFilter: string;
	width: number;
	height: number;
	/** Stop after this many frames (a segment's share), so neighbouring segments never overlap. */
	maxFrames: number;
}

/**
 * Yields sampled frames of a time range as RGB24 buffers (a new one per frame), in display orientation. `stats`
 * hears ffmpeg's own CPU time once its output ends: the cost of decoding alone, whatever else the process did. Damage the decoder recovers
 * from is decoded past (ffmpeg warns and conceals; the fps filter repeats a frame it had to drop). Frames that
 * never come, because the data ends or ffmpeg gives up, end the iteration with a FrameDecodeError after the
 * frames already produced, so a caller keeps what it got.
 */
export async function* readFrames(
	ffmpeg: string,
	req: FrameRequest,
	signal?: AbortSignal,
	stats?: (cpuSeconds: number | null) => void,
): AsyncGenerator<Buffer> {
	const frameBytes = req.width * req.height * 3;
	const args = [
		// No -xerror: one damaged packet would end the whole range. A shortfall of frames is what counts (below).
		"-v",
		"error",
		"-nostdin",
		"-ss",
		req.startSec.toFixed(3),
		"-t",
		req.durationSec.toFixed(3),
		"-i",
		req.file,
		"-an",
		"-vf",
		`fps=${req.fps},${req.scaleFilter}`,
		"-pix_fmt",
		"rgb24",
		"-f",
		"rawvideo",
		"pipe:1",
	];
	const child = spawn(ffmpeg, args, { stdio: ["ignore", "pipe", "pipe"], signal });
	let stderr = "";
	child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d).slice(-8000)));
	const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
	child.on("error", () => undefined);
	// Each frame is filled straight from ffmpeg's chunks (about 64 KB each) into its own buffer: no re-concatenation,
	// and the caller may keep the frame without copying it.
	let frame = Buffer.allocUnsafe(frameBytes);
	let filled = 0;
	let produced = 0;
	try {
		for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
			let offset = 0;
			while (offset < chunk.length && produced < req.maxFrames) {
				const taken = chunk.copy(frame, filled, offset, Math.min(chunk.length, offset + frameBytes - filled));
				offset += taken;
				filled += taken;
				if (filled < frameBytes) break;
				if (++produced === req.maxFrames) stats?.(decodeCpuSeconds(child.pid));
				yield frame;
				frame = Buffer.allocUnsafe(frameBytes);
				filled = 0;
			}
			if (produced >= req.maxFrames) break;
		}
		if (produced < req.maxFrames) stats?.(decodeCpuSeconds(child.pid));
	} finally {
		if (child.exitCode === null) child.kill("SIGKILL");
	}
	const code = await exited;
	if (produced >= req.maxFrames || signal?.aborted) return;
	// ffmpeg exits 0 when a truncated file simply runs out, so too few frames fail the range whatever the exit code.
	if (code !== 0) throw new FrameDecodeError(produced, req.maxFrames, "decoder_failed", lastLine(stderr) || `ffmpeg exited with ${code}`);
	throw new FrameDecodeError(produced, req.maxFrames, "ended_early", lastLine(stderr) || "the video ends before these frames");
}

/** Clock ticks per second of /proc's CPU times: 100 on every Linux Node runs on. */
const CLOCK_TICKS = 100;

/** CPU seconds (user + system) a running child has used, from /proc; null where there is no /proc. */
export function decodeCpuSeconds(pid: number | undefined): number | null {
	if (pid === undefined) return null;
	try {
		// The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
		const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
		const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
		return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
	} catch {
		return null;
	}
}
