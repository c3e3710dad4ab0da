import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describeModelDir } from "../../lib/vision/model-files";
import { TINY, writeTinyYoloModel } from "../support/vision-models";

const bundled = path.resolve(__dirname, "../../models/centernet-coco");
const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tinyDir(metadata?: string): string {
	const dir = writeTinyYoloModel();
	made.push(dir);
	if (metadata !== undefined) writeFileSync(path.join(dir, "metadata.yaml"), metadata);
	return dir;
}

describe("recognising a model directory by its contents", () => {
	it("recognises an Ultralytics export and takes classes and input size from metadata.yaml", async () => {
		const model = await describeModelDir(tinyDir());
		expect(model).toMatchObject({ kind: "yolo", classNames: TINY.classNames, input: { width: 16, height: 16, letterbox: true }, pixelScale: 1 / 255 });
		expect(model.inputShape).toEqual([-1, 16, 16, 3]);
		expect(path.basename(model.graphFile)).toBe("model.json");
	});

	it("recognises the bundled CenterNet model: 80 COCO classes, 512x512 stretched, detections output", async () => {
		const model = await describeModelDir(bundled);
		expect(model).toMatchObject({
			kind: "centernet",
			modelName: "centernet-coco",
			input: { width: 512, height: 512, letterbox: false },
			pixelScale: 1,
			outputName: "tower_0/detections",
		});
		expect(model.classNames).toHaveLength(80);
		expect(model.classNames.slice(0, 3)).toEqual(["person", "bicycle", "car"]);
	});

	it("finds the files by content, whatever they are called", async () => {
		const dir = mkdtempSync(path.join(tmpdir(), "vigil-renamed-"));
		made.push(dir);
		cpSync(path.join(bundled, "centernet.json"), path.join(dir, "graph.json"));
		cpSync(path.join(bundled, "labels.json"), path.join(dir, "coco-names.json"));
		const model = await describeModelDir(dir);
		expect(model.kind).toBe("centernet");
		expect(path.basename(model.graphFile)).toBe("graph.json");
	});

	it("refuses Ultralytics models that are not detectors", async () => {
		await expect(describeModelDir(tinyDir("task: pose\nimgsz: [16, 16]\nnames: {0: person}\n"))).rejects.toThrow(/"pose" model/);
	});

	it("refuses metadata whose image size disagrees with the model's input", async () => {
		await expect(describeModelDir(tinyDir("task: detect\nimgsz: [640, 640]\nnames: {0: a, 1: b}\n"))).rejects.toThrow(/disagrees/);
	});

	it("says what it expected when the directory holds no model", async () => {
		const dir = mkdtempSync(path.join(tmpdir(), "vigil-empty-"));
		made.push(dir);
		await expect(describeModelDir(dir)).rejects.toThrow(/graph model JSON, found none/);
	});
});
