import { startCluster, type Cluster } from "../support/cluster";
import { Client, signUp } from "../support/http";

let cluster: Cluster;
let api: Client;
let token: string;
let base: string, cameraId: string, zoneId: string, otherZoneId: string;

beforeAll(async () => {
	cluster = await startCluster({ SERVICES: "api,auth,tenancy,camera,clip,alert" });
	api = new Client(cluster.url);
	token = (await signUp(api, "rules")).token;
	const org = (await api.post("/api/v1/orgs", { name: "Rules Org" }, { token })).body;
	const [a, b] = await Promise.all(["A", "B"].map(async (n) => (await api.post(`/api/v1/orgs/${org.id}/stores`, { name: n }, { token })).body));
	base = `/api/v1/orgs/${org.id}/stores/${a.id}`;
	cameraId = (await api.post(`${base}/cameras`, { name: "Till" }, { token })).body.id;
	zoneId = (
		await api.post(
			`${base}/cameras/${cameraId}/zones`,
			{
				name: "Till",
				points: [
					[0, 0],
					[0.5, 0],
					[0.5, 0.5],
				],
			},
			{ token },
		)
	).body.id;
	const otherCam = (await api.post(`/api/v1/orgs/${org.id}/stores/${b.id}/cameras`, { name: "Other" }, { token })).body.id;
	otherZoneId = (
		await api.post(
			`/api/v1/orgs/${org.id}/stores/${b.id}/cameras/${otherCam}/zones`,
			{
				name: "Z",
				points: [
					[0, 0],
					[1, 0],
					[1, 1],
				],
			},
			{ token },
		)
	).body.id;
});
afterAll(() => cluster?.stop());

describe("alert rules", () => {
	it("creates, lists, changes and deletes a rule with zones and a night schedule", async () => {
		const created = await api.post(
			`${base}/alert-rules`,
			{
				name: "Till at night",
				cameraId,
				classes: ["person"],
				zoneIds: [zoneId],
				schedule: { days: [1, 2, 3, 4, 5], start: "22:00", end: "06:00" },
				severity: "critical",
			},
			{ token },
		);
		expect(created.status).toBe(201);
		expect(created.body).toMatchObject({ minScore: 0.5, cooldownSec: 60, minDurationSec: 0, enabled: true, severity: "critical", zoneIds: [zoneId] });
		const patched = await api.patch(`${base}/alert-rules/${created.body.id}`, { minScore: 0.7, enabled: false }, { token });
		expect(patched.body).toMatchObject({ minScore: 0.7, enabled: false, severity: "critical", zoneIds: [zoneId] });
		expect((await api.get(`${base}/alert-rules`, { token })).body.items).toHaveLength(1);
		expect((await api.delete(`${base}/alert-rules/${created.body.id}`, { token })).status).toBe(204);
		expect((await api.get(`${base}/alert-rules`, { token })).body.items).toHaveLength(0);
	});

	it.each([
		["a zone of another store", () => ({ name: "x", zoneIds: [otherZoneId] }), "zoneIds"],
		["a malformed schedule time", () => ({ name: "x", schedule: { days: [1], start: "25:00", end: "06:00" } }), "schedule.start"],
		["an unknown severity", () => ({ name: "x", severity: "apocalyptic" }), "severity"],
		["a score above 1", () => ({ name: "x", minScore: 1.5 }), "minScore"],
	])("refuses %s with a 422 on that field", async (_what, body, field) => {
		const res = await api.post(`${base}/alert-rules`, body(), { token });
		expect(res.status).toBe(422);
		expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
	});
});
