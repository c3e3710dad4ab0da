/** An embedded database is one process's at a time; a lock a dead process left is taken over. */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseInUseError, lockDatabaseDir } from "../../lib/platform/data-dir-lock";

let dir: string;
beforeEach(() => (dir = join(mkdtempSync(join(tmpdir(), "vigil-lock-")), "pgdata")));
afterEach(() => rmSync(join(dir, ".."), { recursive: true, force: true }));

it("a running process's lock stops another opener, naming its pid", async () => {
	const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"], { stdio: "ignore" });
	try {
		writeFileSync(`${dir}.lock`, String(holder.pid));
		expect(() => lockDatabaseDir(dir)).toThrow(DatabaseInUseError);
		expect(() => lockDatabaseDir(dir)).toThrow(`in use by another Vigil process (pid ${holder.pid})`);
	} finally {
		holder.kill();
	}
});

it("takes over a lock whose process is gone, and releases only its own", async () => {
	const gone = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
	await new Promise((resolve) => gone.once("exit", resolve));
	writeFileSync(`${dir}.lock`, String(gone.pid));
	const release = lockDatabaseDir(dir);
	expect(readFileSync(`${dir}.lock`, "utf8")).toBe(String(process.pid));
	release();
	expect(existsSync(`${dir}.lock`)).toBe(false);
});
