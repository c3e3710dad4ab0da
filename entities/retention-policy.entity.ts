import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn, UpdateDateColumn } from "typeorm";
import { Organization } from "./organization.entity";

/**
 * An organization's own retention, in days per kind of data; null keeps that kind for ever. Without a row the
 * node's RETENTION_*_DAYS defaults apply.
 */
@Entity("retention_policies")
export class RetentionPolicy {
	@PrimaryColumn({ name: "org_id", type: "uuid" }) orgId!: string;
	@OneToOne(() => Organization, { onDelete: "CASCADE" }) @JoinColumn({ name: "org_id" }) organization?: Organization;
	@Column({ name: "clips_days", type: "integer", nullable: true }) clipsDays!: number | null;
	@Column({ name: "snapshots_days", type: "integer", nullable: true }) snapshotsDays!: number | null;
	@Column({ name: "detections_days", type: "integer", nullable: true }) detectionsDays!: number | null;
	@Column({ name: "updated_by", type: "uuid", nullable: true }) updatedBy!: string | null;
	@UpdateDateColumn({ name: "updated_at", type: "timestamptz" }) updatedAt!: Date;
}
