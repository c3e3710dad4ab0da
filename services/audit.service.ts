/**
 * audit — reads the audit log (lib/operations/audit.ts writes it, from the service where each action happens): an
 * organization's owners and admins see their organization's entries; super-admins see everything, including
 * entries that belong to no organization (logins, failed logins of unknown emails, password changes).
 */
import type { ServiceSchema, ServiceSettingSchema } from "moleculer";
import { IsNull, type FindManyOptions, type FindOptionsWhere } from "typeorm";
import { AuditEntry } from "../entities";
import { auditWhere, type AuditFilters } from "../lib/operations/audit-filter";
import { encodeSeqCursor } from "../lib/platform/pagination";
import type { VigilContext } from "../lib/platform/types";
import { RepositoryMixin, type RepositoryService } from "../mixins/repository.mixin";
import { id, orgPath } from "./schemas";

type AuditService = RepositoryService;

const LIST_LIMIT_MAX = 200;

const filters = {
	action: {
		type: "string",
		optional: true,
		trim: true,
		min: 1,
		max: 100,
		pattern: /^[a-z_]+(\.[a-z_]+)?\.?$/,
		$$t: "An action (`member.updated`), or every action of a subject (`auth.`)",
	},
	actorId: { ...id, optional: true, $$t: "Only what this user (or service token) did" },
	actorEmail: { type: "email", optional: true, normalize: true, max: 254, $$t: "Only entries whose actor had this email (failed logins included)" },
	from: { type: "date", convert: true, optional: true, $$t: "At or after (ISO 8601)" },
	to: { type: "date", convert: true, optional: true, $$t: "Before (ISO 8601)" },
	limit: { type: "number", integer: true, convert: true, min: 1, max: LIST_LIMIT_MAX, default: 50 },
	cursor: { type: "string", optional: true, max: 20, pattern: /^\d+$/, $$t: "nextCursor of the previous page" },
} as const;

type Filters = AuditFilters & { limit: number };

export const presentAuditEntry = (e: AuditEntry) => ({
	seq: e.seq,
	id: e.id,
	orgId: e.orgId,
	actor: { kind: e.actorKind, id: e.actorId, email: e.actorEmail },
	action: e.action,
	target: e.targetType ? { type: e.targetType, id: e.targetId } : null,
	details: e.details,
	ip: e.ip,
	userAgent: e.userAgent,
	requestId: e.requestId,
	createdAt: e.createdAt,
});

/** Newest first, one entry more than the page: it tells whether there is a next page. */
const pageQuery = (p: Filters, where: FindOptionsWhere<AuditEntry>): FindManyOptions<AuditEntry> => ({ where, order: { seq: "DESC" }, take: p.limit + 1 });

const presentPage = (p: Filters, rows: AuditEntry[]) => {
	const items = rows.slice(0, p.limit);
	return { items: items.map(presentAuditEntry), nextCursor: rows.length > p.limit ? encodeSeqCursor(items[items.length - 1].seq) : null };
};

const AuditServiceSchema: ServiceSchema<ServiceSettingSchema, AuditService> = {
	name: "audit",
	mixins: [RepositoryMixin],
	settings: { rest: "/" },

	actions: {
		listForOrg: {
			rest: "GET /orgs/:orgId/audit-log",
			permission: { scope: "org", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...orgPath, ...filters },
			openapi: { summary: "The organization's audit log, newest first, with filters and cursor pagination", responses: { 200: "AuditPage" } },
			async handler(this: AuditService, ctx: VigilContext<Filters & { orgId: string }>) {
				const p = ctx.params;
				return presentPage(
					p,
					await this.data(ctx)
						.repo(AuditEntry)
						.find(pageQuery(p, auditWhere(p))),
				);
			},
		},

		listAll: {
			rest: "GET /admin/audit-log",
			permission: { scope: "superadmin" },
			params: {
				$$strict: "remove",
				...filters,
				orgId: { ...id, optional: true, $$t: "Only this organization's entries" },
				withoutOrg: { type: "boolean", convert: true, optional: true, $$t: "Only entries that belong to no organization (logins, password changes...)" },
			},
			openapi: { summary: "The whole audit log (every organization, and entries of none), newest first", responses: { 200: "AuditPage" } },
			async handler(this: AuditService, ctx: VigilContext<Filters & { orgId?: string; withoutOrg?: boolean }>) {
				const p = ctx.params;
				const where = { ...auditWhere(p), ...(p.orgId ? { orgId: p.orgId } : p.withoutOrg && { orgId: IsNull() }) };
				const rows = await this.unscoped("the super-admin's audit log: every organization, and entries of none")
					.getRepository(AuditEntry)
					.find(pageQuery(p, where));
				return presentPage(p, rows);
			},
		},
	},
};

export default AuditServiceSchema;
