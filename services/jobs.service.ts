/**
 * jobs — Vigil's job queues as operators see them: their depth, the nodes that work them, and the dead letters,
 * jobs that failed on every attempt. Admins list and inspect them, replay one (sent again as a fresh job) or discard it; both are audited. An organization's owners and
 * admins see the letters of their organization's jobs; super-admins see all. This service only sends to the
 * queues (it never works them, nor redefines their consumers), so it may run on any node.
 */
import type { ServiceSchema, ServiceSettingSchema } from "moleculer";
import { In, type FindManyOptions } from "typeorm";
import { Clip } from "../entities";
import { audit } from "../lib/operations/audit";
import { notFound } from "../lib/platform/errors";
import type { DeadLetter, JobQueue } from "../lib/jobs";
import type { AnyData } from "../lib/platform/scoped-data";
import type { VigilContext } from "../lib/platform/types";
import { JobQueueMixin, type JobQueueService } from "../mixins/job-queue.mixin";
import { RepositoryMixin, type RepositoryService } from "../mixins/repository.mixin";
import { EVALUATE_QUEUE } from "./alert.contract";
import { DETECT_QUEUE } from "./detector.contract";
import { orgPath } from "./schemas";

/**
 * Every queue whose dead letters are managed here. Add a queue's name when a service starts using one; a
 * queue no node uses yet simply has no letters.
 */
export const DEAD_LETTER_QUEUES = [DETECT_QUEUE, EVALUATE_QUEUE, "notify"] as const;

type JobsService = RepositoryService & JobQueueService;

/** What the registry says of a node (Moleculer's own shape, the fields read here). */
interface NodeInfo {
	id: string;
	hostname?: string;
	available: boolean;
	local: boolean;
	cpu?: number | null;
	services?: { name: string }[];
}

interface DetectorStatus {
	backend: string;
	model: string;
	inFlight: number;
}

/** How long the node list waits for a detector to say what it runs. */
const NODE_STATUS_TIMEOUT_MS = 2000;

const OPERATIONS_SCHEMAS = {
	QueueList: {
		type: "object",
		required: ["items"],
		properties: {
			items: {
				type: "array",
				items: {
					type: "object",
					required: ["queue", "pending", "oldestAgeMs", "deadLetters"],
					properties: {
						queue: { type: "string" },
						pending: { type: "integer", description: "Jobs sent and not finished: waiting, waiting for a retry, or running on any node" },
						oldestAgeMs: { type: "integer", nullable: true, description: "Age of the oldest unfinished job; null when none" },
						deadLetters: { type: "integer", description: "Jobs that failed on every attempt, kept for replay" },
					},
				},
			},
		},
	},
	NodeList: {
		type: "object",
		required: ["items"],
		properties: {
			items: {
				type: "array",
				items: {
					type: "object",
					required: ["nodeId", "hostname", "available", "local", "services", "cpu", "detector"],
					properties: {
						nodeId: { type: "string" },
						hostname: { type: "string", nullable: true },
						available: { type: "boolean" },
						local: { type: "boolean", description: "The node that answered this request" },
						services: { type: "array", items: { type: "string" } },
						cpu: { type: "number", nullable: true, description: "CPU use in percent, as the node last reported it" },
						detector: {
							type: "object",
							nullable: true,
							description: "On a detector node: its TF.js backend, model and jobs in hand",
							properties: { backend: { type: "string" }, model: { type: "string" }, inFlight: { type: "integer" } },
						},
					},
				},
			},
		},
	},
};

/** Letters read per queue when looking for one organization's: dead letters should be few; this bounds a listing's work. */
const SCAN_PER_QUEUE = 1000;
const LIST_LIMIT_MAX = 200;

const letterPath = {
	queue: { type: "string", max: 64, pattern: /^[A-Za-z0-9_-]+$/, $$t: `Queue name: ${DEAD_LETTER_QUEUES.join(", ")}` },
	letterId: { type: "string", max: 20, pattern: /^\d+$/, $$t: "The letter's id (letterId in the list)" },
} as const;

const listParams = {
	queue: { ...letterPath.queue, optional: true, $$t: "Only this queue's letters" },
	limit: { type: "number", integer: true, convert: true, min: 1, max: LIST_LIMIT_MAX, default: 50 },
} as const;

interface LetterParams {
	orgId?: string;
	queue: string;
	letterId: string;
}

type Attributed = DeadLetter & { orgId: string | null };

const present = (l: Attributed) => ({
	queue: l.queue,
	letterId: l.letterId,
	jobId: l.id,
	orgId: l.orgId,
	error: l.error,
	attempts: l.attempts,
	failedAt: l.failedAt,
	node: l.node,
	job: l.job,
});

