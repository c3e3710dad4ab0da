/**
 * The whole flow on real street footage: upload, sampled frames detected on a detector node, tracks, an alert
 * with its snapshot, and live push to an allowed user's SSE stream while another organization hears nothing.
 * With TRANSPORTER set, the gateway runs on another broker than the services and detector (over NATS).
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Detection } from "../../entities";
import { startCluster, type Cluster } from "../support/cluster";
import { Client, signUp } from "../support/http";
import { describeWithFootage, eventually, streetClip } from "../support/media";
import { SseClient } from "../support/sse";

interface AlertView {
	id: string;
	seq: number;
	storeId: string;
	className: string;
	clipId: string;
	hasSnapshot: boolean;
}

describeWithFootage("clip to alert, end to end", () => {
	let cluster: Cluster;
	let api: Client;
	let owner: string, outsider: string;
	let storeBase: string, camBase: string;
	let streams: SseClient[] = [];

	beforeAll(async () => {
		cluster = await startCluster({ DETECT_BATCH: "4" });
		api = new Client(cluster.url);
		owner = (await signUp(api, "pipeline-owner")).token;
		outsider = (await signUp(api, "pipeline-outsider")).token;
		await api.post("/api/v1/orgs", { name: "Elsewhere" }, { token: outsider });
		const org = (await api.post("/api/v1/orgs", { name: "Street Org" }, { token: owner })).body;
		const store = (await api.post(`/api/v1/orgs/${org.id}/stores`, { name: "Campus" }, { token: owner })).body;
		storeBase = `/api/v1/orgs/${org.id}/stores/${store.id}`;
		const camera = (await api.post(`${storeBase}/cameras`, { name: "Courtyard", classes: ["person"], sampleFps: 5 }, { token: owner })).body;
		camBase = `${storeBase}/cameras/${camera.id}`;
		const rule = await api.post(
			`${storeBase}/alert-rules`,
			{ name: "Anyone in the courtyard", classes: ["person"], minScore: 0.5, minDurationSec: 0.5, cooldownSec: 0, severity: "high" },
			{ token: owner },
		);
		expect(rule.status).toBe(201);
	});
	afterAll(async () => {
		for (const s of streams) await s.close();
		await cluster?.stop();
	});

	it("finds people, tracks them, raises alerts and pushes them only to those allowed to see them", async () => {
		const sse = (token: string, extra: Record<string, string> = {}) =>
			new SseClient(`${cluster.url}/api/v1/alerts/stream`, { authorization: `Bearer ${token}`, ...extra }).open();
		const mine = await sse(owner);
		const theirs = await sse(outsider);
		streams = [mine, theirs];
		expect(mine.status).toBe(200);
		expect(theirs.status).toBe(200);

		const uploaded = await api.request("POST", `${camBase}/clips`, { raw: streetClip(), headers: { "content-type": "video/mp4" }, token: owner });
		expect(uploaded.status).toBe(201);
		const clipId = uploaded.body.id;

		const done = await eventually(
			async () => {
				const clip = (await api.get(`${storeBase}/clips/${clipId}`, { token: owner })).body;
				return clip.status === "done" && clip.summary ? clip : undefined;
			},
			180_000,
			500,
		);
		expect(done.progress).toEqual({ framesDone: 50, framesTotal: 50, ratio: 1 });
		// Several people walk through this footage; each is counted once, not once per frame.
		expect(done.summary.counts.person).toBeGreaterThanOrEqual(3);
		expect(done.summary.counts.person).toBeLessThan(30);

		const detections = (await api.get(`${storeBase}/clips/${clipId}/detections`, { token: owner })).body.items as {
			frameIndex: number;
			className: string;
			score: number;
		}[];
		expect(detections.filter((d) => d.className === "person").length).toBeGreaterThan(50);
		expect(detections.every((d) => d.frameIndex >= 0 && d.frameIndex < 50)).toBe(true);
		expect(new Set(detections.map((d) => d.frameIndex)).size).toBeGreaterThan(40);

		const alerts = (await api.get(`${storeBase}/alerts`, { token: owner })).body.items as AlertView[];
		expect(alerts.length).toBeGreaterThan(0);
		expect(alerts.every((a) => a.className === "person" && a.clipId === clipId)).toBe(true);

		await eventually(async () => (mine.alerts().length >= alerts.length ? true : undefined), 30_000);
		expect(
			mine
				.alerts<AlertView>()
				.map((a) => a.id)
				.sort(),
		).toEqual(alerts.map((a) => a.id).sort());
		expect(theirs.alerts()).toHaveLength(0);

		// A dashboard that reconnects resumes after the last id it saw, from the database.
		const seqs = alerts.map((a) => a.seq).sort((a, b) => a - b);
		const resumed = await sse(owner, { "last-event-id": String(seqs[0]) });
		streams.push(resumed);
		await eventually(async () => (resumed.alerts().length >= seqs.length - 1 ? true : undefined), 30_000);
		expect(resumed.alerts<AlertView>().map((a) => a.seq)).toEqual(seqs.slice(1));

		// The snapshot: a JPEG behind the same permissions as the alert.
		const withSnapshot = alerts.find((a) => a.hasSnapshot)!;
		const jpeg = await fetch(`${cluster.url}${storeBase}/alerts/${withSnapshot.id}/snapshot`, { headers: { authorization: `Bearer ${owner}` } });
		expect(jpeg.status).toBe(200);
		expect(jpeg.headers.get("content-type")).toContain("image/jpeg");
		expect(Buffer.from(await jpeg.arrayBuffer()).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
		expect((await api.get(`${storeBase}/alerts/${withSnapshot.id}/snapshot`, { token: outsider })).status).toBe(404);
	}, 270_000);

	it("acknowledging and resolving record who and when", async () => {
		const alert = (await api.get(`${storeBase}/alerts?status=open&limit=1`, { token: owner })).body.items[0];
		const acked = await api.post(`${storeBase}/alerts/${alert.id}/acknowledge`, {}, { token: owner });
		expect(acked.body).toMatchObject({ status: "acknowledged", acknowledgedBy: expect.any(String), acknowledgedAt: expect.any(String) });
		const resolved = await api.post(`${storeBase}/alerts/${alert.id}/resolve`, {}, { token: owner });
		expect(resolved.body).toMatchObject({ status: "resolved", resolvedBy: acked.body.acknowledgedBy });
		expect((await api.post(`${storeBase}/alerts/${alert.id}/acknowledge`, {}, { token: owner })).status).toBe(409);
		expect((await api.get(`${storeBase}/alerts?status=resolved`, { token: owner })).body.items.map((a: AlertView) => a.id)).toContain(alert.id);
	});

	it("reprocessing a clip replaces its detections and raises no duplicate alert", async () => {
		const clip = (await api.get(`${storeBase}/clips`, { token: owner })).body.items[0];
		const before = (await api.get(`${storeBase}/alerts?limit=200`, { token: owner })).body.items.length;
		expect((await api.post(`${storeBase}/clips/${clip.id}/reprocess`, {}, { token: owner })).status).toBe(202);
		await eventually(async () => ((await api.get(`${storeBase}/clips/${clip.id}`, { token: owner })).body.status === "done" ? true : undefined), 180_000, 500);
		const rows = await (await cluster.db()).getRepository(Detection).find({ where: { clipId: clip.id } });
		const keys = rows.map((d) => `${d.frameIndex}:${d.ordinal}`);
		expect(new Set(keys).size).toBe(keys.length);
		expect((await api.get(`${storeBase}/alerts?limit=200`, { token: owner })).body.items.length).toBe(before);
	}, 210_000);

	it("deleting a clip removes its video, alerts and snapshot files", async () => {
		const clip = (await api.get(`${storeBase}/clips`, { token: owner })).body.items[0];
		const alerts = (await api.get(`${storeBase}/alerts?limit=200`, { token: owner })).body.items as AlertView[];
		const snapshotDir = join(cluster.config.dataDir, "media", "snapshots");
		const snapshots = () => (existsSync(snapshotDir) ? readdirSync(snapshotDir, { recursive: true }).filter((f) => String(f).endsWith(".jpg")).length : 0);
		expect(snapshots()).toBeGreaterThan(0);
		expect((await api.delete(`${storeBase}/clips/${clip.id}`, { token: owner })).status).toBe(204);
		expect(snapshots()).toBe(0);
		expect((await api.get(`${storeBase}/alerts/${alerts[0].id}`, { token: owner })).status).toBe(404);
	});
});
