/**
 * A loaded object detector: frames in (RGB24 at the model's input size), detections out, on the source frame.
 * Logs nothing: what was chosen (backend, model) is returned for the caller to log.
 */
import * as tf from "@tensorflow/tfjs";
import { useBackend, type BackendName, type BackendUnavailable } from "./backend";
import { decodeCenterNet } from "./centernet";
import { letterbox, type ModelInput } from "./letterbox";
import { describeModelDir, loadGraphModel, type ModelKind } from "./model-files";
import type { DecodeOptions, ModelOutput } from "./output";
import type { DetectOptions, Detection, Size } from "./types";
import { decodeYolo, yoloLayout } from "./yolo";

export interface LoadDetectorOptions {
	/** Run on this backend instead of the best available one. */
	backend?: BackendName;
	/** Told of each backend passed over and why (the loader logs nothing itself). */
	unavailableBackend?: BackendUnavailable;
	/** Frames per inference for models with a dynamic batch dimension (default 4). */
	maxBatch?: number;
}

export interface DetectRequest extends DetectOptions {
	/** Keep only these class names (absent: all). */
	classes?: readonly string[];
}

export interface Detector {
	readonly kind: ModelKind;
	readonly backend: BackendName;
	readonly modelName: string;
	readonly classNames: readonly string[];
	/** Frames must be RGB24 of exactly this size, made with `ffmpegFilter(letterbox(source, input))`. */
	readonly input: ModelInput;
	/** Frames per inference: more than 1 only when the model's batch dimension allows it. */
	readonly maxBatch: number;
	/** Runs one inference so the first real frame is not slow, and checks the output layout; returns its ms. */
	warmUp(): Promise<number>;
	/** One list of detections per frame, in frame order. `sources[i]` is the size frame i was made from. */
	detect(frames: readonly Uint8Array[], sources: readonly Size[], opts: DetectRequest): Promise<Detection[][]>;
	dispose(): void;
}

const DEFAULT_MAX_BATCH = 4;

export async function loadDetector(modelDir: string, options: LoadDetectorOptions = {}): Promise<Detector> {
	const model = await describeModelDir(modelDir);
	// The backend first: weights live on the backend that was current when they were loaded.
	const backend = await useBackend(options.backend, options.unavailableBackend);
	const graph = await loadGraphModel(model.graphFile);
	const outputName = model.outputName ?? onlyOutput(graph, modelDir);
	const { width, height } = model.input;
	const modelBatch = model.inputShape[0];
	// A fixed batch larger than 1 is filled up with blank frames; a dynamic one (-1) takes what it is given.
	const maxBatch = modelBatch > 0 ? modelBatch : Math.max(1, Math.floor(options.maxBatch ?? DEFAULT_MAX_BATCH));
	const classIds = new Map(model.classNames.map((name, id) => [name, id]));
	let asyncGraph = false;
	let disposed = false;

	/** One inference over up to maxBatch frames; the output comes back as plain data, no tensor survives. */
	async function infer(frames: readonly Uint8Array[]): Promise<ModelOutput> {
		if (disposed) throw new Error(`detector ${model.modelName} is disposed`);
		const batch = modelBatch > 0 ? modelBatch : frames.length;
		// Typed-array set converts bytes to floats natively; scaling on the backend is cheaper than a JS loop.
		const pixels = new Float32Array(batch * width * height * 3);
		frames.forEach((frame, i) => pixels.set(frame, i * frame.length));
		const x = tf.tidy(() => {
			const raw = tf.tensor4d(pixels, [batch, height, width, 3]);
			return model.pixelScale === 1 ? raw : tf.mul<tf.Tensor4D>(raw, model.pixelScale);
		});
		let y: tf.Tensor;
		try {
			y = await execute(x);
		} finally {
			x.dispose();
		}
		try {
			const data = await y.data();
			return { data: data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>), shape: y.shape };
		} finally {
			y.dispose();
		}
	}

	async function execute(x: tf.Tensor4D): Promise<tf.Tensor> {
		if (!asyncGraph) {
			try {
				return tf.tidy(() => graph.execute(x, outputName) as tf.Tensor);
			} catch (err) {
				// Graphs with control flow or dynamic shapes (e.g. NMS inside) only run asynchronously.
				if (!/executeAsync/.test(String(err))) throw err;
				asyncGraph = true;
			}
		}
		return (await graph.executeAsync(x, outputName)) as tf.Tensor;
	}

	function decode(output: ModelOutput, source: Size, opts: DecodeOptions): Detection[] {
		const lb = letterbox(source, model.input);
		return model.kind === "yolo" ? decodeYolo(output, model.classNames, lb, opts) : decodeCenterNet(output, model.classNames, lb, opts);
	}

	return {
		kind: model.kind,
		backend,
		modelName: model.modelName,
		classNames: model.classNames,
		input: model.input,
		maxBatch,

		async warmUp() {
			const started = performance.now();
			const { shape } = await infer([new Uint8Array(width * height * 3)]);
			// A model that does not fit its decoder should fail at start, not on every frame.
			if (model.kind === "yolo") yoloLayout(shape, model.classNames.length);
			else if (shape[shape.length - 1] !== 6) throw new Error(`${model.modelName}: output [${shape.join(", ")}] is not [1, K, 6] detections`);
			return performance.now() - started;
		},

		async detect(frames, sources, opts) {
			if (frames.length !== sources.length) throw new RangeError(`${frames.length} frames but ${sources.length} source sizes`);
			const frameBytes = width * height * 3;
			frames.forEach((f, i) => {
				if (f.length !== frameBytes)
					throw new RangeError(`frame ${i} has ${f.length} bytes; ${model.modelName} takes RGB24 at ${width}x${height} (${frameBytes} bytes)`);
			});
			const decodeOpts: DecodeOptions = { ...opts, classIds: opts.classes && classFilter(opts.classes) };
			const results: Detection[][] = [];
			for (let start = 0; start < frames.length; start += maxBatch) {
				const chunk = frames.slice(start, start + maxBatch);
				const output = await infer(chunk);
				const perImage = output.data.length / output.shape[0];
				const imageShape = [1, ...output.shape.slice(1)];
				chunk.forEach((_, i) => {
					const image = { data: output.data.subarray(i * perImage, (i + 1) * perImage), shape: imageShape };
					results.push(decode(image, sources[start + i], decodeOpts));
				});
			}
			return results;
		},

		dispose() {
			if (disposed) return;
			disposed = true;
			graph.dispose();
		},
	};

	function classFilter(names: readonly string[]): Set<number> {
		return new Set(
			names.map((name) => {
				const id = classIds.get(name);
				if (id === undefined)
					throw new RangeError(
						`${model.modelName} has no class "${name}"; it knows ${model.classNames.slice(0, 20).join(", ")}${model.classNames.length > 20 ? ", ..." : ""}`,
					);
				return id;
			}),
		);
	}
}

function onlyOutput(graph: tf.GraphModel, dir: string): string {
	if (graph.outputNodes.length !== 1) throw new Error(`${dir}: expected one output, the graph has ${graph.outputNodes.join(", ")}`);
	return graph.outputNodes[0];
}
