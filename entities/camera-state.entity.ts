import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn, UpdateDateColumn } from "typeorm";
import type { StationaryMemory } from "../lib/vision/tracker";
import { Camera } from "./camera.entity";

/** What a camera remembers between clips: stationary objects already seen (not new incidents). */
@Entity("camera_states")
export class CameraState {
	@PrimaryColumn({ name: "camera_id", type: "uuid" }) cameraId!: string;
	@OneToOne(() => Camera, { onDelete: "CASCADE" }) @JoinColumn({ name: "camera_id" }) camera?: Camera;
	@Column({ name: "stationary_memory", type: "jsonb", default: () => "'[]'" }) stationaryMemory!: StationaryMemory;
	@UpdateDateColumn({ name: "updated_at", type: "timestamptz" }) updatedAt!: Date;
}
