/**
 * Feedback through HTTP: verdicts on alerts, the thresholds they teach, pins, and the loop closing: after learning,
 * a clip's low-score object no longer raises an alert while a confident one still does. Clips are fixtures
 * (a small generated video, detections written straight to the database) so no detector runs.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { gunzipSync } from "node:zlib";
import { Alert, Clip, ClipSegment, Detection } from "../../entities";
import { mediaStorage } from "../../lib/media/storage";
import { startCluster, type Cluster } from "../support/cluster";
import { Client, signUp } from "../support/http";
import { eventually, testPatternVideo } from "../support/media";
import { readTar } from "../support/tar";

let cluster: Cluster;
let api: Client;
let owner: string, staff: string, staffOfB: string, outsider: string;
let orgId: string, storeA: string, storeB: string, door: string, side: string, cameraB: string, ruleId: string, ruleB: string;
let storeBase: string;
let video: { key: string; size: number };

const WIDTH = 160,
	HEIGHT = 120,
	FPS = 5,
	FRAMES = 10;

beforeAll(async () => {
	cluster = await startCluster({ SERVICES: "api,auth,tenancy,camera,clip,alert,feedback" });
	api = new Client(cluster.url);
	const o = await signUp(api, "owner");
	owner = o.token;
	orgId = (await api.post("/api/v1/orgs", { name: "Feedback Org" }, { token: owner })).body.id;
	[storeA, storeB] = await Promise.all(
		["A", "B"].map(async (name) => (await api.post(`/api/v1/orgs/${orgId}/stores`, { name }, { token: owner })).body.id as string),
	);
	storeBase = `/api/v1/orgs/${orgId}/stores/${storeA}`;
	const member = async (name: string, role: string, storeIds?: string[]) => {
		const user = await signUp(api, name);
		const invite = await api.post(`/api/v1/orgs/${orgId}/invitations`, { email: user.email, role, storeIds }, { token: owner });
		expect((await api.post("/api/v1/invitations/accept", { token: invite.body.token }, { token: user.token })).status).toBe(200);
		return user.token;
	};
	staff = await member("staff", "staff", [storeA]);
	staffOfB = await member("staff-b", "staff", [storeB]);
	outsider = (await signUp(api, "outsider")).token;
	door = (await api.post(`${storeBase}/cameras`, { name: "Door" }, { token: owner })).body.id;
	side = (await api.post(`${storeBase}/cameras`, { name: "Side" }, { token: owner })).body.id;
	cameraB = (await api.post(`/api/v1/orgs/${orgId}/stores/${storeB}/cameras`, { name: "Back" }, { token: owner })).body.id;
	ruleId = (await api.post(`${storeBase}/alert-rules`, { name: "People", classes: ["person"], minScore: 0.6, cooldownSec: 0 }, { token: owner })).body.id;
	ruleB = (
		await api.post(
			`/api/v1/orgs/${orgId}/stores/${storeB}/alert-rules`,
			{ name: "People", classes: ["person"], minScore: 0.6, cooldownSec: 0 },
			{ token: owner },
		)
	).body.id;

	// One small real video that every fixture clip points at, so snapshots and clean frames are real JPEGs.
	const file = testPatternVideo({ width: WIDTH, height: HEIGHT, fps: FPS, frames: FRAMES });
	video = await mediaStorage(cluster.config.dataDir).put("clips", "mp4", Readable.from([readFileSync(file)]));
}, 120_000);
afterAll(() => cluster?.stop());

/** A processed clip with one moving person per score (left to right across the frame), then the alert path. */
async function clipWithPeople(cameraId: string, storeId: string, scores: number[]): Promise<Alert[]> {
	const db = await cluster.db();
	const clip = await db.getRepository(Clip).save({
		orgId,
		storeId,
		cameraId,
		status: "done" as const,
		storageKey: video.key,
		sizeBytes: video.size,
		sha256: randomBytes(32).toString("hex"),
		durationSec: FRAMES / FPS,
		width: WIDTH,
		height: HEIGHT,
		sourceFps: FPS,
		sampleFps: FPS,
		segmentSec: FRAMES / FPS,
		segmentsTotal: 1,
		framesTotal: FRAMES,
		framesDone: FRAMES,
	});
	await db.getRepository(ClipSegment).insert({ clipId: clip.id, index: 0, firstFrame: 0, frameCount: FRAMES, status: "done", framesDone: FRAMES });
	const detections = [];
	for (let frame = 0; frame < 6; frame++) {
		for (const [ordinal, score] of scores.entries()) {
			const x = 0.05 + ordinal * 0.3 + frame * 0.01;
			detections.push({
				clipId: clip.id,
				frameIndex: frame,
				ordinal,
				timeSec: frame / FPS,
				classId: 0,
				className: "person",
				score,
				x1: x,
				y1: 0.2,
				x2: x + 0.15,
				y2: 0.7,
			});
		}
	}
	await db.getRepository(Detection).insert(detections);
	await cluster.core.call("alert.evaluateClip", { clipId: clip.id });
	await eventually(async () => ((await db.getRepository(Clip).findOneBy({ id: clip.id }))?.summary ? true : undefined), 30_000, 100);
	return db.getRepository(Alert).find({ where: { clipId: clip.id }, order: { score: "ASC" } });
}

