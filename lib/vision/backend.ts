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

/**
 * Makes `wanted`, or else the best available backend, the current one and returns its name.
 * TensorFlow.js has one current backend per process: every model in the process runs on it.
 */
export async function useBackend(wanted?: BackendName): Promise<BackendName> {
	// Production mode skips debug checks and keeps TensorFlow.js' advice off the console; the caller logs.
	tf.enableProdMode();
	for (const name of wanted ? [wanted] : BACKENDS) if (await activate(name)) return name;
	throw new Error(`TensorFlow.js backend "${wanted}" is not available here`);
}

async function activate(name: BackendName): Promise<boolean> {
	switch (name) {
		case "tfjs-node-gpu":
		case "tfjs-node":
			// Both register a backend named "tensorflow" on the tfjs-core they load; it must be ours to be usable.
			if (!(await importOptional(`@tensorflow/${name}`)) || !tf.findBackendFactory("tensorflow")) return false;
			return tf.setBackend("tensorflow");
		case "wasm":
			setWasmPaths(wasmDistDir());
			return tf.setBackend("wasm");
		case "cpu":
			return tf.setBackend("cpu");
	}
}

async function importOptional(id: string): Promise<boolean> {
	try {
		await import(id);
		return true;
	} catch {
		return false;
	}
}

/** The folder holding the .wasm binaries; in Node they are read from disk, not fetched. */
function wasmDistDir(): string {
	return path.join(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist") + path.sep;
}
