/**
 * audit — reads the audit log (lib/audit.ts writes it, from the service where each action happens): an
 * organization's owners and admins see their organization's entries; super-admins see everything, including
 * entries that belong to no organization (logins, failed logins of unknown emails, password changes).
 */
import type { ServiceSchema, ServiceSettingSchema } from "moleculer";
import { IsNull, type SelectQueryBuilder } from "typeorm";
import { AuditEntry } from "../entities";
import { decodeSeqCursor, encodeSeqCursor } from "../lib/platform/pagination";
import type { VigilContext, VigilService } from "../lib/platform/types";
import { DbMixin } from "../mixins/db.mixin";
import { id, orgPath } from "./schemas";

type AuditService = VigilService;

const LIST_LIMIT_MAX = 200;

const filters = {
	action: { type: "string", optional: true, trim: true, min: 1, max: 100, pattern: /^[a-z_]+(\.[a-z_]+)?\.?$/, $$t: "An action (`member.updated`), or every action of a subject (`auth.`)" },
	actorId: { ...id, optional: true, $$t: "Only what this user (or service token) did" },
	actorEmail: { type: "email", optional: true, normalize: true, max: 254, $$t: "Only entries whose actor had this email (failed logins included)" },
	from: { type: "date", convert: true, optional: true, $$t: "At or after (ISO 8601)" },
	to: { type: "date", convert: true, optional: true, $$t: "Before (ISO 8601)" },
	limit: { type: "number", integer: true, convert: true, min: 1, max: LIST_LIMIT_MAX, default: 50 },
	cursor: { type: "string", optional: true, max: 20, pattern: /^\d+$/, $$t: "nextCursor of the previous page" },
} as const;

interface Filters {
	action?: string;
	actorId?: string;
	actorEmail?: string;
	from?: Date;
	to?: Date;
	limit: number;
	cursor?: string;
}

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

const AuditServiceSchema: ServiceSchema<ServiceSettingSchema, AuditService> = {
	name: "audit",
	mixins: [DbMixin],
	settings: { rest: "/" },

	actions: {
		listForOrg: {
			rest: "GET /orgs/:orgId/audit-log",
			permission: { scope: "org", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...orgPath, ...filters },
			openapi: { summary: "The organization's audit log, newest first, with filters and cursor pagination", responses: { 200: "AuditPage" } },
			async handler(this: AuditService, ctx: VigilContext<Filters & { orgId: string }>) {
				return this.page(ctx.params, (q: SelectQueryBuilder<AuditEntry>) => q.andWhere("e.orgId = :orgId", { orgId: ctx.params.orgId }));
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
				const { orgId, withoutOrg } = ctx.params;
				return this.page(ctx.params, (q: SelectQueryBuilder<AuditEntry>) => {
					if (orgId) q.andWhere("e.orgId = :orgId", { orgId });
					else if (withoutOrg) q.andWhere({ orgId: IsNull() });
				});
			},
		},
	},

	methods: {
		async page(this: AuditService, p: Filters, scope: (q: SelectQueryBuilder<AuditEntry>) => void) {
			const q = this.db.getRepository(AuditEntry).createQueryBuilder("e");
			scope(q);
			if (p.action?.endsWith(".")) q.andWhere("e.action LIKE :prefix", { prefix: `${p.action.replace(/_/g, "\\_")}%` });
			else if (p.action) q.andWhere("e.action = :action", { action: p.action });
			if (p.actorId) q.andWhere("e.actorId = :actorId", { actorId: p.actorId });
			if (p.actorEmail) q.andWhere("e.actorEmail = :actorEmail", { actorEmail: p.actorEmail });
			if (p.from) q.andWhere("e.createdAt >= :from", { from: p.from });
			if (p.to) q.andWhere("e.createdAt < :to", { to: p.to });
			if (p.cursor) q.andWhere("e.seq < :cursor", { cursor: decodeSeqCursor(p.cursor) });
			const rows = await q.orderBy("e.seq", "DESC").take(p.limit + 1).getMany();
			const items = rows.slice(0, p.limit);
			return { items: items.map(presentAuditEntry), nextCursor: rows.length > p.limit ? encodeSeqCursor(items[items.length - 1].seq) : null };
		},
	},
};

export default AuditServiceSchema;
