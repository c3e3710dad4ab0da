import { Check, Column, CreateDateColumn, Entity, Generated, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from "typeorm";
import { Camera } from "./camera.entity";
import { Clip } from "./clip.entity";
import type { Severity } from "./alert-rule.entity";

export const ALERT_STATUSES = ["open", "acknowledged", "resolved"] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

export const ALERT_SOURCES = ["clip", "edge"] as const;
export type AlertSource = (typeof ALERT_SOURCES)[number];

/**
 * One incident: a tracked object that satisfied a rule. Unique per (clip, track, rule), so replaying a clip's
 * detections (after a redelivered job, on another node) never raises it twice; an edge box's events raise
 * alerts without a clip, unique per (camera, edge track key, rule).
 */
@Entity("alerts")
@Unique(["clipId", "trackNo", "ruleId"])
@Index(["cameraId", "edgeTrackKey", "ruleId"], { unique: true })
@Check(`"status" IN ('open', 'acknowledged', 'resolved')`)
@Check(`("source" = 'clip' AND "clip_id" IS NOT NULL AND "track_no" IS NOT NULL) OR ("source" = 'edge' AND "edge_track_key" IS NOT NULL)`)
@Index(["storeId", "seq"])
@Index("IDX_alerts_unrouted", ["createdAt"], { where: `"routed_at" IS NULL` })
export class Alert {
	@PrimaryGeneratedColumn("uuid") id!: string;
	/** Increasing number: the SSE event id, so a reconnecting dashboard resumes exactly after what it saw. */
	@Column({ type: "bigint", unique: true, transformer: { to: (v: number) => v, from: (v: string | number) => Number(v) } })
	@Generated("increment")
	seq!: number;
	@Column({ name: "org_id", type: "uuid" }) orgId!: string;
	@Column({ name: "store_id", type: "uuid" }) storeId!: string;
	@Index() @Column({ name: "camera_id", type: "uuid" }) cameraId!: string;
	/** Clip alerts also go with their clip; edge alerts have no clip, so the camera takes them along. */
	@ManyToOne(() => Camera, { onDelete: "CASCADE" }) @JoinColumn({ name: "camera_id" }) camera?: Camera;
	@Column({ type: "text", default: "clip" }) source!: AlertSource;
	/** Null for edge alerts. */
	@Column({ name: "clip_id", type: "uuid", nullable: true }) clipId!: string | null;
	@ManyToOne(() => Clip, { onDelete: "CASCADE" }) @JoinColumn({ name: "clip_id" }) clip?: Clip;
	@Column({ name: "track_no", type: "integer", nullable: true }) trackNo!: number | null;
	/** Edge alerts: the track, stable across re-evaluations (`box:<box track id>:<first event id>` or `auto:<first event id>`). */
	@Column({ name: "edge_track_key", type: "text", nullable: true }) edgeTrackKey!: string | null;
	/** Licence plate read by the edge box, when it sent one. */
	@Column({ type: "text", nullable: true }) plate!: string | null;
	@Column({ name: "rule_id", type: "uuid" }) ruleId!: string;
	@Column({ name: "class_name", type: "text" }) className!: string;
	@Column({ type: "real" }) score!: number;
	@Column({ type: "text" }) severity!: Severity;
	@Column({ name: "occurred_at", type: "timestamptz" }) occurredAt!: Date;
	/** Seconds into the clip of the frame shown in the snapshot; edge alerts: seconds from occurredAt to the best event. */
	@Column({ name: "frame_time", type: "real" }) frameTime!: number;
	@Column({ type: "jsonb" }) box!: [number, number, number, number];
	@Column({ name: "snapshot_key", type: "text", nullable: true }) snapshotKey!: string | null;
	/** The same frame without the box drawn: a clean image for training datasets. */
	@Column({ name: "frame_key", type: "text", nullable: true }) frameKey!: string | null;
	@Column({ type: "text", default: "open" }) status!: AlertStatus;
	@Column({ name: "acknowledged_by", type: "uuid", nullable: true }) acknowledgedBy!: string | null;
	@Column({ name: "acknowledged_at", type: "timestamptz", nullable: true }) acknowledgedAt!: Date | null;
	@Column({ name: "resolved_by", type: "uuid", nullable: true }) resolvedBy!: string | null;
	@Column({ name: "resolved_at", type: "timestamptz", nullable: true }) resolvedAt!: Date | null;
	@CreateDateColumn({ name: "created_at", type: "timestamptz" }) createdAt!: Date;
	/** When the notifier recorded its deliveries; null until then (its sweep routes alerts whose broadcast was lost). */
	@Column({ name: "routed_at", type: "timestamptz", nullable: true }) routedAt!: Date | null;
}
