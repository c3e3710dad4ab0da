/**
 * The RTSP camera the live-camera tests stand on (test/support/rtsp.ts): the project's own ffmpeg reads the street
 * clip from it over RTSP/TCP, and keeps getting frames past the file's end as from a camera; with credentials only
 * the right ones get in; stopped, it refuses connections, and restarted it serves at the same URL again; one that
 * died by itself says so, and comes back where the test asked for that.
 */
import { execFile, spawnSync } from "node:child_process";
import { toolPath } from "../../lib/media/tools";
import { probeVideo, type VideoInfo } from "../../lib/media/video";
import { requireFootage, STREET_CLIP } from "../support/media";
import { describeWhen } from "../support/require";
import { rtspAvailable, startRtspServer, type RtspServer } from "../support/rtsp";

interface Reading {
	/** ffmpeg's exit code: 0 when it read what it was asked for. */
	code: number | null;
	/** "768x576", as ffmpeg decoded it. */
	dimensions?: string;
	/** Each decoded frame: its time on the stream (s) and its size in bytes (grey: one byte a pixel). */
	frames: { time: number; size: number }[];
	stderr: string;
}

/** ffmpeg reading `url` over RTSP/TCP as grey frames, `limit` saying how much (-t, -frames:v); framecrc lists them. */
function readStream(url: string, limit: string[]): Promise<Reading> {
	const args = ["-v", "error", "-nostdin", "-rtsp_transport", "tcp", "-i", url, ...limit, "-pix_fmt", "gray", "-f", "framecrc", "-"];
	return new Promise((resolve) => {
		execFile(toolPath("ffmpeg"), args, { timeout: 40_000 }, (err, stdout, stderr) => {
			const [num, den] = (/^#tb 0: (\d+)\/(\d+)$/m.exec(stdout) ?? ["", "1", "1"]).slice(1).map(Number);
			const frames = stdout
				.split("\n")
				.filter((line) => /^0,/.test(line))
				.map((line) => line.split(/,\s*/))
				.map(([, , pts, , size]) => ({ time: (Number(pts) * num) / den, size: Number(size) }));
			const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
			resolve({ code, dimensions: /^#dimensions 0: (\S+)$/m.exec(stdout)?.[1], frames, stderr });
		});
	});
}

describeWhen(rtspAvailable() && requireFootage("the RTSP test server"))("the RTSP test server", () => {
	let clip: VideoInfo;
	let server: RtspServer;

	beforeAll(async () => {
		clip = await probeVideo(STREET_CLIP, { ffmpeg: toolPath("ffmpeg"), ffprobe: toolPath("ffprobe") });
		server = await startRtspServer({ path: "street" });
	});

	afterAll(async () => {
		await server?.stop();
	});

	it("streams the clip's frames over RTSP/TCP, and goes on past the end of the file as a camera does", async () => {
		const past = Math.ceil(clip.durationSec) + 2;
		const reading = await readStream(server.url, ["-t", String(past)]);
		expect(reading.code).toBe(0);
		expect(reading.dimensions).toBe(`${clip.width}x${clip.height}`);
		expect(reading.frames.every((f) => f.size === clip.width * clip.height)).toBe(true);
		const times = reading.frames.map((f) => f.time);
		// A second past the file's end, with no hole where it loops back to its start.
		expect(times[times.length - 1] - times[0]).toBeGreaterThan(clip.durationSec + 1);
		expect(Math.max(...times.slice(1).map((t, i) => t - times[i]))).toBeLessThan(0.5);
		expect(reading.frames.length).toBeGreaterThan((past - 1) * clip.fps);
	});

	it("with credentials, lets in only the right ones: a wrong password or none is a 401", async () => {
		const guarded = await startRtspServer({ path: "door", user: "viewer", password: "right-secret" });
		try {
			expect(guarded.urlWithCredentials).toBe(`rtsp://viewer:right-secret@127.0.0.1:${guarded.port}/door`);
			const wrong = await readStream(guarded.url.replace("rtsp://", "rtsp://viewer:wrong-secret@"), ["-frames:v", "3"]);
			expect(wrong.code).not.toBe(0);
			expect(wrong.stderr).toMatch(/401/);
			expect(wrong.frames).toHaveLength(0);
			const anonymous = await readStream(guarded.url, ["-frames:v", "3"]);
			expect(anonymous.stderr).toMatch(/401/);
			const right = await readStream(guarded.urlWithCredentials as string, ["-frames:v", "3"]);
			expect(right.code).toBe(0);
			expect(right.frames).toHaveLength(3);
		} finally {
			await guarded.stop();
		}
	});

	it("stopped while streaming, refuses connections; restarted, serves at the same URL again", async () => {
		// A viewer connected as it stops: the restart must get the port back all the same.
		const cut = readStream(server.url, ["-t", "30"]);
		await new Promise((r) => setTimeout(r, 2000));
		await server.stop();
		expect((await cut).frames.length).toBeGreaterThan(0);
		const refused = await readStream(server.url, ["-frames:v", "3"]);
		expect(refused.code).not.toBe(0);
		expect(refused.stderr).toMatch(/Connection refused/i);
		await server.restart();
		const again = await readStream(server.url, ["-frames:v", "3"]);
		expect(again.code).toBe(0);
		expect(again.frames).toHaveLength(3);
	});

	it("a server that dies by itself says why, and is started again at the same URL where the test asked for that", async () => {
		const camera = await startRtspServer({ path: "again", respawn: true });
		const said = jest.spyOn(console, "error").mockImplementation(() => undefined);
		try {
			expect((await readStream(camera.url, ["-frames:v", "3"])).frames).toHaveLength(3);
			expect(spawnSync("pkill", ["-KILL", "-f", `rtsp-server.py ${camera.port} `]).status).toBe(0);
			// Read until it is back: connections are refused meanwhile.
			let again = await readStream(camera.url, ["-frames:v", "3"]);
			for (let tries = 0; again.frames.length < 3 && tries < 20; tries++) {
				await new Promise((r) => setTimeout(r, 500));
				again = await readStream(camera.url, ["-frames:v", "3"]);
			}
			expect(again.frames).toHaveLength(3);
			expect(said).toHaveBeenCalledWith(
				expect.stringMatching(new RegExp(`RTSP server ${camera.url} exited by itself \\(SIGKILL\\)[\\s\\S]*starting it again`)),
			);
		} finally {
			said.mockRestore();
			await camera.stop();
		}
		// Stopped on purpose, it stays stopped.
		expect((await readStream(camera.url, ["-frames:v", "1"])).stderr).toMatch(/Connection refused/i);
	}, 60_000);
});