/** Judged alerts as fixtures: inserted straight into the database (without images), on an empty clip of the camera. */
async function alertsWithScores(cameraId: string, storeId: string, rule: string, scores: number[]): Promise<Alert[]> {
	const db = await cluster.db();
	await clipWithPeople(cameraId, storeId, []);
	const [clip] = await db.getRepository(Clip).find({ where: { cameraId }, order: { createdAt: "DESC" }, take: 1 });
	return db.getRepository(Alert).save(
		scores.map((score, i) => ({
			orgId,
			storeId,
			cameraId,
			clipId: clip.id,
			trackNo: 1000 + i,
			ruleId: rule,
			className: "person",
			score,
			severity: "medium" as const,
			occurredAt: new Date(),
			frameTime: 0,
			box: [0.1, 0.1, 0.3, 0.6] as [number, number, number, number],
		})),
	);
}

const thresholdOf = async (cameraId: string, token = owner) => {
	const res = await api.get(`${storeBase}/cameras/${cameraId}/thresholds`, { token });
	expect(res.status).toBe(200);
	return res.body.items.find((t: { className: string }) => t.className === "person");
};

describe("verdicts", () => {
	let alert: Alert;
	beforeAll(async () => {
		[alert] = await alertsWithScores(side, storeA, ruleId, [0.7]);
	});

	it("refuses a wrong_class verdict without the right class, a class with any other verdict, and the alert's own class", async () => {
		const url = `${storeBase}/alerts/${alert.id}/feedback`;
		for (const [body, type] of [
			[{ verdict: "wrong_class" }, "required"],
			[{ verdict: "true_positive", correctClass: "dog" }, "forbidden"],
			[{ verdict: "wrong_class", correctClass: "person" }, "sameClass"],
			[{ verdict: "maybe" }, "enumValue"],
		] as const) {
			const res = await api.post(url, body, { token: staff });
			expect({ body, status: res.status }).toEqual({ body, status: 422 });
			expect(res.body.error.details.map((d: { type: string }) => d.type)).toContain(type);
		}
		expect((await api.get(url, { token: staff })).body.items).toHaveLength(0);
	});

	it("one verdict per user per alert: a later one replaces it; everyone's add up by majority, ties to the latest", async () => {
		const url = `${storeBase}/alerts/${alert.id}/feedback`;
		expect((await api.post(url, { verdict: "false_positive", note: "a coat on a chair" }, { token: staff })).status).toBe(200);
		const replaced = await api.post(`/api/v1/alerts/${alert.id}/feedback`, { verdict: "wrong_class", correctClass: "dog" }, { token: staff });
		expect(replaced.status).toBe(200);
		expect(replaced.body).toMatchObject({ alertId: alert.id, verdict: "wrong_class", correctClass: "dog", note: null });
		let listed = (await api.get(url, { token: staff })).body;
		expect(listed.items).toHaveLength(1);
		expect(listed.resolved).toEqual({ verdict: "wrong_class", correctClass: "dog" });
		await api.post(url, { verdict: "true_positive" }, { token: owner });
		listed = (await api.get(url, { token: staff })).body;
		expect(listed.items.map((v: { verdict: string }) => v.verdict).sort()).toEqual(["true_positive", "wrong_class"]);
		expect(listed.resolved).toEqual({ verdict: "true_positive", correctClass: null });
	});

	it("staff of store A cannot judge or read store B's alerts; outsiders cannot either; all see the same 404", async () => {
		const [alertB] = await alertsWithScores(cameraB, storeB, ruleB, [0.8]);
		const short = `/api/v1/alerts/${alertB.id}/feedback`;
		for (const token of [staff, outsider]) {
			const res = await api.post(short, { verdict: "false_positive" }, { token });
			expect(res.status).toBe(404);
			expect(res.body.error.message).toBe("Alert not found");
		}
		const missing = await api.post(`/api/v1/alerts/00000000-0000-4000-8000-000000000000/feedback`, { verdict: "false_positive" }, { token: staff });
		expect([missing.status, missing.body.error.message]).toEqual([404, "Alert not found"]);
		expect(
			(await api.post(`/api/v1/orgs/${orgId}/stores/${storeB}/alerts/${alertB.id}/feedback`, { verdict: "false_positive" }, { token: staff })).status,
		).toBe(404);
		// Store B's alert addressed through store A's path: not found either.
		expect((await api.post(`${storeBase}/alerts/${alertB.id}/feedback`, { verdict: "false_positive" }, { token: staff })).status).toBe(404);
		// Its own staff may.
		expect((await api.post(short, { verdict: "false_positive" }, { token: staffOfB })).status).toBe(200);
	});
});

