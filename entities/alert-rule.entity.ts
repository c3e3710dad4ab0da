import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from "typeorm";
import { Store } from "./store.entity";

export const SEVERITIES = ["low", "medium", "high", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Days (0 = Sunday) and a daily window in the camera's time zone; a window past midnight wraps (22:00-06:00). */
export interface Schedule {
	days: number[];
	start: string;
	end: string;
}

/** When a tracked object becomes an alert, for one store or one of its cameras. */
@Entity("alert_rules")
@Check(`"severity" IN ('low', 'medium', 'high', 'critical')`)
export class AlertRule {
	@PrimaryGeneratedColumn("uuid") id!: string;
	@Column({ name: "org_id", type: "uuid" }) orgId!: string;
	@Index() @Column({ name: "store_id", type: "uuid" }) storeId!: string;
	@ManyToOne(() => Store, { onDelete: "CASCADE" }) @JoinColumn({ name: "store_id" }) store?: Store;
	/** null: every camera of the store. */
	@Column({ name: "camera_id", type: "uuid", nullable: true }) cameraId!: string | null;
	@Column({ type: "text" }) name!: string;
	/** Empty: any class. */
	@Column({ type: "text", array: true, default: () => "'{}'" }) classes!: string[];
	@Column({ name: "min_score", type: "real", default: 0.5 }) minScore!: number;
	/** Any of these zones entered; empty: anywhere in the frame. */
	@Column({ name: "zone_ids", type: "uuid", array: true, default: () => "'{}'" }) zoneIds!: string[];
	@Column({ name: "min_duration_sec", type: "real", default: 0 }) minDurationSec!: number;
	@Column({ type: "jsonb", nullable: true }) schedule!: Schedule | null;
	/** No second alert for the same camera and class within this many seconds. */
	@Column({ name: "cooldown_sec", type: "integer", default: 60 }) cooldownSec!: number;
	@Column({ type: "text", default: "medium" }) severity!: Severity;
	@Column({ type: "boolean", default: true }) enabled!: boolean;
	@CreateDateColumn({ name: "created_at", type: "timestamptz" }) createdAt!: Date;
	@UpdateDateColumn({ name: "updated_at", type: "timestamptz" }) updatedAt!: Date;
}
