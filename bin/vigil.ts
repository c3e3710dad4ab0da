#!/usr/bin/env node
/**
 * The `vigil` command: start a node, run migrations, create users, or open the Moleculer REPL.
 *   vigil start                                  run the services named in SERVICES (default: all)
 *   vigil migrate                                apply pending database migrations and exit
 *   vigil user:create --email E [--super-admin]  create a user; password from VIGIL_PASSWORD or prompted
 *   vigil repl                                   start a node with the operator REPL
 *   vigil settings                               print every setting as a Markdown table (the README's)
 *   vigil migration:pending                      print the SQL (up, then down) the entities need beyond the
 *                                                migrations, on a throwaway embedded database: the draft of a new migration
 */
import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { ConfigError, loadConfig, settingsTable, type Config } from "../lib/platform/config";
import { createDataSource, migrate } from "../lib/platform/database";
import { createNode } from "../app/node";

async function main(argv: string[]): Promise<number> {
	const [command = "start", ...args] = argv;
	if (command === "settings") {
		console.log(settingsTable());
		return 0;
	}
	if (command === "migration:pending") return pendingMigration();
	const config = loadConfig();
	switch (command) {
		case "start":
			return start(config, false);
		case "repl":
			return start(config, true);
		case "migrate":
			return runMigrations(config);
		case "user:create":
			return createUser(config, args);
		default:
			console.error(`Unknown command "${command}". Commands: start, migrate, user:create, repl, settings, migration:pending`);
			return 2;
	}
}

async function start(config: Config, repl: boolean): Promise<number> {
	const broker = createNode(config);
	await broker.start();
	if (config.embedded && config.services.includes("auth")) await bootstrapSuperAdmin(broker, config);
	if (repl) await broker.repl();
	return -1; // keep running
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
		console.error(err instanceof ConfigError ? err.message : err);
		process.exit(1);
	},
);
