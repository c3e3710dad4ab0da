/**
 * The image runs Vigil as a user that owns nothing but its data directory: code and node_modules belong to root,
 * with the modes npm left them. Here the same: `vigil start` runs as nobody (uid 65534) from this checkout (owned by
 * root), embedded (no DATABASE_URL or TRANSPORTER), and a real upload is accepted and processed; and a bundled
 * ffprobe that nobody may run (root's, u+x only, as npm installs it) is skipped with its reason, never chosen.
 * Switching user needs root: elsewhere the tests skip and say so (under CI=true they fail).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, signUp } from "../support/http";
import { eventually, requireFootage, streetClip } from "../support/media";
import { buildDist, freePort, ROOT, stopProcess } from "../support/processes";
import { describeWhen, requireService } from "../support/require";
import { waitForReady } from "../support/cluster";

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
/** The image's PATH has Debian's ffmpeg in /usr/bin; the node binary's own directory keeps `node` findable. */
const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Runs a short script as nobody and returns what it printed (status, stdout, stderr). */
function asNobody(script: string, env: Record<string, string> = {}) {
	return spawnSync(process.execPath, ["-e", script], {
		uid: NOBODY,
		gid: NOBODY,
		cwd: ROOT,
		env: { PATH: SYSTEM_PATH, ...env },
		encoding: "utf8",
		timeout: 30_000,
	});
}

/** Whether nobody can read this checkout (a checkout under a private home directory cannot be run by another user). */
function checkoutReadable(): boolean {
	const probe = asNobody(`require("node:fs").accessSync(${JSON.stringify(join(ROOT, "package.json"))}, require("node:fs").constants.R_OK)`);
	return probe.status === 0;
}

const runnable =
	requireService("root (to run Vigil as the unprivileged uid 65534, as the image does)", asRoot, "run the tests as root") &&
	requireService(`a checkout readable by uid ${NOBODY}`, checkoutReadable(), `${ROOT} or a folder above it is private`) &&
	requireFootage("the image-user test");

