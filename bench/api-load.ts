/**
 * The API's own cost under load, on real PostgreSQL (DATABASE_URL is required), with 2,000 alerts seeded for one
 * store. The load runs in worker threads of this process (their own event loops), so the gateway's thread serves
 * and the same client measures Vigil and the bare baseline alike. About a minute and a half in all.
 *
 *   (a) the dashboard's alert list (GET .../alerts, 50 rows, Bearer token) at 20 connections, against a bare Node
 *       http handler answering the same 50 rows from one `pg` query: requests/s, p50/p99, errors and the ratio;
 *   (b) the same list while people sign in (bcrypt at BCRYPT_COST): listing p99 and event-loop lag, without and with;
 *   (c) 1,000 clients on the live alert stream, alerts raised by an edge box: delivery p50/p99 and RSS;
 *   (d) edge ingest throughput: bench/ingest.ts (`npm run bench:ingest`) runs on the same database.
 *
 *   DATABASE_URL=postgres://... npm run bench:api-load    (BENCH_SECONDS per measured row, default 8; BENCH_PARTS=a,b,c,d)
 */
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { Agent, createServer, request, type Server } from "node:http";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { Pool } from "pg";
import { createNode } from "../app/node";
import { benchConfig } from "./bench-config";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = 20;
/** Slices each row of (a) is measured in, alternating with the baseline's. */
const ROUNDS = 4;
const SEEDED_ALERTS = 2000;
const SSE_CLIENTS = 1000;
const SSE_ALERTS = 20;
const PASSWORD = "a quiet evening by the harbour";
/** Which parts run (BENCH_PARTS=a,c runs only those). */
const PARTS = new Set((process.env.BENCH_PARTS ?? "a,b,c,d").split(","));

type Job =
	| { kind: "list"; url: string; token?: string; seconds: number; connections: number }
	| { kind: "login"; url: string; email: string; seconds: number; concurrency: number }
	| { kind: "sse"; url: string; token: string; clients: number };
interface LoadResult {
	ok: number;
	errors: number;
	seconds: number;
	ms: number[];
}

/* ---------- the client side (worker threads) ---------- */

