/**
 * Tests that need a server, a tool or a file outside the checkout say so. Where it is missing they skip
 * visibly (a warning and skipped tests in jest's summary), never pass while checking nothing; under CI
 * (CI=true), where every dependency is provided, a missing one fails the run instead.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export const inCI = ["true", "1"].includes((process.env.CI ?? "").toLowerCase());

/**
 * Whether tests needing `name` can run. Missing: a warning and `false` (skip), or under CI an error
 * (thrown while jest collects the file, so the whole file fails). `hint` says how to provide it.
 */
export function requireService(name: string, available: boolean, hint = ""): boolean {
	if (available) return true;
	const message = `${name} is not available${hint ? ` (${hint})` : ""}`;
	if (inCI) throw new Error(`${message}: CI provides it, so its tests fail here instead of skipping`);
	console.warn(`Skipping the tests that need ${message}`);
	return false;
}

/** `describe` when the tests can run, else `describe.skip` (jest lists them as skipped). */
export const describeWhen = (runnable: boolean) => (runnable ? describe : describe.skip);

/**
 * Whether a TCP server answers at `url` (nats://host:port, postgres://..., http://...). Synchronous, as
 * jest collects tests synchronously: the probe runs in a short-lived child process.
 */
export function reachable(url: string, timeoutMs = 1000): boolean {
	const { hostname, port, protocol } = new URL(url);
	const defaults: Record<string, string> = { "nats:": "4222", "postgres:": "5432", "postgresql:": "5432", "http:": "80", "https:": "443" };
	const probe = `const s = require("node:net").connect({ host: process.argv[1], port: Number(process.argv[2]) });
s.setTimeout(${timeoutMs}, () => process.exit(1));
s.on("connect", () => process.exit(0));
s.on("error", () => process.exit(1));`;
	const host = hostname.replace(/^\[(.*)\]$/, "$1");
	const result = spawnSync(process.execPath, ["-e", probe, host, port || defaults[protocol] || ""], { timeout: timeoutMs + 5000, stdio: "ignore" });
	return result.status === 0;
}

/** Whether a command runs (`tar --version` and the like). */
export function commandAvailable(command: string, args = ["--version"]): boolean {
	const result = spawnSync(command, args, { stdio: "ignore", timeout: 10000 });
	return !result.error && result.status === 0;
}

/** Whether every path exists (footage and models in ../shared). */
export const filesPresent = (...paths: string[]) => paths.every((p) => existsSync(p));
