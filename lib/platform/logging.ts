/**
 * Structured logs. Each action runs inside an AsyncLocalStorage scope holding its request id, so every line
 * written while serving a request (in any service, on any node the request reaches) carries that id.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { inspect } from "node:util";
import type { LoggerConfig } from "moleculer";
import type { Config } from "./config";

export const requestScope = new AsyncLocalStorage<{ requestId: string }>();

export const currentRequestId = (): string | undefined => requestScope.getStore()?.requestId;

interface Bindings {
	nodeID?: string;
	mod?: string;
	svc?: string;
}

function render(arg: unknown): string {
	if (arg instanceof Error) return `${arg.name}: ${arg.message}`;
	return typeof arg === "string" ? arg : inspect(arg, { depth: 4, breakLength: Infinity });
}

/** One JSON object a line: time, level, msg, node, service, request id, plus the fields of object arguments. */
export function jsonLine(level: string, args: unknown[], bindings: Bindings): string {
	const line: Record<string, unknown> = { time: new Date().toISOString(), level, msg: "", node: bindings.nodeID, mod: bindings.svc ?? bindings.mod };
	const requestId = currentRequestId();
	if (requestId) line.requestId = requestId;
	const words: string[] = [];
	for (const arg of args) {
		if (arg instanceof Error) {
			words.push(render(arg));
			line.err = { name: arg.name, message: arg.message, code: (arg as { code?: unknown }).code, stack: arg.stack };
		} else if (arg && typeof arg === "object" && !Array.isArray(arg)) Object.assign(line, arg);
		else words.push(render(arg));
	}
	line.msg = words.join(" ");
	return JSON.stringify(line);
}

export function loggerOptions(config: Pick<Config, "logLevel" | "logFormat">): LoggerConfig {
	return {
		type: "Console",
		options: {
			level: config.logLevel,
			colors: config.logFormat === "pretty",
			formatter: (level: string, args: unknown[], bindings: Bindings) => {
				if (config.logFormat === "json") return [jsonLine(level, args, bindings)];
				const rid = currentRequestId();
				const where = `${bindings.nodeID}/${(bindings.svc ?? bindings.mod ?? "").toUpperCase()}`;
				return [`[${new Date().toISOString()}] ${level.toUpperCase().padEnd(5)} ${where}${rid ? ` [${rid}]` : ""}:`, ...args.map(render)];
			},
		},
	};
}
