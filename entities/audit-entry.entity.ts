import { Check, Column, CreateDateColumn, Entity, Generated, Index, PrimaryGeneratedColumn } from "typeorm";

export const AUDIT_ACTOR_KINDS = ["user", "service", "system", "operator"] as const;
export type AuditActorKind = (typeof AUDIT_ACTOR_KINDS)[number];

/**
 * One security-relevant action: who (actor), what (action, target, details), when, from where. Append-only: a
 * database trigger refuses UPDATE, DELETE and TRUNCATE. No foreign key to the organization on purpose: the
 * trail outlives what it describes (a deleted organization keeps its entries).
 */
@Entity("audit_log")
@Check(`"actor_kind" IN ('user', 'service', 'system', 'operator')`)
@Index(["orgId", "seq"])
export class AuditEntry {
	@PrimaryGeneratedColumn("uuid") id!: string;
	/** Increasing number: the cursor of the newest-first listing. */
	@Column({ type: "bigint", unique: true, transformer: { to: (v: number) => v, from: (v: string | number) => Number(v) } })
	@Generated("increment")
	seq!: number;
	@Column({ name: "org_id", type: "uuid", nullable: true }) orgId!: string | null;
	@Column({ name: "actor_kind", type: "text" }) actorKind!: AuditActorKind;
	/** A user id, a service token id, or null (the system, an operator at the REPL, or a failed login with an unknown email). */
	@Column({ name: "actor_id", type: "uuid", nullable: true }) actorId!: string | null;
	@Column({ name: "actor_email", type: "text", nullable: true }) actorEmail!: string | null;
	@Column({ type: "text" }) action!: string;
	@Column({ name: "target_type", type: "text", nullable: true }) targetType!: string | null;
	@Column({ name: "target_id", type: "text", nullable: true }) targetId!: string | null;
	@Column({ type: "jsonb", default: {} }) details!: Record<string, unknown>;
	@Column({ type: "text", nullable: true }) ip!: string | null;
	@Column({ name: "user_agent", type: "text", nullable: true }) userAgent!: string | null;
	@Column({ name: "request_id", type: "text", nullable: true }) requestId!: string | null;
	@CreateDateColumn({ name: "created_at", type: "timestamptz" }) createdAt!: Date;
}
