/**
 * A live camera's recording, browsed by time: the segments overlapping a range, oldest first, with the gaps where
 * there is no footage, a page at a time; and each segment's video, streamed with byte ranges so a player can seek.
 * Segments are fixtures (a small generated video in media storage, clips written straight to the database): no
 * camera or detector runs.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { Clip } from "../../entities";
import { mediaStorage } from "../../lib/media/storage";
import { startCluster, type Cluster } from "../support/cluster";
import { Client, signUp } from "../support/http";
import { testPatternVideo } from "../support/media";

let cluster: Cluster;
let api: Client;
let owner: string, limitedStaff: string, serviceToken: string;
let orgId: string, storeA: string, storeB: string, cameraId: string, otherCameraId: string;
let file: Buffer;
let video: { key: string; size: number };

/** Seconds from the start of the range under test: a minute's boundary an hour ago. */
const T0 = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
const at = (seconds: number) => new Date(T0 + seconds * 1000);
const iso = (seconds: number) => at(seconds).toISOString();

async function clip(over: Partial<Clip>): Promise<Clip> {
	return (await cluster.db()).getRepository(Clip).save({
		orgId,
		storeId: storeA,
		cameraId,
		source: "live" as const,
		status: "done" as const,
		storageKey: video.key,
		sizeBytes: video.size,
		sha256: randomBytes(32).toString("hex"),
		durationSec: 2,
		width: 160,
		height: 120,
		sourceFps: 5,
		sampleFps: 5,
		segmentSec: 2,
		segmentsTotal: 1,
		framesTotal: 10,
		framesDone: 10,
		...over,
	});
}
/** A live segment of the camera, `seconds` long, starting `start` seconds into the range. */
const segment = (start: number, seconds = 2, over: Partial<Clip> = {}) => clip({ recordedAt: at(start), durationSec: seconds, ...over });

const recordingPath = (query: string, store = storeA, camera = cameraId) => `/api/v1/orgs/${orgId}/stores/${store}/cameras/${camera}/recording?${query}`;
const videoPath = (clipId: string, store = storeA) => `/api/v1/orgs/${orgId}/stores/${store}/clips/${clipId}/video`;