const JobsServiceSchema: ServiceSchema<ServiceSettingSchema, JobsService> = {
	name: "jobs",
	mixins: [RepositoryMixin, JobQueueMixin(Object.fromEntries(DEAD_LETTER_QUEUES.map((q) => [q, {}])))],
	settings: { rest: "/" },

	actions: {
		queues: {
			rest: "GET /admin/queues",
			permission: { scope: "superadmin" },
			params: { $$strict: "remove" },
			openapi: {
				summary: "Every job queue: jobs waiting or running, the oldest one's age, dead letters",
				responses: { 200: "QueueList" },
				schemas: OPERATIONS_SCHEMAS,
			},
			async handler(this: JobsService) {
				const items = await Promise.all(
					DEAD_LETTER_QUEUES.map(async (queue) => {
						const { pending, oldestAgeMs, deadLetters } = await this.queues[queue].stats();
						return { queue, pending, oldestAgeMs, deadLetters };
					}),
				);
				return { items };
			},
		},

		nodes: {
			rest: "GET /admin/nodes",
			permission: { scope: "superadmin" },
			params: { $$strict: "remove" },
			openapi: {
				summary: "The cluster's nodes: their services, load, and each detector's backend and model",
				responses: { 200: "NodeList" },
				schemas: OPERATIONS_SCHEMAS,
			},
			async handler(this: JobsService, ctx: VigilContext<unknown>) {
				const nodes = await ctx.call<NodeInfo[], object>("$node.list", { onlyAvailable: false, withServices: true });
				const items = await Promise.all(
					nodes.map(async (node) => {
						const services = [...new Set((node.services ?? []).map((s) => s.name).filter((name) => !name.startsWith("$")))].sort();
						// A detector that does not answer at once is shown without its model rather than holding up the page.
						const detector =
							node.available && services.includes("detector")
								? await this.broker
										.call<DetectorStatus, object>("detector.status", {}, { nodeID: node.id, timeout: NODE_STATUS_TIMEOUT_MS, retries: 0, parentCtx: ctx })
										.then(
											(d) => ({ backend: d.backend, model: d.model, inFlight: d.inFlight }),
											() => null,
										)
								: null;
						return {
							nodeId: node.id,
							hostname: node.hostname ?? null,
							available: node.available,
							local: node.local,
							services,
							cpu: node.cpu ?? null,
							detector,
						};
					}),
				);
				return { items: items.sort((a, b) => a.nodeId.localeCompare(b.nodeId)) };
			},
		},

		listForOrg: {
			rest: "GET /orgs/:orgId/dead-letters",
			permission: { scope: "org", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...orgPath, ...listParams },
			openapi: { summary: "Failed jobs of the organization (detection, notifications), newest first", responses: { 200: "DeadLetterList" } },
			async handler(this: JobsService, ctx: VigilContext<{ orgId: string; queue?: string; limit: number }>) {
				const letters: Attributed[] = await this.letters(ctx, ctx.params.queue, SCAN_PER_QUEUE);
				return {
					items: letters
						.filter((l) => l.orgId === ctx.params.orgId)
						.slice(0, ctx.params.limit)
						.map(present),
				};
			},
		},

		listAll: {
			rest: "GET /admin/dead-letters",
			permission: { scope: "superadmin" },
			params: { $$strict: "remove", ...listParams },
			openapi: { summary: "Failed jobs of every queue and organization, newest first", responses: { 200: "DeadLetterList" } },
			async handler(this: JobsService, ctx: VigilContext<{ queue?: string; limit: number }>) {
				const letters: Attributed[] = await this.letters(ctx, ctx.params.queue, ctx.params.limit);
				return { items: letters.slice(0, ctx.params.limit).map(present) };
			},
		},

		getForOrg: {
			rest: "GET /orgs/:orgId/dead-letters/:queue/:letterId",
			permission: { scope: "org", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...orgPath, ...letterPath },
			openapi: { summary: "A failed job: its payload, error, attempts and node", responses: { 200: "DeadLetter" } },
			async handler(this: JobsService, ctx: VigilContext<LetterParams>) {
				return present(await this.findLetter(ctx));
			},
		},

		getAny: {
			rest: "GET /admin/dead-letters/:queue/:letterId",
			permission: { scope: "superadmin" },
			params: { $$strict: "remove", ...letterPath },
			openapi: { summary: "A failed job of any organization", responses: { 200: "DeadLetter" } },
			async handler(this: JobsService, ctx: VigilContext<LetterParams>) {
				return present(await this.findLetter(ctx));
			},
		},

		replayForOrg: {
			rest: "POST /orgs/:orgId/dead-letters/:queue/:letterId/replay",
			permission: { scope: "org", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...orgPath, ...letterPath },
			openapi: { summary: "Run a failed job again (as a new job); the letter leaves the list", responses: { 202: "DeadLetterReplayed" } },
			async handler(this: JobsService, ctx: VigilContext<LetterParams>) {
				return this.replay(ctx);
			},
		},

		replayAny: {
			rest: "POST /admin/dead-letters/:queue/:letterId/replay",
			permission: { scope: "superadmin" },
			params: { $$strict: "remove", ...letterPath },
			openapi: { summary: "Run a failed job of any organization again", responses: { 202: "DeadLetterReplayed" } },
			async handler(this: JobsService, ctx: VigilContext<LetterParams>) {
				return this.replay(ctx);
			},
		},

		discardForOrg: {
			rest: "DELETE /orgs/:orgId/dead-letters/:queue/:letterId",
			permission: { scope: "org", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...orgPath, ...letterPath },
			openapi: { summary: "Discard a failed job for good", responses: { 204: null } },
			async handler(this: JobsService, ctx: VigilContext<LetterParams>) {
				return this.discard(ctx);
			},
		},

		discardAny: {
			rest: "DELETE /admin/dead-letters/:queue/:letterId",
			permission: { scope: "superadmin" },
			params: { $$strict: "remove", ...letterPath },
			openapi: { summary: "Discard a failed job of any organization", responses: { 204: null } },
			async handler(this: JobsService, ctx: VigilContext<LetterParams>) {
				return this.discard(ctx);
			},
		},
	},

	methods: {
		queue(this: JobsService, name: string): JobQueue<unknown> {
			const queue = (DEAD_LETTER_QUEUES as readonly string[]).includes(name) ? this.queues[name] : undefined;
			if (!queue) throw notFound("Queue");
			return queue;
		},

		/** Letters of one queue or all, newest first, each with the organization its job belongs to. */
		async letters(this: JobsService, ctx: VigilContext<unknown>, queue: string | undefined, perQueue: number): Promise<Attributed[]> {
			const names = queue ? [this.queue(queue).name] : [...DEAD_LETTER_QUEUES];
			const lists = await Promise.all(names.map((name) => this.queues[name].listDeadLetters(perQueue)));
			const letters = lists.flat().sort((a, b) => b.failedAt.getTime() - a.failedAt.getTime());
			return this.attribute(ctx, letters);
		},

		/**
		 * A job names its organization (`orgId`), or, for detector jobs queued before they carried one, its clip
		 * does. A job of a deleted clip, or of no organization, is seen by super-admins only. On an organization's
		 * route only its own clips are read: a letter of another's clip is then of none, and filtered out all the same.
		 */
		async attribute(this: JobsService, ctx: VigilContext<unknown>, letters: DeadLetter[]): Promise<Attributed[]> {
			const field = (job: unknown, key: string) => {
				const value = (job as Record<string, unknown> | null)?.[key];
				return typeof value === "string" ? value : undefined;
			};
			const clipIds = [
				...new Set(
					letters
						.filter((l) => !field(l.job, "orgId"))
						.map((l) => field(l.job, "clipId"))
						.filter((c): c is string => Boolean(c && /^[0-9a-f-]{36}$/i.test(c))),
				),
			];
			const query: FindManyOptions<Clip> = { where: { id: In(clipIds) }, select: { id: true, orgId: true } };
			const clips = !clipIds.length
				? []
				: ctx.locals.access
					? await this.data(ctx).repo(Clip).find(query)
					: await this.unscoped("a super-admin's dead letters: clips of every organization").getRepository(Clip).find(query);
			const orgOfClip = new Map(clips.map((c) => [c.id, c.orgId]));
			return letters.map((l) => ({ ...l, orgId: field(l.job, "orgId") ?? orgOfClip.get(field(l.job, "clipId") ?? "") ?? null }));
		},

		/** The letter, if it exists and (on an organization's route) belongs to that organization; otherwise 404. */
		async findLetter(this: JobsService, ctx: VigilContext<LetterParams>): Promise<Attributed> {
			const p = ctx.params;
			const letter = await this.queue(p.queue).getDeadLetter(p.letterId);
			if (!letter) throw notFound("Dead letter");
			const [attributed] = await this.attribute(ctx, [letter]);
			if (p.orgId && attributed.orgId !== p.orgId) throw notFound("Dead letter");
			return attributed;
		},

		/** Where a replay or discard is recorded: the organization's data, or (a super-admin's route) the platform's. */
		auditData(this: JobsService, ctx: VigilContext<unknown>): AnyData {
			return ctx.locals.access ? this.data(ctx) : this.unscoped("a super-admin's dead letter: of any organization, or of none");
		},

		async replay(this: JobsService, ctx: VigilContext<LetterParams>) {
			const letter = await this.findLetter(ctx);
			const jobId = await this.queue(ctx.params.queue).replayDeadLetter(letter.letterId);
			if (!jobId) throw notFound("Dead letter");
			await audit(
				ctx,
				this.auditData(ctx),
				"dead_letter.replayed",
				{ type: "dead_letter", id: `${letter.queue}/${letter.letterId}` },
				{ queue: letter.queue, jobId: letter.id, newJobId: jobId, error: letter.error },
				{ orgId: letter.orgId },
			);
			ctx.meta.$statusCode = 202;
			return { queue: letter.queue, letterId: letter.letterId, jobId };
		},

		async discard(this: JobsService, ctx: VigilContext<LetterParams>) {
			const letter = await this.findLetter(ctx);
			if (!(await this.queue(ctx.params.queue).discardDeadLetter(letter.letterId))) throw notFound("Dead letter");
			await audit(
				ctx,
				this.auditData(ctx),
				"dead_letter.discarded",
				{ type: "dead_letter", id: `${letter.queue}/${letter.letterId}` },
				{ queue: letter.queue, jobId: letter.id, error: letter.error },
				{ orgId: letter.orgId },
			);
			ctx.meta.$statusCode = 204;
			return null;
		},
	},
};

export default JobsServiceSchema;
