/**
 * Drop folders: cameras that can only send files (FTP, SMB) drop their clips into `<dir>/<cameraId>/`. A file is
 * taken once it has settled (the same size and modification time for `settleMs`: one still being written is left
 * alone), claimed by an atomic rename into `.claimed/<node>/` (several nodes may watch one shared folder: the loser
 * of the rename gets ENOENT and moves on) and handed to a registrar. Done: the file is deleted. Rejected: it moves
 * to `rejected/` beside `<name>.reason.txt`. A passing failure puts it back for a later try after a doubling wait;
 * its tries are counted beside it (`.attempts/`), so one that never goes through is rejected in the end. Claims a
 * dead node left behind are put back once older than `claimTimeoutMs`. No broker in here.
 */
import type { Dirent } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { STREAM_KINDS } from "../../entities/camera.entity";
import { TooLargeError } from "./storage";

/** Only folders named like a camera id are camera folders; anything else in DROP_DIR is not ours. */
const CAMERA_FOLDER = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Hidden files and the names uploaders write under before their final rename: never a finished clip. */
const IGNORED = /^\.|\.(part|tmp)$/i;
const CLAIMED = ".claimed";
const ATTEMPTS = ".attempts";
const REJECTED = "rejected";

/** Why a file was not taken: the API error's code and message. */
export interface DropReason {
	code: string;
	message: string;
}

export type DropOutcome =
	| { kind: "done" }
	/** The file's own fault: moved to rejected/ with its reason, never tried again. */
	| { kind: "rejected"; reason: DropReason }
	/** A passing failure (database or clip service down): put back and tried again, a bounded number of times. */
	| { kind: "retry"; reason: DropReason }
	/** Not the file's fault (the detectors are too far behind): put back without counting a try; this pass ends. */
	| { kind: "wait"; reason: DropReason; afterMs: number };

export interface DroppedFile {
	/** The camera folder's name. */
	cameraId: string;
	/** The name it was dropped under. */
	name: string;
	/** Where it lies while claimed: read it from here. */
	path: string;
	size: number;
	/** 1 on the first try. */
	attempt: number;
}

export type DropRegistrar = (file: DroppedFile) => Promise<DropOutcome>;

export interface DropResult {
	cameraId: string;
	name: string;
	outcome: DropOutcome["kind"];
	reason?: DropReason;
}

export interface DropFolderOptions {
	dir: string;
	/** This watcher (the node id): its claims go to `.claimed/<node>/`. */
	node: string;
	settleMs: number;
	maxAttempts: number;
	claimTimeoutMs: number;
	now?: () => number;
}

/** Kept in `.attempts/<name>` while a file waits for another try; it applies while the file is the same (size and mtime). */
interface AttemptRecord {
	size: number;
	mtimeMs: number;
	attempts: number;
	retryAt: number;
	lastError: DropReason;
}

interface Observed {
	size: number;
	mtimeMs: number;
	since: number;
}

/**
 * Why a camera takes no dropped files, or null when it does: those Vigil gets no video from otherwise. A camera
 * pulled live or analysed on an edge box would have the same footage counted twice (double alerts).
 */
export function dropRefusal(camera: { enabled: boolean; kind: string; streamUrlEnc: string | null }): DropReason | null {
	if (!camera.enabled) return { code: "CAMERA_DISABLED", message: "The camera is switched off: the files it drops are not analysed" };
	if (camera.kind === "edge") return { code: "CAMERA_KIND", message: "The camera is analysed on its edge box: it takes no dropped files" };
	if ((STREAM_KINDS as readonly string[]).includes(camera.kind) && camera.streamUrlEnc)
		return { code: "CAMERA_KIND", message: "The camera is pulled live from its stream URL: it takes no dropped files" };
	return null;
}

/**
 * How a failed registration counts. The file's own fault (a Vigil error in the 4xx range: not a video, too long, too
 * large, no such camera) rejects it; a full backlog waits; anything else is passing. Errors cross the transporter as
 * plain objects, so they are read by name and code, not by class.
 */
