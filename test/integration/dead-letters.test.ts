/**
 * Dead letters: a job that fails on every attempt ends up in the dead letters, where an organization's admins
 * see their organization's (super-admins all), inspect them, replay them (the job runs again) or discard them.
 */
import { randomUUID } from "node:crypto";
import type { ServiceSchema } from "moleculer";
import { Clip } from "../../entities";
import type { JobQueueService } from "../../mixins/job-queue.mixin";
import { JobQueueMixin } from "../../mixins/job-queue.mixin";
import { DETECT_QUEUE } from "../../services/detector.contract";
import { startCluster, type Cluster } from "../support/cluster";
import { Client, signUp, uniqueEmail } from "../support/http";
import { eventually } from "../support/media";

let cluster: Cluster;
let api: Client;
let root: string;
/** The stand-in detector fails while this is true. */
let failing = true;
const runs: { job: Record<string, unknown>; attempt: number }[] = [];

interface Letter {
	queue: string;
	letterId: string;
	jobId: string;
	orgId: string | null;
	error: string;
	attempts: number;
	job: Record<string, unknown>;
}

/** A detector stand-in on the core node: it works the real detector queue with a handler the test controls. */
const standInDetector = {
	name: "standin-detector",
	mixins: [JobQueueMixin({ [DETECT_QUEUE]: { retryBaseMs: 10, retryMaxMs: 20 } })],
	actions: {
		async send(this: JobQueueService, ctx: { params: { job: Record<string, unknown>; id: string } }) {
			await this.queues[DETECT_QUEUE].send(ctx.params.job, { id: ctx.params.id });
		},
	},
	async started(this: JobQueueService) {
		await this.queues[DETECT_QUEUE].start(async (job, ctl) => {
			runs.push({ job: job as Record<string, unknown>, attempt: ctl.attempt });
			if (failing) throw new Error(`segment decoder crashed on ${String((job as { segment?: number }).segment)}`);
		});
	},
} as unknown as ServiceSchema;

let org1: { orgId: string; owner: string; admin: string; staff: string };
let org2: { orgId: string; owner: string; clipId: string };
const letters: Record<"a" | "b" | "c", Letter> = {} as never;

async function org(name: string) {
	const owner = await signUp(api, name);
	const orgId = (await api.post("/api/v1/orgs", { name }, { token: owner.token })).body.id as string;
	const member = async (role: string) => {
		const user = await signUp(api, `${name}-${role}`);
		const invite = await api.post(`/api/v1/orgs/${orgId}/invitations`, { email: user.email, role }, { token: owner.token });
		await api.post("/api/v1/invitations/accept", { token: invite.body.token }, { token: user.token });
		return user.token;
	};
	return { orgId, owner: owner.token, member };
}

const list = (path: string, token: string) => api.get(path, { token }).then((r) => ({ status: r.status, items: (r.body.items ?? []) as Letter[] }));

beforeAll(async () => {
	// Two attempts per job; no real detector (nothing here needs inference).
	cluster = await startCluster({ SERVICES: "api,auth,tenancy,camera,clip,alert,audit,retention,jobs", JOB_MAX_ATTEMPTS: "2" });
	api = new Client(cluster.url);
	const rootEmail = uniqueEmail("root");
	await cluster.core.call("auth.createUser", { email: rootEmail, password: "super admin passphrase", superAdmin: true });
	root = (await api.post("/api/v1/auth/login", { email: rootEmail, password: "super admin passphrase" })).body.accessToken;

	const first = await org("letters-one");
	org1 = { orgId: first.orgId, owner: first.owner, admin: await first.member("admin"), staff: await first.member("staff") };
	const second = await org("letters-two");
	const storeId = (await api.post(`/api/v1/orgs/${second.orgId}/stores`, { name: "Shop" }, { token: second.owner })).body.id;
	const cameraId = (await api.post(`/api/v1/orgs/${second.orgId}/stores/${storeId}/cameras`, { name: "Door" }, { token: second.owner })).body.id;
	const clip = await (await cluster.db()).getRepository(Clip).save({
		orgId: second.orgId,
		storeId,
		cameraId,
		status: "failed",
		storageKey: `clips/ab/${randomUUID()}.mp4`,
		sizeBytes: 1,
		sha256: "b".repeat(64),
		durationSec: 2,
		width: 2,
		height: 2,
		sourceFps: 5,
		sampleFps: 5,
		segmentSec: 2,
		segmentsTotal: 1,
		framesTotal: 10,
	});
	org2 = { orgId: second.orgId, owner: second.owner, clipId: clip.id };

	cluster.core.createService(standInDetector);
	await cluster.core.waitForServices("standin-detector");
	// a: names its organization; b: an older job without orgId, attributed through its clip; c: of no organization.
	await cluster.core.call("standin-detector.send", { id: "a:0", job: { orgId: org1.orgId, clipId: randomUUID(), segment: 0 } });
	await cluster.core.call("standin-detector.send", { id: "b:1", job: { clipId: org2.clipId, segment: 1 } });
	await cluster.core.call("standin-detector.send", { id: "c:2", job: { segment: 2 } });
	// On a shared database, clips left unfinished by earlier runs are queued again at start: only ours count here.
	const ours = (items: Letter[]) => items.filter((l) => /^[abc]:\d$/.test(l.jobId));
	const all = await eventually(async () => {
		const { items } = await list("/api/v1/admin/dead-letters", root);
		return ours(items).length === 3 ? ours(items) : undefined;
	}, 20000);
	for (const key of ["a", "b", "c"] as const) letters[key] = all.find((l) => l.jobId.startsWith(`${key}:`)) as Letter;
}, 60000);
afterAll(() => cluster?.stop());

