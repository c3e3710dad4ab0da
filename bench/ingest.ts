/**
 * Edge ingest throughput: an edge box's batches of 100 detection events (people walking across 4 cameras, with
 * a rule that alerts on people), sent one batch at a time and 4 at a time, plain JSON and gzip, then the same
 * batches again (all duplicates). Prints accepted events/s and batch latency. Embedded PostgreSQL by default;
 * DATABASE_URL=postgres://... measures against a real one.
 *
 *   npm run bench:ingest            (BENCH_BATCHES, default 40 batches per row)
 */
import { rmSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { createNode } from "../app/node";
import { benchConfig } from "./bench-config";

const BATCHES = Number(process.env.BENCH_BATCHES ?? 40);
const BATCH = 100;
const CAMERAS = 4;

async function json(url: string, body: unknown, token: string) {
	const res = await fetch(url, {
		method: "POST",
		body: JSON.stringify(body),
		headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
	});
	return res.json() as Promise<Record<string, any>>;
}

/** Batch `n`: 100 events, 25 per camera, a person walking left to right at 5 events/s (box track ids as edge boxes send them). */
function batch(n: number, cameraIds: string[], start: number) {
	return {
		events: Array.from({ length: BATCH }, (_, i) => {
			const camera = i % CAMERAS;
			const step = n * (BATCH / CAMERAS) + Math.floor(i / CAMERAS);
			const x = (step % 50) / 60;
			return {
				id: `b${n}-e${i}`,
				cameraId: cameraIds[camera],
				time: new Date(start + step * 200).toISOString(),
				className: "person",
				score: 0.6 + (step % 7) / 20,
				box: [x, 0.2, x + 0.1, 0.7],
				trackId: `walker-${Math.floor(step / 50)}`,
			};
		}),
	};
}

async function send(url: string, token: string, body: object, gzip: boolean): Promise<{ ms: number; accepted: number; duplicates: number }> {
	const raw = Buffer.from(JSON.stringify(body));
	const started = performance.now();
	const res = await fetch(`${url}/api/v1/ingest/events`, {
		method: "POST",
		body: gzip ? gzipSync(raw) : raw,
		headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...(gzip && { "content-encoding": "gzip" }) },
	});
	const answer = (await res.json()) as { accepted: number; duplicates: number };
	if (res.status !== 200) throw new Error(`ingest answered ${res.status}: ${JSON.stringify(answer)}`);
	return { ms: performance.now() - started, accepted: answer.accepted, duplicates: answer.duplicates };
}

async function row(name: string, url: string, token: string, bodies: object[], concurrency: number, gzip: boolean) {
	const results: Awaited<ReturnType<typeof send>>[] = [];
	const queue = [...bodies];
	const started = performance.now();
	await Promise.all(
		Array.from({ length: concurrency }, async () => {
			for (let body = queue.shift(); body; body = queue.shift()) results.push(await send(url, token, body, gzip));
		}),
	);
	const seconds = (performance.now() - started) / 1000;
	const ms = results.map((r) => r.ms).sort((a, b) => a - b);
	const pct = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))];
	const accepted = results.reduce((s, r) => s + r.accepted, 0);
	const duplicates = results.reduce((s, r) => s + r.duplicates, 0);
	console.log(
		`${name.padEnd(34)}${String(accepted).padStart(9)}${String(duplicates).padStart(11)}${((accepted + duplicates) / seconds).toFixed(0).padStart(12)}${pct(0.5).toFixed(1).padStart(10)}${pct(0.95).toFixed(1).padStart(10)}`,
	);
}

async function main() {
	const config = benchConfig("ingest", { BCRYPT_COST: "4", SERVICES: "api,auth,tenancy,camera,clip,alert,ingest" });
	const dataDir = config.dataDir;
	const broker = createNode(config);
	try {
		await broker.start();
		const server = (broker.getLocalService("api") as unknown as { server: import("node:http").Server }).server;
		const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
		// The gateway builds its routes once it has seen every service: wait until it serves the ingest route.
		for (let tries = 0; ; tries++) {
			const paths = Object.keys(((await (await fetch(`${url}/openapi.json`)).json()) as { paths: object }).paths);
			if (paths.includes("/api/v1/ingest/events") && ((await (await fetch(`${url}/readyz`)).json()) as { status: string }).status === "ready") break;
			if (tries > 300) throw new Error("the gateway never became ready");
			await new Promise((r) => setTimeout(r, 100));
		}
		const session = await json(
			`${url}/api/v1/auth/register`,
			{ email: `bench-${config.namespace}@example.com`, password: "a quiet evening by the harbour" },
			"",
		);
		const user = session.accessToken as string;
		const org = await json(`${url}/api/v1/orgs`, { name: "Bench" }, user);
		const store = await json(`${url}/api/v1/orgs/${org.id}/stores`, { name: "Lot" }, user);
		const base = `${url}/api/v1/orgs/${org.id}/stores/${store.id}`;
		const cameraIds: string[] = [];
		for (let i = 0; i < CAMERAS; i++) cameraIds.push((await json(`${base}/cameras`, { name: `Gate ${i}` }, user)).id);
		await json(`${base}/alert-rules`, { name: "People", classes: ["person"], minScore: 0.5, cooldownSec: 0 }, user);
		const created = await json(`${base}/service-tokens`, { name: "edge box" }, user);
		const box = created.token as string;
		if (!box) throw new Error(`no service token: ${JSON.stringify(created)}`);

		const start = Date.now() - 3_600_000;
		const make = (from: number) => Array.from({ length: BATCHES }, (_, i) => batch(from + i, cameraIds, start));
		const [one, four, gz] = [make(0), make(BATCHES), make(2 * BATCHES)];
		await send(url, box, batch(10_000, cameraIds, start), false);
		console.log(
			`\n${BATCHES} batches of ${BATCH} events per row, ${CAMERAS} cameras, one alert rule; database: ${process.env.DATABASE_URL ? "PostgreSQL" : "embedded (PGlite)"}`,
		);
		console.log("row                                accepted  duplicates  events/s  p50 (ms)  p95 (ms)");
		await row("JSON, 1 batch at a time", url, box, one, 1, false);
		await row("JSON, 4 batches at a time", url, box, four, 4, false);
		await row("gzip, 4 batches at a time", url, box, gz, 4, true);
		await row("the same batches again (duplicates)", url, box, [...one, ...four], 4, false);
	} finally {
		await broker.stop();
		rmSync(dataDir, { recursive: true, force: true });
	}
}

main().then(
	() => process.exit(0),
	(err) => {
		console.error(err);
		process.exit(1);
	},
);
