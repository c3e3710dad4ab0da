/** Files that ship with the project, found the same way from sources and from dist/. */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

/** The vendored zero-config detector (CenterNet COCO, MIT): the nearest models/centernet-coco upwards. */
export function bundledModelDir(): string {
	for (let dir = __dirname; ; dir = dirname(dir)) {
		const candidate = join(dir, "models", "centernet-coco");
		if (existsSync(candidate)) return candidate;
		if (dirname(dir) === dir) throw new Error("The bundled model (models/centernet-coco) is missing; set DETECTOR_MODEL");
	}
}
