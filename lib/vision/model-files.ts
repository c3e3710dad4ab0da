/**
 * Recognises a model directory by what its files contain, and loads a TF.js graph model from disk.
 * `tf.loadGraphModel("file://...")` needs tfjs-node, so the JSON and weight shards are read here and handed over in memory.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { load as loadYaml } from "js-yaml";
import type { ModelInput } from "./letterbox";

export type ModelKind = "yolo" | "centernet";

export interface ModelDescription {
	kind: ModelKind;
	/** The directory's name: what an operator recognises in a log line. */
	modelName: string;
	/** The graph model JSON (model.json, centernet.json...). */
	graphFile: string;
	classNames: string[];
	input: ModelInput;
	/** The input tensor's shape; -1 marks a dynamic dimension. */
	inputShape: number[];
	/** Multiply 0..255 pixels by this: YOLO wants 0..1, CenterNet 0..255. */
	pixelScale: number;
	/** The output to compute, when the graph has several. */
	outputName?: string;
}

interface GraphJson {
	format?: string;
	modelTopology: { node?: { name: string; op: string; attr?: { shape?: { shape?: ShapeProto } } }[] };
	weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
	signature?: { inputs?: Record<string, { tensorShape?: ShapeProto }>; outputs?: Record<string, { name?: string; tensorShape?: ShapeProto }> };
	[key: string]: unknown;
}

interface ShapeProto {
	dim?: { size?: string | number }[];
}

interface UltralyticsMetadata {
	names: Record<string, string> | string[];
	imgsz?: number | number[];
	task?: string;
}

export async function describeModelDir(dir: string): Promise<ModelDescription> {
	const files = await readSmallFiles(dir);
	const graphs = files.filter((f) => isGraphJson(f.value));
	if (graphs.length !== 1)
		throw new Error(`${dir}: expected one TF.js graph model JSON, found ${graphs.length === 0 ? "none" : graphs.map((g) => g.name).join(", ")}`);
	const graph = graphs[0].value as GraphJson;
	const graphFile = path.join(dir, graphs[0].name);
	const inputShape = graphInputShape(graph);
	const modelName = path.basename(path.resolve(dir));
	const metadata = files.find((f) => /\.ya?ml$/i.test(f.name) && isUltralyticsMetadata(f.value));
	if (metadata) {
		const meta = metadata.value as UltralyticsMetadata;
		if (meta.task !== undefined && meta.task !== "detect") throw new Error(`${dir}: an Ultralytics "${meta.task}" model; only "detect" models are supported`);
		const input = { ...imgsz(meta.imgsz, inputShape, dir), letterbox: true };
		return { kind: "yolo", modelName, graphFile, classNames: classNamesOf(meta.names, dir), input, inputShape, pixelScale: 1 / 255 };
	}
	const detections = Object.entries(graph.signature?.outputs ?? {}).find(([, o]) => {
		const dims = shapeOf(o.tensorShape);
		return dims.length === 3 && dims[2] === 6;
	});
	if (detections) {
		const labels = files.find((f) => Array.isArray(f.value) && f.value.length > 0 && f.value.every((v) => typeof v === "string"));
		if (!labels) throw new Error(`${dir}: a CenterNet-style model needs a JSON array of class names (labels.json)`);
		const [, height, width] = inputShape;
		if (!(height > 0 && width > 0)) throw new Error(`${dir}: the model's input size is not fixed ([${inputShape.join(", ")}])`);
		const outputName = detections[1].name?.replace(/:0$/, "") ?? detections[0];
		return {
			kind: "centernet",
			modelName,
			graphFile,
			classNames: labels.value as string[],
			input: { width, height, letterbox: false },
			inputShape,
			pixelScale: 1,
			outputName,
		};
	}
	throw new Error(
		`${dir}: not a recognised detector: expected an Ultralytics export (model.json + metadata.yaml) or CenterNet (a [1, K, 6] detections output + labels.json)`,
	);
}

