/**
 * Where ffmpeg and ffprobe come from: FFMPEG_PATH / FFPROBE_PATH, else the system's (on PATH), else the static
 * binaries shipped inside the @ffmpeg-installer / @ffprobe-installer packages (no download at install).
 */
import { accessSync, chmodSync, constants, existsSync } from "node:fs";
import { delimiter, join } from "node:path";

function onPath(name: string): string | undefined {
	for (const dir of (process.env.PATH ?? "").split(delimiter)) {
		const candidate = join(dir, name);
		try {
			accessSync(candidate, constants.X_OK);
			return candidate;
		} catch {
			/* keep looking */
		}
	}
	return undefined;
}

/** npm may skip the packages' chmod postinstall; the files are ours, so make them executable. */
function executable(path: string): string {
	try {
		accessSync(path, constants.X_OK);
	} catch {
		chmodSync(path, 0o755);
	}
	return path;
}

function bundled(pkg: string): string | undefined {
	try {
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const path = (require(pkg) as { path: string }).path;
		return existsSync(path) ? executable(path) : undefined;
	} catch {
		return undefined;
	}
}

const cache = new Map<string, string>();

export function toolPath(tool: "ffmpeg" | "ffprobe", override?: string): string {
	if (override) return override;
	let found = cache.get(tool);
	if (!found) {
		found = onPath(tool) ?? bundled(tool === "ffmpeg" ? "@ffmpeg-installer/ffmpeg" : "@ffprobe-installer/ffprobe");
		if (!found) throw new Error(`${tool} not found: install it, or set ${tool.toUpperCase()}_PATH`);
		cache.set(tool, found);
	}
	return found;
}
