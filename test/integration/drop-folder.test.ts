/**
 * Drop folders: a camera that can only send files (FTP, SMB) drops them into `<DROP_DIR>/<cameraId>/`, and the
 * stream nodes take them like uploads. A file still being written is left alone; a finished one becomes the
 * camera's clip and leaves the folder; the same content again makes no second clip; a file that is not a video
 * ends in rejected/ with its reason; two stream nodes watching one folder take each file once.
 */
import { createHash } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServiceBroker } from "moleculer";
import { createNode } from "../../app/node";
import { overNats, startCluster, type Cluster } from "../support/cluster";
import { Client, signUp } from "../support/http";
import { describeWithFootage, eventually, streetClip } from "../support/media";

/** The scan runs every third of the lease (1 s); a file must stay unchanged for 3 s to be taken. */
const SETTLE_SECONDS = 3;
const TRICKLE_MS = 200;

describeWithFootage("drop folders", () => {
	let cluster: Cluster;
	let api: Client;
	let owner: string;
	let orgId: string;
	let storeBase: string;
	let dropDir: string;
	let cameraId: string;
	const clip = streetClip();
	const sha256 = createHash("sha256").update(clip).digest("hex");

	beforeAll(async () => {
		dropDir = mkdtempSync(join(tmpdir(), "vigil-drop-"));
		cluster = await startCluster({
			SERVICES: "api,auth,tenancy,camera,clip,alert,stream",
			DROP_DIR: dropDir,
			DROP_SETTLE_SECONDS: String(SETTLE_SECONDS),
			STREAM_LEASE_SECONDS: "3",
		});
		api = new Client(cluster.url);
		owner = (await signUp(api, "drop-owner")).token;
		orgId = (await api.post("/api/v1/orgs", { name: "Drop Org" }, { token: owner })).body.id;
		const storeId = (await api.post(`/api/v1/orgs/${orgId}/stores`, { name: "Yard" }, { token: owner })).body.id;
		storeBase = `/api/v1/orgs/${orgId}/stores/${storeId}`;
		cameraId = await addCamera("Yard FTP");
	}, 60_000);

	afterAll(async () => {
		// Leave no queued clip behind: the next cluster on this database would queue it again on start.
		if (orgId) await api.delete(`/api/v1/orgs/${orgId}`, { token: owner });
		await cluster?.stop();
		rmSync(dropDir, { recursive: true, force: true });
	}, 60_000);

	async function addCamera(name: string) {
		const res = await api.post(`${storeBase}/cameras`, { name, kind: "upload", sampleFps: 1 }, { token: owner });
		expect(res.status).toBe(201);
		mkdirSync(join(dropDir, res.body.id));
		return res.body.id as string;
	}
	const clipsOf = async (camera: string) =>
		(await api.get(`${storeBase}/clips?cameraId=${camera}`, { token: owner })).body.items as { id: string; [field: string]: unknown }[];
	/** What a camera's folder holds besides Vigil's own (dot) folders. */
	const folderOf = (camera: string, ...sub: string[]) => {
		const dir = join(dropDir, camera, ...sub);
		return existsSync(dir) ? readdirSync(dir).filter((n) => !n.startsWith(".")) : [];
	};
	const rejectedReason = (camera: string, name: string) =>
		eventually(async () => {
			const file = join(dropDir, camera, "rejected", `${name}.reason.txt`);
			return existsSync(file) ? readFileSync(file, "utf8") : undefined;
		}, 30_000);

	it("a text file named like a clip ends in rejected/ with its reason, and makes no clip", async () => {
		writeFileSync(join(dropDir, cameraId, "x.mp4"), "just some notes, not a video\n".repeat(20));
		expect(await rejectedReason(cameraId, "x.mp4")).toMatch(/^UNSUPPORTED_MEDIA_TYPE: ./);
		expect(folderOf(cameraId, "rejected").sort()).toEqual(["x.mp4", "x.mp4.reason.txt"]);
		expect(folderOf(cameraId)).toEqual(["rejected"]);
		expect(await clipsOf(cameraId)).toEqual([]);
	}, 60_000);

	it("a clip still being written is left alone; once complete it becomes the camera's clip, uploaded by the folder, and leaves it", async () => {
		const file = join(dropDir, cameraId, "street.mp4");
		let written = Math.floor(clip.length / 2);
		writeFileSync(file, clip.subarray(0, written));
		// The barrier: a finished file dropped beside it is handled (rejected) only by a pass that saw it unchanged for the
		// settle time; that pass saw the clip too, as long there, but still growing.
		writeFileSync(join(dropDir, cameraId, "barrier.mp4"), "not a video either\n");
		const step = Math.ceil((clip.length - written) / 250);
		const trickle = setInterval(() => {
			const next = Math.min(written + step, clip.length - 1);
			appendFileSync(file, clip.subarray(written, next));
			written = next;
		}, TRICKLE_MS);
		try {
			await rejectedReason(cameraId, "barrier.mp4");
		} finally {
			clearInterval(trickle);
		}
		expect(written).toBeLessThan(clip.length - 1);
		expect(folderOf(cameraId).sort()).toEqual(["rejected", "street.mp4"]);
		expect(await clipsOf(cameraId)).toEqual([]);

		appendFileSync(file, clip.subarray(written));
		const [taken] = await eventually(async () => {
			const items = await clipsOf(cameraId);
			return items.length ? items : undefined;
		}, 30_000);
		expect(taken).toMatchObject({ cameraId, uploadedBy: "folder", source: "upload", recordedAt: null, sha256, sizeBytes: clip.length });
		// Deleted from its claim once registered: the clip is in media storage.
		await eventually(async () => (folderOf(cameraId, ".claimed", cluster.core.nodeID).length ? undefined : true), 10_000);
		expect(folderOf(cameraId)).toEqual(["rejected"]);
	}, 90_000);

	it("the same content dropped again makes no second clip, and is taken all the same", async () => {
		const [first] = await clipsOf(cameraId);
		const file = join(dropDir, cameraId, "street-again.mp4");
		writeFileSync(file, clip);
		// Gone from the folder and from its claim: registered (and answered with the first clip), then deleted.
		await eventually(async () => (existsSync(file) || folderOf(cameraId, ".claimed", cluster.core.nodeID).length ? undefined : true), 30_000);
		expect((await clipsOf(cameraId)).map((c) => c.id)).toEqual([first.id]);
		expect(folderOf(cameraId, "rejected")).not.toContain("street-again.mp4");
	}, 60_000);

	it("the files of a folder named like a camera that does not exist are rejected", async () => {
		const unknown = "0b7e3c52-5d1a-4c5e-9a51-1f0e6f1c2aff";
		mkdirSync(join(dropDir, unknown));
		writeFileSync(join(dropDir, unknown, "clip.mp4"), clip);
		expect(await rejectedReason(unknown, "clip.mp4")).toBe("NOT_FOUND: Camera not found\n");
	}, 60_000);

	// Embedded mode has one in-memory database that a second broker cannot share: the unit tests run two watchers
	// of one folder instead (test/unit/drop-folder.test.ts).
	(overNats ? it : it.skip)(
		"two stream nodes watching one folder take each file once",
		async () => {
			const second = createNode({ ...cluster.config, services: ["stream"] }, { nodeID: `stream-2-${cluster.config.namespace}` });
			await second.start();
			const registrations: string[] = [];
			const count = (broker: ServiceBroker) => {
				const call = broker.call.bind(broker);
				return jest.spyOn(broker, "call").mockImplementation(((action: string, params: { cameraId: string }, opts: unknown) => {
					if (action === "clip.registerDropped") registrations.push(params.cameraId);
					return call(action, params, opts as never);
				}) as typeof broker.call);
			};
			const spies = [count(cluster.core), count(second)];
			try {
				const cameras = [await addCamera("Gate 1"), await addCamera("Gate 2"), await addCamera("Gate 3")];
				// Written under a hidden name, then renamed: as an FTP server that uploads to a temporary name does.
				for (const camera of cameras) {
					writeFileSync(join(dropDir, camera, ".street.mp4"), clip);
					renameSync(join(dropDir, camera, ".street.mp4"), join(dropDir, camera, "street.mp4"));
				}
				for (const camera of cameras) {
					await eventually(async () => ((await clipsOf(camera)).length === 1 && !folderOf(camera).length ? true : undefined), 60_000);
				}
				expect(registrations.sort()).toEqual([...cameras].sort());
			} finally {
				for (const spy of spies) spy.mockRestore();
				await second.stop();
			}
		},
		120_000,
	);
});