function call(agent: Agent, url: string, init: { method?: string; token?: string; body?: string }): Promise<{ status: number; ms: number }> {
	const started = performance.now();
	return new Promise((resolve) => {
		const req = request(
			url,
			{
				agent,
				method: init.method ?? "GET",
				headers: {
					...(init.token && { authorization: `Bearer ${init.token}` }),
					...(init.body && { "content-type": "application/json", "content-length": Buffer.byteLength(init.body) }),
				},
			},
			(res) => {
				res.resume();
				res.on("end", () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
				res.on("error", () => resolve({ status: 0, ms: performance.now() - started }));
			},
		);
		req.on("error", () => resolve({ status: 0, ms: performance.now() - started }));
		req.end(init.body);
	});
}

/** `concurrency` loops, each one request after another, for `seconds`. */
async function closedLoop(concurrency: number, seconds: number, once: () => Promise<{ status: number; ms: number }>): Promise<LoadResult> {
	const result: LoadResult = { ok: 0, errors: 0, seconds, ms: [] };
	const started = performance.now();
	const deadline = started + seconds * 1000;
	await Promise.all(
		Array.from({ length: concurrency }, async () => {
			while (performance.now() < deadline) {
				const { status, ms } = await once();
				if (status === 200) {
					result.ok++;
					result.ms.push(ms);
				} else result.errors++;
			}
		}),
	);
	result.seconds = (performance.now() - started) / 1000;
	return result;
}

/** Opens the streams, says so, then records when each alert reached each client until told to stop. */
async function sseClients(job: Extract<Job, { kind: "sse" }>) {
	const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
	const delays: number[] = [];
	let opened = 0;
	let failed = 0;
	const responses: { destroy(): void }[] = [];
	await new Promise<void>((allOpen) => {
		for (let i = 0; i < job.clients; i++) {
			const req = request(
				`${job.url}/api/v1/alerts/stream`,
				{ agent, headers: { authorization: `Bearer ${job.token}`, accept: "text/event-stream" } },
				(res) => {
					responses.push(res);
					if (res.statusCode !== 200) failed++;
					else opened++;
					if (opened + failed === job.clients) allOpen();
					let buffered = "";
					res.setEncoding("utf8");
					res.on("data", (chunk: string) => {
						const received = performance.timeOrigin + performance.now();
						buffered += chunk;
						let end = buffered.indexOf("\n\n");
						while (end >= 0) {
							const frame = buffered.slice(0, end);
							buffered = buffered.slice(end + 2);
							const data = /^event: alert$/m.test(frame) ? /^data: (.*)$/m.exec(frame)?.[1] : undefined;
							if (data) delays.push(received - Date.parse((JSON.parse(data) as { createdAt: string }).createdAt));
							end = buffered.indexOf("\n\n");
						}
					});
					res.on("error", () => undefined);
				},
			);
			req.on("error", () => {
				failed++;
				if (opened + failed === job.clients) allOpen();
			});
			req.end();
		}
	});
	parentPort?.postMessage({ opened, failed });
	await new Promise<void>((stop) => parentPort?.once("message", () => stop()));
	for (const res of responses) res.destroy();
	return { opened, failed, ms: delays };
}

async function runJob(job: Job): Promise<unknown> {
	if (job.kind === "sse") return sseClients(job);
	const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
	if (job.kind === "list") return closedLoop(job.connections, job.seconds, () => call(agent, job.url, { token: job.token }));
	const body = JSON.stringify({ email: job.email, password: PASSWORD });
	return closedLoop(job.concurrency, job.seconds, () => call(agent, `${job.url}/api/v1/auth/login`, { method: "POST", body }));
}

/* ---------- the server side (main thread) ---------- */

/** Runs a job in a worker thread; `onMessage` hears what it says before its result. */
function inWorker<T>(job: Job, onMessage?: (message: unknown, worker: Worker) => void): Promise<T> {
	const worker = new Worker(__filename, { workerData: job });
	return new Promise((resolve, reject) => {
		let first = true;
		worker.on("message", (message) => {
			if (onMessage && first && job.kind === "sse") {
				first = false;
				return onMessage(message, worker);
			}
			resolve(message as T);
			void worker.terminate();
		});
		worker.on("error", reject);
	});
}

const pct = (ms: number[], p: number) => {
	const sorted = [...ms].sort((a, b) => a - b);
	return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN;
};
const rps = (r: LoadResult) => r.ok / r.seconds;
const merged = (rows: LoadResult[]): LoadResult => ({
	ok: rows.reduce((n, r) => n + r.ok, 0),
	errors: rows.reduce((n, r) => n + r.errors, 0),
	seconds: rows.reduce((n, r) => n + r.seconds, 0),
	ms: rows.flatMap((r) => r.ms),
});
const line = (name: string, r: LoadResult, extra = "") =>
	console.log(
		`${name.padEnd(36)}${rps(r).toFixed(0).padStart(8)}${pct(r.ms, 0.5).toFixed(1).padStart(9)}${pct(r.ms, 0.99).toFixed(1).padStart(9)}${String(r.errors).padStart(8)}${extra}`,
	);
const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MiB`;

async function api(url: string, path: string, token: string | undefined, body?: unknown): Promise<Record<string, any>> {
	const res = await fetch(`${url}${path}`, {
		method: body === undefined ? "GET" : "POST",
		body: body === undefined ? undefined : JSON.stringify(body),
		headers: { "content-type": "application/json", ...(token && { authorization: `Bearer ${token}` }) },
	});
	const answer = (await res.json()) as Record<string, any>;
	if (res.status >= 300) throw new Error(`${path} answered ${res.status}: ${JSON.stringify(answer)}`);
	return answer;
}

/** The baseline: a bare Node http handler answering the same 50 rows from one pg query. */
function bareServer(pool: Pool, storeId: string): Promise<{ server: Server; url: string }> {
	const server = createServer((req, res) => {
		pool.query("SELECT * FROM alerts WHERE store_id = $1 ORDER BY seq DESC LIMIT 50", [storeId]).then(
			({ rows }) => {
				res.setHeader("Content-Type", "application/json; charset=utf-8");
				res.end(JSON.stringify({ items: rows }));
			},
			() => {
				res.statusCode = 500;
				res.end();
			},
		);
	});
	return new Promise((resolve) =>
		server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` })),
	);
}