/** Loads the graph model onto the current backend; weight shards are concatenated in manifest order. */
export async function loadGraphModel(graphFile: string): Promise<tf.GraphModel> {
	const dir = path.dirname(graphFile);
	const json = JSON.parse(await fs.readFile(graphFile, "utf8")) as GraphJson;
	const shards = await Promise.all(json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFile(path.join(dir, p)))));
	const weights = Buffer.concat(shards);
	const { weightsManifest, ...artifacts } = json;
	return tf.loadGraphModel(
		tf.io.fromMemory({
			...artifacts,
			weightSpecs: weightsManifest.flatMap((g) => g.weights),
			weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
		} as tf.io.ModelArtifacts),
	);
}

/** JSON and YAML files parsed; weight shards and anything large are skipped unread. */
async function readSmallFiles(dir: string): Promise<{ name: string; value: unknown }[]> {
	const names = (await fs.readdir(dir)).filter((n) => /\.(json|ya?ml)$/i.test(n)).sort();
	const out: { name: string; value: unknown }[] = [];
	for (const name of names) {
		const file = path.join(dir, name);
		const stat = await fs.stat(file);
		if (!stat.isFile() || stat.size > 64 * 1024 * 1024) continue;
		const text = await fs.readFile(file, "utf8");
		try {
			out.push({ name, value: /\.json$/i.test(name) ? JSON.parse(text) : loadYaml(text) });
		} catch {
			// Not ours to judge: an unparsable side file does not make the directory unusable.
		}
	}
	return out;
}

function isGraphJson(v: unknown): boolean {
	const o = v as Partial<GraphJson> | null;
	return typeof o === "object" && o !== null && typeof o.modelTopology === "object" && Array.isArray(o.weightsManifest);
}

function isUltralyticsMetadata(v: unknown): boolean {
	const o = v as Partial<UltralyticsMetadata> | null;
	return typeof o === "object" && o !== null && typeof o.names === "object" && o.names !== null;
}

function shapeOf(shape: ShapeProto | undefined): number[] {
	// A missing size is an unknown dimension (-1).
	return (shape?.dim ?? []).map((d) => (d.size === undefined ? -1 : Number(d.size)));
}

function graphInputShape(graph: GraphJson): number[] {
	const inputs = Object.values(graph.signature?.inputs ?? {});
	if (inputs.length === 1) return shapeOf(inputs[0].tensorShape);
	const placeholders = (graph.modelTopology.node ?? []).filter((n) => n.op === "Placeholder");
	if (placeholders.length !== 1) throw new Error(`expected a model with one input, found ${placeholders.length}`);
	return shapeOf(placeholders[0].attr?.shape?.shape);
}

/** Ultralytics writes `names` as {0: "person", ...}; ids must run 0..n-1 because the output rows do. */
function classNamesOf(names: UltralyticsMetadata["names"], dir: string): string[] {
	const entries = Array.isArray(names) ? names.map((n, i) => [i, n] as const) : Object.entries(names).map(([k, n]) => [Number(k), n] as const);
	const out: string[] = [];
	for (const [id, name] of entries) out[id] = String(name);
	if (out.length === 0 || out.length !== entries.length || entries.some(([id]) => !Number.isInteger(id)))
		throw new Error(`${dir}: metadata "names" must map class ids 0..n-1 to names`);
	return out;
}

/** Ultralytics' imgsz is [height, width] or one number; the graph's fixed input dimensions must agree. */
function imgsz(value: UltralyticsMetadata["imgsz"], inputShape: number[], dir: string): { width: number; height: number } {
	const [height, width] = Array.isArray(value) ? [value[0], value[1] ?? value[0]] : [value ?? inputShape[1], value ?? inputShape[2]];
	if (!(Number.isInteger(height) && Number.isInteger(width) && height > 0 && width > 0))
		throw new Error(`${dir}: metadata imgsz ${JSON.stringify(value)} is not a size`);
	const [, h, w] = inputShape;
	if ((h > 0 && h !== height) || (w > 0 && w !== width))
		throw new Error(`${dir}: metadata imgsz ${height}x${width} (h x w) disagrees with the model input [${inputShape.join(", ")}]`);
	return { width, height };
}
