import { Check, Column, CreateDateColumn, Entity, Generated, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from "typeorm";
import { Clip } from "./clip.entity";
import type { Severity } from "./alert-rule.entity";

export const ALERT_STATUSES = ["open", "acknowledged", "resolved"] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/**
 * One incident: a tracked object that satisfied a rule. Unique per (clip, track, rule), so replaying a clip's
 * detections (after a redelivered job, on another node) never raises it twice.
 */
@Entity("alerts")
@Unique(["clipId", "trackNo", "ruleId"])
@Check(`"status" IN ('open', 'acknowledged', 'resolved')`)
@Index(["storeId", "seq"])
export class Alert {
	@PrimaryGeneratedColumn("uuid") id!: string;
	/** Increasing number: the SSE event id, so a reconnecting dashboard resumes exactly after what it saw. */
	@Column({ type: "bigint", unique: true, transformer: { to: (v: number) => v, from: (v: string | number) => Number(v) } }) @Generated("increment") seq!: number;
	@Column({ name: "org_id", type: "uuid" }) orgId!: string;
	@Column({ name: "store_id", type: "uuid" }) storeId!: string;
	@Index() @Column({ name: "camera_id", type: "uuid" }) cameraId!: string;
	@Column({ name: "clip_id", type: "uuid" }) clipId!: string;
	@ManyToOne(() => Clip, { onDelete: "CASCADE" }) @JoinColumn({ name: "clip_id" }) clip?: Clip;
	@Column({ name: "track_no", type: "integer" }) trackNo!: number;
	@Column({ name: "rule_id", type: "uuid" }) ruleId!: string;
	@Column({ name: "class_name", type: "text" }) className!: string;
	@Column({ type: "real" }) score!: number;
	@Column({ type: "text" }) severity!: Severity;
	@Column({ name: "occurred_at", type: "timestamptz" }) occurredAt!: Date;
	/** Seconds into the clip of the frame shown in the snapshot. */
	@Column({ name: "frame_time", type: "real" }) frameTime!: number;
	@Column({ type: "jsonb" }) box!: [number, number, number, number];
	@Column({ name: "snapshot_key", type: "text", nullable: true }) snapshotKey!: string | null;
	@Column({ type: "text", default: "open" }) status!: AlertStatus;
	@Column({ name: "acknowledged_by", type: "uuid", nullable: true }) acknowledgedBy!: string | null;
	@Column({ name: "acknowledged_at", type: "timestamptz", nullable: true }) acknowledgedAt!: Date | null;
	@Column({ name: "resolved_by", type: "uuid", nullable: true }) resolvedBy!: string | null;
	@Column({ name: "resolved_at", type: "timestamptz", nullable: true }) resolvedAt!: Date | null;
	@CreateDateColumn({ name: "created_at", type: "timestamptz" }) createdAt!: Date;
}
