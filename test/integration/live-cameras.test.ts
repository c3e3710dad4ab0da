/**
 * Live cameras against a real RTSP server (GStreamer, serving the street footage in a loop): a camera added with
 * its stream URL is pulled by a stream node, shows its latest frame, and its segments become clips whose people
 * raise alerts; a server that goes away shows as the camera's error and the stream comes back with it; wrong
 * credentials are a clear error that never shows the password; a lapsed lease is taken over.
 */
import { LiveStream } from "../../entities";
import { startCluster, type Cluster } from "../support/cluster";
import { Client, signUp } from "../support/http";
import { eventually, requireFootage } from "../support/media";
import { describeWhen } from "../support/require";
import { rtspAvailable, startRtspServer, type RtspServer } from "../support/rtsp";

/** Segments of 2 s, one frame a second analysed: enough to find the people, light on two cores. */
const LIVE_ALERT_MS = 120_000;
const STREAM_UP_MS = 45_000;

interface CameraView {
	id: string;
	streamUrl: string | null;
	liveness: { status: string };
	stream: { status: string; error: string | null; message: string | null; lastFrameAt: string | null; segments: number } | null;
}

describeWhen(rtspAvailable() && requireFootage("live cameras"))("live cameras", () => {
	let cluster: Cluster;
	let api: Client;
	let owner: string;
	let storeBase: string;

	beforeAll(async () => {
		cluster = await startCluster({
			STREAM_LEASE_SECONDS: "3",
			STREAM_STALL_SECONDS: "4",
			STREAM_RECONNECT_MAX_MS: "2000",
			CAMERA_STALE_AFTER: "5",
			CAMERA_OFFLINE_AFTER: "10",
		});
		api = new Client(cluster.url);
		owner = (await signUp(api, "live-owner")).token;
		const orgId = (await api.post("/api/v1/orgs", { name: "Live Org" }, { token: owner })).body.id;
		const storeId = (await api.post(`/api/v1/orgs/${orgId}/stores`, { name: "Street" }, { token: owner })).body.id;
		storeBase = `/api/v1/orgs/${orgId}/stores/${storeId}`;
		expect((await api.post(`${storeBase}/alert-rules`, { name: "People", classes: ["person"], severity: "high" }, { token: owner })).status).toBe(201);
	}, 120_000);

	afterAll(async () => {
		await cluster?.stop();
	}, 60_000);

	const camera = async (id: string): Promise<CameraView> => (await api.get(`${storeBase}/cameras/${id}`, { token: owner })).body;
	const addCamera = async (name: string, streamUrl: string) => {
		const res = await api.post(`${storeBase}/cameras`, { name, kind: "rtsp", streamUrl, sampleFps: 1, classes: ["person"] }, { token: owner });
		expect(res.status).toBe(201);
		return res.body.id as string;
	};
	/** A camera of its own for each test: what one test does to its server never reaches the next. */
	const withStreet = async (test: (server: RtspServer) => Promise<void>) => {
		const server = await startRtspServer({ path: "street", respawn: true });
		try {
			await test(server);
		} finally {
			await server.stop();
		}
	};
	const streamStatus = async (id: string, status: string, error?: string) => {
		let last: CameraView["stream"] | undefined;
		try {
			return await eventually(
				async () => {
					const view = await camera(id);
					last = view.stream;
					return view.stream?.status === status && (error === undefined || view.stream.error === error) ? view : undefined;
				},
				STREAM_UP_MS,
				250,
			);
		} catch (err) {
			throw new Error(`The camera's stream did not become ${status}${error ? ` (${error})` : ""}; last seen: ${JSON.stringify(last)}`, { cause: err });
		}
	};

	it(
		"a camera added with its RTSP URL streams: online, its latest frame, and its people raise alerts from live segments",
		() =>
			withStreet(async (server) => {
				const id = await addCamera("Street live", server.url);
				const streaming = await streamStatus(id, "streaming");
				expect(streaming.stream?.error).toBeNull();
				await eventually(async () => ((await camera(id)).liveness.status === "online" ? true : undefined), STREAM_UP_MS);

				const frame = await eventually(async () => {
					const res = await fetch(`${cluster.url}${storeBase}/cameras/${id}/frame`, { headers: { Authorization: `Bearer ${owner}` } });
					return res.status === 200 && res.headers.get("cache-control") === "private, max-age=1" ? Buffer.from(await res.arrayBuffer()) : undefined;
				}, STREAM_UP_MS);
				expect(frame.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));

				// Segments arrive as the camera's clips, with the wall-clock time of their first frame.
				const clips = await eventually(async () => {
					const items = (await api.get(`${storeBase}/clips?cameraId=${id}`, { token: owner })).body.items as { source: string; recordedAt: string | null }[];
					return items.length >= 2 ? items : undefined;
				}, STREAM_UP_MS);
				expect(clips.every((c) => c.source === "live" && c.recordedAt !== null)).toBe(true);

				const alert = await eventually(async () => {
					const [first] = (await api.get(`${storeBase}/alerts?cameraId=${id}`, { token: owner })).body.items;
					return first;
				}, LIVE_ALERT_MS);
				expect(alert).toMatchObject({ cameraId: id, className: "person" });
				// An alert's time is when it was seen on the stream, not when its segment was processed.
				expect(Math.abs(Date.parse(alert.occurredAt) - Date.now())).toBeLessThan(LIVE_ALERT_MS);

				// Switched off: the node lets the stream go.
				expect((await api.patch(`${storeBase}/cameras/${id}`, { enabled: false }, { token: owner })).status).toBe(200);
				await eventually(async () => ((await camera(id)).stream?.status === "idle" ? true : undefined), STREAM_UP_MS);
			}),
		LIVE_ALERT_MS + 3 * STREAM_UP_MS,
	);

	it(
		"a server that goes away shows as the camera's error, and the stream comes back when the server does",
		() =>
			withStreet(async (server) => {
				const id = await addCamera("Flaky", server.url);
				await streamStatus(id, "streaming");
				await server.stop();
				const down = await streamStatus(id, "error");
				expect(["unreachable", "stalled", "exited"]).toContain(down.stream?.error);
				expect(down.stream?.message).toBeTruthy();
				await server.restart();
				await streamStatus(id, "streaming");
				expect((await api.patch(`${storeBase}/cameras/${id}`, { enabled: false }, { token: owner })).status).toBe(200);
			}),
		4 * STREAM_UP_MS,
	);

	it(
		"wrong credentials are the camera's error, in words, without the password anywhere",
		async () => {
			const guarded = await startRtspServer({ path: "door", user: "viewer", password: "right-secret", respawn: true });
			try {
				const wrong = guarded.url.replace("rtsp://", "rtsp://viewer:wrong-secret@");
				const id = await addCamera("Guarded", wrong);
				const failed = await streamStatus(id, "error", "unauthorized");
				const shown = JSON.stringify(failed);
				expect(shown).not.toContain("wrong-secret");
				expect(failed.streamUrl).not.toContain("wrong-secret");
				// Put right, it streams.
				const right = guarded.url.replace("rtsp://", "rtsp://viewer:right-secret@");
				expect((await api.patch(`${storeBase}/cameras/${id}`, { streamUrl: right }, { token: owner })).status).toBe(200);
				await streamStatus(id, "streaming");
				expect((await api.patch(`${storeBase}/cameras/${id}`, { enabled: false }, { token: owner })).status).toBe(200);
			} finally {
				await guarded.stop();
			}
		},
		4 * STREAM_UP_MS,
	);

	it(
		"a lease whose holder stopped renewing it is taken over within the lease time",
		() =>
			withStreet(async (server) => {
				const id = await addCamera("Handover", server.url);
				await streamStatus(id, "streaming");
				// What a dead node leaves behind: its name on a lease that has lapsed.
				const db = await cluster.db();
				await db.getRepository(LiveStream).update({ cameraId: id }, { holder: "a-node-that-died", leaseExpiresAt: new Date(Date.now() - 1000) });
				const taken = await eventually(async () => {
					const row = await db.getRepository(LiveStream).findOneBy({ cameraId: id });
					return row && row.holder !== "a-node-that-died" && row.leaseExpiresAt && row.leaseExpiresAt.getTime() > Date.now() ? row : undefined;
				}, STREAM_UP_MS);
				expect(cluster.brokers.map((b) => b.nodeID)).toContain(taken.holder);
				await streamStatus(id, "streaming");
				expect((await api.patch(`${storeBase}/cameras/${id}`, { enabled: false }, { token: owner })).status).toBe(200);
			}),
		3 * STREAM_UP_MS,
	);
});