/** The video route as a player calls it: the body as bytes. */
async function fetchVideo(path: string, headers: Record<string, string> = {}, token = owner) {
	const res = await fetch(cluster.url + path, { headers: { authorization: `Bearer ${token}`, ...headers } });
	return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

let before: Clip, first: Clip, second: Clip, afterGap: Clip, expired: Clip, upload: Clip;

beforeAll(async () => {
	cluster = await startCluster({ SERVICES: "api,auth,tenancy,camera,clip,alert" });
	api = new Client(cluster.url);
	const signedUp = await signUp(api, "recording");
	owner = signedUp.token;
	orgId = (await api.post("/api/v1/orgs", { name: "Recording" }, { token: owner })).body.id;
	storeA = (await api.post(`/api/v1/orgs/${orgId}/stores`, { name: "Street" }, { token: owner })).body.id;
	storeB = (await api.post(`/api/v1/orgs/${orgId}/stores`, { name: "Mall" }, { token: owner })).body.id;
	cameraId = (await api.post(`/api/v1/orgs/${orgId}/stores/${storeA}/cameras`, { name: "Door", sampleFps: 5 }, { token: owner })).body.id;
	otherCameraId = (await api.post(`/api/v1/orgs/${orgId}/stores/${storeA}/cameras`, { name: "Till", sampleFps: 5 }, { token: owner })).body.id;
	const staff = await signUp(api, "recording-staff");
	const invite = await api.post(`/api/v1/orgs/${orgId}/invitations`, { email: staff.email, role: "staff", storeIds: [storeB] }, { token: owner });
	expect((await api.post("/api/v1/invitations/accept", { token: invite.body.token }, { token: staff.token })).status).toBe(200);
	limitedStaff = staff.token;
	serviceToken = (await api.post(`/api/v1/orgs/${orgId}/stores/${storeA}/service-tokens`, { name: "edge" }, { token: owner })).body.token;

	file = readFileSync(testPatternVideo({ width: 160, height: 120, fps: 5, frames: 10 }));
	video = await mediaStorage(cluster.config.dataDir).put("clips", "mp4", Readable.from([file]));

	// The range under test is [0 s, 20 s): footage 0-5 s (the first segment began a second before), 15-17 s.
	await segment(-5); // ended before the range
	before = await segment(-1);
	first = await segment(1);
	second = await segment(3);
	// 5-15 s: nothing, but for a segment whose video retention removed.
	expired = await segment(7, 2, { expiredAt: new Date() });
	afterGap = await segment(15);
	await segment(20); // starts where the range ends
	// Not on this camera's timeline: an upload (its filming time unknown), and another camera's footage.
	upload = await clip({ source: "upload", recordedAt: null, uploadedBy: signedUp.userId });
	await clip({ cameraId: otherCameraId, recordedAt: at(10) });
}, 120_000);
afterAll(async () => {
	if (orgId) await api.delete(`/api/v1/orgs/${orgId}`, { token: owner });
	await cluster?.stop();
});

describe("a camera's recording by time range", () => {
	it("lists exactly the segments overlapping the range, oldest first, with the gaps where there is no footage", async () => {
		const res = await api.get(recordingPath(`from=${iso(0)}&to=${iso(20)}`), { token: owner });
		expect(res.status).toBe(200);
		expect(res.body.items.map((i: { id: string }) => i.id)).toEqual([before.id, first.id, second.id, afterGap.id]);
		expect(res.body.items[0]).toEqual({ id: before.id, recordedAt: iso(-1), endsAt: iso(1), durationSec: 2, status: "done" });
		// The expired segment's span is a gap: it has nothing to play.
		expect(res.body.gaps).toEqual([
			{ from: iso(5), to: iso(15), seconds: 10 },
			{ from: iso(17), to: iso(20), seconds: 3 },
		]);
		expect(res.body).toMatchObject({ from: iso(0), to: iso(20), nextCursor: null });
		expect(res.body.items.map((i: { id: string }) => i.id)).not.toContain(expired.id);
		expect(res.body.items.map((i: { id: string }) => i.id)).not.toContain(upload.id);
	});

	it("a range with no footage is one gap", async () => {
		const res = await api.get(recordingPath(`from=${iso(6)}&to=${iso(14)}`), { token: owner });
		expect(res.body).toMatchObject({ items: [], gaps: [{ from: iso(6), to: iso(14), seconds: 8 }], nextCursor: null });
	});

	it("the footage around an alert: from 30 s before it to 30 s after", async () => {
		const occurredAt = at(4);
		const from = new Date(occurredAt.getTime() - 30_000).toISOString();
		const to = new Date(occurredAt.getTime() + 30_000).toISOString();
		const res = await api.get(recordingPath(`from=${from}&to=${to}`), { token: owner });
		expect(res.body.items.map((i: { id: string }) => i.id)).toContain(second.id);
	});

	it("pages through the range: the pages' segments and gaps together are the whole range's", async () => {
		const whole = (await api.get(recordingPath(`from=${iso(0)}&to=${iso(20)}`), { token: owner })).body;
		for (const limit of [1, 2, 3]) {
			const items: unknown[] = [];
			const gaps: unknown[] = [];
			let cursor: string | null = null;
			let pages = 0;
			do {
				const query: string = `from=${iso(0)}&to=${iso(20)}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
				const page = await api.get(recordingPath(query), { token: owner });
				expect(page.status).toBe(200);
				expect(page.body.items.length).toBeLessThanOrEqual(limit);
				items.push(...page.body.items);
				gaps.push(...page.body.gaps);
				cursor = page.body.nextCursor;
				pages++;
			} while (cursor && pages < 10);
			expect({ limit, items, gaps }).toEqual({ limit, items: whole.items, gaps: whole.gaps });
			expect(pages).toBe(Math.ceil(whole.items.length / limit));
		}
	});

	it("`to` defaults to now", async () => {
		const res = await api.get(recordingPath(`from=${iso(0)}`), { token: owner });
		expect(res.status).toBe(200);
		expect(new Date(res.body.to).getTime()).toBeGreaterThan(Date.now() - 60_000);
		expect(res.body.items.map((i: { id: string }) => i.id)).toEqual(expect.arrayContaining([before.id, afterGap.id]));
	});

	it.each([
		["a reversed range", `from=${iso(20)}&to=${iso(0)}`, "to"],
		["an empty range", `from=${iso(5)}&to=${iso(5)}`, "to"],
		["a range longer than RECORDING_RANGE_MAX_HOURS", `from=${iso(0)}&to=${iso(25 * 3600)}`, "to"],
		["no start", `to=${iso(20)}`, "from"],
		["a start that is not a time", `from=yesterday&to=${iso(20)}`, "from"],
		["a year PostgreSQL cannot hold", `from=-001000-01-01T00:00:00Z&to=${iso(20)}`, "from"],
		["a cursor that is not one of ours", `from=${iso(0)}&to=${iso(20)}&cursor=abc`, "cursor"],
		["a forged cursor", `from=${iso(0)}&to=${iso(20)}&cursor=${Buffer.from('["x","y"]').toString("base64url")}.e30`, "cursor"],
		["a limit of 0", `from=${iso(0)}&to=${iso(20)}&limit=0`, "limit"],
	])("%s is a 422 naming the field", async (_name, query, field) => {
		const res = await api.get(recordingPath(query), { token: owner });
		expect(res.status).toBe(422);
		expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
	});

	it.each([
		["repeated parameters", "from[]=1&from[]=2"],
		["a huge number", `from=${"9".repeat(400)}`],
		["a cursor of many parts", `from=${iso(0)}&to=${iso(20)}&cursor=${"a.".repeat(140)}`],
		["an infinite limit", `from=${iso(0)}&to=${iso(20)}&limit=1e400`],
		["a NUL byte", "from=%00"],
	])("hostile input (%s) never gets a 500", async (_name, query) => {
		const res = await api.get(recordingPath(query), { token: owner });
		expect(res.status).toBeGreaterThanOrEqual(400);
		expect(res.status).toBeLessThan(500);
	});

	it("a camera of another store, or none, is 404", async () => {
		expect((await api.get(recordingPath(`from=${iso(0)}`, storeB), { token: owner })).status).toBe(404);
		expect((await api.get(recordingPath(`from=${iso(0)}`, storeA, "00000000-0000-4000-8000-000000000000"), { token: owner })).status).toBe(404);
	});

	it("staff of another store cannot see this store's recording; the store's service token can, as it can list clips", async () => {
		const staff = await api.get(recordingPath(`from=${iso(0)}`), { token: limitedStaff });
		expect(staff.status).toBe(404);
		// Through their own store's path, the camera is not there either.
		expect((await api.get(recordingPath(`from=${iso(0)}`, storeB), { token: limitedStaff })).status).toBe(404);
		const service = await api.get(recordingPath(`from=${iso(0)}&to=${iso(20)}`), { token: serviceToken });
		expect(service.status).toBe(200);
		expect(service.body.items).toHaveLength(4);
		expect((await api.get(recordingPath(`from=${iso(0)}`))).status).toBe(401);
	});
});

describe("a clip's video", () => {
	it("serves the whole MP4 with its length, type and private caching, and says ranges are welcome", async () => {
		const res = await fetchVideo(videoPath(first.id));
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toBe("video/mp4");
		expect(res.headers.get("content-length")).toBe(String(file.length));
		expect(res.headers.get("accept-ranges")).toBe("bytes");
		expect(res.headers.get("cache-control")).toMatch(/^private/);
		expect(res.bytes.equals(file)).toBe(true);
	});

	it.each([
		["bytes=100-199", 100, 199],
		["bytes=100-", 100, -1],
		["bytes=-50", -50, -1],
		["bytes=0-999999999", 0, -1],
	])("a Range of %s gets 206 with exactly those bytes", async (range, start, end) => {
		const from = start < 0 ? file.length + start : start;
		const last = end < 0 ? file.length - 1 : end;
		const res = await fetchVideo(videoPath(second.id), { range });
		expect(res.status).toBe(206);
		expect(res.headers.get("content-range")).toBe(`bytes ${from}-${last}/${file.length}`);
		expect(res.headers.get("content-length")).toBe(String(last - from + 1));
		expect(res.headers.get("content-type")).toBe("video/mp4");
		expect(res.bytes.equals(file.subarray(from, last + 1))).toBe(true);
	});

	it("a Range past the end is 416 with the video's length", async () => {
		for (const range of [`bytes=${file.length}-`, `bytes=${file.length + 10}-${file.length + 20}`, "bytes=-0", `bytes=${"9".repeat(30)}-`]) {
			const res = await fetchVideo(videoPath(second.id), { range });
			expect({ range, status: res.status }).toEqual({ range, status: 416 });
			expect(res.headers.get("content-range")).toBe(`bytes */${file.length}`);
			expect(JSON.parse(res.bytes.toString()).error.code).toBe("RANGE_NOT_SATISFIABLE");
		}
	});

	it("a Range it does not understand (reversed, several, another unit) gets the whole video", async () => {
		for (const range of ["bytes=5-2", "bytes=0-1,5-6", "items=0-1", "bytes=abc", "bytes=-"]) {
			const res = await fetchVideo(videoPath(second.id), { range });
			expect({ range, status: res.status }).toEqual({ range, status: 200 });
			expect(res.bytes.length).toBe(file.length);
		}
	});

	it("is 404 once retention removed the video, and when the file is missing", async () => {
		const gone = await fetchVideo(videoPath(expired.id));
		expect(gone.status).toBe(404);
		const missing = await clip({ recordedAt: at(-30), storageKey: "clips/00/00000000-0000-4000-8000-000000000000.mp4" });
		expect((await fetchVideo(videoPath(missing.id))).status).toBe(404);
	});

	it("staff of another store get 404; a service token, 403 (footage is for people, like frames)", async () => {
		expect((await fetchVideo(videoPath(first.id), {}, limitedStaff)).status).toBe(404);
		expect((await fetchVideo(videoPath(first.id, storeB), {}, owner)).status).toBe(404);
		expect((await fetchVideo(videoPath(first.id), {}, serviceToken)).status).toBe(403);
		expect((await fetch(cluster.url + videoPath(first.id))).status).toBe(401);
	});

	it("is described in /openapi.json as an MP4 body", async () => {
		const doc = (await api.get("/openapi.json")).body;
		const route = doc.paths["/api/v1/orgs/{orgId}/stores/{storeId}/clips/{clipId}/video"].get;
		expect(Object.keys(route.responses)).toEqual(expect.arrayContaining(["200", "206", "416"]));
		expect(route.responses["206"].content["video/mp4"].schema).toEqual({ type: "string", format: "binary" });
		const recording = doc.paths["/api/v1/orgs/{orgId}/stores/{storeId}/cameras/{cameraId}/recording"].get;
		expect(recording.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/RecordingPage" });
	});
});