describe("the learned threshold", () => {
	const FALSE = Array.from({ length: 12 }, (_, i) => 0.5 + i * 0.01);
	const TRUE = Array.from({ length: 28 }, (_, i) => 0.75 + i * 0.007);
	/** Below the rule's 0.6, between the rule and what will be learned, and well above. */
	const PEOPLE = [0.55, 0.65, 0.85];
	const raisedScores = async (scores = PEOPLE) => (await clipWithPeople(door, storeA, scores)).map((a) => Number(a.score.toFixed(2)));

	it("before any feedback, the rule alone decides", async () => {
		expect(await raisedScores()).toEqual([0.65, 0.85]);
		expect(await thresholdOf(door)).toBeUndefined();
	});

	it("learns from verdicts posted through both routes once there are enough, and shows what it would have suppressed", async () => {
		const alerts = await alertsWithScores(door, storeA, ruleId, [...FALSE, ...TRUE]);
		const judged = alerts.map((a) => ({ id: a.id, verdict: a.score < 0.7 ? "false_positive" : "true_positive" }));
		for (const [i, { id, verdict }] of judged.entries()) {
			const url = i % 2 ? `/api/v1/alerts/${id}/feedback` : `${storeBase}/alerts/${id}/feedback`;
			expect((await api.post(url, { verdict }, { token: staff })).status).toBe(200);
			if (i === 9) expect(await thresholdOf(door, staff)).toMatchObject({ threshold: null, learned: null, verdicts: 10 });
		}
		const learned = await thresholdOf(door, staff);
		expect(learned).toMatchObject({ className: "person", pinned: null, verdicts: 40, truePositives: 28, falsePositives: 12, precision: 1 });
		// The lowest threshold whose precision (lower bound) reaches 0.9: just above the false positives.
		expect(learned.threshold).toBeCloseTo(0.75, 5);
		expect(learned.learned).toBe(learned.threshold);
		expect(learned.suppressedShare).toBeCloseTo(0.3, 5);
		expect(learned.precisionLowerBound).toBeGreaterThanOrEqual(0.9);
	});

	it("after learning, the low-score person no longer raises an alert; the confident one still does", async () => {
		expect(await raisedScores()).toEqual([0.85]);
	});

	it("staff cannot pin; an owner's pin wins over the learned value, with the rule's minimum as the floor", async () => {
		const url = `${storeBase}/cameras/${door}/thresholds/person`;
		const refused = await api.request("PUT", url, { body: { threshold: 0.1 }, token: staff });
		expect([refused.status, refused.body.error.code]).toEqual([403, "FORBIDDEN"]);
		expect((await api.request("PUT", url, { body: { threshold: 1.5 }, token: owner })).status).toBe(422);

		const low = await api.request("PUT", url, { body: { threshold: 0.3 }, token: owner });
		expect(low.status).toBe(200);
		expect(low.body).toMatchObject({ threshold: 0.3, pinned: 0.3, suppressedShare: 0 });
		expect(low.body.learned).toBeCloseTo(0.75, 5);
		expect(await raisedScores()).toEqual([0.65, 0.85]);

		const high = await api.request("PUT", url, { body: { threshold: 0.9 }, token: owner });
		expect(high.body).toMatchObject({ threshold: 0.9, pinned: 0.9, precision: 1 });
		expect(high.body.suppressedShare).toBeGreaterThan(0.8);
		expect(await raisedScores()).toEqual([]);
	});

	it("resetting removes the pin and the learned threshold applies again", async () => {
		const url = `${storeBase}/cameras/${door}/thresholds/person`;
		expect((await api.delete(url, { token: staff })).status).toBe(403);
		expect((await api.delete(url, { token: owner })).status).toBe(204);
		const after = await thresholdOf(door);
		expect(after).toMatchObject({ pinned: null, pinnedBy: null, verdicts: 40 });
		expect(after.threshold).toBeCloseTo(0.75, 5);
		expect(await raisedScores()).toEqual([0.85]);
		expect((await api.get(`/api/v1/orgs/${orgId}/stores/${storeB}/cameras/${door}/thresholds`, { token: owner })).status).toBe(404);
	});
});

