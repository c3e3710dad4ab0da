/**
 * The settings a bench's own Vigil node starts with: loopback only, quiet logs, fixed secrets, a namespace of its
 * own (so a bench never meets another run's nodes on a shared NATS), and its data in a fresh temporary folder.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, type Config } from "../lib/platform/config";

export function benchConfig(name: string, env: Record<string, string>): Config {
	return loadConfig({
		DATABASE_URL: process.env.DATABASE_URL ?? "pglite://memory",
		DATA_DIR: mkdtempSync(join(tmpdir(), `vigil-bench-${name}-`)),
		PORT: "0",
		HOST: "127.0.0.1",
		LOG_LEVEL: "warn",
		LOG_FORMAT: "json",
		METRICS_PORT: "0",
		JWT_SECRET: "bench-secret-bench-secret-bench-secret",
		ENCRYPTION_KEY: "ab".repeat(32),
		NAMESPACE: `bench-${randomBytes(3).toString("hex")}`,
		...env,
	});
}
