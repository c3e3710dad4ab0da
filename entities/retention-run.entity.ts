import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from "typeorm";

export const RETENTION_KINDS = ["clips", "snapshots", "detections"] as const;
export type RetentionKind = (typeof RETENTION_KINDS)[number];
export type RetentionCounts = Record<RetentionKind, number>;

/** What one organization lost in a run, and what went wrong for it. */
export interface RetentionOrgReport extends RetentionCounts {
	errors: string[];
}

/**
 * The report of one retention cleanup: when, why (schedule or an admin), on which node, and what it removed,
 * in total and per organization (only organizations with something removed or an error are listed).
 */
@Entity("retention_runs")
@Check(`"trigger" IN ('schedule', 'manual')`)
export class RetentionRun {
	@PrimaryGeneratedColumn("uuid") id!: string;
	@Column({ type: "text" }) trigger!: "schedule" | "manual";
	@Column({ type: "text" }) node!: string;
	@Index() @Column({ name: "started_at", type: "timestamptz" }) startedAt!: Date;
	/** Null while the run is going (or when its node died during it). */
	@Column({ name: "finished_at", type: "timestamptz", nullable: true }) finishedAt!: Date | null;
	@Column({ type: "jsonb" }) removed!: RetentionCounts;
	@Column({ name: "per_org", type: "jsonb", default: {} }) perOrg!: Record<string, RetentionOrgReport>;
	/** Failures not tied to one organization. */
	@Column({ type: "jsonb", default: [] }) errors!: string[];
}