describe("seeing dead letters", () => {
	it("a job that always fails ends in the dead letters with its error and attempts", () => {
		expect(letters.a).toMatchObject({
			queue: DETECT_QUEUE,
			jobId: "a:0",
			orgId: org1.orgId,
			error: "segment decoder crashed on 0",
			attempts: 2,
			job: { segment: 0 },
		});
		expect(runs.filter((r) => r.job.orgId === org1.orgId).map((r) => r.attempt)).toEqual([1, 2]);
	});

	it("operators see each queue's depth and dead letters, and which node runs what; nobody else does", async () => {
		const queues = await api.get("/api/v1/admin/queues", { token: root });
		expect(queues.status).toBe(200);
		const detect = queues.body.items.find((q: { queue: string }) => q.queue === DETECT_QUEUE);
		expect(detect).toEqual({ queue: DETECT_QUEUE, pending: expect.any(Number), oldestAgeMs: null, deadLetters: expect.any(Number) });
		expect(detect.deadLetters).toBeGreaterThanOrEqual(3);
		expect(queues.body.items.map((q: { queue: string }) => q.queue).sort()).toEqual([DETECT_QUEUE, "evaluate", "notify"].sort());

		const nodes = await api.get("/api/v1/admin/nodes", { token: root });
		expect(nodes.status).toBe(200);
		const running = nodes.body.items.filter((n: { nodeId: string }) => cluster.brokers.some((b) => b.nodeID === n.nodeId));
		expect(running).toHaveLength(cluster.brokers.length);
		const services = running.flatMap((n: { services: string[] }) => n.services);
		expect(services).toEqual(expect.arrayContaining(["api", "jobs", "clip", "standin-detector"]));
		expect(services.some((s: string) => s.startsWith("$"))).toBe(false);
		expect(running.every((n: { available: boolean; detector: unknown }) => n.available && n.detector === null)).toBe(true);

		for (const token of [org1.owner, org1.admin]) {
			expect((await api.get("/api/v1/admin/queues", { token })).status).toBe(403);
			expect((await api.get("/api/v1/admin/nodes", { token })).status).toBe(403);
		}
	});

	it("an organization's owner and admins see only their organization's letters; staff get 403, others 404", async () => {
		for (const token of [org1.owner, org1.admin]) {
			const { status, items } = await list(`/api/v1/orgs/${org1.orgId}/dead-letters`, token);
			expect(status).toBe(200);
			expect(items.map((l) => l.jobId)).toEqual(["a:0"]);
		}
		expect((await list(`/api/v1/orgs/${org2.orgId}/dead-letters`, org2.owner)).items.map((l) => [l.jobId, l.orgId])).toEqual([["b:1", org2.orgId]]);
		expect((await api.get(`/api/v1/orgs/${org1.orgId}/dead-letters`, { token: org1.staff })).status).toBe(403);
		expect((await api.get(`/api/v1/orgs/${org1.orgId}/dead-letters`, { token: org2.owner })).status).toBe(404);
		expect((await api.get("/api/v1/admin/dead-letters", { token: org1.owner })).status).toBe(403);
	});

	it("inspecting one letter; another organization's letter is 404 even through your own organization", async () => {
		const one = await api.get(`/api/v1/orgs/${org1.orgId}/dead-letters/${DETECT_QUEUE}/${letters.a.letterId}`, { token: org1.admin });
		expect(one.status).toBe(200);
		expect(one.body).toMatchObject({ jobId: "a:0", error: "segment decoder crashed on 0", attempts: 2 });
		expect((await api.get(`/api/v1/orgs/${org2.orgId}/dead-letters/${DETECT_QUEUE}/${letters.a.letterId}`, { token: org2.owner })).status).toBe(404);
		expect((await api.get(`/api/v1/orgs/${org1.orgId}/dead-letters/${DETECT_QUEUE}/99999`, { token: org1.owner })).status).toBe(404);
		expect((await api.get(`/api/v1/orgs/${org1.orgId}/dead-letters/no-such-queue/1`, { token: org1.owner })).status).toBe(404);
		expect((await api.get(`/api/v1/admin/dead-letters/${DETECT_QUEUE}/${letters.c.letterId}`, { token: root })).body).toMatchObject({
			jobId: "c:2",
			orgId: null,
		});
	});
});