export function dropOutcome(err: unknown): DropOutcome {
	if (err instanceof TooLargeError)
		return { kind: "rejected", reason: { code: "PAYLOAD_TOO_LARGE", message: `The clip is larger than the limit of ${err.limit} bytes` } };
	const e = err as { name?: unknown; code?: unknown; data?: { retryAfter?: unknown } };
	const reason = reasonOf(err);
	if (reason.code === "BACKLOG_FULL") return { kind: "wait", reason, afterMs: (Number(e.data?.retryAfter) || 30) * 1000 };
	if (e.name === "VigilError" && typeof e.code === "number" && e.code >= 400 && e.code < 500) return { kind: "rejected", reason };
	return { kind: "retry", reason };
}

function reasonOf(err: unknown): DropReason {
	const e = err as { type?: unknown; code?: unknown; message?: unknown };
	const code = typeof e?.type === "string" ? e.type : typeof e?.code === "string" ? e.code : "INTERNAL";
	return { code, message: typeof e?.message === "string" ? e.message : String(err) };
}

/** A node id as a folder name: word characters, dots and dashes, never hidden. */
export const nodeFolder = (node: string): string => node.replace(/[^\w.-]/g, "_").replace(/^\.*/, (dots) => "_".repeat(dots.length));

export class DropFolder {
	private readonly seen = new Map<string, Observed>();
	private readonly now: () => number;
	/** The node id as a folder name. */
	private readonly claimFolder: string;
	private running?: Promise<DropResult[]>;

	constructor(private readonly options: DropFolderOptions) {
		this.now = options.now ?? Date.now;
		this.claimFolder = nodeFolder(options.node);
	}

	/** One pass over the camera folders; settled files go to `register` one at a time. `stopping` ends it between files. */
	scan(register: DropRegistrar, stopping: () => boolean = () => false): Promise<DropResult[]> {
		// One pass at a time: a claim of this node found between passes is then always a leftover.
		this.running ??= this.pass(register, stopping).finally(() => (this.running = undefined));
		return this.running;
	}

	private async pass(register: DropRegistrar, stopping: () => boolean): Promise<DropResult[]> {
		const results: DropResult[] = [];
		const present = new Set<string>();
		let complete = true;
		folders: for (const cameraId of await this.cameraFolders()) {
			results.push(...(await this.returnLeftClaims(cameraId)));
			for (const file of await this.settledFiles(cameraId, present)) {
				if (stopping()) {
					complete = false;
					break folders;
				}
				const result = await this.take(cameraId, file.name, register);
				if (!result) continue;
				results.push(result);
				if (result.outcome === "wait") {
					complete = false;
					break folders;
				}
			}
		}
		// What a whole pass no longer saw is gone (taken elsewhere, deleted): its observation goes with it.
		if (complete) for (const key of this.seen.keys()) if (!present.has(key)) this.seen.delete(key);
		return results;
	}

	private async cameraFolders(): Promise<string[]> {
		const entries = await entriesOf(this.options.dir);
		return entries.filter((e) => e.isDirectory() && CAMERA_FOLDER.test(e.name)).map((e) => e.name);
	}

	/** Files of the folder observed unchanged for the settle time, oldest first. */
	private async settledFiles(cameraId: string, present: Set<string>) {
		const folder = join(this.options.dir, cameraId);
		const settled: { name: string; mtimeMs: number }[] = [];
		for (const entry of await entriesOf(folder)) {
			if (!entry.isFile() || IGNORED.test(entry.name)) continue;
			const st = await stat(join(folder, entry.name)).catch(() => null);
			if (!st) continue;
			const key = `${cameraId}/${entry.name}`;
			present.add(key);
			if (this.observe(key, st.size, st.mtimeMs)) settled.push({ name: entry.name, mtimeMs: st.mtimeMs });
		}
		return settled.sort((a, b) => a.mtimeMs - b.mtimeMs);
	}

