/**
 * The tenant-scoped data layer on a real database: whatever a handler asks, it reads and writes only its
 * organization's rows, and only the stores its caller may see.
 */
import { randomBytes } from "node:crypto";
import { MoreThanOrEqual, type DataSource } from "typeorm";
import { Camera, CameraState, Clip, Detection, Organization, Store, User, Zone } from "../../entities";
import { ScopedData, TenantMismatchError } from "../../lib/platform/scoped-data";
import { startCluster, type Cluster } from "../support/cluster";

let cluster: Cluster;
let db: DataSource;
const ids = {} as Record<"orgA" | "orgB" | "storeA1" | "storeA2" | "storeB" | "camA1" | "camA2" | "camB" | "zoneB", string>;

beforeAll(async () => {
	cluster = await startCluster({ SERVICES: "api,auth,tenancy,camera,clip,alert" });
	db = await cluster.db();
	const org = async (name: string) => (await db.getRepository(Organization).save({ name })).id;
	const store = async (orgId: string, name: string) => (await db.getRepository(Store).save({ orgId, name })).id;
	const camera = async (orgId: string, storeId: string) => (await db.getRepository(Camera).save({ orgId, storeId, name: "Door", kind: "upload" as const })).id;
	[ids.orgA, ids.orgB] = [await org("A"), await org("B")];
	[ids.storeA1, ids.storeA2, ids.storeB] = [await store(ids.orgA, "A1"), await store(ids.orgA, "A2"), await store(ids.orgB, "B")];
	[ids.camA1, ids.camA2, ids.camB] = [await camera(ids.orgA, ids.storeA1), await camera(ids.orgA, ids.storeA2), await camera(ids.orgB, ids.storeB)];
	ids.zoneB = (
		await db.getRepository(Zone).save({
			orgId: ids.orgB,
			cameraId: ids.camB,
			name: "Till",
			kind: "polygon" as const,
			points: [
				[0, 0],
				[1, 0],
				[1, 1],
			],
			classes: [],
		})
	).id;
	for (const cameraId of [ids.camA1, ids.camA2, ids.camB]) await db.getRepository(CameraState).save({ cameraId, stationaryMemory: [] });
}, 60_000);
afterAll(() => cluster?.stop());

const tenant = (orgId: string, storeIds: string[] | null = null) => new ScopedData(db.manager, { orgId, storeIds });

describe("reads", () => {
	it("an unfiltered read sees only the organization's rows", async () => {
		const cameras = await tenant(ids.orgA).repo(Camera).find();
		expect(cameras.map((c) => c.id).sort()).toEqual([ids.camA1, ids.camA2].sort());
	});

	it("asking for another organization's row by id or by its organization finds nothing", async () => {
		const cameras = tenant(ids.orgA).repo(Camera);
		expect(await cameras.findOneBy({ id: ids.camB })).toBeNull();
		expect(await cameras.findBy({ orgId: ids.orgB })).toEqual([]);
		expect(await cameras.existsBy({ id: ids.camB })).toBe(false);
		expect(await tenant(ids.orgA).repo(Organization).findOneBy({ id: ids.orgB })).toBeNull();
	});

	it("staff limited to some stores see those stores' rows only, in every form of where", async () => {
		const limited = tenant(ids.orgA, [ids.storeA2]);
		expect((await limited.repo(Camera).find()).map((c) => c.id)).toEqual([ids.camA2]);
		expect(await limited.repo(Camera).findOneBy({ storeId: ids.storeA1 })).toBeNull();
		expect(await limited.repo(Camera).findBy([{ id: ids.camA1 }, { id: ids.camA2 }])).toHaveLength(1);
		expect((await limited.repo(Store).find()).map((s) => s.id)).toEqual([ids.storeA2]);
		expect(await tenant(ids.orgA, []).repo(Camera).count()).toBe(0);
	});

	it("rows without their own organization are reached through their parent", async () => {
		const states = await tenant(ids.orgA, [ids.storeA1]).repo(CameraState).find();
		expect(states.map((s) => s.cameraId)).toEqual([ids.camA1]);
		expect(await tenant(ids.orgA).repo(CameraState).findOneBy({ cameraId: ids.camB })).toBeNull();
	});

	it("data of no organization is not reachable at all", () => {
		expect(() => tenant(ids.orgA).repo(User)).toThrow(/belongs to no organization/);
	});
});

