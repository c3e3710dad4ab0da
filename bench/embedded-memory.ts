/**
 * Idle memory of the embedded server: `vigil start` on a fresh DATA_DIR (first start: a new database, every
 * migration, the first super-admin), the same folder started again, and a bare process holding what any start
 * must hold (the embedded database opened on that folder, and the detector model loaded and warmed up). Each
 * waits until ready (/readyz), then until its RSS stops moving, and prints it. Loopback only (PORT=0).
 *
 *   npm run bench:embedded-memory
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const VIGIL = join(__dirname, "..", "bin", "vigil.js");
/** Idle means: no sample in this many seconds moved RSS by more than 2%. */
const SETTLE_SAMPLES = 5;
const SETTLE_MAX_S = 60;

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
const peakOf = (pid: number) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An environment without the developer's servers: embedded database, no transporter. */
function embeddedEnv(dataDir: string): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {
		...process.env,
		DATA_DIR: dataDir,
		PORT: "0",
		HOST: "127.0.0.1",
		METRICS_PORT: "0",
		LOG_LEVEL: "info",
		LOG_FORMAT: "pretty",
	};
	for (const name of ["DATABASE_URL", "TRANSPORTER", "SERVICES", "NAMESPACE"]) delete env[name];
	return env;
}

/** Resolves with the child's output once `pattern` appears in it. */
function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
	return new Promise((resolve, reject) => {
		let seen = "";
		const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${seen.slice(-2000)}`)), timeoutMs);
		const listen = (chunk: Buffer) => {
			seen += chunk.toString();
			const match = pattern.exec(seen);
			if (match) {
				clearTimeout(timer);
				resolve(match);
			}
		};
		child.stdout?.on("data", listen);
		child.stderr?.on("data", listen);
		child.once("exit", (code) => reject(new Error(`exited with ${code} before ${pattern}:\n${seen.slice(-2000)}`)));
	});
}

async function settledRss(pid: number): Promise<{ rss: number; peak: number; seconds: number }> {
	const started = Date.now();
	const samples: number[] = [];
	for (;;) {
		await sleep(1000);
		samples.push(rssOf(pid));
		const recent = samples.slice(-SETTLE_SAMPLES);
		const steady = recent.length === SETTLE_SAMPLES && Math.max(...recent) <= Math.min(...recent) * 1.02;
		if (steady || Date.now() - started > SETTLE_MAX_S * 1000)
			return { rss: samples[samples.length - 1], peak: peakOf(pid), seconds: (Date.now() - started) / 1000 };
	}
}

async function stop(child: ChildProcess) {
	if (child.exitCode !== null) return;
	const exited = new Promise((r) => child.once("exit", r));
	child.kill("SIGTERM");
	await Promise.race([exited, sleep(15_000).then(() => child.kill("SIGKILL"))]);
}

async function measureVigil(dataDir: string) {
	const child = spawn(process.execPath, [VIGIL, "start"], { env: embeddedEnv(dataDir), stdio: ["ignore", "pipe", "pipe"] });
	try {
		const [, port] = await waitForOutput(child, /listening on http:\/\/[^:]+:(\d+)/, 120_000);
		for (let tries = 0; ; tries++) {
			const status = await fetch(`http://127.0.0.1:${port}/readyz`).then(
				(r) => r.status,
				() => 0,
			);
			if (status === 200) break;
			if (tries > 1200) throw new Error("never ready");
			await sleep(100);
		}
		return await settledRss(child.pid as number);
	} finally {
		await stop(child);
	}
}

async function measureBare(dataDir: string) {
	const child = spawn(process.execPath, [__filename, "--bare", dataDir], { env: embeddedEnv(dataDir), stdio: ["ignore", "pipe", "pipe"] });
	try {
		await waitForOutput(child, /bare ready/, 120_000);
		return await settledRss(child.pid as number);
	} finally {
		await stop(child);
	}
}

/** The bare process: the embedded database on the folder, and the detector model loaded and warmed up. */
async function bare(dataDir: string) {
	const { PGlite } = await import("@electric-sql/pglite");
	const { loadDetector } = await import("../lib/vision/detector");
	const { bundledModelDir } = await import("../lib/platform/paths");
	const db = await PGlite.create({ dataDir: join(dataDir, "pgdata") });
	await db.query("SELECT count(*) FROM alerts");
	const model = await loadDetector(process.env.DETECTOR_MODEL || bundledModelDir());
	await model.warmUp();
	console.log("bare ready");
	setInterval(() => undefined, 60_000);
}

async function main() {
	const dataDir = mkdtempSync(join(tmpdir(), "vigil-bench-memory-"));
	try {
		const first = await measureVigil(dataDir);
		const again = await measureVigil(dataDir);
		const base = await measureBare(dataDir);
		console.log("\nidle RSS of the embedded server (all services, PGlite, bundled model)");
		console.log("run                              RSS      peak     x bare   settled after");
		for (const [name, r] of [
			["bare: PGlite + model", base],
			["vigil start, first (fresh)", first],
			["vigil start, again", again],
		] as const) {
			console.log(
				`${name.padEnd(30)}${mib(r.rss).padStart(9)}${mib(r.peak).padStart(10)}${(r.rss / base.rss).toFixed(2).padStart(9)}x${r.seconds.toFixed(0).padStart(9)} s`,
			);
		}
	} finally {
		rmSync(dataDir, { recursive: true, force: true });
	}
}

if (process.argv[2] === "--bare") void bare(process.argv[3]);
else
	main().then(
		() => process.exit(0),
		(err) => {
			console.error(err);
			process.exit(1);
		},
	);
