import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Errors } from "moleculer";
import { DropFolder, dropOutcome, dropRefusal, type DropOutcome, type DroppedFile, type DropFolderOptions } from "../../lib/media/drop-folder";
import { TooLargeError } from "../../lib/media/storage";
import { notFound, VigilError } from "../../lib/platform/errors";

const CAMERA = "0b7e3c52-5d1a-4c5e-9a51-1f0e6f1c2a01";
const OTHER_CAMERA = "0b7e3c52-5d1a-4c5e-9a51-1f0e6f1c2a02";
const SETTLE = 5000;

let dir: string;
let clock: number;
const folders: DropFolder[] = [];

beforeEach(() => {
	dir = mkdtempSync(join(tmpdir(), "vigil-drop-"));
	clock = Date.now();
});
afterEach(() => {
	folders.length = 0;
	rmSync(dir, { recursive: true, force: true });
});

const watcher = (node = "node-a", options: Partial<DropFolderOptions> = {}) => {
	const folder = new DropFolder({ dir, node, settleMs: SETTLE, maxAttempts: 3, claimTimeoutMs: 600_000, now: () => clock, ...options });
	folders.push(folder);
	return folder;
};
const drop = (name: string, content: string | Buffer, camera = CAMERA) => {
	mkdirSync(join(dir, camera), { recursive: true });
	writeFileSync(join(dir, camera, name), content);
};
const listing = (...path: string[]) => (existsSync(join(dir, ...path)) ? readdirSync(join(dir, ...path)).sort() : []);

/** A registrar that remembers what it was handed (and the bytes it could read) and answers `answer`. */
function registrar(answer: (file: DroppedFile) => DropOutcome | Promise<DropOutcome> = () => ({ kind: "done" })) {
	const calls: (DroppedFile & { content: string })[] = [];
	const register = async (file: DroppedFile) => {
		calls.push({ ...file, content: readFileSync(file.path, "utf8") });
		return answer(file);
	};
	return { calls, register };
}