describe("writes", () => {
	it("an insert gets the tenant's organization, and another's is refused", async () => {
		const zones = tenant(ids.orgA).repo(Zone);
		await zones.insert({
			cameraId: ids.camA1,
			name: "Mine",
			kind: "polygon",
			points: [
				[0, 0],
				[1, 0],
				[1, 1],
			],
			classes: [],
		});
		expect(await zones.findBy({ name: "Mine" })).toEqual([expect.objectContaining({ orgId: ids.orgA })]);
		await expect(
			zones.insert({
				orgId: ids.orgB,
				cameraId: ids.camB,
				name: "Theirs",
				kind: "polygon",
				points: [
					[0, 0],
					[1, 0],
					[1, 1],
				],
				classes: [],
			}),
		).rejects.toThrow(TenantMismatchError);
		await expect(tenant(ids.orgA, [ids.storeA2]).repo(Camera).save({ storeId: ids.storeA1, name: "Sneaky", kind: "upload" })).rejects.toThrow(
			TenantMismatchError,
		);
	});

	it("a child row can only be written under a parent of the tenant", async () => {
		await expect(tenant(ids.orgA).repo(CameraState).save({ cameraId: ids.camB, stationaryMemory: [] })).rejects.toThrow(/Camera not found|not found/i);
	});

	it("updates and deletes leave other organizations' rows alone", async () => {
		const a = tenant(ids.orgA);
		expect(await a.repo(Zone).update({ id: ids.zoneB }, { name: "Renamed" })).toBe(0);
		expect(await a.repo(Zone).delete({ id: ids.zoneB })).toBe(0);
		expect(await a.repo(CameraState).delete({ cameraId: ids.camB })).toBe(0);
		expect(await db.getRepository(Zone).findOneBy({ id: ids.zoneB })).toMatchObject({ name: "Till" });
		expect(await db.getRepository(CameraState).existsBy({ cameraId: ids.camB })).toBe(true);
		await expect(a.repo(Zone).update({ name: "Mine" }, { orgId: ids.orgB })).rejects.toThrow(TenantMismatchError);
		expect(await a.repo(CameraState).update({ cameraId: ids.camA1 }, { stationaryMemory: [{ className: "car", box: [0, 0, 1, 1], lastSeen: 1 }] })).toBe(1);
	});

	it("child rows are deleted in statements of bounded size, and only the tenant's", async () => {
		const clipOf = async (orgId: string, storeId: string, cameraId: string) =>
			(
				await db.getRepository(Clip).save({
					orgId,
					storeId,
					cameraId,
					status: "done" as const,
					storageKey: "none.mp4",
					sizeBytes: 1,
					sha256: randomBytes(32).toString("hex"),
					durationSec: 1,
					width: 4,
					height: 4,
					sourceFps: 5,
					sampleFps: 5,
					segmentSec: 2,
					segmentsTotal: 1,
					framesTotal: 1,
					framesDone: 1,
				})
			).id;
		const [mine, theirs] = [await clipOf(ids.orgA, ids.storeA1, ids.camA1), await clipOf(ids.orgB, ids.storeB, ids.camB)];
		const rows = (clipId: string, n: number) =>
			Array.from({ length: n }, (_, i) => ({
				clipId,
				frameIndex: i,
				ordinal: 0,
				timeSec: i / 5,
				classId: 0,
				className: "person",
				score: 0.9,
				x1: 0,
				y1: 0,
				x2: 1,
				y2: 1,
			}));
		const a = tenant(ids.orgA);
		// More rows than one statement's batch: inserted and deleted in several.
		await a.repo(Detection).insert(rows(mine, 4500));
		await db.getRepository(Detection).insert(rows(theirs, 10));
		expect(await a.repo(Detection).delete({ clipId: theirs })).toBe(0);
		expect(await a.repo(Detection).delete({ frameIndex: MoreThanOrEqual(0) })).toBe(4500);
		expect(await db.getRepository(Detection).countBy({ clipId: theirs })).toBe(10);
		await expect(a.repo(Detection).insert(rows(theirs, 1))).rejects.toThrow(/not found/i);
	});

	it("a transaction's data is scoped alike", async () => {
		const seen = await tenant(ids.orgA).transaction(async (tx) => (await tx.repo(Camera).find()).length);
		expect(seen).toBe(2);
	});
});