describeWhen(runnable)("running as the image's unprivileged user", () => {
	beforeAll(() => buildDist(), 120_000);

	describe("Vigil as the image's unprivileged user", () => {
		let dataDir: string;
		let node: ChildProcess | undefined;
		let output = "";
		let api: Client;

		beforeAll(async () => {
			dataDir = mkdtempSync(join(tmpdir(), "vigil-image-user-"));
			chownSync(dataDir, NOBODY, NOBODY);
			const port = await freePort();
			// No DATABASE_URL, TRANSPORTER or secrets: the embedded default, as `docker run vigil` starts it.
			node = spawn(process.execPath, [join(ROOT, "dist", "bin", "vigil.js"), "start"], {
				uid: NOBODY,
				gid: NOBODY,
				cwd: ROOT,
				env: {
					PATH: SYSTEM_PATH,
					HOME: dataDir,
					DATA_DIR: dataDir,
					PORT: String(port),
					HOST: "127.0.0.1",
					METRICS_PORT: "0",
					LOG_LEVEL: "warn",
					LOG_FORMAT: "json",
					BCRYPT_COST: "4",
				},
				stdio: ["ignore", "pipe", "pipe"],
			});
			node.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
			node.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
			const url = `http://127.0.0.1:${port}`;
			await waitForReady(url, 90_000).catch((err) => {
				throw new Error(`${(err as Error).message}\n--- vigil start as uid ${NOBODY} ---\n${output}`);
			});
			api = new Client(url);
		}, 180_000);

		afterAll(async () => {
			if (node) await stopProcess(node, "SIGTERM");
			if (dataDir) rmSync(dataDir, { recursive: true, force: true });
		});

		it("runs as uid 65534 and writes only its data directory", () => {
			expect(node?.pid).toBeDefined();
			const status = spawnSync("ps", ["-o", "uid=", "-p", String(node?.pid)], { encoding: "utf8" });
			if (status.status === 0) expect(Number(status.stdout.trim())).toBe(NOBODY);
			expect(output).not.toMatch(/EACCES|EPERM/);
		});

		it("accepts an upload of real footage and processes it, as the image would", async () => {
			const { token } = await signUp(api, "image-user");
			const org = (await api.post("/api/v1/orgs", { name: "Image Org" }, { token })).body;
			const store = (await api.post(`/api/v1/orgs/${org.id}/stores`, { name: "Front" }, { token })).body;
			const camera = (await api.post(`/api/v1/orgs/${org.id}/stores/${store.id}/cameras`, { name: "Door" }, { token })).body;
			const storeBase = `/api/v1/orgs/${org.id}/stores/${store.id}`;
			const uploaded = await api.request("POST", `${storeBase}/cameras/${camera.id}/clips`, {
				raw: streetClip(),
				headers: { "content-type": "video/mp4" },
				token,
			});
			expect({ status: uploaded.status, body: uploaded.status === 201 ? "clip" : uploaded.body }).toEqual({ status: 201, body: "clip" });
			expect(uploaded.body).toMatchObject({ status: "queued", width: 768, height: 576, durationSec: 10 });
			const clip = await eventually(
				async () => {
					const got = (await api.get(`${storeBase}/clips/${uploaded.body.id}`, { token })).body;
					return got.status === "done" || got.status === "failed" ? got : undefined;
				},
				240_000,
				1000,
			);
			expect({ status: clip.status, failureReason: clip.failureReason ?? null }).toEqual({ status: "done", failureReason: null });
		}, 300_000);
	});

	describe("ffmpeg tools for a user who does not own node_modules", () => {
		let dir: string;
		beforeAll(() => {
			// A package like @ffprobe-installer's whose binary is root's and executable by root only.
			dir = mkdtempSync(join(tmpdir(), "vigil-tools-"));
			chmodSync(dir, 0o755);
			const pkg = join(dir, "node_modules", "fake-ffprobe");
			mkdirSync(pkg, { recursive: true });
			writeFileSync(join(pkg, "ffprobe"), "#!/bin/sh\necho fake\n");
			chmodSync(join(pkg, "ffprobe"), 0o744);
			writeFileSync(join(pkg, "index.js"), `module.exports = { path: ${JSON.stringify(join(pkg, "ffprobe"))} };`);
			chmodSync(join(dir, "node_modules"), 0o755);
			chmodSync(pkg, 0o755);
		});
		afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

		it("skips a bundled binary it may not run, saying why, instead of choosing it", () => {
			const tools = JSON.stringify(join(ROOT, "dist", "lib", "media", "tools.js"));
			const result = asNobody(
				`const { bundledTool } = require(${tools}); console.log(JSON.stringify(bundledTool(require.resolve("fake-ffprobe", { paths: [${JSON.stringify(dir)}] }))));`,
			);
			expect(result.stderr).toBe("");
			const found = JSON.parse(result.stdout) as { path?: string; reason?: string };
			expect(found.path).toBeUndefined();
			expect(found.reason).toMatch(/is not executable by this user \(uid 65534\) and cannot be made so \(EPERM\)/);
		});

		it("prefers the system's ffprobe, and without one names the bundled one's problem", () => {
			const tools = JSON.stringify(join(ROOT, "dist", "lib", "media", "tools.js"));
			const withSystem = asNobody(`console.log(require(${tools}).toolPath("ffprobe"))`);
			const system = spawnSync("sh", ["-c", "command -v ffprobe"], { env: { PATH: SYSTEM_PATH }, encoding: "utf8" }).stdout.trim();
			if (system) expect(withSystem.stdout.trim()).toBe(system);
			// No ffprobe on PATH: the bundled one is used if nobody may run it, else the error says why it was skipped.
			const bundled = asNobody(`try { console.log(require(${tools}).toolPath("ffprobe")) } catch (err) { console.log("error: " + err.message) }`, {
				PATH: "/nonexistent",
			});
			const runnableByNobody = asNobody(
				`require("node:fs").accessSync(require(${JSON.stringify(join(ROOT, "node_modules", "@ffprobe-installer", "ffprobe"))}).path, 1)`,
				{ PATH: "/nonexistent" },
			);
			if (runnableByNobody.status === 0) expect(bundled.stdout).toMatch(/@ffprobe-installer/);
			else {
				expect(bundled.stdout).toMatch(/^error: ffprobe not found: .*the bundled one is skipped: .* is not executable by this user \(uid 65534\)/);
				expect(bundled.stderr).toMatch(/ffprobe: none on PATH, and the bundled one is skipped/);
			}
		});
	});
});
