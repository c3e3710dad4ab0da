/**
 * `vigil repl`: a node that runs no services of its own (no HTTP port, workers, timers or database) and joins the
 * running cluster, over NATS when TRANSPORTER is set, otherwise through the embedded server's operator socket in
 * DATA_DIR; then moleculer-repl's prompt, with its own commands and Vigil's operator commands (app/repl-commands.ts).
 *
 * The prompt is moleculer-repl's, assembled here rather than by `broker.repl()`: that one keeps its built-in `nodes`
 * ahead of a custom command of the same name, so Vigil's `nodes` could never run. Moleculer's own list stays
 * available as `mol-nodes`.
 */
import { createRequire } from "node:module";
import { homedir, hostname } from "node:os";
import { start as startNodeRepl, type REPLServer } from "node:repl";
import { join } from "node:path";
import type { Command } from "commander";
import { ServiceBroker } from "moleculer";
import { brokerOptions } from "./broker-options";
import { operatorCommands, type CommandArgs, type OperatorCommand } from "./repl-commands";
import type { Config } from "../lib/platform/config";
import { OperatorSocketTransporter, operatorSocketPath } from "../lib/platform/operator-socket";

// moleculer-repl's parts, from its own folder so they use its commander.
const fromRepl = createRequire(require.resolve("moleculer-repl"));
const replCommands = fromRepl("./src/commands") as (program: Command, broker: ServiceBroker) => void;
const { autocompleteHandler } = fromRepl("./src/autocomplete") as {
	autocompleteHandler: (line: string, broker: ServiceBroker, program: Command) => [string[], string];
};
const { parseArgsStringToArgv } = fromRepl("string-argv") as { parseArgsStringToArgv: (line: string, env: string, file: string) => string[] };
const { Command: CommanderCommand } = fromRepl("commander") as { Command: new () => Command };

/** Where each line's output goes while a command runs (the prompt's terminal; a test's buffer). */
export type Printer = (text: string) => void;

/** The REPL node: Vigil's broker options and middlewares, no services, quiet logs, and the way to the cluster. */
export function createReplNode(config: Config, onServerGone?: () => void): ServiceBroker {
	const nodeID = `repl-${hostname()}-${process.pid}`;
	const transporter = config.transporter ?? new OperatorSocketTransporter({ path: operatorSocketPath(config.dataDir), role: "client", onServerGone });
	return new ServiceBroker({
		...brokerOptions({ ...config, logLevel: config.logLevel === "info" ? "warn" : config.logLevel }, nodeID),
		transporter,
		// Nothing to collect here, and this node must not answer as a metrics source.
		metrics: { enabled: false },
		// A node announces itself when its services start; this one has none, so it says it is here at once (else
		// the others would learn of it from its first heartbeat, seconds later).
		started(broker: ServiceBroker) {
			return (broker.registry as unknown as { discoverer: { sendLocalNodeInfo(): Promise<void> } }).discoverer.sendLocalNodeInfo();
		},
	});
}

/**
 * moleculer-repl's command program with Vigil's commands: its built-in commands (`call`, `info`, `services`...),
 * then ours, registered as its `customCommands` are (arguments by name, `--flags` in `options`).
 */
export function operatorProgram(broker: ServiceBroker, commands: OperatorCommand[] = operatorCommands()): Command {
	const program = new CommanderCommand();
	program.exitOverride();
	program.allowUnknownOption(true);
	program.showHelpAfterError(true);
	replCommands(program, broker);
	for (const def of commands) {
		const name = def.command.split(" ")[0];
		for (const builtIn of program.commands) if (builtIn.name() === name) builtIn.name(`mol-${name}`);
		const cmd = program.command(def.command).description(def.description);
		for (const opt of def.options ?? []) cmd.option(opt.option, opt.description);
		const names = [...def.command.matchAll(/[<[](\w+)[>\]]/g)].map((m) => m[1]);
		cmd.action(async (...params: unknown[]) => {
			const command = params[params.length - 1] as Command;
			const args: CommandArgs = { options: { ...command.opts() } };
			names.forEach((key, i) => (args[key] = params[i]));
			// commander keeps option values between parses of one program: each line starts afresh.
			for (const key of Object.keys(command.opts())) command.setOptionValue(key, undefined);
			await def.action(broker, args);
		});
	}
	return program;
}

/** Runs one line as the prompt does; a failed call prints its message (not a stack) and the prompt goes on. */
export async function runLine(program: Command, line: string, print: Printer = (text) => process.stdout.write(`${text}\n`)): Promise<void> {
	const argv = parseArgsStringToArgv(line, "node", "vigil");
	if (argv.length === 2) return;
	try {
		await program.parseAsync(argv);
	} catch (err) {
		const e = err as { code?: string; message?: string; type?: string; data?: unknown };
		if (typeof e.code === "string" && e.code.startsWith("commander.")) return;
		// A validation error names each field that is wrong.
		const fields = Array.isArray(e.data) ? e.data.map((d: { message?: string }) => d.message).filter(Boolean) : [];
		print(`Error: ${e.message ?? String(err)}${e.type ? ` (${e.type})` : ""}${fields.length ? `: ${fields.join("; ")}` : ""}`);
	}
}

/** The prompt: moleculer-repl's completion and history; Ctrl+D or `quit` leaves the cluster and exits. */
export function openOperatorRepl(broker: ServiceBroker, program: Command = operatorProgram(broker)): REPLServer {
	let queue = Promise.resolve();
	const server = startNodeRepl({
		prompt: "vigil $ ",
		completer: (line: string) => autocompleteHandler(line, broker, program),
		// Lines piped in arrive at once: each runs after the one before, so outputs keep their order.
		eval: (line, _context, _file, callback) => {
			queue = queue.then(() => runLine(program, line)).then(() => callback(null, undefined));
		},
		ignoreUndefined: true,
	});
	server.setupHistory(join(homedir(), ".vigil_repl_history"), () => undefined);
	server.on("exit", () => {
		// Piped lines may still be running: they finish first.
		void queue.then(() => broker.stop()).finally(() => process.exit(0));
	});
	server.context.broker = broker;
	return server;
}
