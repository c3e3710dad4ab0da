import { readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { Clip } from "../../entities";
import { startCluster, type Cluster } from "../support/cluster";
import { Client, signUp } from "../support/http";
import { describeWithFootage, streetClip } from "../support/media";

/** Clips without detectors: uploads are checked, stored and queued; nothing here needs a model. */
let cluster: Cluster;
let api: Client;
let token: string;
let camBase: string;
let storeBase: string;
let orgId: string;

const storedFiles = () => {
	const dir = join(cluster.config.dataDir, "media", "clips");
	return existsSync(dir) ? readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith(".mp4")).length : 0;
};
const clipRows = async () => (await cluster.db()).getRepository(Clip).countBy({ orgId });
const upload = (body: Buffer | string, headers: Record<string, string> = { "content-type": "video/mp4" }, path = `${camBase}/clips`, auth = token) =>
	api.request("POST", path, { raw: body, headers, token: auth });

beforeAll(async () => {
	cluster = await startCluster({ SERVICES: "api,auth,tenancy,camera,clip,alert", MAX_QUEUE_DEPTH: "12", MAX_UPLOAD_BYTES: String(2 * 1024 * 1024) });
	api = new Client(cluster.url);
	token = (await signUp(api, "uploader")).token;
	const org = (await api.post("/api/v1/orgs", { name: "Clips Org" }, { token })).body;
	const store = (await api.post(`/api/v1/orgs/${org.id}/stores`, { name: "Street" }, { token })).body;
	const camera = (await api.post(`/api/v1/orgs/${org.id}/stores/${store.id}/cameras`, { name: "Corner" }, { token })).body;
	orgId = org.id;
	storeBase = `/api/v1/orgs/${org.id}/stores/${store.id}`;
	camBase = `${storeBase}/cameras/${camera.id}`;
});
afterAll(async () => {
	// Leave no queued clip behind: the next cluster on this database would queue it again on start.
	if (orgId) await api.delete(`/api/v1/orgs/${orgId}`, { token });
	await cluster?.stop();
});

describe("bad uploads get a clear 4xx and leave nothing behind", () => {
	it.each([
		["an empty body", Buffer.alloc(0), { "content-type": "video/mp4" }, 422, "VALIDATION_FAILED"],
		["a text file sent as video/mp4", Buffer.from("just some notes, not a video\n".repeat(20)), { "content-type": "video/mp4" }, 415, "UNSUPPORTED_MEDIA_TYPE"],
		["a JSON body", Buffer.from("{}"), { "content-type": "application/json" }, 415, "UNSUPPORTED_MEDIA_TYPE"],
	])("%s", async (_name, body, headers, status, code) => {
		const res = await upload(body, headers);
		expect(res.status).toBe(status);
		expect(res.body.error.code).toBe(code);
		expect(storedFiles()).toBe(0);
		expect(await clipRows()).toBe(0);
	});

	it("a body over the size limit is refused with 413", async () => {
		const res = await upload(Buffer.alloc(3 * 1024 * 1024, 1));
		expect(res.status).toBe(413);
		expect(res.body.error).toMatchObject({ code: "PAYLOAD_TOO_LARGE", details: { limit: 2 * 1024 * 1024 } });
		expect(storedFiles()).toBe(0);
	});

	it("a huge declared length is refused before any byte is read", async () => {
		const { request } = await import("node:http");
		const url = new URL(cluster.url + `${camBase}/clips`);
		const status = await new Promise<number>((resolve, reject) => {
			const req = request(
				{
					host: url.hostname,
					port: url.port,
					path: url.pathname,
					method: "POST",
					headers: { authorization: `Bearer ${token}`, "content-type": "video/mp4", "content-length": String(50 * 1024 ** 3) },
				},
				(res) => {
					res.resume();
					resolve(res.statusCode ?? 0);
					req.destroy();
				},
			);
			req.on("error", reject);
			req.write(Buffer.alloc(1024));
		});
		expect(status).toBe(413);
		expect(storedFiles()).toBe(0);
	});

	it("an upload to another tenant's camera is 404 and stores nothing", async () => {
		const stranger = (await signUp(api, "stranger")).token;
		const res = await upload(Buffer.from("x"), { "content-type": "video/mp4" }, `${camBase}/clips`, stranger);
		expect(res.status).toBe(404);
		expect(storedFiles()).toBe(0);
	});

	it("anonymous uploads are 401", async () => {
		expect((await api.request("POST", `${camBase}/clips`, { raw: Buffer.from("x"), headers: { "content-type": "video/mp4" } })).status).toBe(401);
	});
});

