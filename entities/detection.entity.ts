import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from "typeorm";
import { Clip } from "./clip.entity";

/**
 * One object found in one sampled frame. Unique per (clip, frame, ordinal): a redelivered segment job writes
 * the same rows again instead of adding duplicates.
 */
@Entity("detections")
@Unique(["clipId", "frameIndex", "ordinal"])
export class Detection {
	@PrimaryGeneratedColumn("uuid") id!: string;
	@Index() @Column({ name: "clip_id", type: "uuid" }) clipId!: string;
	@ManyToOne(() => Clip, { onDelete: "CASCADE" }) @JoinColumn({ name: "clip_id" }) clip?: Clip;
	@Column({ name: "frame_index", type: "integer" }) frameIndex!: number;
	@Column({ type: "smallint" }) ordinal!: number;
	@Column({ name: "time_sec", type: "real" }) timeSec!: number;
	@Column({ name: "class_id", type: "smallint" }) classId!: number;
	@Column({ name: "class_name", type: "text" }) className!: string;
	@Column({ type: "real" }) score!: number;
	@Column({ type: "real" }) x1!: number;
	@Column({ type: "real" }) y1!: number;
	@Column({ type: "real" }) x2!: number;
	@Column({ type: "real" }) y2!: number;
}
