/**
 * A live camera read by the real ffmpeg: a looping file stands in for the camera (segments, latest frame,
 * states, no process left after stop), a closed loopback port for a camera that cannot be reached (backoff,
 * credentials never shown), and an MJPEG server on loopback that goes quiet for a stalled camera.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import jpeg from "jpeg-js";
import { LiveSession, type LiveSegment, type LiveSessionOptions, type LiveState } from "../../lib/media/live";
import { toolPath } from "../../lib/media/tools";
import { probeVideo } from "../../lib/media/video";
import { describeWithFootage, eventually, STREET_CLIP } from "../support/media";
import { freePort } from "../support/processes";

const tools = () => ({ ffmpeg: toolPath("ffmpeg"), ffprobe: toolPath("ffprobe") });

/** What a session told its owner. */
function recorder(take?: (segment: LiveSegment) => void) {
	const states: LiveState[] = [];
	const segments: LiveSegment[] = [];
	const frames: Date[] = [];
	return {
		states,
		segments,
		frames,
		events: {
			segment: (segment: LiveSegment) => {
				segments.push(segment);
				take?.(segment);
			},
			state: (state: LiveState) => states.push(state),
			frame: (at: Date) => frames.push(at),
		},
		errors: () => states.filter((s): s is Extract<LiveState, { status: "error" }> => s.status === "error"),
	};
}

/** Every message a logger was given, as text. */
function logLines() {
	const lines: string[] = [];
	const record = (...args: unknown[]) =>
		lines.push(args.map((a) => (a instanceof Error ? `${a.message} ${a.stack}` : typeof a === "string" ? a : JSON.stringify(a))).join(" "));
	return { lines, logger: { info: record, warn: record, error: record, debug: record } };
}

/** ffmpeg processes whose command line names `dir` (Linux: /proc). */
function processesUsing(dir: string): number[] {
	if (!existsSync("/proc")) return [];
	const found: number[] = [];
	for (const entry of readdirSync("/proc")) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(dir)) found.push(Number(entry));
		} catch {
			/* ended meanwhile */
		}
	}
	return found;
}

const options = (dir: string, url: string, more: Partial<LiveSessionOptions> = {}): LiveSessionOptions => ({
	url,
	dir,
	ffmpeg: toolPath("ffmpeg"),
	segmentSeconds: 2,
	stallSeconds: 3,
	backoff: { baseMs: 100, maxMs: 1000 },
	...more,
});

let work: string;
beforeAll(() => (work = mkdtempSync(join(tmpdir(), "vigil-live-"))));
afterAll(() => rmSync(work, { recursive: true, force: true }));
afterEach(() => jest.restoreAllMocks());

describeWithFootage("a live camera (a looping file)", () => {
	// The street clip has one keyframe, at 0 s: stream-copied segments of it could not be cut before the end of
	// each 10 s loop. Cameras send a keyframe every 1-2 s; this copy has one every second (10 frames at 10 fps).
	let camera: string;
	beforeAll(() => {
		camera = join(work, "camera-gop1s.mp4");
		execFileSync(toolPath("ffmpeg"), [
			"-v",
			"error",
			"-nostdin",
			"-y",
			"-i",
			STREET_CLIP,
			"-an",
			"-c:v",
			"libx264",
			"-preset",
			"ultrafast",
			"-g",
			"10",
			"-keyint_min",
			"10",
			"-sc_threshold",
			"0",
			camera,
		]);
	});

	it("hands over playable segments of about segmentSeconds, in order, and keeps the latest frame", async () => {
		const dir = join(work, "loop");
		const taken = join(work, "taken");
		mkdirSync(taken);
		// The owner takes each segment away, as the stream service does.
		const seen = recorder((segment) => renameSync(segment.file, join(taken, `${segment.index}.mp4`)));
		const session = new LiveSession(options(dir, camera, { loopFile: true }), seen.events);
		session.start();
		try {
			await eventually(async () => (seen.segments.length >= 3 ? true : undefined), 20_000, 100);
			expect(processesUsing(dir).length).toBe(1);
		} finally {
			await session.stop();
		}

		expect(seen.states[0]).toEqual({ status: "connecting", attempt: 1 });
		expect(seen.states[1]).toEqual({ status: "streaming", since: expect.any(Date) });
		expect(seen.states.at(-1)).toEqual({ status: "stopped" });
		expect(seen.errors()).toEqual([]);

		const segments = seen.segments.slice(0, 3);
		expect(segments.map((s) => s.index)).toEqual([0, 1, 2]);
		const since = (seen.states[1] as { since: Date }).since.getTime();
		expect(segments[0].startedAt.getTime()).toBe(since);
		for (const [i, segment] of segments.entries()) {
			expect(segment.durationSec).toBeCloseTo(2, 1);
			// A GOP of 1 s divides 2 s: every cut falls on a keyframe exactly 2 s after the last.
			const info = await probeVideo(join(taken, `${segment.index}.mp4`), tools());
			expect(info.durationSec).toBeGreaterThan(1.85);
			expect(info.durationSec).toBeLessThan(2.15);
			expect(info).toMatchObject({ width: 768, height: 576, codec: "h264" });
			if (i > 0) expect(segment.startedAt.getTime() - segments[i - 1].startedAt.getTime()).toBeCloseTo(2000, -2);
		}

		const latest = join(dir, "latest.jpg");
		expect(session.latestFramePath()).toBe(latest);
		const frame = jpeg.decode(readFileSync(latest));
		expect([frame.width, frame.height]).toEqual([640, 480]);
		expect(seen.frames.length).toBeGreaterThan(3);
		for (let i = 1; i < seen.frames.length; i++) expect(seen.frames[i].getTime() - seen.frames[i - 1].getTime()).toBeGreaterThanOrEqual(1000);

		// Nothing left running or half written: the segment ffmpeg was writing at stop is gone.
		expect(processesUsing(dir)).toEqual([]);
		expect(readdirSync(dir).filter((name) => name !== "latest.jpg")).toEqual([]);
	});
});

