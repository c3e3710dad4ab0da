import { Camera } from "../../entities";
import { startCluster, type Cluster } from "../support/cluster";
import { Client, signUp } from "../support/http";

let cluster: Cluster;
let api: Client;
let token: string;
let base: string;

beforeAll(async () => {
	cluster = await startCluster();
	api = new Client(cluster.url);
	token = (await signUp(api, "cam-owner")).token;
	const org = (await api.post("/api/v1/orgs", { name: "Cam Org" }, { token })).body;
	const store = (await api.post(`/api/v1/orgs/${org.id}/stores`, { name: "Shop", timezone: "Europe/Paris" }, { token })).body;
	base = `/api/v1/orgs/${org.id}/stores/${store.id}/cameras`;
});
afterAll(() => cluster?.stop());

describe("cameras", () => {
	it("creates a camera with defaults from the store and detection settings", async () => {
		const res = await api.post(base, { name: "Entrance" }, { token });
		expect(res.status).toBe(201);
		expect(res.headers.get("location")).toBe(`${base}/${res.body.id}`);
		expect(res.body).toMatchObject({
			name: "Entrance",
			kind: "rtsp",
			timezone: "Europe/Paris",
			enabled: true,
			sampleFps: 5,
			classes: ["person", "car"],
			streamUrl: null,
		});
	});

	it("keeps stream credentials encrypted at rest and only ever returns them masked", async () => {
		const url = "rtsp://admin:hunter2-secret@back-door.invalid:554/live?token=door-secret";
		const created = await api.post(base, { name: "Back door", streamUrl: url }, { token });
		expect(created.status).toBe(201);
		expect(created.body.streamUrl).toBe("rtsp://admin:****@back-door.invalid:554/live?token=****");
		for (const res of [await api.get(`${base}/${created.body.id}`, { token }), await api.get(base, { token })]) {
			expect(JSON.stringify(res.body)).not.toContain("hunter2-secret");
			expect(JSON.stringify(res.body)).not.toContain("door-secret");
		}
		const row = await (await cluster.db()).getRepository(Camera).findOneByOrFail({ id: created.body.id });
		expect(row.streamUrlEnc).toBeTruthy();
		expect(row.streamUrlEnc).not.toContain("hunter2");
		// The services that open the stream get it in clear, over the bus only.
		expect(await cluster.core.call("camera.streamUrl", { orgId: created.body.orgId, cameraId: created.body.id })).toBe(url);
		// Named with another organization, the camera does not exist.
		await expect(cluster.core.call("camera.streamUrl", { orgId: "00000000-0000-4000-8000-000000000000", cameraId: created.body.id })).rejects.toMatchObject({
			code: 404,
		});
	});

	it("updates fields, replaces and removes the stream", async () => {
		const cam = (await api.post(base, { name: "Till", streamUrl: "rtsp://u:p@till.invalid/1" }, { token })).body;
		const patched = await api.patch(`${base}/${cam.id}`, { name: "Till 2", sampleFps: 2.5, classes: ["person"], enabled: false }, { token });
		expect(patched.status).toBe(200);
		expect(patched.body).toMatchObject({ name: "Till 2", sampleFps: 2.5, classes: ["person"], enabled: false, streamUrl: "rtsp://u:****@till.invalid/1" });
		const cleared = await api.patch(`${base}/${cam.id}`, { streamUrl: null }, { token });
		expect(cleared.body.streamUrl).toBeNull();
	});

	it("rejects bad camera input field by field", async () => {
		const res = await api.post(base, { name: "", sampleFps: 100, timezone: "Mars/Olympus", kind: "vhs", streamUrl: "ftp://camera.invalid/y" }, { token });
		expect(res.status).toBe(422);
		const fields = res.body.error.details.map((d: { field: string }) => d.field).sort();
		expect(fields).toEqual(expect.arrayContaining(["kind", "name", "sampleFps", "timezone"]));
		const protocol = await api.post(base, { name: "Odd", streamUrl: "ftp://camera.invalid/stream" }, { token });
		expect(protocol.status).toBe(422);
		expect(protocol.body.error.details[0]).toMatchObject({ field: "streamUrl", type: "streamProtocol" });
	});

	it("deletes a camera; it is gone afterwards", async () => {
		const cam = (await api.post(base, { name: "Temp" }, { token })).body;
		expect((await api.delete(`${base}/${cam.id}`, { token })).status).toBe(204);
		expect((await api.get(`${base}/${cam.id}`, { token })).status).toBe(404);
	});
});

describe("zones", () => {
	let zones: string;
	beforeAll(async () => {
		const cam = (await api.post(base, { name: "Yard" }, { token })).body;
		zones = `${base}/${cam.id}/zones`;
	});

	it("stores a polygon and a tripwire line", async () => {
		const area = await api.post(
			zones,
			{
				name: "Till area",
				points: [
					[0.1, 0.1],
					[0.5, 0.1],
					[0.5, 0.6],
					[0.1, 0.6],
				],
				classes: ["person"],
			},
			{ token },
		);
		expect(area.status).toBe(201);
		expect(area.body).toMatchObject({
			kind: "polygon",
			classes: ["person"],
			points: [
				[0.1, 0.1],
				[0.5, 0.1],
				[0.5, 0.6],
				[0.1, 0.6],
			],
		});
		const line = await api.post(
			zones,
			{
				name: "Door line",
				kind: "line",
				points: [
					[0.2, 0.9],
					[0.8, 0.9],
				],
			},
			{ token },
		);
		expect(line.status).toBe(201);
		const list = await api.get(zones, { token });
		expect(list.body.items.map((z: { name: string }) => z.name)).toEqual(["Door line", "Till area"]);
	});

	it.each([
		[
			"too few points",
			[
				[0.1, 0.1],
				[0.2, 0.2],
			],
			"zoneTooFewPoints",
		],
		[
			"a point outside the frame",
			[
				[0.1, 0.1],
				[1.5, 0.1],
				[0.5, 0.5],
			],
			"number",
		],
		[
			"a self-intersecting bow tie",
			[
				[0, 0],
				[1, 1],
				[1, 0],
				[0, 1],
			],
			"zoneSelfIntersecting",
		],
		[
			"collinear points",
			[
				[0, 0],
				[0.5, 0.5],
				[1, 1],
			],
			"zoneDegenerate",
		],
	])("refuses %s", async (_name, points, type) => {
		const res = await api.post(zones, { name: "Bad", points }, { token });
		expect(res.status).toBe(422);
		expect(res.body.error.details.map((d: { type: string }) => d.type).join(" ")).toContain(type);
	});

	it("re-validates the shape when a zone is edited", async () => {
		const zone = (
			await api.post(
				zones,
				{
					name: "Edit me",
					points: [
						[0, 0],
						[1, 0],
						[1, 1],
					],
				},
				{ token },
			)
		).body;
		const bad = await api.patch(
			`${zones}/${zone.id}`,
			{
				points: [
					[0, 0],
					[1, 1],
					[1, 0],
					[0, 1],
				],
			},
			{ token },
		);
		expect(bad.status).toBe(422);
		const good = await api.patch(
			`${zones}/${zone.id}`,
			{
				name: "Edited",
				points: [
					[0, 0],
					[1, 0],
					[0, 1],
				],
			},
			{ token },
		);
		expect(good.status).toBe(200);
		expect(good.body.name).toBe("Edited");
		expect((await api.delete(`${zones}/${zone.id}`, { token })).status).toBe(204);
	});
});