describe("acting on dead letters", () => {
	it("replay runs the job again (it succeeds now) and the letter leaves the list; it is audited", async () => {
		failing = false;
		const res = await api.post(`/api/v1/orgs/${org1.orgId}/dead-letters/${DETECT_QUEUE}/${letters.a.letterId}/replay`, {}, { token: org1.owner });
		expect(res.status).toBe(202);
		expect(res.body.jobId).toBe(`a:0~replay${letters.a.letterId}`);
		const segment0 = () => runs.filter((r) => r.job.orgId === org1.orgId).map((r) => r.attempt);
		await eventually(async () => (segment0().length === 3 ? true : undefined), 10000);
		expect(segment0()).toEqual([1, 2, 1]);
		expect((await list(`/api/v1/orgs/${org1.orgId}/dead-letters`, org1.owner)).items).toEqual([]);
		expect((await api.post(`/api/v1/orgs/${org1.orgId}/dead-letters/${DETECT_QUEUE}/${letters.a.letterId}/replay`, {}, { token: org1.owner })).status).toBe(
			404,
		);
		const [entry] = (await api.get(`/api/v1/orgs/${org1.orgId}/audit-log?action=dead_letter.replayed`, { token: org1.owner })).body.items;
		expect(entry).toMatchObject({
			target: { type: "dead_letter", id: `${DETECT_QUEUE}/${letters.a.letterId}` },
			details: { jobId: "a:0", newJobId: res.body.jobId },
		});
	});

	it("discard removes a letter for good; it is audited", async () => {
		const res = await api.delete(`/api/v1/orgs/${org2.orgId}/dead-letters/${DETECT_QUEUE}/${letters.b.letterId}`, { token: org2.owner });
		expect(res.status).toBe(204);
		expect((await list(`/api/v1/orgs/${org2.orgId}/dead-letters`, org2.owner)).items).toEqual([]);
		expect((await api.delete(`/api/v1/orgs/${org2.orgId}/dead-letters/${DETECT_QUEUE}/${letters.b.letterId}`, { token: org2.owner })).status).toBe(404);
		expect((await api.get(`/api/v1/orgs/${org2.orgId}/audit-log?action=dead_letter.discarded`, { token: org2.owner })).body.items).toHaveLength(1);
		expect(runs.filter((r) => r.job.clipId === org2.clipId)).toHaveLength(2);
	});

	it("an admin cannot act on another organization's letter; a super-admin acts on any", async () => {
		expect((await api.delete(`/api/v1/orgs/${org1.orgId}/dead-letters/${DETECT_QUEUE}/${letters.c.letterId}`, { token: org1.owner })).status).toBe(404);
		expect((await api.delete(`/api/v1/admin/dead-letters/${DETECT_QUEUE}/${letters.c.letterId}`, { token: root })).status).toBe(204);
		expect((await list("/api/v1/admin/dead-letters", root)).items.filter((l) => /^[abc]:/.test(l.jobId))).toEqual([]);
		const [entry] = (await api.get("/api/v1/admin/audit-log?action=dead_letter.discarded&withoutOrg=true", { token: root })).body.items;
		expect(entry).toMatchObject({ orgId: null, details: { jobId: "c:2" } });
	});
});