	/** Records what the file looks like now; true once it has looked the same for the settle time. */
	private observe(key: string, size: number, mtimeMs: number): boolean {
		const now = this.now();
		const before = this.seen.get(key);
		if (!before || before.size !== size || before.mtimeMs !== mtimeMs) {
			this.seen.set(key, { size, mtimeMs, since: now });
			return false;
		}
		return now - before.since >= this.options.settleMs;
	}

	/** Claims a settled file and registers it; undefined when it was not taken (another node won, or it changed, or waits). */
	private async take(cameraId: string, name: string, register: DropRegistrar): Promise<DropResult | undefined> {
		const folder = join(this.options.dir, cameraId);
		const key = `${cameraId}/${name}`;
		// Files before it may have taken minutes: it must still be the file that settled.
		const st = await stat(join(folder, name)).catch(() => null);
		if (!st || !this.observe(key, st.size, st.mtimeMs)) return undefined;
		const waiting = (record?: AttemptRecord) => record !== undefined && record.retryAt > this.now();
		if (waiting(await this.attemptRecord(folder, name, st))) return undefined;
		const claimed = await this.claim(folder, join(folder, name), name);
		this.seen.delete(key);
		if (!claimed) return undefined;
		// Read again once claimed: another node may have tried it and put it back since.
		const record = await this.attemptRecord(folder, name, st);
		if (waiting(record)) {
			await rename(claimed, join(folder, await freeName(folder, name))).catch(ignoreGone);
			return undefined;
		}
		const attempt = (record?.attempts ?? 0) + 1;
		let outcome: DropOutcome;
		try {
			outcome = await register({ cameraId, name, path: claimed, size: st.size, attempt });
		} catch (err) {
			outcome = { kind: "retry", reason: reasonOf(err) };
		}
		return this.finish(cameraId, name, claimed, { size: st.size, mtimeMs: st.mtimeMs }, attempt, outcome);
	}

	/** Moves a file into this node's claims; null when another node's rename came first. */
	private async claim(folder: string, from: string, name: string): Promise<string | null> {
		const mine = join(folder, CLAIMED, this.claimFolder);
		await mkdir(mine, { recursive: true });
		const claimed = join(mine, name);
		// A rename replaces what is there: this node never holds two files of one name (one pass at a time).
		try {
			await rename(from, claimed);
			return claimed;
		} catch (err) {
			if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
			throw err;
		}
	}

	private async finish(
		cameraId: string,
		name: string,
		claimed: string,
		file: { size: number; mtimeMs: number },
		attempt: number,
		outcome: DropOutcome,
	): Promise<DropResult> {
		const folder = join(this.options.dir, cameraId);
		const reason = outcome.kind === "done" ? undefined : outcome.reason;
		switch (outcome.kind) {
			case "done":
				await rm(claimed, { force: true });
				await this.forgetAttempts(folder, name);
				break;
			case "rejected":
				await this.reject(folder, name, claimed, outcome.reason);
				break;
			case "retry":
				if (attempt >= this.options.maxAttempts) {
					const last = { code: outcome.reason.code, message: `${outcome.reason.message} (gave up after ${attempt} tries)` };
					await this.reject(folder, name, claimed, last);
					return { cameraId, name, outcome: "rejected", reason: last };
				}
				// Waits double from the settle time: 1, 2, 4... times it, so an outage of minutes loses nothing.
				await this.putBack(folder, name, claimed, {
					...file,
					attempts: attempt,
					retryAt: this.now() + this.options.settleMs * 2 ** (attempt - 1),
					lastError: outcome.reason,
				});
				break;
			case "wait":
				await this.putBack(folder, name, claimed, { ...file, attempts: attempt - 1, retryAt: this.now() + outcome.afterMs, lastError: outcome.reason });
				break;
		}
		return { cameraId, name, outcome: outcome.kind, ...(reason && { reason }) };
	}

