/**
 * One process at a time on an embedded database: PGlite has no server of its own, and a second process opening the
 * same folder (`vigil migrate` or `vigil user:create` while `vigil start` runs) crashes inside it ("Aborted()") or,
 * worse, writes over it. The holder's process id is kept in `<folder>.lock`; a lock whose process is gone (a crash)
 * is taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";

export class DatabaseInUseError extends Error {
	override name = "DatabaseInUseError";
}

const alive = (pid: number): boolean => {
	try {
		process.kill(pid, 0);
		return true;
	} catch (err) {
		// EPERM: it exists, as another user's process.
		return (err as NodeJS.ErrnoException).code === "EPERM";
	}
};

/** Takes the lock of the embedded database in `dir`, or says which process holds it. Returns its release. */
export function lockDatabaseDir(dir: string): () => void {
	const file = `${dir}.lock`;
	for (;;) {
		try {
			const fd = openSync(file, "wx", 0o600);
			writeFileSync(fd, String(process.pid));
			closeSync(fd);
			break;
		} catch (err) {
			if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
			const holder = Number(readFileSync(file, "utf8").trim());
			// This process (a node stopped and started again in it) or a dead one: the lock is stale.
			if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder))
				throw new DatabaseInUseError(
					`The embedded database in ${dir} is in use by another Vigil process (pid ${holder}): stop that server first, or use \`vigil repl\` to work with it while it runs`,
				);
			unlinkSync(file);
		}
	}
	return () => {
		try {
			if (readFileSync(file, "utf8").trim() === String(process.pid)) unlinkSync(file);
		} catch {
			// Already gone.
		}
	};
}
