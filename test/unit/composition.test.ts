/**
 * The layers: `lib/` (platform and domain modules) knows no service; `app/` composes the services into nodes;
 * loading the composition reads no configuration (so `vigil settings` works anywhere and writes nothing).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const ROOT = join(__dirname, "..", "..");

function sources(dir: string): string[] {
	return readdirSync(dir).flatMap((name) => {
		const path = join(dir, name);
		return statSync(path).isDirectory() ? sources(path) : path.endsWith(".ts") ? [path] : [];
	});
}

describe("layers", () => {
	it("no module under lib/ imports a service or the composition root", () => {
		const offenders = sources(join(ROOT, "lib")).filter((file) => /from\s+["'][./]*(services|app)\//.test(readFileSync(file, "utf8")));
		expect(offenders.map((f) => relative(ROOT, f))).toEqual([]);
	});

	it("loading the composition root reads no environment and writes nothing, even in production", () => {
		const cwd = process.cwd();
		const env = { ...process.env };
		const empty = mkdtempSync(join(tmpdir(), "vigil-composition-"));
		try {
			process.chdir(empty);
			Object.assign(process.env, { NODE_ENV: "production" });
			delete process.env.JWT_SECRET;
			delete process.env.ENCRYPTION_KEY;
			jest.isolateModules(() => {
				// eslint-disable-next-line @typescript-eslint/no-require-imports
				const { createNode } = require("../../app/node") as typeof import("../../app/node");
				expect(typeof createNode).toBe("function");
			});
			expect(readdirSync(empty)).toEqual([]);
		} finally {
			process.chdir(cwd);
			process.env = env;
			rmSync(empty, { recursive: true, force: true });
		}
	});
});
