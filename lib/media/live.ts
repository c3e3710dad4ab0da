/**
 * One live camera stream, read by one ffmpeg. The video is stream-copied into segment files of about
 * `segmentSeconds` (no re-encode, so a camera costs little CPU; a cut can only fall on a keyframe), and a small
 * JPEG of the latest frame is rewritten once a second. When frames stop coming ffmpeg is killed and the stream
 * reconnected, with exponential backoff and full jitter; the state says in words why a camera is not streaming,
 * never with its password.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { statSync } from "node:fs";
import { mkdir, open, readdir, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { liveSegmentsDropped } from "../platform/metrics";

type Log = (...args: unknown[]) => void;

export interface LiveSessionOptions {
	/** rtsp://, rtsps://, http(s):// (HLS, MJPEG), or, for tests, a file path. */
	url: string;
	/** RTSP only; default tcp (UDP loses packets on busy networks and does not pass NAT). */
	transport?: "tcp" | "udp";
	/** Target segment length; with stream copy a segment is cut at the first keyframe after it. */
	segmentSeconds: number;
	/** Where segment files and latest.jpg go (created by the session). */
	dir: string;
	/** ffmpeg binary (toolPath("ffmpeg")). */
	ffmpeg: string;
	/** No new frame for this long: ffmpeg is killed and the stream restarted. */
	stallSeconds: number;
	/** Reconnect delay: exponential from baseMs, capped at maxMs, with full jitter. */
	backoff: { baseMs: number; maxMs: number };
	/** latest.jpg width (default 640). */
	frameWidth?: number;
	/** Tests: read a file in a loop at its own speed, like a camera. */
	loopFile?: boolean;
	/** Messages never contain the credentials. */
	logger?: { info: Log; warn: Log; error: Log; debug: Log };
}

export type LiveError = "unauthorized" | "unreachable" | "not_found" | "bad_stream" | "stalled" | "exited";

export type LiveState =
	| { status: "connecting"; attempt: number }
	| { status: "streaming"; since: Date }
	/** `message` is for people, with credentials masked. */
	| { status: "error"; error: LiveError; message: string; retryInMs: number }
	| { status: "stopped" };

/** A complete, playable segment file; `startedAt` is wall-clock. From the `segment` call on the file is the caller's: the session never deletes it. */
export interface LiveSegment {
	file: string;
	startedAt: Date;
	durationSec: number;
	index: number;
}

export interface LiveEvents {
	segment(segment: LiveSegment): void | Promise<void>;
	state(state: LiveState): void;
	/** Frames are flowing; at most once a second. */
	frame?(at: Date): void;
}

/** A connection that streamed this long was a working one: the next failure starts the backoff over. */
const STABLE_MS = 30_000;
/** Before its first frame ffmpeg connects and probes the stream (up to 5 s of it by default): allowed on top of stallSeconds. */
const FIRST_FRAME_GRACE_MS = 10_000;
/** ffmpeg's own socket timeout is never below this, so that a slow RTSP handshake is not cut short. */
const MIN_IO_TIMEOUT_SEC = 5;
/** How often the segment list is read and the stall clock looked at. */
const TICK_MS = 500;
/** ffmpeg gets this long to exit after SIGTERM before it is killed outright. */
const KILL_AFTER_MS = 3_000;
/** A listed segment still not whole after this long, while ffmpeg runs, is given up on. */
const COMPLETE_WAIT_MS = 5_000;
const LATEST = "latest.jpg";
const LIST = "segments.csv";
const SEGMENT_FILE = /^seg-(\d{6,})\.mp4$/;

