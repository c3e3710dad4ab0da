/**
 * Clip-to-first-alert latency and whole-clip time for ../shared/media/vtest_10s.mp4 (10 s of street footage)
 * at 5 sampled frames/s, with the detector in the same process (embedded), and with one and two detector
 * nodes over NATS (separate processes, as deployed). Prints the figures.
 *
 *   npm run bench:pipeline            (needs NATS at TRANSPORTER, default nats://127.0.0.1:4222, for the NATS rows)
 *
 * BENCH_RUNS (default 2) sets the measured runs per setup; BENCH_NODES=0|1|2 measures one setup only;
 * SEGMENT_SECONDS varies the segment length.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "nats";
import { loadConfig, type Config } from "../lib/platform/config";
import { createNode } from "../app/node";

const ROOT = join(__dirname, "..", "..");
const CLIP = join(ROOT, "..", "shared", "media", "vtest_10s.mp4");
const NATS = process.env.TRANSPORTER ?? "nats://127.0.0.1:4222";
const RUNS = Number(process.env.BENCH_RUNS ?? 2);

interface Result {
	setup: string;
	firstAlertMs: number;
	wholeClipMs: number;
}

async function json(url: string, init: RequestInit & { token?: string } = {}) {
	const res = await fetch(url, {
		...init,
		headers: { "content-type": "application/json", ...(init.token && { authorization: `Bearer ${init.token}` }), ...(init.headers as Record<string, string>) },
	});
	return res.json() as Promise<Record<string, any>>;
}

async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error("timed out");
		await new Promise((r) => setTimeout(r, 50));
	}
}

/** One upload on a fresh camera: time to the first alert pushed over SSE, and to the clip being done. */
async function measure(url: string, token: string, storeBase: string, setup: string): Promise<Result> {
	const camera = await json(`${url}${storeBase}/cameras`, {
		method: "POST",
		token,
		body: JSON.stringify({ name: `bench-${randomBytes(3).toString("hex")}`, classes: ["person"], sampleFps: 5 }),
	});
	const abort = new AbortController();
	const stream = await fetch(`${url}/api/v1/alerts/stream`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
	// Arrival time of each pushed alert with its clip (late alerts of an earlier clip may still arrive).
	const arrivals: { at: number; clipId: string }[] = [];
	const reader = stream.body!.getReader();
	const reading = (async () => {
		const decoder = new TextDecoder();
		let text = "";
		try {
			for (;;) {
				const { value, done } = await reader.read();
				if (done) break;
				text += decoder.decode(value, { stream: true });
				let cut: number;
				while ((cut = text.indexOf("\n\n")) >= 0) {
					const block = text.slice(0, cut);
					text = text.slice(cut + 2);
					const data = block.split("\n").find((l) => l.startsWith("data: "));
					if (block.includes("event: alert") && data) arrivals.push({ at: Date.now(), clipId: JSON.parse(data.slice(6)).clipId });
				}
			}
		} catch {
			/* closed */
		}
	})();
	const firstAlert = () => arrivals.find((a) => a.clipId === clip.id)?.at ?? 0;
	const started = Date.now();
	const upload = await fetch(`${url}${storeBase}/cameras/${camera.id}/clips`, {
		method: "POST",
		body: readFileSync(CLIP),
		headers: { "content-type": "video/mp4", authorization: `Bearer ${token}` },
	});
	const clip = (await upload.json()) as { id: string };
	const doneAt = await waitFor(async () => {
		const c = await json(`${url}${storeBase}/clips/${clip.id}`, { token });
		return c.status === "done" ? Date.now() : undefined;
	}, 300_000);
	await waitFor(async () => (firstAlert() ? true : undefined), 10_000).catch(() => undefined);
	abort.abort();
	await reading;
	return { setup, firstAlertMs: firstAlert() ? firstAlert() - started : NaN, wholeClipMs: doneAt - started };
}

function baseConfig(dataDir: string, extra: Record<string, string>): Config {
	return loadConfig({
		DATABASE_URL: "pglite://memory",
		DATA_DIR: dataDir,
		PORT: "0",
		HOST: "127.0.0.1",
		LOG_LEVEL: "warn",
		LOG_FORMAT: "json",
		BCRYPT_COST: "4",
		METRICS_PORT: "0",
		JWT_SECRET: "bench-secret-bench-secret-bench-secret",
		ENCRYPTION_KEY: "ab".repeat(32),
		// Pipeline settings may be varied from the environment (detector processes inherit it too).
		...(process.env.SEGMENT_SECONDS && { SEGMENT_SECONDS: process.env.SEGMENT_SECONDS }),
		...extra,
	});
}

async function runSetup(setup: string, detectorNodes: number): Promise<Result[]> {
	const dataDir = mkdtempSync(join(tmpdir(), "vigil-bench-"));
	const overNats = detectorNodes > 0;
	const namespace = `bench-${randomBytes(3).toString("hex")}`;
	const config = baseConfig(dataDir, overNats ? { TRANSPORTER: NATS, NAMESPACE: namespace, SERVICES: "api,auth,tenancy,camera,clip,alert" } : {});
	const broker = createNode(config);
	const children: ChildProcess[] = [];
	try {
		await broker.start();
		for (let i = 0; i < detectorNodes; i++) {
			children.push(
				spawn(process.execPath, [join(ROOT, "dist", "bin", "vigil.js"), "start"], {
					env: {
						...process.env,
						TRANSPORTER: NATS,
						NAMESPACE: namespace,
						SERVICES: "detector",
						DATA_DIR: dataDir,
						METRICS_PORT: "0",
						LOG_LEVEL: "warn",
						LOG_FORMAT: "json",
					},
					stdio: ["ignore", "ignore", "inherit"],
				}),
			);
		}
		const server = (broker.getLocalService("api") as unknown as { server: import("node:http").Server }).server;
		const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
		await waitFor(async () => {
			const ready = await json(`${url}/readyz`).catch((): Record<string, unknown> => ({}));
			const detectors = broker.registry.getServiceList({ onlyAvailable: true }).filter((s: { name: string }) => s.name === "detector").length;
			return ready.status === "ready" && detectors >= Math.max(1, detectorNodes) ? true : undefined;
		}, 120_000);
		const session = await json(`${url}/api/v1/auth/register`, {
			method: "POST",
			body: JSON.stringify({ email: `bench-${namespace}@example.com`, password: "a quiet evening by the harbour" }),
		});
		const token = session.accessToken as string;
		const org = await json(`${url}/api/v1/orgs`, { method: "POST", token, body: JSON.stringify({ name: "Bench" }) });
		const store = await json(`${url}/api/v1/orgs/${org.id}/stores`, { method: "POST", token, body: JSON.stringify({ name: "Bench" }) });
		const storeBase = `/api/v1/orgs/${org.id}/stores/${store.id}`;
		await json(`${url}${storeBase}/alert-rules`, {
			method: "POST",
			token,
			body: JSON.stringify({ name: "People", classes: ["person"], minScore: 0.5, cooldownSec: 0 }),
		});
		await measure(url, token, storeBase, setup); // warm-up: first inferences, caches
		const results: Result[] = [];
		for (let i = 0; i < RUNS; i++) results.push(await measure(url, token, storeBase, setup));
		return results;
	} finally {
		for (const child of children) child.kill("SIGTERM");
		await broker.stop();
		if (overNats) {
			const nc = await connect({ servers: NATS });
			const jsm = await nc.jetstreamManager();
			for await (const s of jsm.streams.list()) if (s.config.name.startsWith(`${namespace}_`)) await jsm.streams.delete(s.config.name);
			await nc.close();
		}
		rmSync(dataDir, { recursive: true, force: true });
	}
}

async function main() {
	if (!existsSync(CLIP)) throw new Error(`Footage not found: ${CLIP}`);
	const natsUp = await connect({ servers: NATS }).then(
		(nc) => nc.close().then(() => true),
		() => false,
	);
	const setups: [string, number][] = [
		["embedded (1 process)", 0],
		...(natsUp
			? ([
					["NATS, 1 detector node", 1],
					["NATS, 2 detector nodes", 2],
				] as [string, number][])
			: []),
	];
	if (!natsUp) console.log(`NATS not reachable at ${NATS}: only the embedded row is measured`);
	const all: Result[] = [];
	for (const [name, nodes] of setups) if (!process.env.BENCH_NODES || process.env.BENCH_NODES === String(nodes)) all.push(...(await runSetup(name, nodes)));
	console.log(`\nvtest_10s.mp4: 10 s, 768x576, sampled at 5 fps = 50 frames; ${RUNS} runs each after one warm-up; median shown`);
	console.log("setup                      first alert (s)   whole clip (s)   clip time / clip duration");
	for (const [name] of setups) {
		const rows = all.filter((r) => r.setup === name);
		if (!rows.length) continue;
		const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
		const first = med(rows.map((r) => r.firstAlertMs)) / 1000;
		const whole = med(rows.map((r) => r.wholeClipMs)) / 1000;
		console.log(`${name.padEnd(27)}${first.toFixed(2).padStart(15)}${whole.toFixed(2).padStart(17)}${(whole / 10).toFixed(2).padStart(16)}`);
	}
}

main().then(
	() => process.exit(0),
	(err) => {
		console.error(err);
		process.exit(1);
	},
);