describe("a camera's drop folder", () => {
	it("takes a file once it has not changed for the settle time, from its claim, and deletes it once registered", async () => {
		const folder = watcher();
		const { calls, register } = registrar();
		drop("clip.mp4", "a whole clip");
		expect(await folder.scan(register)).toEqual([]);
		clock += SETTLE - 1;
		expect(await folder.scan(register)).toEqual([]);
		clock += 1;
		expect(await folder.scan(register)).toEqual([{ cameraId: CAMERA, name: "clip.mp4", outcome: "done" }]);
		expect(calls).toEqual([
			expect.objectContaining({
				cameraId: CAMERA,
				name: "clip.mp4",
				size: 12,
				attempt: 1,
				content: "a whole clip",
				path: join(dir, CAMERA, ".claimed", "node-a", "clip.mp4"),
			}),
		]);
		expect(listing(CAMERA).filter((n) => !n.startsWith("."))).toEqual([]);
		expect(listing(CAMERA, ".claimed", "node-a")).toEqual([]);
	});

	it("leaves a file that is still being written: every change of its size or mtime starts the wait again", async () => {
		const folder = watcher();
		const { calls, register } = registrar();
		drop("growing.mp4", "first half ");
		await folder.scan(register);
		clock += SETTLE - 1000;
		appendFileSync(join(dir, CAMERA, "growing.mp4"), "second half");
		await folder.scan(register);
		clock += SETTLE - 1000;
		// Rewritten at the same size: only its mtime says so.
		writeFileSync(join(dir, CAMERA, "growing.mp4"), "FIRST HALF second half");
		utimesSync(join(dir, CAMERA, "growing.mp4"), new Date(), new Date(Date.now() + 60_000));
		await folder.scan(register);
		clock += SETTLE - 1;
		await folder.scan(register);
		expect(calls).toEqual([]);
		clock += 1;
		await folder.scan(register);
		expect(calls.map((c) => c.content)).toEqual(["FIRST HALF second half"]);
	});

	it("leaves hidden files, *.part and *.tmp, sub-folders and folders not named like a camera alone", async () => {
		const folder = watcher();
		const { calls, register } = registrar();
		drop(".hidden.mp4", "x");
		drop("upload.mp4.part", "x");
		drop("upload.TMP", "x");
		mkdirSync(join(dir, CAMERA, "nested"));
		writeFileSync(join(dir, CAMERA, "nested", "inner.mp4"), "x");
		mkdirSync(join(dir, "lost+found"));
		writeFileSync(join(dir, "lost+found", "stray.mp4"), "x");
		writeFileSync(join(dir, "beside-the-folders.mp4"), "x");
		await folder.scan(register);
		clock += SETTLE;
		expect(await folder.scan(register)).toEqual([]);
		expect(calls).toEqual([]);
	});

	it("moves a rejected file to rejected/ with its reason, and never offers it again", async () => {
		const folder = watcher();
		const { calls, register } = registrar(() => ({ kind: "rejected", reason: { code: "UNSUPPORTED_MEDIA_TYPE", message: "Not a video" } }));
		drop("notes.mp4", "just notes");
		await folder.scan(register);
		clock += SETTLE;
		expect(await folder.scan(register)).toEqual([
			{ cameraId: CAMERA, name: "notes.mp4", outcome: "rejected", reason: { code: "UNSUPPORTED_MEDIA_TYPE", message: "Not a video" } },
		]);
		expect(listing(CAMERA, "rejected")).toEqual(["notes.mp4", "notes.mp4.reason.txt"]);
		expect(readFileSync(join(dir, CAMERA, "rejected", "notes.mp4"), "utf8")).toBe("just notes");
		expect(readFileSync(join(dir, CAMERA, "rejected", "notes.mp4.reason.txt"), "utf8")).toBe("UNSUPPORTED_MEDIA_TYPE: Not a video\n");
		// A second rejection of the same name keeps the first one's evidence.
		drop("notes.mp4", "other notes");
		for (let i = 0; i < 5; i++, clock += SETTLE) await folder.scan(register);
		expect(calls.map((c) => c.content)).toEqual(["just notes", "other notes"]);
		expect(listing(CAMERA, "rejected")).toEqual(["notes-1.mp4", "notes-1.mp4.reason.txt", "notes.mp4", "notes.mp4.reason.txt"]);
	});

	it("puts a file back after a passing failure, tries it again after doubling waits, and rejects it with the last error after the last try", async () => {
		const folder = watcher();
		const triedAt: number[] = [];
		const { calls, register } = registrar((file) => {
			triedAt.push(clock);
			return { kind: "retry", reason: { code: "DB_DOWN", message: `Database down (try ${file.attempt})` } };
		});
		drop("clip.mp4", "a clip");
		await folder.scan(register);
		clock += SETTLE;
		expect((await folder.scan(register)).map((r) => r.outcome)).toEqual(["retry"]);
		// Back where it was dropped, for a later try.
		expect(readFileSync(join(dir, CAMERA, "clip.mp4"), "utf8")).toBe("a clip");
		const tried = () => calls.map((c) => c.attempt);
		for (let i = 0; i < 100 && calls.length < 3; i++, clock += 500) await folder.scan(register);
		expect(tried()).toEqual([1, 2, 3]);
		// The first wait is the settle time, the next twice that.
		expect([triedAt[1] - triedAt[0], triedAt[2] - triedAt[1]]).toEqual([SETTLE, 2 * SETTLE]);
		expect(listing(CAMERA).filter((n) => !n.startsWith("."))).toEqual(["rejected"]);
		expect(readFileSync(join(dir, CAMERA, "rejected", "clip.mp4.reason.txt"), "utf8")).toBe("DB_DOWN: Database down (try 3) (gave up after 3 tries)\n");
		expect(listing(CAMERA, ".attempts")).toEqual([]);
		clock += 3_600_000;
		await folder.scan(register);
		expect(tried()).toEqual([1, 2, 3]);
	});

	it("counts a registrar that throws as a passing failure", async () => {
		const folder = watcher();
		const { calls, register } = registrar(() => Promise.reject(new Error("socket hang up")));
		drop("clip.mp4", "a clip");
		await folder.scan(register);
		clock += SETTLE;
		expect(await folder.scan(register)).toEqual([
			{ cameraId: CAMERA, name: "clip.mp4", outcome: "retry", reason: { code: "INTERNAL", message: "socket hang up" } },
		]);
		expect(calls).toHaveLength(1);
		expect(existsSync(join(dir, CAMERA, "clip.mp4"))).toBe(true);
	});

	it("puts a file back without counting a try while the backlog is full, and ends the pass there", async () => {
		const folder = watcher();
		let full = true;
		const { calls, register } = registrar(() =>
			full ? { kind: "wait", reason: { code: "BACKLOG_FULL", message: "Too many clips are waiting" }, afterMs: 30_000 } : { kind: "done" },
		);
		drop("first.mp4", "first");
		utimesSync(join(dir, CAMERA, "first.mp4"), new Date(), new Date(Date.now() - 60_000));
		drop("second.mp4", "second");
		await folder.scan(register);
		clock += SETTLE;
		expect((await folder.scan(register)).map((r) => [r.name, r.outcome])).toEqual([["first.mp4", "wait"]]);
		expect(calls.map((c) => c.name)).toEqual(["first.mp4"]);
		full = false;
		for (let i = 0; i < 10; i++, clock += SETTLE) await folder.scan(register);
		expect(calls.map((c) => [c.name, c.attempt])).toEqual([
			["first.mp4", 1],
			["second.mp4", 1],
			["first.mp4", 1],
		]);
	});

	it("puts back the claims a dead node left once older than the claim timeout, and its own leftovers at once", async () => {
		const folder = watcher("node-a");
		const { calls, register } = registrar();
		for (const [node, name] of [
			["node-that-died", "theirs.mp4"],
			["node-a", "mine.mp4"],
		]) {
			mkdirSync(join(dir, CAMERA, ".claimed", node), { recursive: true });
			writeFileSync(join(dir, CAMERA, ".claimed", node, name), name);
		}
		const back = await folder.scan(register);
		expect(back).toEqual([expect.objectContaining({ name: "mine.mp4", outcome: "retry", reason: expect.objectContaining({ code: "ABANDONED" }) })]);
		expect(listing(CAMERA, ".claimed", "node-that-died")).toEqual(["theirs.mp4"]);
		clock += 600_000 + 1000;
		expect(await folder.scan(register)).toContainEqual(expect.objectContaining({ name: "theirs.mp4", outcome: "retry" }));
		for (let i = 0; i < 10; i++, clock += SETTLE) await folder.scan(register);
		// Each came back once, as its second try (the claim that died was the first).
		expect(calls.map((c) => [c.name, c.attempt]).sort()).toEqual([
			["mine.mp4", 2],
			["theirs.mp4", 2],
		]);
	});

	it("keeps both when a new file of the same name arrives while the first is being registered", async () => {
		const folder = watcher();
		const { calls, register } = registrar(() => {
			if (calls.length > 1) return { kind: "done" };
			drop("clip.mp4", "the camera's next clip");
			return { kind: "retry", reason: { code: "DB_DOWN", message: "Database down" } };
		});
		drop("clip.mp4", "the first clip");
		await folder.scan(register);
		clock += SETTLE;
		await folder.scan(register);
		expect(readFileSync(join(dir, CAMERA, "clip.mp4"), "utf8")).toBe("the camera's next clip");
		expect(readFileSync(join(dir, CAMERA, "clip-1.mp4"), "utf8")).toBe("the first clip");
		for (let i = 0; i < 4; i++, clock += SETTLE) await folder.scan(register);
		// The first one's count went with it; the new one starts at one.
		expect(calls.map((c) => [c.content, c.attempt]).sort()).toEqual([
			["the camera's next clip", 1],
			["the first clip", 1],
			["the first clip", 2],
		]);
	});

	it("stops between files when its node stops", async () => {
		const folder = watcher();
		let stopping = false;
		const { calls, register } = registrar(() => {
			stopping = true;
			return { kind: "done" };
		});
		drop("a.mp4", "a");
		drop("b.mp4", "b");
		await folder.scan(register, () => stopping);
		clock += SETTLE;
		await folder.scan(register, () => stopping);
		expect(calls).toHaveLength(1);
	});
});