describe("a camera that cannot be reached", () => {
	it("is 'unreachable' within seconds, and is tried again after growing delays", async () => {
		jest.spyOn(Math, "random").mockReturnValue(1);
		const dir = join(work, "closed");
		const seen = recorder();
		const session = new LiveSession(options(dir, `rtsp://127.0.0.1:${await freePort()}/x`), seen.events);
		const startedAt = Date.now();
		session.start();
		try {
			await eventually(async () => (seen.errors().length >= 1 ? true : undefined), 10_000, 50);
			expect(Date.now() - startedAt).toBeLessThan(5000);
			await eventually(async () => (seen.errors().length >= 3 ? true : undefined), 10_000, 50);
		} finally {
			await session.stop();
		}
		const [first, second, third] = seen.errors();
		expect(first).toEqual({ status: "error", error: "unreachable", message: "The camera cannot be reached (Connection refused)", retryInMs: 100 });
		expect([second.retryInMs, third.retryInMs]).toEqual([200, 400]);
		expect(seen.states.filter((s) => s.status === "connecting")).toEqual([1, 2, 3].map((attempt) => ({ status: "connecting", attempt })));
		expect(processesUsing(dir)).toEqual([]);
	});

	it("never shows the password, in logs or in its state", async () => {
		const dir = join(work, "secret");
		const seen = recorder();
		const log = logLines();
		const session = new LiveSession(options(dir, `rtsp://user:secret@127.0.0.1:${await freePort()}/x`, { logger: log.logger }), seen.events);
		session.start();
		try {
			await eventually(async () => (seen.errors().length >= 2 ? true : undefined), 10_000, 50);
		} finally {
			await session.stop();
		}
		// The URL is in the logs, masked: the check below looks at messages that had the chance to leak it.
		expect(log.lines.some((line) => line.includes("rtsp://user:***@127.0.0.1"))).toBe(true);
		expect(log.lines.filter((line) => line.includes("secret"))).toEqual([]);
		expect(seen.states.filter((s) => JSON.stringify(s).includes("secret"))).toEqual([]);
	});

	it("says so when ffmpeg is missing, and stop() during the backoff ends the wait", async () => {
		const seen = recorder();
		const session = new LiveSession(
			options(join(work, "no-ffmpeg"), "rtsp://camera.invalid/x", { ffmpeg: join(work, "no-such-ffmpeg"), backoff: { baseMs: 60_000, maxMs: 60_000 } }),
			seen.events,
		);
		session.start();
		await eventually(async () => (seen.errors().length ? true : undefined), 5000, 20);
		expect(seen.errors()[0]).toMatchObject({ error: "exited", message: "ffmpeg could not be started (ENOENT)" });
		const stopping = Date.now();
		await session.stop();
		expect(Date.now() - stopping).toBeLessThan(1000);
		expect(session.state).toEqual({ status: "stopped" });
	});
});

describe("a camera that stops sending", () => {
	it("is 'stalled' after stallSeconds without a frame, and is restarted", async () => {
		// An MJPEG camera that sends 15 frames at 10 fps, then keeps the connection open and sends nothing.
		const picture = jpeg.encode({ data: Buffer.alloc(160 * 120 * 4, 128), width: 160, height: 120 }, 80).data;
		const open: ServerResponse[] = [];
		let requests = 0;
		const server = createHttpServer((_req, res) => {
			requests++;
			open.push(res);
			res.writeHead(200, { "Content-Type": "multipart/x-mixed-replace; boundary=frame" });
			let sent = 0;
			const timer = setInterval(() => {
				res.write(`--frame\r\nContent-Type: image/jpeg\r\nContent-Length: ${picture.length}\r\n\r\n`);
				res.write(picture);
				res.write("\r\n");
				if (++sent >= 15) clearInterval(timer);
			}, 100);
			res.on("close", () => clearInterval(timer));
		});
		await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
		const { port } = server.address() as { port: number };

		const dir = join(work, "stall");
		const seen = recorder();
		const session = new LiveSession(
			options(dir, `http://127.0.0.1:${port}/video.mjpg`, { stallSeconds: 2, backoff: { baseMs: 200, maxMs: 200 } }),
			seen.events,
		);
		session.start();
		try {
			await eventually(async () => (seen.errors().length >= 1 ? true : undefined), 15_000, 50);
			await eventually(async () => (seen.states.filter((s) => s.status === "streaming").length >= 2 ? true : undefined), 10_000, 50);
		} finally {
			await session.stop();
			for (const res of open) res.destroy();
			await new Promise((resolve) => server.close(resolve));
		}
		const statuses = seen.states.map((s) => s.status);
		expect(statuses.slice(0, 5)).toEqual(["connecting", "streaming", "error", "connecting", "streaming"]);
		expect(seen.errors()[0]).toMatchObject({ error: "stalled", message: "The camera stopped sending video (nothing for 2 s)" });
		expect(requests).toBe(2);
		expect(processesUsing(dir)).toEqual([]);
	});
});
