/**
 * Video in and out through ffmpeg/ffprobe child processes: probing an upload, and streaming sampled frames as
 * raw RGB from ffmpeg's stdout (no temporary image files), scaled by ffmpeg to the model's input.
 */
import { spawn } from "node:child_process";
import { open } from "node:fs/promises";

export interface VideoInfo {
	durationSec: number;
	width: number;
	height: number;
	fps: number;
	codec: string;
}

export class VideoError extends Error {
	constructor(message: string, readonly kind: "unsupported" | "undecodable") {
		super(message);
		this.name = "VideoError";
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
		let stdout = "", stderr = "";
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
	let parsed: { streams?: Record<string, string | number>[]; format?: { duration?: string } } = {};
	try {
		parsed = JSON.parse(probe.stdout || "{}");
	} catch {
		/* handled below */
	}
	const stream = parsed.streams?.[0];
	if (probe.code !== 0 || !stream) throw new VideoError(`No decodable video stream: ${lastLine(probe.stderr) || "ffprobe found none"}`, "undecodable");
	const [num, den] = String(stream.avg_frame_rate ?? stream.r_frame_rate ?? "0/1").split("/").map(Number);
	const durationSec = Number(stream.duration ?? parsed.format?.duration ?? 0);
	const info = { durationSec, width: Number(stream.width), height: Number(stream.height), fps: den ? num / den : 0, codec: String(stream.codec_name) };
	if (!(info.width > 0 && info.height > 0 && durationSec > 0)) throw new VideoError("The video has no frames or no duration", "undecodable");
	// Decode the first second for real: this is what catches a clip cut off in the middle of its data.
	const decode = await run(tools.ffmpeg, ["-v", "error", "-xerror", "-t", "1", "-i", file, "-f", "null", "-"], 30_000);
	if (decode.code !== 0) throw new VideoError(`The video does not decode: ${lastLine(decode.stderr)}`, "undecodable");
	return info;
}

const lastLine = (text: string) => text.trim().split("\n").pop()?.trim() ?? "";

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
 * Yields sampled frames of a time range as RGB24 buffers. A decode error midway ends the iteration with a
 * VideoError after the frames already produced, so a caller keeps what it got.
 */
export async function* readFrames(ffmpeg: string, req: FrameRequest, signal?: AbortSignal): AsyncGenerator<Buffer> {
	const frameBytes = req.width * req.height * 3;
	const args = [
		// -xerror: ffmpeg otherwise exits 0 after "Invalid data" in a damaged file, and the frames would silently be missing.
		"-v", "error", "-nostdin", "-xerror",
		"-ss", req.startSec.toFixed(3), "-t", req.durationSec.toFixed(3), "-i", req.file,
		"-an", "-vf", `fps=${req.fps},${req.scaleFilter}`, "-pix_fmt", "rgb24", "-f", "rawvideo", "pipe:1",
	];
	const child = spawn(ffmpeg, args, { stdio: ["ignore", "pipe", "pipe"], signal });
	let stderr = "";
	child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d).slice(-8000)));
	const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
	child.on("error", () => undefined);
	let pending: Buffer = Buffer.alloc(0);
	let produced = 0;
	try {
		for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
			pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
			while (pending.length >= frameBytes && produced < req.maxFrames) {
				yield pending.subarray(0, frameBytes);
				pending = pending.subarray(frameBytes);
				produced++;
			}
			if (produced >= req.maxFrames) break;
		}
	} finally {
		if (child.exitCode === null) child.kill("SIGKILL");
	}
	const code = await exited;
	if (produced < req.maxFrames && code !== 0 && !signal?.aborted) throw new VideoError(`Decoding failed after ${produced} frames: ${lastLine(stderr) || `ffmpeg exited with ${code}`}`, "undecodable");
}
