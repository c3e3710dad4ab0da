/**
 * Vigil nodes as real processes, for fault tests that kill or stop them: compiled once from the sources, each
 * started with `vigil start` and its own SERVICES, on a private nats-server the test owns and a fresh database
 * on the PostgreSQL of DATABASE_URL (dropped at the end).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "pg";
import { commandAvailable, requireService } from "./require";

const ROOT = join(__dirname, "..", "..");
export const NATS_SERVER = process.env.NATS_SERVER_BIN ?? "nats-server";

/** Compiles the sources to dist/ (what `vigil start` runs). */
export function buildDist(): void {
	execFileSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", join(ROOT, "tsconfig.build.json")], { stdio: "inherit" });
}

export async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const { port } = server.address() as { port: number };
			server.close(() => resolve(port));
		});
	});
}

/** A nats-server with JetStream on a spare loopback port, with its own store; stopped by its process id. */
export async function privateNats(): Promise<{ url: string; stop: () => Promise<void> }> {
	const port = await freePort();
	const dir = mkdtempSync(join(tmpdir(), "vigil-nats-"));
	const child = spawn(NATS_SERVER, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir], { stdio: "ignore" });
	const url = `nats://127.0.0.1:${port}`;
	const deadline = Date.now() + 10_000;
	while (!(await accepts(port))) {
		if (Date.now() > deadline || child.exitCode !== null) throw new Error(`nats-server did not start on port ${port}`);
		await new Promise((r) => setTimeout(r, 100));
	}
	return {
		url,
		async stop() {
			await stopProcess(child, "SIGTERM");
			rmSync(dir, { recursive: true, force: true });
		},
	};
}

function accepts(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = createConnection({ host: "127.0.0.1", port });
		socket.once("connect", () => {
			socket.destroy();
			resolve(true);
		});
		socket.once("error", () => resolve(false));
	});
}

/** A new, empty database on the server of `serverUrl` (a postgres:// URL); `drop` removes it. */
export async function freshDatabase(serverUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
	const name = `vigil_fault_${randomBytes(4).toString("hex")}`;
	const admin = async (sql: string) => {
		const client = new Client({ connectionString: serverUrl });
		await client.connect();
		try {
			await client.query(sql);
		} finally {
			await client.end();
		}
	};
	await admin(`CREATE DATABASE ${name}`);
	const url = new URL(serverUrl);
	url.pathname = `/${name}`;
	return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

export interface NodeProcess {
	child: ChildProcess;
	/** Everything the node wrote, for assertions on its logs. */
	output(): string;
	exited: Promise<number | null>;
}

/** `vigil start` with these settings on top of the given environment. */
export function startNode(env: Record<string, string>): NodeProcess {
	const child = spawn(process.execPath, [join(ROOT, "dist", "bin", "vigil.js"), "start"], {
		env: { ...process.env, METRICS_PORT: "0", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn", LOG_FORMAT: "json", BCRYPT_COST: "4", ...env },
		stdio: ["ignore", "pipe", "pipe"],
	});
	let output = "";
	child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
	child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
	const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
	return { child, output: () => output, exited };
}

/** Sends the signal and waits for the process to be gone (SIGKILL after 30 s). */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return;
	const gone = new Promise((resolve) => child.once("exit", resolve));
	child.kill(signal);
	const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
	await gone;
	clearTimeout(timer);
}

/**
 * What a process fault test stands on: the sources compiled, a private nats-server, a fresh database, and the
 * settings every node of the test shares (`env`). `stop` removes them all.
 */
export async function privateServers(namespace: string, settings: Record<string, string> = {}) {
	buildDist();
	const nats = await privateNats();
	const database = await freshDatabase(process.env.DATABASE_URL as string);
	const env: Record<string, string> = {
		TRANSPORTER: nats.url,
		DATABASE_URL: database.url,
		NAMESPACE: namespace,
		DATA_DIR: mkdtempSync(join(tmpdir(), `vigil-${namespace}-`)),
		JWT_SECRET: "test-secret-that-is-long-enough-to-pass-32",
		ENCRYPTION_KEY: "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		...settings,
	};
	return {
		nats,
		env,
		async stop() {
			await nats.stop();
			await database.drop();
		},
	};
}

/** Whether the tests that need real servers and a nats-server binary can run (they run in the PostgreSQL + NATS pass only). */
export function processTestsRunnable(file: string, needsFootage: () => boolean): boolean {
	const realServers = Boolean(process.env.TRANSPORTER && process.env.DATABASE_URL);
	if (!realServers) console.warn(`${file} runs in the PostgreSQL + NATS pass only (set TRANSPORTER and DATABASE_URL)`);
	return (
		realServers &&
		needsFootage() &&
		requireService(`the nats-server binary (${NATS_SERVER})`, commandAvailable(NATS_SERVER), "put it on PATH or set NATS_SERVER_BIN")
	);
}

export { ROOT };