const USERINFO = /([a-z][a-z0-9+.-]*:\/\/[^\s:@/]*):[^\s/]*@/gi;
const SECRET_PARAMS = /([?&](?:password|passwd|pass|pwd|token|key|auth|secret)=)[^&\s#'"]*/gi;

/**
 * rtsp://user:pass@host/x -> rtsp://user:***@host/x in any text holding URLs (ffmpeg's messages), secret query
 * parameters too; lib/security/secrets.ts maskUrl masks one well-formed URL for the API.
 */
export function maskUrlsIn(url: string): string {
	return url.replace(USERINFO, "$1:***@").replace(SECRET_PARAMS, "$1***");
}

/** The secrets in a stream URL, to blank wherever they turn up (ffmpeg may print a URL cut or decoded). */
function secretsOf(url: string): string[] {
	const found = [/^[a-z][a-z0-9+.-]*:\/\/[^\s:@/]*:([^\s/]*)@/i.exec(url)?.[1] ?? ""];
	for (const match of url.matchAll(SECRET_PARAMS)) found.push(url.slice(match.index + match[1].length).split(/[&\s#'"]/)[0]);
	const decoded = found.map((secret) => {
		try {
			return decodeURIComponent(secret);
		} catch {
			return secret;
		}
	});
	// Very short secrets would blank ordinary words; the URL masking covers them where ffmpeg prints the URL.
	return [...new Set([...found, ...decoded])].filter((secret) => secret.length >= 4);
}

const FAILURES: [LiveError, RegExp, string][] = [
	["unauthorized", /\b40[13]\b|Unauthorized|Forbidden/i, "The camera refused the user name or password"],
	["not_found", /\b404\b|Not Found|No such file or directory/i, "The camera has no stream at this address"],
	[
		"unreachable",
		/Connection refused|timed out|No route to host|Network is unreachable|Host is unreachable|Name or service not known|Failed to resolve|name resolution|Connection reset/i,
		"The camera cannot be reached",
	],
	["bad_stream", /Invalid data found|matches no streams|could not find codec parameters/i, "The camera does not send video that can be read"],
];

/**
 * Why an ffmpeg run ended, from the tail of its stderr (masked): a kind for the API and a sentence for people.
 * URLs and server paths are left out of the sentence; the camera is known to whoever reads it.
 */
export function classifyExit(stderr: string, run: { code: number | null; streamed: boolean }): { error: LiveError; message: string } {
	const text = stderr.replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, "(camera)").replace(/(?<=^|[\s'"(])\/[^\s'"]*\/[^\s'":]*/g, "(file)");
	const detail = (text.trim().split("\n").pop() ?? "")
		.replace(/^\[[^\]]*\]\s*/, "")
		.replace(/^\((?:camera|file)\):?\s*/, "")
		.trim()
		.slice(0, 200);
	const because = detail ? ` (${detail})` : "";
	for (const [error, pattern, summary] of FAILURES) {
		if (!pattern.test(text)) continue;
		// A stream that flowed and then timed out went quiet: a stall, whatever the socket calls it.
		if (error === "unreachable" && run.streamed && /timed out/i.test(text)) return { error: "stalled", message: `The camera stopped sending video${because}` };
		return { error, message: `${summary}${because}` };
	}
	if (run.streamed && run.code === 0) return { error: "exited", message: `The stream ended${because}` };
	return { error: "exited", message: `ffmpeg stopped with code ${run.code}${because}` };
}

interface Capabilities {
	/** The RTSP socket timeout: `stimeout` up to ffmpeg 4 (where `timeout` means listen!), `timeout` after. */
	rtspTimeout: "stimeout" | "timeout";
	/** image2's atomic_writing: latest.jpg is replaced by a rename, never seen half written. */
	atomicWriting: boolean;
}

const capabilityCache = new Map<string, Promise<Capabilities>>();

function help(ffmpeg: string, topic: string): Promise<string> {
	return new Promise((resolve) => {
		const child = spawn(ffmpeg, ["-hide_banner", "-h", topic], { stdio: ["ignore", "pipe", "ignore"] });
		let out = "";
		child.stdout.on("data", (d: Buffer) => (out += d));
		child.on("error", () => resolve(""));
		child.on("close", () => resolve(out));
	});
}

/** What this ffmpeg build's options are called: asked once per binary. */
function capabilities(ffmpeg: string): Promise<Capabilities> {
	let found = capabilityCache.get(ffmpeg);
	if (!found) {
		found = Promise.all([help(ffmpeg, "demuxer=rtsp"), help(ffmpeg, "muxer=image2")]).then(([rtsp, image2]) => {
			// A binary that did not answer is asked again next time (it may be installed by then).
			if (!rtsp && !image2) capabilityCache.delete(ffmpeg);
			return { rtspTimeout: /-stimeout\b/.test(rtsp) ? "stimeout" : "timeout", atomicWriting: /-atomic_writing\b/.test(image2) };
		});
		capabilityCache.set(ffmpeg, found);
	}
	return found;
}

/**
 * Whether an mp4 file is whole: its top-level boxes, moov and mdat among them, end exactly at the end of the file.
 * ffmpeg lists a segment before it flushes the segment's last bytes (the moov, with faststart).
 */
async function mp4Complete(file: string): Promise<boolean> {
	let handle: FileHandle | undefined;
	try {
		handle = await open(file, "r");
		const { size } = await handle.stat();
		const header = Buffer.alloc(16);
		const seen = new Set<string>();
		let offset = 0;
		while (offset < size) {
			const { bytesRead } = await handle.read(header, 0, 16, offset);
			if (bytesRead < 8) return false;
			let length = header.readUInt32BE(0);
			if (length === 1) length = bytesRead === 16 ? Number(header.readBigUInt64BE(8)) : 0;
			else if (length === 0) length = size - offset;
			if (length < 8) return false;
			seen.add(header.toString("latin1", 4, 8));
			offset += length;
		}
		return offset === size && seen.has("moov") && seen.has("mdat");
	} catch {
		return false;
	} finally {
		await handle?.close();
	}
}

/** One ffmpeg process of the session, from spawn to exit. */
interface Run {
	child: ChildProcess;
	spawnedAt: number;
	/** Wall-clock ms of the stream's time 0, known from the first frame. */
	anchor?: number;
	frames: number;
	lastFrameAt: number;
	/** The number of the next segment file this run lists; files from there on are not closed yet. */
	unlisted: number;
	listOffset: number;
	listRest: string;
	listing?: Promise<void>;
	/** Last lines of stderr, masked. */
	stderr: string[];
	stderrRest: string;
	/** Set when the session killed it (a stall): why, instead of what ffmpeg said. */
	failure?: { error: LiveError; message: string };
	exited: boolean;
	tick: NodeJS.Timeout;
	killTimer?: NodeJS.Timeout;
	/** Resolves once the exit is handled (segments read, partial ones removed, the retry planned). */
	done: Promise<void>;
}

interface Listed {
	segment: LiveSegment;
	run: Run;
	listedAt: number;
}

const noop = () => undefined;
const quiet: Required<LiveSessionOptions>["logger"] = { info: noop, warn: noop, error: noop, debug: noop };

export class LiveSession {
	private current: LiveState = { status: "stopped" };
	private readonly log: Required<LiveSessionOptions>["logger"];
	/** The URL as it may be shown. */
	private readonly label: string;
	private readonly secrets: string[];
	private started = false;
	private stopping = false;
	private stopped?: Promise<void>;
	private startedAt = 0;
	private run?: Run;
	private connecting?: Promise<void>;
	private retryTimer?: NodeJS.Timeout;
	/** Failed attempts since the stream last worked: the backoff's exponent. */
	private failures = 0;
	private lastFrameEvent = 0;
	/** Segment files are numbered across runs, so a restart never overwrites a file the caller has not taken yet. */
	private nextNumber = 0;
	private nextIndex = 0;
	private lastStartedAt = 0;
	private readonly queue: Listed[] = [];
	private pumping = false;
	private pumpAgain = false;

	constructor(
		private readonly options: LiveSessionOptions,
		private readonly events: LiveEvents,
	) {
		this.log = options.logger ?? quiet;
		this.label = maskUrlsIn(options.url);
		this.secrets = secretsOf(options.url);
	}

	get state(): LiveState {
		return this.current;
	}

	/** Connects, and keeps reconnecting until stop(). */
	start(): void {
		if (this.started || this.stopping) return;
		this.started = true;
		this.startedAt = Date.now();
		this.connecting = this.connect();
	}

	/** Kills ffmpeg and waits for it; partial segments and listed ones not handed over yet are deleted. */
	stop(): Promise<void> {
		if (!this.stopping) {
			this.stopping = true;
			this.stopped = this.shutdown();
		}
		return this.stopped as Promise<void>;
	}

	/** Segments listed and waiting to be handed over, behind the one in hand. */
	waiting(): number {
		return this.queue.length;
	}

	/** dir/latest.jpg once this session has written it. */
	latestFramePath(): string | null {
		const path = join(this.options.dir, LATEST);
		try {
			// A frame left by an earlier session is not this camera's latest.
			return this.started && statSync(path).mtimeMs >= this.startedAt ? path : null;
		} catch {
			return null;
		}
	}

	private async shutdown(): Promise<void> {
		clearTimeout(this.retryTimer);
		this.retryTimer = undefined;
		// Segments not handed over yet are not the caller's: they go, with the one ffmpeg was writing.
		const unclaimed = this.queue.splice(0).map((listed) => listed.segment.file);
		if (unclaimed.length) {
			liveSegmentsDropped.inc({ reason: "stopped" }, unclaimed.length);
			this.log.warn(`Live stream ${this.label}: ${unclaimed.length} segment(s) not handed over before the stop were dropped`);
		}
		// A connect between its awaits sees `stopping` and spawns nothing.
		await this.connecting;
		const run = this.run;
		if (run) {
			this.kill(run);
			await run.done;
			await this.discard((number) => number >= run.unlisted);
		}
		for (const file of unclaimed) await unlink(file).catch(noop);
		await unlink(join(this.options.dir, LIST)).catch(noop);
		await unlink(join(this.options.dir, `${LATEST}.tmp`)).catch(noop);
		this.setState({ status: "stopped" });
		if (this.started) this.log.info(`Live stream ${this.label}: stopped`);
	}

	private async connect(): Promise<void> {
		this.retryTimer = undefined;
		if (this.stopping) return;
		this.setState({ status: "connecting", attempt: this.failures + 1 });
		let args: string[];
		let firstNumber: number;
		try {
			await mkdir(this.options.dir, { recursive: true });
			// A list left by the last run would be read again as this run's.
			await unlink(join(this.options.dir, LIST)).catch(noop);
			firstNumber = await this.numberAfterExisting();
			args = this.arguments(await capabilities(this.options.ffmpeg), firstNumber);
		} catch (err) {
			return this.failed({ error: "exited", message: `The live folder cannot be written (${(err as NodeJS.ErrnoException).code ?? "error"})` }, false);
		}
		if (this.stopping) return;
		this.log.debug(`Live stream ${this.label}: starting ffmpeg ${args.map((arg) => this.redact(arg)).join(" ")}`);
		try {
			this.spawn(args, firstNumber);
		} catch (err) {
			// Arguments spawn() refuses outright (a URL holding a NUL byte); a missing binary is reported on the child.
			this.failed({ error: "exited", message: `ffmpeg could not be started (${(err as NodeJS.ErrnoException).code ?? "error"})` }, false);
		}
	}

	private async numberAfterExisting(): Promise<number> {
		for (const name of await readdir(this.options.dir)) {
			const number = SEGMENT_FILE.exec(name)?.[1];
			if (number) this.nextNumber = Math.max(this.nextNumber, Number(number) + 1);
		}
		return this.nextNumber;
	}

	private arguments(caps: Capabilities, firstNumber: number): string[] {
		const { url, dir, segmentSeconds, stallSeconds } = this.options;
		// ffmpeg's own socket timeout, so that an unreachable camera fails in seconds; a stall is the watchdog's.
		const ioTimeoutUs = String(Math.round(Math.max(MIN_IO_TIMEOUT_SEC, stallSeconds) * 1_000_000));
		const input: string[] = [];
		if (/^rtsps?:/i.test(url)) input.push("-rtsp_transport", this.options.transport ?? "tcp", `-${caps.rtspTimeout}`, ioTimeoutUs);
		else if (/^https?:/i.test(url)) input.push("-rw_timeout", ioTimeoutUs);
		if (this.options.loopFile) input.push("-re", "-stream_loop", "-1");
		return [
			"-hide_banner",
			"-nostdin",
			"-nostats",
			"-loglevel",
			"error",
			"-y",
			"-progress",
			"pipe:1",
			...input,
			"-i",
			url,
			// Segments: the camera's video as it comes (no decoding), each file closed (moov first) before it is listed.
			"-map",
			"0:v:0",
			"-c:v",
			"copy",
			"-f",
			"segment",
			"-segment_time",
			String(segmentSeconds),
			"-segment_format",
			"mp4",
			"-segment_format_options",
			"movflags=+faststart",
			"-reset_timestamps",
			"1",
			"-segment_start_number",
			String(firstNumber),
			"-segment_list",
			join(dir, LIST),
			"-segment_list_type",
			"csv",
			join(dir, "seg-%06d.mp4"),
			// The latest frame, once a second, small.
			"-map",
			"0:v:0",
			"-vf",
			`fps=1,scale=${this.options.frameWidth ?? 640}:-2`,
			"-q:v",
			"5",
			"-f",
			"image2",
			"-update",
			"1",
			...(caps.atomicWriting ? ["-atomic_writing", "1"] : []),
			join(dir, LATEST),
		];
	}

	private spawn(args: string[], firstNumber: number): void {
		const child = spawn(this.options.ffmpeg, args, { stdio: ["ignore", "pipe", "pipe"] });
		let finish: (code: number | null, spawnError?: Error) => void = noop;
		const now = Date.now();
		const run: Run = {
			child,
			spawnedAt: now,
			frames: 0,
			lastFrameAt: now,
			unlisted: firstNumber,
			listOffset: 0,
			listRest: "",
			stderr: [],
			stderrRest: "",
			exited: false,
			tick: setInterval(() => this.tick(run), TICK_MS),
			done: new Promise<void>((resolve) => {
				finish = (code, spawnError) => {
					if (run.exited) return;
					run.exited = true;
					void this.ended(run, code, spawnError).finally(resolve);
				};
			}),
		};
		this.run = run;
		child.once("error", (err) => {
			// Only a failed spawn ends the run here; other errors (a failed kill) are followed by "close" anyway.
			if (child.pid === undefined) finish(null, err);
		});
		child.once("close", (code) => finish(code));

		let progress: Record<string, string> = {};
		let rest = "";
		child.stdout?.setEncoding("utf8");
		child.stdout?.on("data", (chunk: string) => {
			const lines = (rest + chunk).split("\n");
			rest = lines.pop() ?? "";
			for (const line of lines) {
				const eq = line.indexOf("=");
				if (eq < 0) continue;
				const key = line.slice(0, eq).trim();
				if (key !== "progress") progress[key] = line.slice(eq + 1).trim();
				else {
					this.progress(run, progress);
					progress = {};
				}
			}
		});
		child.stderr?.setEncoding("utf8");
		child.stderr?.on("data", (chunk: string) => {
			// Whole lines only: a URL cut between two chunks would escape the masking.
			const lines = (run.stderrRest + chunk).split(/\r?\n|\r/);
			run.stderrRest = lines.pop() ?? "";
			for (const line of lines) this.stderrLine(run, line);
		});
	}

	private stderrLine(run: Run, line: string): void {
		if (!line.trim()) return;
		const masked = this.redact(line).slice(0, 500);
		run.stderr.push(masked);
		if (run.stderr.length > 20) run.stderr.shift();
		this.log.debug(`Live stream ${this.label}: ffmpeg: ${masked}`);
	}

	/** One block of ffmpeg's -progress output: frames flowing, or not. */
	private progress(run: Run, block: Record<string, string>): void {
		const frames = Number(block.frame);
		if (this.stopping || run.failure || !(frames > run.frames)) return;
		const now = Date.now();
		const first = run.frames === 0;
		run.frames = frames;
		run.lastFrameAt = now;
		if (first) {
			// Progress comes every half second: the stream's time 0 is now less the output time already written.
			const outUs = Number(block.out_time_us ?? block.out_time_ms);
			run.anchor = Math.max(run.spawnedAt, now - (outUs > 0 ? outUs / 1000 : 0));
			this.setState({ status: "streaming", since: new Date(run.anchor) });
			this.log.info(`Live stream ${this.label}: streaming`);
		}
		if (this.events.frame && now - this.lastFrameEvent >= 1000) {
			this.lastFrameEvent = now;
			try {
				this.events.frame(new Date(now));
			} catch (err) {
				this.log.error(`Live stream ${this.label}: the frame handler failed`, err);
			}
		}
	}

	private tick(run: Run): void {
		void this.readList(run);
		void this.pump();
		if (run.failure || this.stopping) return;
		const idleMs = Date.now() - (run.frames > 0 ? run.lastFrameAt : run.spawnedAt);
		const limitMs = this.options.stallSeconds * 1000 + (run.frames > 0 ? 0 : FIRST_FRAME_GRACE_MS);
		if (idleMs <= limitMs) return;
		run.failure = {
			error: "stalled",
			message:
				run.frames > 0
					? `The camera stopped sending video (nothing for ${this.options.stallSeconds} s)`
					: `No video came within ${Math.round(limitMs / 1000)} s of connecting`,
		};
		this.kill(run);
	}

	private kill(run: Run): void {
		clearInterval(run.tick);
		if (run.exited || run.child.exitCode !== null || run.child.signalCode !== null) return;
		// SIGTERM lets ffmpeg close the segment it is writing; one that hangs is killed outright.
		run.child.kill("SIGTERM");
		run.killTimer ??= setTimeout(() => run.child.kill("SIGKILL"), KILL_AFTER_MS);
	}

	private async ended(run: Run, code: number | null, spawnError?: Error): Promise<void> {
		clearInterval(run.tick);
		clearTimeout(run.killTimer);
		if (run.stderrRest) this.stderrLine(run, run.stderrRest);
		if (this.stopping) return;
		// Segments ffmpeg closed before it ended are footage like any other (the seconds before a camera went
		// quiet matter most); what it left half written goes.
		await run.listing;
		await this.readList(run);
		await this.discard((number) => number >= run.unlisted).catch((err) => this.log.warn(`Live stream ${this.label}: partial segments not removed`, err));
		void this.pump();
		let failure = run.failure;
		if (!failure && spawnError) {
			this.log.error(`Live stream ${this.label}: ffmpeg could not be started (${this.options.ffmpeg}: ${spawnError.message})`);
			failure = { error: "exited", message: `ffmpeg could not be started (${(spawnError as NodeJS.ErrnoException).code ?? spawnError.message})` };
		}
		failure ??= classifyExit(run.stderr.join("\n"), { code, streamed: run.frames > 0 });
		if (this.run === run) this.run = undefined;
		this.failed(failure, run.anchor !== undefined && run.lastFrameAt - run.anchor >= STABLE_MS);
	}

	private failed(failure: { error: LiveError; message: string }, stable: boolean): void {
		if (this.stopping) return;
		if (stable) this.failures = 0;
		this.failures++;
		const { baseMs, maxMs } = this.options.backoff;
		const capMs = Math.min(maxMs, baseMs * 2 ** Math.min(30, this.failures - 1));
		const retryInMs = Math.round(Math.random() * capMs);
		const message = this.redact(failure.message);
		this.setState({ status: "error", error: failure.error, message, retryInMs });
		this.log.warn(`Live stream ${this.label}: ${failure.error}: ${message}; retrying in ${retryInMs} ms`);
		this.retryTimer = setTimeout(() => (this.connecting = this.connect()), retryInMs);
	}

	/** Reads the lines ffmpeg appended to the segment list (one per closed segment) since the last read. */
	private readList(run: Run): Promise<void> {
		run.listing ??= this.readListOnce(run)
			.catch((err) => this.log.warn(`Live stream ${this.label}: the segment list could not be read`, err))
			.finally(() => (run.listing = undefined));
		return run.listing;
	}

	private async readListOnce(run: Run): Promise<void> {
		const handle = await open(join(this.options.dir, LIST), "r").catch(() => undefined);
		if (!handle) return;
		try {
			const { size } = await handle.stat();
			if (size <= run.listOffset) return;
			const bytes = Buffer.alloc(size - run.listOffset);
			const { bytesRead } = await handle.read(bytes, 0, bytes.length, run.listOffset);
			run.listOffset += bytesRead;
			const lines = (run.listRest + bytes.toString("utf8", 0, bytesRead)).split("\n");
			run.listRest = lines.pop() ?? "";
			for (const line of lines) this.listedLine(run, line);
		} finally {
			await handle.close();
		}
	}

	/** `seg-000003.mp4,4.000000,6.000000`: file, start and end in the run's stream time. */
	private listedLine(run: Run, line: string): void {
		const [name, start, end] = line.trim().split(",");
		const number = SEGMENT_FILE.exec(name ?? "")?.[1];
		if (!number || this.stopping) return;
		this.nextNumber = Math.max(this.nextNumber, Number(number) + 1);
		// ffmpeg writes and lists its files in order: the ones after the last listed are still being written.
		run.unlisted = Math.max(run.unlisted, Number(number) + 1);
		const startSec = Number(start) || 0;
		// Wall-clock start: when the run saw its first frame plus the segment's start; never before the last one.
		const startedAt = Math.max((run.anchor ?? run.spawnedAt) + startSec * 1000, this.lastStartedAt + 1);
		this.lastStartedAt = startedAt;
		const durationSec = Math.max(0, Math.round(((Number(end) || startSec) - startSec) * 1000) / 1000);
		this.queue.push({
			segment: { file: join(this.options.dir, name), startedAt: new Date(startedAt), durationSec, index: this.nextIndex++ },
			run,
			listedAt: Date.now(),
		});
		void this.pump();
	}

	/** Hands listed segments over in order, one at a time, each once its file is whole. */
	private async pump(): Promise<void> {
		if (this.pumping) {
			this.pumpAgain = true;
			return;
		}
		this.pumping = true;
		try {
			do {
				this.pumpAgain = false;
				while (!this.stopping && this.queue.length) {
					const next = this.queue[0];
					// Read before looking: once ffmpeg has exited, every byte it wrote is in the file.
					const settled = next.run.exited || Date.now() - next.listedAt > COMPLETE_WAIT_MS;
					const whole = await mp4Complete(next.segment.file);
					if (this.stopping) return;
					if (!whole && !settled) break;
					this.queue.shift();
					if (!whole) {
						liveSegmentsDropped.inc({ reason: "not_whole" });
						this.log.warn(`Live stream ${this.label}: segment ${next.segment.index} was not written whole; dropped`);
						await unlink(next.segment.file).catch(noop);
						continue;
					}
					try {
						await this.events.segment(next.segment);
					} catch (err) {
						this.log.error(`Live stream ${this.label}: the segment handler failed for segment ${next.segment.index}`, err);
					}
				}
			} while (this.pumpAgain && !this.stopping);
		} finally {
			this.pumping = false;
		}
	}

	/** Deletes the segment files whose number `drop` picks. */
	private async discard(drop: (number: number) => boolean): Promise<void> {
		const names = await readdir(this.options.dir).catch(() => [] as string[]);
		for (const name of names) {
			const number = SEGMENT_FILE.exec(name)?.[1];
			if (!number) continue;
			this.nextNumber = Math.max(this.nextNumber, Number(number) + 1);
			if (drop(Number(number))) await unlink(join(this.options.dir, name)).catch(noop);
		}
	}

	private setState(state: LiveState): void {
		this.current = state;
		try {
			this.events.state(state);
		} catch (err) {
			this.log.error(`Live stream ${this.label}: the state handler failed`, err);
		}
	}

	/** Text as it may be shown: URLs masked, and the URL's secrets blanked wherever else they turn up. */
	private redact(text: string): string {
		let masked = maskUrlsIn(text);
		for (const secret of this.secrets) masked = masked.split(secret).join("***");
		return masked;
	}
}
