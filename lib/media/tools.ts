/**
 * Where ffmpeg and ffprobe come from: FFMPEG_PATH / FFPROBE_PATH, else the system's (on PATH), else the static
 * binaries shipped inside the @ffmpeg-installer / @ffprobe-installer packages (no download at install).
 *
 * A bundled binary this process may not run (root-owned and u+x only, as in an image running as a non-root user)
 * is skipped with its reason written to stderr once, and the reason is part of the "not found" error.
 */
import { accessSync, chmodSync, constants, existsSync } from "node:fs";
import { delimiter, join } from "node:path";

type Tool = "ffmpeg" | "ffprobe";

const PACKAGES: Record<Tool, string> = { ffmpeg: "@ffmpeg-installer/ffmpeg", ffprobe: "@ffprobe-installer/ffprobe" };

function onPath(name: string): string | undefined {
	for (const dir of (process.env.PATH ?? "").split(delimiter)) {
		if (!dir) continue;
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

const runnable = (path: string): boolean => {
	try {
		accessSync(path, constants.X_OK);
		return true;
	} catch {
		return false;
	}
};

/** The bundled binary, or why it cannot be used. npm may skip the packages' chmod postinstall: where the file is ours, we fix that. */
export function bundledTool(pkg: string): { path: string } | { reason: string } {
	let path: string;
	try {
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		path = (require(pkg) as { path: string }).path;
	} catch (err) {
		return { reason: `${pkg} is not installed (${(err as Error).message.split("\n")[0]})` };
	}
	if (!existsSync(path)) return { reason: `${pkg} has no binary for this platform at ${path}` };
	if (runnable(path)) return { path };
	try {
		chmodSync(path, 0o755);
	} catch (err) {
		const uid = process.getuid?.();
		return {
			reason: `${path} is not executable by this user${uid === undefined ? "" : ` (uid ${uid})`} and cannot be made so (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
		};
	}
	return runnable(path) ? { path } : { reason: `${path} is not executable by this user, even after chmod` };
}

const cache = new Map<Tool, string>();
const warned = new Set<Tool>();

export function toolPath(tool: Tool, override?: string): string {
	if (override) return override;
	const cached = cache.get(tool);
	if (cached) return cached;
	const system = onPath(tool);
	if (system) {
		cache.set(tool, system);
		return system;
	}
	const bundled = bundledTool(PACKAGES[tool]);
	if ("path" in bundled) {
		cache.set(tool, bundled.path);
		return bundled.path;
	}
	if (!warned.has(tool)) {
		warned.add(tool);
		process.stderr.write(`${tool}: none on PATH, and the bundled one is skipped: ${bundled.reason}\n`);
	}
	throw new Error(`${tool} not found: install it (on PATH), or set ${tool.toUpperCase()}_PATH; the bundled one is skipped: ${bundled.reason}`);
}
