import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from "typeorm";
import type { VerdictKind } from "../lib/learning/thresholds";
import { Alert } from "./alert.entity";

/**
 * One person's verdict on one alert: right, a false alarm, or the wrong class (with the right one). One per user
 * and alert; a later verdict replaces it. Camera, class and score are copied from the alert (which never changes
 * them) so the learner reads one camera and class without a join.
 */
@Entity("verdicts")
@Unique(["alertId", "userId"])
@Check(`"verdict" IN ('true_positive', 'false_positive', 'wrong_class')`)
@Check(`("verdict" = 'wrong_class') = ("correct_class" IS NOT NULL)`)
@Index(["cameraId", "className", "updatedAt"])
@Index(["storeId", "alertId"])
export class Verdict {
	@PrimaryGeneratedColumn("uuid") id!: string;
	@Column({ name: "alert_id", type: "uuid" }) alertId!: string;
	@ManyToOne(() => Alert, { onDelete: "CASCADE" }) @JoinColumn({ name: "alert_id" }) alert?: Alert;
	@Column({ name: "org_id", type: "uuid" }) orgId!: string;
	@Column({ name: "store_id", type: "uuid" }) storeId!: string;
	@Column({ name: "camera_id", type: "uuid" }) cameraId!: string;
	@Column({ name: "class_name", type: "text" }) className!: string;
	@Column({ type: "real" }) score!: number;
	@Column({ name: "user_id", type: "uuid" }) userId!: string;
	@Column({ type: "text" }) verdict!: VerdictKind;
	@Column({ name: "correct_class", type: "text", nullable: true }) correctClass!: string | null;
	@Column({ type: "text", nullable: true }) note!: string | null;
	@CreateDateColumn({ name: "created_at", type: "timestamptz" }) createdAt!: Date;
	@UpdateDateColumn({ name: "updated_at", type: "timestamptz" }) updatedAt!: Date;
}