describe("dataset export", () => {
	it("an owner downloads the judged alerts as a YOLO dataset: clean frames, labels, false positives as background", async () => {
		const raised = await clipWithPeople(side, storeA, [0.7, 0.8, 0.9]);
		// Raising an alert stores its snapshot only; the first verdict keeps its clean frame for training.
		expect(raised.map((a) => [Boolean(a.snapshotKey), a.frameKey])).toEqual([
			[true, null],
			[true, null],
			[true, null],
		]);
		await api.post(`${storeBase}/alerts/${raised[0].id}/feedback`, { verdict: "false_positive" }, { token: staff });
		await api.post(`${storeBase}/alerts/${raised[1].id}/feedback`, { verdict: "true_positive" }, { token: staff });
		await api.post(`${storeBase}/alerts/${raised[2].id}/feedback`, { verdict: "wrong_class", correctClass: "mannequin" }, { token: staff });
		const alerts = (await cluster.db()).getRepository(Alert);
		const [low, high, other] = [
			await alerts.findOneByOrFail({ id: raised[0].id }),
			await alerts.findOneByOrFail({ id: raised[1].id }),
			await alerts.findOneByOrFail({ id: raised[2].id }),
		];
		expect([low, high, other].every((a) => a.frameKey && a.frameKey !== a.snapshotKey)).toBe(true);
		// A second verdict keeps the frame it has.
		await api.post(`${storeBase}/alerts/${low.id}/feedback`, { verdict: "false_positive" }, { token: owner });
		expect((await alerts.findOneByOrFail({ id: low.id })).frameKey).toBe(low.frameKey);

		expect((await api.get(`${storeBase}/dataset`, { token: staff })).status).toBe(403);
		const res = await fetch(`${cluster.url}${storeBase}/dataset`, { headers: { authorization: `Bearer ${owner}` } });
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toMatch(/application\/gzip/);
		expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="vigil-dataset-.+\.tar\.gz"$/);
		const files = readTar(gunzipSync(Buffer.from(await res.arrayBuffer())));

		// Only judged alerts with an image: the three from the clip (the database-only fixtures have none).
		const storage = mediaStorage(cluster.config.dataDir);
		const clean = async (key: string) => Buffer.concat(await storage.get(key).toArray());
		for (const a of [low, high, other]) {
			expect(files.get(`images/${a.id}.jpg`)!.equals(await clean(a.frameKey!))).toBe(true);
			expect(files.get(`images/${a.id}.jpg`)!.equals(await clean(a.snapshotKey!))).toBe(false);
		}
		expect([...files.keys()].filter((n) => n.startsWith("images/"))).toHaveLength(3);
		const yaml = files.get("data.yaml")!.toString();
		const names = JSON.parse(/^names: (.*)$/m.exec(yaml)![1]) as string[];
		expect(names.sort()).toEqual(["mannequin", "person"]);
		expect(yaml).toMatch(/^nc: 2$/m);
		const label = (a: Alert) => files.get(`labels/${a.id}.txt`)!.toString();
		expect(label(low)).toBe("");
		const namesInOrder = JSON.parse(/^names: (.*)$/m.exec(yaml)![1]) as string[];
		const [x1, y1, x2, y2] = high.box;
		expect(label(high).trim().split(" ").map(Number)).toEqual([
			namesInOrder.indexOf("person"),
			...[(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1].map((v) => Number(v.toFixed(6))),
		]);
		expect(Number(label(other).split(" ")[0])).toBe(namesInOrder.indexOf("mannequin"));
	});
});

