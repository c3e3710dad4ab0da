/**
 * The audit log: security-relevant actions, appended to `audit_log` (the database refuses updates and
 * deletes). Pass the transaction's data (or entity manager) where the change itself runs in one, so the entry and the
 * change commit or roll back together. A call site is one line:
 *
 *   await audit(ctx, tx, "member.updated", { type: "user", id: userId }, { role: { from, to } });
 */
import { managerOf, type AnyData } from "../platform/scoped-data";
import type { QueryDeepPartialEntity } from "typeorm/query-builder/QueryPartialEntity";
import { AuditEntry } from "../../entities";
import type { AuditActorKind } from "../../entities/audit-entry.entity";
import type { Caller, VigilContext } from "../platform/types";

export interface AuditActor {
	kind: AuditActorKind;
	/** A user id, a service token id, or null (the system, an operator, or a failed login with an unknown email). */
	id: string | null;
	/** The user's email; for an operator, who ran the command (`user@host`). */
	email?: string | null;
}

export interface AuditTarget {
	/** What kind of thing: "user", "store", "service_token", "clip", "dead_letter"... */
	type: string;
	id: string;
}

export interface AuditRecord {
	/** The organization the action belongs to; null for account-level actions (logins, password changes). */
	orgId: string | null;
	actor: AuditActor;
	/** `<subject>.<verb>`, e.g. "auth.login_failed", "member.updated", "clip.deleted". */
	action: string;
	target?: AuditTarget | null;
	/** What changed (from/to), a reason... Never secrets. */
	details?: Record<string, unknown>;
	ip?: string | null;
	userAgent?: string | null;
	requestId?: string | null;
}

/** Bounds on what one entry stores, so a client cannot make the log hold arbitrary amounts of its input. */
const USER_AGENT_MAX = 300;
const TEXT_MAX = 320;

const clip = (value: string | null | undefined, max = TEXT_MAX) => (value ? value.slice(0, max) : null);

export const SYSTEM_ACTOR: AuditActor = { kind: "system", id: null };

/** The actor behind a call: the signed-in user, a store's service token, an operator at the REPL, or the system (no caller). */
export function actorOf(caller: Caller | undefined): AuditActor {
	if (caller?.kind === "user") return { kind: "user", id: caller.userId, email: caller.email };
	if (caller?.kind === "operator") return { kind: "operator", id: null, email: caller.name };
	if (caller?.kind === "service") return { kind: "service", id: caller.tokenId };
	return SYSTEM_ACTOR;
}

export async function recordAudit(db: AnyData, entry: AuditRecord): Promise<void> {
	await managerOf(db)
		.getRepository(AuditEntry)
		.insert({
			orgId: entry.orgId,
			actorKind: entry.actor.kind,
			actorId: entry.actor.id,
			actorEmail: clip(entry.actor.email),
			action: entry.action,
			targetType: entry.target?.type ?? null,
			targetId: clip(entry.target?.id),
			// TypeORM's insert typing cannot express a free-form jsonb object.
			details: (entry.details ?? {}) as QueryDeepPartialEntity<AuditEntry>["details"],
			ip: clip(entry.ip, 64),
			userAgent: clip(entry.userAgent, USER_AGENT_MAX),
			requestId: clip(entry.requestId, 100),
		});
}

export interface AuditOptions {
	/** Default: the organization the permission check established, else the `orgId` parameter, else the service token's. */
	orgId?: string | null;
	/** Default: the caller of `ctx`. */
	actor?: AuditActor;
}

/** recordAudit with who, from where and which request taken from the call's context. */
export function audit(
	ctx: VigilContext<unknown>,
	db: AnyData,
	action: string,
	target?: AuditTarget | null,
	details?: Record<string, unknown>,
	options: AuditOptions = {},
): Promise<void> {
	const caller = ctx.meta.caller;
	const param = (ctx.params as { orgId?: unknown } | null | undefined)?.orgId;
	const orgId =
		options.orgId !== undefined
			? options.orgId
			: (ctx.locals?.access?.orgId ?? (typeof param === "string" ? param : caller?.kind === "service" ? caller.orgId : null));
	return recordAudit(db, {
		orgId,
		actor: options.actor ?? actorOf(caller),
		action,
		target,
		details,
		ip: ctx.meta.ip,
		userAgent: ctx.meta.userAgent,
		requestId: ctx.meta.requestId ?? ctx.requestID,
	});
}
