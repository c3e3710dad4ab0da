/**
 * A real RTSP camera for tests: GStreamer's RTSP server (Debian packages, run by rtsp-server.py with Debian's
 * python3) streaming a clip in a loop on a spare loopback port, optionally behind basic auth. CI installs it.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { STREET_CLIP } from "./media";
import { freePort, stopProcess } from "./processes";
import { requireService } from "./require";

/** Debian's python: the one that sees python3-gi (another python3 on PATH may not). */
export const RTSP_PYTHON = "/usr/bin/python3";
const SCRIPT = join(__dirname, "rtsp-server.py");
const PACKAGES = "gir1.2-gst-rtsp-server-1.0 gstreamer1.0-rtsp gstreamer1.0-plugins-good gstreamer1.0-plugins-bad python3-gi";
const READY_MS = 15_000;

// The bindings, and the elements the server's pipeline is made of.
const PROBE = `import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer
Gst.init(None)
raise SystemExit(0 if all(Gst.ElementFactory.find(e) for e in ("filesrc", "qtdemux", "h264parse", "rtph264pay")) else 1)`;

let installed: boolean | undefined;

/** Whether the RTSP server can run: a visible skip where not, under CI a failure (CI installs the packages). */
export function rtspAvailable(): boolean {
	installed ??= spawnSync(RTSP_PYTHON, ["-c", PROBE], { stdio: "ignore", timeout: 20_000 }).status === 0;
	return requireService("GStreamer's RTSP server", installed, `apt-get install ${PACKAGES}`);
}

export interface RtspServerOptions {
	/** An H.264 mp4; the street clip by default. */
	file?: string;
	/** The stream's path, "camera" by default. */
	path?: string;
	/** With a password: basic auth, and nothing without them. */
	user?: string;
	password?: string;
	/**
	 * Started again, at the same URL, if it exits without being stopped (loudly: what it printed comes to the test's
	 * output). For tests of Vigil, not of the camera: a fixture that died under them would fail every later step.
	 */
	respawn?: boolean;
}

export interface RtspServer {
	/** rtsp://127.0.0.1:port/path, without credentials. */
	url: string;
	/** The same with user:password in it, where the server has them. */
	urlWithCredentials?: string;
	port: number;
	/** Stops the server and waits for it to be gone: clients' connections are then refused. */
	stop(): Promise<void>;
	/** Stops it and starts it again at the same URL. */
	restart(): Promise<void>;
}

interface Launched {
	child: ChildProcess;
	/** The last of what the server wrote to stderr. */
	stderr(): string;
}

/** Spawns the server and resolves once it listens; rejects with its stderr if it exits or hangs first. */
function launch(args: string[]): Promise<Launched> {
	return new Promise((resolve, reject) => {
		// stdin stays open: the server exits when it closes, so a runner killed outright leaves no server behind.
		// GStreamer's warnings, and on a crash the Python stack of the thread that crashed, end up in stderr.
		const child = spawn(RTSP_PYTHON, [SCRIPT, ...args, "--exit-with-stdin"], {
			stdio: ["pipe", "pipe", "pipe"],
			env: { GST_DEBUG: "2", GST_DEBUG_NO_COLOR: "1", ...process.env, PYTHONFAULTHANDLER: "1" },
		});
		let stdout = "";
		let stderr = "";
		const fail = (why: string) => {
			clearTimeout(timer);
			reject(new Error(`RTSP server (${args.slice(0, 3).join(" ")}) ${why}${stderr.trim() ? `: ${stderr.trim()}` : ""}`));
		};
		const timer = setTimeout(() => {
			child.kill("SIGKILL");
			fail(`not ready within ${READY_MS} ms`);
		}, READY_MS);
		child.stdout?.on("data", (chunk: Buffer) => {
			stdout += chunk.toString();
			if (/^ready$/m.test(stdout)) {
				clearTimeout(timer);
				resolve({ child, stderr: () => stderr.trim() });
			}
		});
		// Kept short: GStreamer's warnings over a long test would otherwise pile up here.
		child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
		child.once("error", (err) => fail(`did not start (${err.message})`));
		child.once("exit", (code, signal) => fail(`exited (${code ?? signal}) before it was ready`));
	});
}

/** A camera at rtsp://127.0.0.1:<spare port>/<path>, streaming `file` in a loop until stopped. */
export async function startRtspServer(options: RtspServerOptions = {}): Promise<RtspServer> {
	const { file = STREET_CLIP, path = "camera", user, password, respawn = false } = options;
	if ((user === undefined) !== (password === undefined)) throw new Error("startRtspServer: user and password go together");
	const login = user !== undefined && password !== undefined ? { user, password } : undefined;
	const port = await freePort();
	const args = [String(port), path, file, ...(login ? ["--user", login.user, "--password", login.password] : [])];
	const url = `rtsp://127.0.0.1:${port}/${path}`;
	let child: ChildProcess | undefined;
	/** False from stop() until restart(): a respawn that lands meanwhile stops at once. */
	let wanted = true;
	let respawning: Promise<void> | undefined;
	const halt = async (running: ChildProcess) => {
		await stopProcess(running, "SIGTERM");
		running.stdin?.destroy();
	};
	const run = async (): Promise<void> => {
		const launched = await launch(args);
		if (!wanted) return halt(launched.child);
		child = launched.child;
		launched.child.once("exit", (code, signal) => {
			if (child !== launched.child) return;
			// A camera that went away by itself: say why, where it happened.
			child = undefined;
			console.error(
				`RTSP server ${url} exited by itself (${code ?? signal}): ${launched.stderr() || "nothing on stderr"}${respawn ? "; starting it again" : ""}`,
			);
			if (respawn)
				respawning = run()
					.catch((err: Error) => console.error(`RTSP server ${url} could not be started again: ${err.message}`))
					.finally(() => (respawning = undefined));
		});
	};
	await run();

	const urlWithCredentials = login && `rtsp://${encodeURIComponent(login.user)}:${encodeURIComponent(login.password)}@127.0.0.1:${port}/${path}`;
	const stop = async () => {
		wanted = false;
		await respawning;
		const stopping = child;
		child = undefined;
		if (stopping) await halt(stopping);
	};
	return {
		url,
		urlWithCredentials,
		port,
		stop,
		async restart() {
			await stop();
			wanted = true;
			await run();
		},
	};
}
