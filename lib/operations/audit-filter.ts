/**
 * The audit log's list filters as one TypeORM `where`, shared by an organization's log (the tenant's data adds
 * the organization) and the super-admin's whole log. No broker in here.
 */
import { And, LessThan, Like, MoreThanOrEqual, type FindOptionsWhere } from "typeorm";
import type { AuditEntry } from "../../entities";
import { decodeSeqCursor } from "../platform/pagination";

export interface AuditFilters {
	/** An action (`member.updated`), or every action of a subject (`auth.`). */
	action?: string;
	actorId?: string;
	actorEmail?: string;
	/** At or after. */
	from?: Date;
	/** Before. */
	to?: Date;
	/** The `seq` of the last entry of the previous page, as a cursor. */
	cursor?: string;
}

export function auditWhere(f: AuditFilters): FindOptionsWhere<AuditEntry> {
	const createdAt = f.from && f.to ? And(MoreThanOrEqual(f.from), LessThan(f.to)) : f.from ? MoreThanOrEqual(f.from) : f.to ? LessThan(f.to) : undefined;
	return {
		// A subject prefix matches with LIKE, where `_` would match any character: it is escaped.
		...(f.action && { action: f.action.endsWith(".") ? Like(`${f.action.replace(/_/g, "\\_")}%`) : f.action }),
		...(f.actorId && { actorId: f.actorId }),
		...(f.actorEmail && { actorEmail: f.actorEmail }),
		...(createdAt && { createdAt }),
		...(f.cursor && { seq: LessThan(decodeSeqCursor(f.cursor)) }),
	};
}
