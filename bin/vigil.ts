#!/usr/bin/env node
/**
 * The `vigil` command: start a node, run migrations, create users, or open the Moleculer REPL.
 *   vigil start                                  run the services named in SERVICES (default: all)
 *   vigil migrate                                apply pending database migrations and exit
 *   vigil user:create --email E [--super-admin]  create a user; password from VIGIL_PASSWORD or prompted
 *   vigil repl                                   the operator REPL, on the running cluster (TRANSPORTER) or the
 *                                                embedded server of DATA_DIR (its operator socket)
 *   vigil settings                               print every setting as a Markdown table (the README's)
 *   vigil migration:pending                      print the SQL (up, then down) the entities need beyond the
 *                                                migrations, on a throwaway embedded database: the draft of a new migration
 */
import "reflect-metadata";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ConfigError, loadConfig, settingsTable, type Config } from "../lib/platform/config";
import { createDataSource, migrate } from "../lib/platform/database";
import { DatabaseInUseError } from "../lib/platform/data-dir-lock";
import { createNode } from "../app/node";
import { createReplNode, openOperatorRepl } from "../app/repl";
import { answers, noServer, operatorSocketPath } from "../lib/platform/operator-socket";

async function main(argv: string[]): Promise<number> {
	const [command = "start", ...args] = argv;
	if (command === "settings") {
		console.log(settingsTable());
		return 0;
	}
	if (command === "migration:pending") return pendingMigration();
	// Migrating and attaching a REPL start no service of SERVICES: they need no secret.
	const config = loadConfig(process.env, { runsServices: command !== "migrate" && command !== "repl" });
	switch (command) {
		case "start":
			return start(config);
		case "repl":
			return repl(config);
		case "migrate":
			return runMigrations(config);
		case "user:create":
			return createUser(config, args);
		default:
			console.error(`Unknown command "${command}". Commands: start, migrate, user:create, repl, settings, migration:pending`);
			return 2;
	}
}

async function start(config: Config): Promise<number> {
	// A new embedded database is created and migrated by a short-lived `vigil migrate`: PGlite's WebAssembly heap
	// grows by some 450 MiB doing that and never shrinks, so the server then opens the finished database small.
	if (config.embedded && !existsSync(join(config.dataDir, "pgdata", "PG_VERSION"))) await migrateInChildProcess();
	const broker = createNode(config, { operatorSocket: true });
	await broker.start();
	if (config.embedded && config.services.includes("auth")) await bootstrapSuperAdmin(broker, config);
	return -1; // keep running
}

/** A node with no services of its own joins the running cluster (or attaches to the embedded server) and prompts. */
async function repl(config: Config): Promise<number> {
	// Moleculer would wait for a server for ever; say at once that there is none.
	if (!config.transporter && !(await answers(operatorSocketPath(config.dataDir)))) {
		console.error(noServer(operatorSocketPath(config.dataDir)));
		return 1;
	}
	const broker = createReplNode(config, () => {
		console.error("\nThe Vigil server went away; leaving the REPL.");
		process.exit(1);
	});
	await broker.start();
	openOperatorRepl(broker);
	return -1; // the prompt keeps it running
}

function migrateInChildProcess(): Promise<void> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [...process.execArgv, process.argv[1], "migrate"], { stdio: ["ignore", "ignore", "inherit"] });
		child.once("error", reject);
		child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`Creating the embedded database failed (vigil migrate exited with ${code})`))));
	});
}

/** Embedded mode only: the very first start creates a super-admin and prints its password once. */
async function bootstrapSuperAdmin(broker: ReturnType<typeof createNode>, config: Config) {
	if ((await broker.call<number>("auth.countUsers")) > 0) return;
	const password = randomBytes(15).toString("base64url");
	await broker.call("auth.createUser", { email: config.superAdminEmail, password, superAdmin: true });
	process.stdout.write(
		`\n  First start: created super-admin ${config.superAdminEmail}\n  Password (shown only this once): ${password}\n` +
			`  Sign in: POST /api/v1/auth/login, or see http://localhost:${config.port}/docs\n\n`,
	);
}

async function runMigrations(config: Config): Promise<number> {
	const dataSource = createDataSource(config);
	await dataSource.initialize();
	try {
		const applied = await migrate(dataSource);
		console.log(applied.length ? `Applied: ${applied.join(", ")}` : "Database is up to date");
		return 0;
	} finally {
		await dataSource.destroy();
	}
}

async function pendingMigration(): Promise<number> {
	const dataSource = createDataSource({ databaseUrl: "pglite://memory", dataDir: "" });
	await dataSource.initialize();
	try {
		await migrate(dataSource);
		const pending = await dataSource.driver.createSchemaBuilder().log();
		console.log("-- up");
		for (const q of pending.upQueries) console.log(`${q.query};`);
		console.log("-- down (in this order)");
		for (const q of [...pending.downQueries].reverse()) console.log(`${q.query};`);
		return 0;
	} finally {
		await dataSource.destroy();
	}
}

async function createUser(config: Config, args: string[]): Promise<number> {
	const email = valueOf(args, "--email");
	if (!email) {
		console.error("Usage: vigil user:create --email EMAIL [--super-admin]  (password from VIGIL_PASSWORD or prompted)");
		return 2;
	}
	const password = process.env.VIGIL_PASSWORD || (await prompt("Password: "));
	// A private, local node: it talks to the database directly and joins no cluster.
	const broker = createNode({ ...config, transporter: undefined, services: ["auth"] });
	await broker.start();
	try {
		const user = await broker.call<{ id: string; email: string }, object>("auth.createUser", { email, password, superAdmin: args.includes("--super-admin") });
		console.log(`Created ${args.includes("--super-admin") ? "super-admin" : "user"} ${user.email} (${user.id})`);
		return 0;
	} catch (err) {
		const e = err as { message: string; data?: { message: string }[] };
		console.error(`Could not create the user: ${e.message}${Array.isArray(e.data) ? "\n  - " + e.data.map((d) => d.message).join("\n  - ") : ""}`);
		return 1;
	} finally {
		await broker.stop();
	}
}

const valueOf = (args: string[], flag: string) => {
	const i = args.indexOf(flag);
	return i >= 0 ? args[i + 1] : undefined;
};

/** Reads a line without echoing it (for passwords typed at a terminal). */
function prompt(question: string): Promise<string> {
	return new Promise((resolve) => {
		const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
		const output = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WriteStream };
		output._writeToOutput = (s: string) => {
			if (s.includes(question)) output.output.write(s);
		};
		rl.question(question, (answer) => {
			rl.close();
			process.stdout.write("\n");
			resolve(answer);
		});
	});
}

main(process.argv.slice(2)).then(
	(code) => {
		if (code >= 0) process.exit(code);
	},
	(err) => {
		// A bad setting, or an embedded database another process holds: one line says what to do.
		console.error(err instanceof ConfigError || err instanceof DatabaseInUseError ? err.message : err);
		process.exit(1);
	},
);