describe("what the dashboard charts and shows", () => {
	let front: string;
	let judged: Alert[];
	beforeAll(async () => {
		front = (await api.post(`${storeBase}/cameras`, { name: "Front" }, { token: owner })).body.id;
		judged = await alertsWithScores(front, storeA, ruleId, [0.71, 0.72, 0.73, 0.74]);
	});

	it("each person sees their own verdict on an alert after a reload; others' are theirs", async () => {
		const [a, b] = judged;
		await api.post(`${storeBase}/alerts/${a.id}/feedback`, { verdict: "false_positive" }, { token: staff });
		await api.post(`${storeBase}/alerts/${b.id}/feedback`, { verdict: "true_positive" }, { token: owner });
		const list = async (token: string) =>
			Object.fromEntries(
				(await api.get(`${storeBase}/alerts?cameraId=${front}`, { token })).body.items.map((x: { id: string; myVerdict: string | null }) => [
					x.id,
					x.myVerdict,
				]),
			);
		expect(await list(staff)).toEqual({ [a.id]: "false_positive", [b.id]: null, [judged[2].id]: null, [judged[3].id]: null });
		expect(await list(owner)).toEqual({ [a.id]: null, [b.id]: "true_positive", [judged[2].id]: null, [judged[3].id]: null });
		expect((await api.get(`${storeBase}/alerts/${a.id}`, { token: staff })).body.myVerdict).toBe("false_positive");
	});

	it("counts today's alerts and what the verdicts add up to, per day of the store", async () => {
		await api.post(`${storeBase}/alerts/${judged[2].id}/feedback`, { verdict: "wrong_class", correctClass: "dog" }, { token: owner });
		const res = await api.get(`${storeBase}/cameras/${front}/precision?days=7`, { token: staff });
		expect(res.status).toBe(200);
		expect(res.body.days).toHaveLength(7);
		expect(res.body.days.slice(0, 6).every((d: { alerts: number }) => d.alerts === 0)).toBe(true);
		// One true, one false, one wrong class (a false positive to the learner), one not judged.
		expect(res.body.days[6]).toEqual({
			day: expect.stringMatching(/^\d{4}-\d\d-\d\d$/),
			alerts: 4,
			judged: 3,
			truePositives: 1,
			falsePositives: 2,
			precision: 1 / 3,
		});
		expect((await api.get(`${storeBase}/cameras/${front}/precision?days=0`, { token: staff })).status).toBe(422);
		expect((await api.get(`/api/v1/orgs/${orgId}/stores/${storeB}/cameras/${front}/precision`, { token: owner })).status).toBe(404);
	});

	it("charts alerts per camera per hour, the current hour last, other stores' alerts left out", async () => {
		const res = await api.get(`${storeBase}/alerts/volume?bucket=hour&buckets=24`, { token: staff });
		expect(res.status).toBe(200);
		expect(res.body.starts).toHaveLength(24);
		const series = Object.fromEntries(res.body.series.map((s: { cameraId: string; counts: number[] }) => [s.cameraId, s.counts]));
		expect(series[front]).toHaveLength(24);
		expect(series[front][23]).toBe(4);
		expect(series[cameraB]).toBeUndefined();
		const db = await cluster.db();
		const ofStore = await db.getRepository(Alert).countBy({ storeId: storeA });
		const total = res.body.series.flatMap((s: { counts: number[] }) => s.counts).reduce((x: number, y: number) => x + y, 0);
		expect(total).toBe(ofStore);
		const days = await api.get(`${storeBase}/alerts/volume?bucket=day&buckets=3&cameraId=${front}`, { token: staff });
		expect(days.body.series).toEqual([{ cameraId: front, counts: [0, 0, 4] }]);
		expect((await api.get(`${storeBase}/alerts/volume?buckets=1000`, { token: staff })).status).toBe(422);
		expect((await api.get(`/api/v1/orgs/${orgId}/stores/${storeB}/alerts/volume`, { token: staff })).status).toBe(404);
	});

	it("serves a still frame of a clip and of a camera, a JPEG cached by the browser; none before any footage", async () => {
		const empty = (await api.post(`${storeBase}/cameras`, { name: "New" }, { token: owner })).body.id;
		const none = await api.get(`${storeBase}/cameras/${empty}/frame`, { token: staff });
		expect(none.status).toBe(404);
		const res = await fetch(`${cluster.url}${storeBase}/cameras/${front}/frame`, { headers: { Authorization: `Bearer ${staff}` } });
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toMatch(/^image\/jpeg/);
		expect(res.headers.get("cache-control")).toMatch(/private/);
		const jpeg = Buffer.from(await res.arrayBuffer());
		expect(jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
		const clipId = judged[0].clipId!;
		const clip = await fetch(`${cluster.url}${storeBase}/clips/${clipId}/frame?at=99`, { headers: { Authorization: `Bearer ${staff}` } });
		expect(clip.status).toBe(200);
		expect(Buffer.from(await clip.arrayBuffer()).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
		expect((await api.get(`${storeBase}/clips/${clipId}/frame?at=-1`, { token: staff })).status).toBe(422);
		expect((await api.get(`/api/v1/orgs/${orgId}/stores/${storeB}/clips/${clipId}/frame`, { token: owner })).status).toBe(404);
		expect((await api.get(`/api/v1/orgs/${orgId}/stores/${storeB}/cameras/${front}/frame`, { token: staffOfB })).status).toBe(404);
	});
});