describe("two watchers of one shared folder", () => {
	it("take each file once, however their passes interleave", async () => {
		const names: string[] = [];
		for (const camera of [CAMERA, OTHER_CAMERA])
			for (let i = 0; i < 20; i++) {
				drop(`clip-${i}.mp4`, `${camera} ${i}`, camera);
				names.push(`${camera} ${i}`);
			}
		const taken: string[] = [];
		// Registration takes a little while, as storing a real file would: the watchers' passes overlap.
		const register = async (file: DroppedFile) => {
			taken.push(readFileSync(file.path, "utf8"));
			await new Promise((r) => setTimeout(r, Math.random() * 3));
			return { kind: "done" } as const;
		};
		const a = watcher("node-a");
		const b = watcher("node-b");
		await Promise.all([a.scan(register), b.scan(register)]);
		clock += SETTLE;
		await Promise.all([a.scan(register), b.scan(register)]);
		expect(taken.sort()).toEqual(names.sort());
		expect([...listing(CAMERA), ...listing(OTHER_CAMERA)].filter((n) => !n.startsWith("."))).toEqual([]);
	});

	it("take a file put back for another try once per try, whichever watcher takes it", async () => {
		drop("clip.mp4", "a clip");
		const tries: number[] = [];
		const register = async (file: DroppedFile): Promise<DropOutcome> => {
			tries.push(file.attempt);
			await new Promise((r) => setTimeout(r, Math.random() * 3));
			return file.attempt < 3 ? { kind: "retry", reason: { code: "DB_DOWN", message: "Database down" } } : { kind: "done" };
		};
		const a = watcher("node-a", { maxAttempts: 5 });
		const b = watcher("node-b", { maxAttempts: 5 });
		for (let i = 0; i < 20; i++, clock += SETTLE / 2) await Promise.all([a.scan(register), b.scan(register)]);
		expect(tries).toEqual([1, 2, 3]);
		expect(listing(CAMERA).filter((n) => !n.startsWith("."))).toEqual([]);
	});
});

