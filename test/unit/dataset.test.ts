import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load } from "js-yaml";
import { dataYaml, TAR_END, tarFile, tarHeader, tarPadding, yoloLine } from "../../lib/learning/dataset";
import { commandAvailable, requireService } from "../support/require";
import { readTar } from "../support/tar";

const systemTar = requireService("the tar command", commandAvailable("tar"), "the archive is then only checked by the built-in reader");

describe("YOLO labels", () => {
	it("turns a corner box into class, centre and size, all normalised", () => {
		expect(yoloLine(2, [0.1, 0.2, 0.5, 0.8])).toBe("2 0.300000 0.500000 0.400000 0.600000\n");
	});

	it("clamps a box that strays outside the image", () => {
		expect(yoloLine(0, [-0.1, 0.5, 0.5, 1.2])).toBe("0 0.250000 0.750000 0.500000 0.500000\n");
	});

	it("data.yaml names the classes in index order, with their count and the image folders", () => {
		const parsed = load(dataYaml(["person", "dog"], "Exported today\nsecond line")) as Record<string, unknown>;
		expect(parsed).toEqual({ train: "images", val: "images", nc: 2, names: ["person", "dog"] });
	});
});

describe("tar archive", () => {
	const mtime = new Date("2025-01-02T03:04:05Z");
	const jpeg = Buffer.alloc(700, 7);
	const archive = Buffer.concat([
		tarHeader("images/a.jpg", jpeg.length, mtime),
		jpeg,
		tarPadding(jpeg.length),
		tarFile("labels/a.txt", "0 0.5 0.5 0.1 0.1\n", mtime),
		tarFile("labels/b.txt", "", mtime),
		TAR_END,
	]);

	it("is made of whole 512-byte blocks", () => {
		expect(archive.length % 512).toBe(0);
		expect(tarPadding(512)).toHaveLength(0);
		expect(tarPadding(1)).toHaveLength(511);
	});

	it("reads back entry by entry, empty files included", () => {
		const files = readTar(archive);
		expect([...files.keys()]).toEqual(["images/a.jpg", "labels/a.txt", "labels/b.txt"]);
		expect(files.get("images/a.jpg")!.equals(jpeg)).toBe(true);
		expect(files.get("labels/a.txt")!.toString()).toBe("0 0.5 0.5 0.1 0.1\n");
		expect(files.get("labels/b.txt")).toHaveLength(0);
	});

	(systemTar ? it : it.skip)("is a valid archive for the system's tar", () => {
		const file = join(mkdtempSync(join(tmpdir(), "vigil-tar-")), "a.tar");
		writeFileSync(file, archive);
		const listed = spawnSync("tar", ["-tvf", file], { encoding: "utf8" });
		expect(listed.status).toBe(0);
		expect(listed.stdout).toMatch(/images\/a\.jpg/);
		expect(listed.stdout).toMatch(/ 700 /);
	});

	it("refuses a name longer than a header holds", () => {
		expect(() => tarHeader(`images/${"x".repeat(100)}.jpg`, 1, mtime)).toThrow(RangeError);
	});
});
