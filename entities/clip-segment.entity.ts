import { Check, Column, Entity, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from "typeorm";
import { Clip } from "./clip.entity";

/** One time range of a clip: the unit of work a detector node takes from the queue. */
@Entity("clip_segments")
@Check(`"status" IN ('pending', 'done', 'failed')`)
export class ClipSegment {
	@PrimaryColumn({ name: "clip_id", type: "uuid" }) clipId!: string;
	@PrimaryColumn({ type: "integer" }) index!: number;
	@ManyToOne(() => Clip, { onDelete: "CASCADE" }) @JoinColumn({ name: "clip_id" }) clip?: Clip;
	/** First sampled frame of the segment (global frame index at the clip's sample rate). */
	@Column({ name: "first_frame", type: "integer" }) firstFrame!: number;
	@Column({ name: "frame_count", type: "integer" }) frameCount!: number;
	@Column({ type: "text", default: "pending" }) status!: "pending" | "done" | "failed";
	@Column({ name: "frames_done", type: "integer", default: 0 }) framesDone!: number;
	@Column({ type: "text", nullable: true }) error!: string | null;
	@UpdateDateColumn({ name: "updated_at", type: "timestamptz" }) updatedAt!: Date;
}