describe("what a registration's failure means for the file", () => {
	const remote = (name: string, code: number, type: string) => Object.assign(new Error("from another node"), { name, code, type });
	it.each([
		["a Vigil 4xx error (not a video)", "rejected", new VigilError("Not a video", 415, "UNSUPPORTED_MEDIA_TYPE")],
		["a Vigil 4xx error from another node (a plain object once it crossed NATS)", "rejected", remote("VigilError", 404, "NOT_FOUND")],
		["no such camera", "rejected", notFound("Camera")],
		["a file over the size limit", "rejected", new TooLargeError(1024)],
		["the clip service unreachable (404, but Moleculer's)", "retry", new Errors.ServiceNotFoundError({ action: "clip.registerDropped" })],
		["a call that timed out", "retry", new Errors.RequestTimeoutError({ action: "clip.registerDropped", nodeID: "core" })],
		["a Vigil 5xx error", "retry", new VigilError("Database unavailable", 503, "UNAVAILABLE")],
		["a database error", "retry", Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" })],
		["the backlog full", "wait", new VigilError("Too many clips are waiting", 503, "BACKLOG_FULL", { retryAfter: 30 })],
	])("%s: %s", (_what, kind, err) => {
		expect(dropOutcome(err).kind).toBe(kind);
	});

	it("keeps the API error's code and message as the reason", () => {
		expect(dropOutcome(new VigilError("The clip is longer than 900 s", 422, "VALIDATION_FAILED"))).toEqual({
			kind: "rejected",
			reason: { code: "VALIDATION_FAILED", message: "The clip is longer than 900 s" },
		});
		expect(dropOutcome(new TooLargeError(1024))).toEqual({
			kind: "rejected",
			reason: { code: "PAYLOAD_TOO_LARGE", message: "The clip is larger than the limit of 1024 bytes" },
		});
	});
});

describe("which cameras take dropped files", () => {
	it.each([
		["an upload camera", { enabled: true, kind: "upload", streamUrlEnc: null }, null],
		["a stream camera without a stream URL (nothing pulls it)", { enabled: true, kind: "rtsp", streamUrlEnc: null }, null],
		["a camera switched off", { enabled: false, kind: "upload", streamUrlEnc: null }, "CAMERA_DISABLED"],
		["a camera pulled live (its footage would count twice)", { enabled: true, kind: "rtsp", streamUrlEnc: "sealed" }, "CAMERA_KIND"],
		["an edge box's camera (analysed on the box)", { enabled: true, kind: "edge", streamUrlEnc: null }, "CAMERA_KIND"],
	])("%s", (_what, camera, code) => {
		expect(dropRefusal(camera)?.code ?? null).toBe(code);
	});
});