	private async reject(folder: string, name: string, claimed: string, reason: DropReason) {
		const rejected = join(folder, REJECTED);
		await mkdir(rejected, { recursive: true });
		const target = await freeName(rejected, name);
		await writeFile(join(rejected, `${target}.reason.txt`), `${reason.code}: ${reason.message}\n`);
		await rename(claimed, join(rejected, target)).catch(ignoreGone);
		await this.forgetAttempts(folder, name);
	}

	/** Back where it was dropped (under another name if a new file took that one), its tries written first. */
	private async putBack(folder: string, name: string, claimed: string, record: AttemptRecord) {
		const target = await freeName(folder, name);
		if (target !== name) await this.forgetAttempts(folder, name);
		// Written before the rename: a watcher that sees the file back also sees when it may be tried.
		await mkdir(join(folder, ATTEMPTS), { recursive: true });
		await writeFile(join(folder, ATTEMPTS, target), JSON.stringify(record));
		await rename(claimed, join(folder, target)).catch(ignoreGone);
	}

	private async attemptRecord(folder: string, name: string, file: { size: number; mtimeMs: number }): Promise<AttemptRecord | undefined> {
		try {
			const record = JSON.parse(await readFile(join(folder, ATTEMPTS, name), "utf8")) as AttemptRecord;
			// A record of an earlier file of the same name says nothing about this one.
			return record.size === file.size && record.mtimeMs === file.mtimeMs ? record : undefined;
		} catch {
			return undefined;
		}
	}

	private forgetAttempts(folder: string, name: string) {
		return rm(join(folder, ATTEMPTS, name), { force: true });
	}

	/**
	 * Claims a dead node left: put back (a counted try: the file may be what killed it) once older than the claim
	 * timeout. This node's own claims found between passes are from an earlier run of it, so they go back at once.
	 */
	private async returnLeftClaims(cameraId: string): Promise<DropResult[]> {
		const folder = join(this.options.dir, cameraId);
		const results: DropResult[] = [];
		const holders = (await entriesOf(join(folder, CLAIMED))).filter((e) => e.isDirectory());
		// Its own first: a claim taken over from another node must not land on a leftover of the same name.
		holders.sort((a, b) => Number(b.name === this.claimFolder) - Number(a.name === this.claimFolder));
		for (const holder of holders) {
			const own = holder.name === this.claimFolder;
			for (const entry of await entriesOf(join(folder, CLAIMED, holder.name))) {
				if (!entry.isFile()) continue;
				const path = join(folder, CLAIMED, holder.name, entry.name);
				const st = await stat(path).catch(() => null);
				// A claim's age is its ctime: the rename that claimed it set it.
				if (!st || (!own && this.now() - st.ctimeMs < this.options.claimTimeoutMs)) continue;
				// Claimed again here first, so two nodes never put back the same file.
				const claimed = own ? path : await this.claim(folder, path, entry.name);
				if (!claimed) continue;
				const attempt = ((await this.attemptRecord(folder, entry.name, st))?.attempts ?? 0) + 1;
				const reason = { code: "ABANDONED", message: `The node ${holder.name} stopped while registering the file` };
				results.push(await this.finish(cameraId, entry.name, claimed, { size: st.size, mtimeMs: st.mtimeMs }, attempt, { kind: "retry", reason }));
			}
		}
		return results;
	}
}

async function entriesOf(dir: string): Promise<Dirent[]> {
	try {
		return await readdir(dir, { withFileTypes: true });
	} catch (err) {
		if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
		throw err;
	}
}

/** `name`, or `name-1.ext`, `name-2.ext`... whichever is not taken in `dir`. */
async function freeName(dir: string, name: string): Promise<string> {
	const ext = extname(name);
	const stem = name.slice(0, name.length - ext.length);
	for (let n = 0; ; n++) {
		const candidate = n ? `${stem}-${n}${ext}` : name;
		if (!(await stat(join(dir, candidate)).catch(() => null))) return candidate;
	}
}

/** The file went away meanwhile (an operator removed it): nothing left to move. */
function ignoreGone(err: NodeJS.ErrnoException) {
	if (err.code !== "ENOENT") throw err;
}