describeWithFootage("uploading real footage", () => {
	it("a truncated mp4 is 422 and nothing is kept", async () => {
		const res = await upload(streetClip().subarray(0, 200_000));
		expect(res.status).toBe(422);
		expect(res.body.error.code).toBe("UNDECODABLE_VIDEO");
		expect(storedFiles()).toBe(0);
		expect(await clipRows()).toBe(0);
	});

	it("stores, probes and queues a clip; the same content again returns the same clip", async () => {
		const first = await upload(streetClip());
		expect(first.status).toBe(201);
		expect(first.body).toMatchObject({
			status: "queued",
			durationSec: 10,
			width: 768,
			height: 576,
			sampleFps: 5,
			progress: { framesDone: 0, framesTotal: 50 },
		});
		const again = await upload(streetClip());
		expect(again.status).toBe(200);
		expect(again.body.id).toBe(first.body.id);
		expect(storedFiles()).toBe(1);
		const got = await api.get(`${storeBase}/clips/${first.body.id}`, { token });
		expect(got.body.sha256).toBe(first.body.sha256);
	});

	it("multipart uploads work too (first file field)", async () => {
		const otherCam = (await api.post(`${camBase.split("/cameras/")[0]}/cameras`, { name: "Side" }, { token })).body;
		const form = new FormData();
		form.append("note", "front door");
		form.append("file", new Blob([streetClip()], { type: "video/mp4" }), "clip.mp4");
		const res = await fetch(`${cluster.url}${storeBase}/cameras/${otherCam.id}/clips`, {
			method: "POST",
			body: form,
			headers: { authorization: `Bearer ${token}` },
		});
		expect(res.status).toBe(201);
		expect(((await res.json()) as { cameraId: string }).cameraId).toBe(otherCam.id);
	});

	it("a full backlog answers 503 with Retry-After and stores nothing", async () => {
		// Two queued clips of 5 segments each and no detector running: 10 pending; the limit is 12.
		const cams = await Promise.all(["A", "B"].map(async (n) => (await api.post(`${storeBase}/cameras`, { name: `Backlog ${n}` }, { token })).body.id));
		const before = storedFiles();
		const third = await upload(streetClip(), { "content-type": "video/mp4" }, `${storeBase}/cameras/${cams[0]}/clips`);
		expect(third.status).toBe(201);
		const refused = await upload(streetClip(), { "content-type": "video/mp4" }, `${storeBase}/cameras/${cams[1]}/clips`);
		expect(refused.status).toBe(503);
		expect(refused.body.error.code).toBe("BACKLOG_FULL");
		expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
		expect(storedFiles()).toBe(before + 1);
	});

	it("lists with filters and cursor pagination, and deletes clip and file", async () => {
		const page1 = await api.get(`${storeBase}/clips?limit=2`, { token });
		expect(page1.status).toBe(200);
		expect(page1.body.items).toHaveLength(2);
		expect(page1.body.nextCursor).toEqual(expect.any(String));
		const page2 = await api.get(`${storeBase}/clips?limit=2&cursor=${page1.body.nextCursor}`, { token });
		const ids = [...page1.body.items, ...page2.body.items].map((c: { id: string }) => c.id);
		expect(new Set(ids).size).toBe(ids.length);
		expect(ids.length).toBe(3);
		const queued = await api.get(`${storeBase}/clips?status=queued&cameraId=${camBase.split("/").pop()}`, { token });
		expect(queued.body.items).toHaveLength(1);
		expect((await api.get(`${storeBase}/clips?cursor=garbage`, { token })).status).toBe(422);

		const files = storedFiles();
		expect((await api.delete(`${storeBase}/clips/${ids[0]}`, { token })).status).toBe(204);
		expect(storedFiles()).toBe(files - 1);
		expect((await api.get(`${storeBase}/clips/${ids[0]}`, { token })).status).toBe(404);
	});
});