async function main() {
	const databaseUrl = process.env.DATABASE_URL;
	if (!/^postgres(ql)?:\/\//.test(databaseUrl ?? "")) {
		console.error("bench:api-load needs a real PostgreSQL: set DATABASE_URL=postgres://...");
		process.exit(2);
	}
	const config = benchConfig("api", { LOG_LEVEL: "error", SERVICES: "api,auth,tenancy,camera,clip,alert,ingest" });
	const dataDir = config.dataDir;
	const broker = createNode(config);
	const pool = new Pool({ connectionString: databaseUrl, max: 10 });
	let bare: Server | undefined;
	try {
		await broker.start();
		const server = (broker.getLocalService("api") as unknown as { server: Server }).server;
		const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
		for (let tries = 0; ; tries++) {
			const ready = (await (await fetch(`${url}/readyz`)).json()) as { status: string };
			const paths = Object.keys(((await (await fetch(`${url}/openapi.json`)).json()) as { paths: object }).paths);
			if (ready.status === "ready" && paths.includes("/api/v1/ingest/events")) break;
			if (tries > 300) throw new Error("the gateway never became ready");
			await new Promise((r) => setTimeout(r, 100));
		}
		const email = `bench-${config.namespace}@example.com`;
		// Created directly, not signed up: sign-ups count against 127.0.0.1 in the database, and bench:ingest signs up.
		await broker.call("auth.createUser", { email, password: PASSWORD });
		const user = (await api(url, "/api/v1/auth/login", undefined, { email, password: PASSWORD })).accessToken as string;
		const org = await api(url, "/api/v1/orgs", user, { name: "Bench" });
		const store = await api(url, `/api/v1/orgs/${org.id}/stores`, user, { name: "Lot" });
		const base = `/api/v1/orgs/${org.id}/stores/${store.id}`;
		const camera = await api(url, `${base}/cameras`, user, { name: "Gate" });
		const rule = await api(url, `${base}/alert-rules`, user, { name: "People", classes: ["person"], minScore: 0.5, cooldownSec: 0 });
		const box = (await api(url, `${base}/service-tokens`, user, { name: "edge box" })).token as string;
		await pool.query(
			`INSERT INTO alerts (org_id, store_id, camera_id, source, edge_track_key, rule_id, class_name, score, severity, occurred_at, frame_time, box)
			 SELECT $1, $2, $3, 'edge', 'seed:' || g, $4, 'person', 0.8, 'high', now() - g * interval '1 minute', 0, '[0.1,0.2,0.3,0.7]'::jsonb
			 FROM generate_series(1, ${SEEDED_ALERTS}) g`,
			[org.id, store.id, camera.id, rule.id],
		);
		const bareStarted = await bareServer(pool, store.id);
		bare = bareStarted.server;
		const listUrl = `${url}${base}/alerts?limit=50`;
		const check = await api(url, `${base}/alerts?limit=50`, user);
		if (check.items.length !== 50) throw new Error(`the list answered ${check.items.length} rows`);

		const list = (target: string, token?: string, seconds = SECONDS) =>
			inWorker<LoadResult>({ kind: "list", url: target, token, seconds, connections: CONNECTIONS });
		const partA = async () => {
			console.log(
				`\n(a) alert list, 50 of ${SEEDED_ALERTS} rows, ${CONNECTIONS} connections, ${SECONDS} s per row in ${ROUNDS} alternating slices; PostgreSQL`,
			);
			console.log("row                                      req/s  p50 ms   p99 ms  errors");
			await list(bareStarted.url, undefined, 2);
			await list(listUrl, user, 2);
			// Alternating slices, so a neighbour's load on a shared machine weighs on both rows alike.
			// Also the serving thread's busy time per request: less swayed by the neighbours than requests/s.
			const slices: LoadResult[][] = [[], []];
			const busyMs = [0, 0];
			for (let round = 0; round < ROUNDS; round++) {
				for (const [row, target, token] of [
					[0, bareStarted.url, undefined],
					[1, listUrl, user],
				] as const) {
					const before = performance.eventLoopUtilization();
					slices[row].push(await list(target, token, SECONDS / ROUNDS));
					busyMs[row] += performance.eventLoopUtilization(before).active;
				}
			}
			const [bareRow, vigilRow] = slices.map(merged);
			const perRequest = (row: number, r: LoadResult) => `   ${(busyMs[row] / r.ok).toFixed(2)} ms busy/req`;
			line("bare http + pg (baseline)", bareRow, perRequest(0, bareRow));
			line("GET .../alerts, Bearer", vigilRow, perRequest(1, vigilRow));
			console.log(
				`ratio: ${(rps(vigilRow) / rps(bareRow)).toFixed(2)}x the baseline's requests/s; serving-thread time per request ${(busyMs[1] / vigilRow.ok / (busyMs[0] / bareRow.ok)).toFixed(1)}x the baseline's`,
			);
		};
		const partB = async () => {
			console.log(`\n(b) the same list while 2 people sign in, one login after another (bcrypt cost ${config.bcryptCost})`);
			console.log("row                                      req/s  p50 ms   p99 ms  errors   loop lag p99");
			const lag = monitorEventLoopDelay({ resolution: 10 });
			lag.enable();
			const alone = await list(listUrl, user);
			line("list alone", alone, `   ${(lag.percentile(99) / 1e6).toFixed(1)} ms`);
			lag.reset();
			const [during, logins] = await Promise.all([list(listUrl, user), inWorker<LoadResult>({ kind: "login", url, email, seconds: SECONDS, concurrency: 2 })]);
			line("list while signing in", during, `   ${(lag.percentile(99) / 1e6).toFixed(1)} ms`);
			line("POST /auth/login", logins);
			lag.disable();
			console.log(`listing p99 with logins: ${(pct(during.ms, 0.99) / pct(alone.ms, 0.99)).toFixed(2)}x of without`);
		};
		const partC = async () => {
			console.log(`\n(c) live alert stream: ${SSE_CLIENTS} clients, ${SSE_ALERTS} alerts raised by an edge box`);
			const rssBefore = process.memoryUsage().rss;
			let rssOpen = 0;
			const streams = await inWorker<{ opened: number; failed: number; ms: number[] }>(
				{ kind: "sse", url, token: user, clients: SSE_CLIENTS },
				async (message, worker) => {
					const { opened, failed } = message as { opened: number; failed: number };
					rssOpen = process.memoryUsage().rss;
					console.log(`streams open: ${opened} (${failed} refused); RSS ${mib(rssBefore)} before, ${mib(rssOpen)} with them open`);
					const start = Date.now();
					for (let n = 0; n < SSE_ALERTS; n++) {
						const events = Array.from({ length: 3 }, (_, i) => ({
							id: `sse-${n}-${i}`,
							cameraId: camera.id,
							time: new Date(start - 60_000 + n * 2000 + i * 200).toISOString(),
							className: "person",
							score: 0.9,
							box: [0.1 + i * 0.05, 0.2, 0.3 + i * 0.05, 0.7],
							trackId: `visitor-${n}`,
						}));
						await api(url, "/api/v1/ingest/events", box, { events });
						await new Promise((r) => setTimeout(r, 100));
					}
					await new Promise((r) => setTimeout(r, 3000));
					worker.postMessage("stop");
				},
			);
			const expected = streams.opened * SSE_ALERTS;
			console.log(
				`delivered ${streams.ms.length} of ${expected} (alert x client); delay from the alert row being written: p50 ${pct(streams.ms, 0.5).toFixed(1)} ms, p99 ${pct(streams.ms, 0.99).toFixed(1)} ms; RSS after ${mib(process.memoryUsage().rss)} (${mib(rssOpen - rssBefore)} for the streams)`,
			);
		};
		if (PARTS.has("a")) await partA();
		if (PARTS.has("b")) await partB();
		if (PARTS.has("c")) await partC();
	} finally {
		bare?.close();
		await pool.end();
		await broker.stop();
		rmSync(dataDir, { recursive: true, force: true });
	}
	if (PARTS.has("d")) {
		console.log("\n(d) edge ingest: bench/ingest.ts on the same database");
		spawnSync(process.execPath, [join(__dirname, "ingest.js")], {
			stdio: "inherit",
			env: { ...process.env, BENCH_BATCHES: process.env.BENCH_INGEST_BATCHES ?? "20" },
		});
	}
}

if (isMainThread) {
	main().then(
		() => process.exit(0),
		(err) => {
			console.error(err);
			process.exit(1);
		},
	);
} else {
	runJob(workerData as Job).then((result) => parentPort?.postMessage(result));
}
