import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from "typeorm";
import { Camera } from "./camera.entity";
import type { Point } from "../lib/vision/geometry";

export const ZONE_KINDS = ["polygon", "line"] as const;

/** A named area (polygon) or tripwire (line) of a camera's view, in 0..1 frame coordinates. */
@Entity("zones")
@Check(`"kind" IN ('polygon', 'line')`)
export class Zone {
	@PrimaryGeneratedColumn("uuid") id!: string;
	@Index() @Column({ name: "camera_id", type: "uuid" }) cameraId!: string;
	@ManyToOne(() => Camera, { onDelete: "CASCADE" }) @JoinColumn({ name: "camera_id" }) camera?: Camera;
	@Column({ name: "org_id", type: "uuid" }) orgId!: string;
	@Column({ type: "text" }) name!: string;
	@Column({ type: "text", default: "polygon" }) kind!: (typeof ZONE_KINDS)[number];
	@Column({ type: "jsonb" }) points!: Point[];
	/** Object classes this zone cares about; empty means all the camera detects. */
	@Column({ type: "text", array: true, default: () => "'{}'" }) classes!: string[];
	@CreateDateColumn({ name: "created_at", type: "timestamptz" }) createdAt!: Date;
	@UpdateDateColumn({ name: "updated_at", type: "timestamptz" }) updatedAt!: Date;
}
