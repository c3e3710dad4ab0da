/**
 * Picks where TensorFlow.js runs. The native bindings are optional (their install downloads libtensorflow),
 * so they are looked up at run time; wasm ships with the project and beats the pure-JS cpu backend ~30x.
 */
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";

export type BackendName = "tfjs-node-gpu" | "tfjs-node" | "wasm" | "cpu";

/** Best first. */
export const BACKENDS: readonly BackendName[] = ["tfjs-node-gpu", "tfjs-node", "wasm", "cpu"];

/** Why a backend could not be used: "not installed" for an optional one that is absent, else the error. */
export type BackendUnavailable = (backend: BackendName, reason: string) => void;

/**
 * Makes `wanted`, or else the best available backend, the current one and returns its name. Each one passed
 * over is reported to `unavailable` with its reason (a native binding whose libraries fail to load, a wasm
 * binary that does not initialise), for the caller to log. TensorFlow.js has one current backend per process:
 * every model in the process runs on it.
 */
export async function useBackend(wanted?: BackendName, unavailable: BackendUnavailable = () => {}): Promise<BackendName> {
	// Production mode skips debug checks and keeps TensorFlow.js' advice off the console; the caller logs.
	tf.enableProdMode();
	let last = "";
	for (const name of wanted ? [wanted] : BACKENDS) {
		const failure = await activate(name);
		if (failure === undefined) return name;
		unavailable(name, failure);
		last = failure;
	}
	throw new Error(`TensorFlow.js backend "${wanted}" is not available here: ${last}`);
}

/** Undefined once `name` is the current backend, else why it is not. */
async function activate(name: BackendName): Promise<string | undefined> {
	switch (name) {
		case "tfjs-node-gpu":
		case "tfjs-node": {
			const failure = await importOptional(`@tensorflow/${name}`);
			if (failure) return failure;
			// Both register a backend named "tensorflow" on the tfjs-core they load; it must be ours to be usable.
			if (!tf.findBackendFactory("tensorflow")) return `@tensorflow/${name} registered its backend on another copy of @tensorflow/tfjs-core`;
			return setBackend("tensorflow");
		}
		case "wasm":
			setWasmPaths(wasmDistDir());
			return setBackend("wasm");
		case "cpu":
			return setBackend("cpu");
	}
}

/**
 * tf.setBackend answers only false when a backend fails to initialise (the reason goes to a console warning,
 * which production mode silences), so the factory of a backend not yet initialised is wrapped to keep it.
 */
async function setBackend(name: string): Promise<string | undefined> {
	const factory = tf.findBackendFactory(name);
	if (!factory) return "not registered";
	let failure: unknown;
	if (!(name in tf.engine().registry)) {
		tf.removeBackend(name);
		tf.registerBackend(name, async () => {
			try {
				return await factory();
			} catch (err) {
				failure = err;
				throw err;
			}
		});
	}
	if (await tf.setBackend(name)) return undefined;
	return failure instanceof Error ? failure.message : failure ? String(failure) : "initialisation failed";
}

/** Undefined once imported; "not installed" when the package is absent, else why it failed to load. */
async function importOptional(id: string): Promise<string | undefined> {
	try {
		await import(id);
		return undefined;
	} catch (err) {
		const { code, message } = err as NodeJS.ErrnoException;
		if (code === "MODULE_NOT_FOUND" && message.includes(`'${id}'`)) return "not installed";
		return message;
	}
}

/** The folder holding the .wasm binaries; in Node they are read from disk, not fetched. */
function wasmDistDir(): string {
	return path.join(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist") + path.sep;
}
