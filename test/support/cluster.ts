/**
 * Starts Vigil for a test file. With TRANSPORTER set, the gateway and the services run on two brokers that
 * talk over NATS (a namespace of their own, so parallel runs never meet); otherwise one in-process broker.
 * DATABASE_URL selects real PostgreSQL; unset, an in-memory embedded PostgreSQL (PGlite).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServiceBroker } from "moleculer";
import { connect } from "nats";
import type { DataSource } from "typeorm";
import { loadConfig, type Config } from "../../lib/platform/config";
import { createNode } from "../../app/node";
import { nodeDatabase } from "../../lib/platform/node-context";

export interface Cluster {
	url: string;
	config: Config;
	brokers: ServiceBroker[];
	/** The broker running the data services (for direct database checks). */
	core: ServiceBroker;
	db(): Promise<DataSource>;
	stop(): Promise<void>;
}

export const overNats = Boolean(process.env.TRANSPORTER);
/** Real PostgreSQL (DATABASE_URL set); otherwise the embedded one, a single session in this process. */
export const onPostgres = /^postgres(ql)?:\/\//.test(process.env.DATABASE_URL ?? "");

export function testConfig(env: Record<string, string> = {}): Config {
	const dataDir = mkdtempSync(join(tmpdir(), "vigil-test-"));
	return loadConfig({
		DATABASE_URL: process.env.DATABASE_URL ?? "pglite://memory",
		TRANSPORTER: process.env.TRANSPORTER,
		NAMESPACE: `test-${randomBytes(4).toString("hex")}`,
		DATA_DIR: dataDir,
		PORT: "0",
		METRICS_PORT: "0",
		HOST: "127.0.0.1",
		LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn",
		LOG_FORMAT: "json",
		BCRYPT_COST: "4",
		// Every test signs its users up from 127.0.0.1; the sign-up limit has its own tests.
		REGISTER_MAX_PER_IP: "1000000",
		JWT_SECRET: "test-secret-that-is-long-enough-to-pass-32",
		ENCRYPTION_KEY: "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		...env,
	});
}

/**
 * `operatorSocket`: the embedded node opens its operator socket in DATA_DIR as `vigil start` does, for `vigil repl`
 * tests (TEST_OPERATOR_SOCKET=true turns it on for every test file, to run them with the attach point open).
 */
export async function startCluster(env: Record<string, string> = {}, options: { operatorSocket?: boolean } = {}): Promise<Cluster> {
	const config = testConfig(env);
	const split = overNats && config.services.length > 1;
	const operatorSocket = options.operatorSocket ?? process.env.TEST_OPERATOR_SOCKET === "true";
	const brokers = split
		? [
				createNode({ ...config, services: ["api"] }, { nodeID: `gateway-${config.namespace}` }),
				createNode({ ...config, services: config.services.filter((s) => s !== "api") }, { nodeID: `core-${config.namespace}` }),
			]
		: [createNode(config, { nodeID: `node-${config.namespace}`, operatorSocket })];
	await Promise.all(brokers.map((b) => b.start()));
	const gateway = brokers[0];
	const core = brokers[brokers.length - 1];
	const server = (gateway.getLocalService("api") as unknown as { server: import("node:http").Server }).server;
	const address = server.address() as import("node:net").AddressInfo;
	const url = `http://127.0.0.1:${address.port}`;
	await waitForReady(url);
	return {
		url,
		config,
		brokers,
		core,
		db: () => nodeDatabase(core),
		async stop() {
			for (const b of brokers) await b.stop();
			if (config.transporter) await deleteStreams(config.transporter, config.namespace);
			rmSync(config.dataDir, { recursive: true, force: true });
		},
	};
}

export async function waitForReady(url: string, timeoutMs = 30000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	let last = "";
	while (Date.now() < deadline) {
		try {
			const res = await fetch(`${url}/readyz`);
			if (res.status === 200) return;
			last = await res.text();
		} catch (err) {
			last = String(err);
		}
		await new Promise((r) => setTimeout(r, 100));
	}
	throw new Error(`Vigil did not become ready: ${last}`);
}

/** JetStream streams outlive brokers: remove this test cluster's job and dead-letter streams from the shared NATS. */
export async function deleteStreams(url: string, namespace: string): Promise<void> {
	const nc = await connect({ servers: url });
	try {
		const jsm = await nc.jetstreamManager();
		for await (const stream of jsm.streams.list()) {
			if (stream.config.name.startsWith(`${namespace}_`)) await jsm.streams.delete(stream.config.name);
		}
	} finally {
		await nc.close();
	}
}
