import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from "typeorm";
import { Camera } from "./camera.entity";

/**
 * The score threshold alerts of one class on one camera must reach, learned from verdicts, and what it would have
 * done to the judged alerts. A pinned value (set by an owner or admin) wins over the learned one.
 */
@Entity("learned_thresholds")
export class LearnedThreshold {
	@PrimaryColumn({ name: "camera_id", type: "uuid" }) cameraId!: string;
	@PrimaryColumn({ name: "class_name", type: "text" }) className!: string;
	@ManyToOne(() => Camera, { onDelete: "CASCADE" }) @JoinColumn({ name: "camera_id" }) camera?: Camera;
	@Column({ name: "org_id", type: "uuid" }) orgId!: string;
	@Column({ name: "store_id", type: "uuid" }) storeId!: string;
	/** Null: nothing learned yet (too few verdicts, or no threshold reaches the target precision). */
	@Column({ type: "real", nullable: true }) learned!: number | null;
	@Column({ type: "real", nullable: true }) pinned!: number | null;
	@Column({ name: "pinned_by", type: "uuid", nullable: true }) pinnedBy!: string | null;
	@Column({ name: "pinned_at", type: "timestamptz", nullable: true }) pinnedAt!: Date | null;
	@Column({ type: "integer", default: 0 }) verdicts!: number;
	@Column({ name: "true_positives", type: "integer", default: 0 }) truePositives!: number;
	@Column({ name: "false_positives", type: "integer", default: 0 }) falsePositives!: number;
	/** At the threshold in force (pinned, else learned, else none). */
	@Column({ type: "real", nullable: true }) precision!: number | null;
	@Column({ name: "precision_lower_bound", type: "real", nullable: true }) precisionLowerBound!: number | null;
	@Column({ name: "suppressed_share", type: "real", default: 0 }) suppressedShare!: number;
	@UpdateDateColumn({ name: "updated_at", type: "timestamptz" }) updatedAt!: Date;
}
