/**
 * The dashboard's API types, generated from the OpenAPI document a Vigil node serves (never hand-copied):
 * `npm run dashboard:types` writes dashboard/src/api/schema.d.ts, and a test fails when the checked-in file
 * no longer matches what the gateway serves.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../lib/platform/config";
import { createNode } from "./node";

// Run from app/ by ts-jest, or from dist/app/ once built.
const ROOT = join(__dirname, __dirname.endsWith(join("dist", "app")) ? "../.." : "..");
export const SCHEMA_FILE = join(ROOT, "dashboard", "src", "api", "schema.d.ts");

/** Starts a throwaway node (every service, in-memory database, no transporter) and reads its /openapi.json. */
export async function servedOpenApi(): Promise<unknown> {
	const dataDir = mkdtempSync(join(tmpdir(), "vigil-openapi-"));
	const config = loadConfig({
		DATABASE_URL: "pglite://memory",
		DATA_DIR: dataDir,
		PORT: "0",
		METRICS_PORT: "0",
		HOST: "127.0.0.1",
		LOG_LEVEL: "warn",
		LOG_FORMAT: "json",
		RETENTION_INTERVAL: "0",
		JWT_SECRET: "openapi-types-only-secret-not-for-serving",
		ENCRYPTION_KEY: "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
	});
	const broker = createNode(config, { nodeID: "openapi-types" });
	try {
		await broker.start();
		const server = (broker.getLocalService("api") as unknown as { server: import("node:http").Server }).server;
		const { port } = server.address() as import("node:net").AddressInfo;
		// Routes appear a moment after their services: wait until the gateway says it is ready.
		for (let i = 0; i < 300; i++) {
			if ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200) break;
			await new Promise((r) => setTimeout(r, 100));
		}
		return await (await fetch(`http://127.0.0.1:${port}/openapi.json`)).json();
	} finally {
		await broker.stop();
		rmSync(dataDir, { recursive: true, force: true });
	}
}

/** The TypeScript declarations for a document, formatted like the rest of the code (lint checks them). */
export function typesFor(document: unknown): string {
	const dir = mkdtempSync(join(tmpdir(), "vigil-openapi-"));
	try {
		const input = join(dir, "openapi.json");
		const output = join(dir, "schema.d.ts");
		writeFileSync(input, JSON.stringify(document));
		// openapi-typescript and prettier are ES modules: their command lines keep this module CommonJS. Fields with a
		// default stay optional in request bodies (the server fills them in).
		execFileSync(
			process.execPath,
			[join(ROOT, "node_modules", "openapi-typescript", "bin", "cli.js"), input, "--output", output, "--default-non-nullable=false"],
			{ stdio: "pipe" },
		);
		return execFileSync(process.execPath, [join(ROOT, "node_modules", "prettier", "bin", "prettier.cjs"), "--stdin-filepath", SCHEMA_FILE], {
			input: readFileSync(output),
			encoding: "utf8",
		});
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

export async function generateDashboardTypes(): Promise<string> {
	return typesFor(await servedOpenApi());
}

if (require.main === module) {
	generateDashboardTypes().then(
		(text) => {
			writeFileSync(SCHEMA_FILE, text);
			process.exit(0);
		},
		(err) => {
			console.error(err);
			process.exit(1);
		},
	);
}
