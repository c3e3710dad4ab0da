import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn, UpdateDateColumn } from "typeorm";
import type { TrackerSnapshot } from "../lib/vision/tracker";
import { Clip } from "./clip.entity";

export interface LiveHandover {
	tracker: TrackerSnapshot;
	decided: string[];
	/** Frames the segment had, at its sampling rate. */
	frames: number;
}

/**
 * How far the alert service got with a clip: the tracker's state after the frames evaluated so far, so the next
 * segment resumes it instead of replaying the clip from its start. Written in the same transaction as the
 * alerts and tracks it led to, so a crash repeats no alert and loses none.
 */
@Entity("clip_evaluations")
export class ClipEvaluation {
	@PrimaryColumn({ name: "clip_id", type: "uuid" }) clipId!: string;
	@OneToOne(() => Clip, { onDelete: "CASCADE" }) @JoinColumn({ name: "clip_id" }) clip?: Clip;
	/** The clip's generation this state belongs to; a reprocessed clip starts over. */
	@Column({ type: "integer" }) generation!: number;
	/** Frames fed to the tracker: the index of the next frame to evaluate. */
	@Column({ name: "frames_evaluated", type: "integer" }) framesEvaluated!: number;
	@Column({ type: "jsonb" }) tracker!: TrackerSnapshot;
	/** `trackNo:ruleId` pairs already decided (alerted, or held back by a cooldown): each is decided once. */
	@Column({ type: "jsonb", default: () => "'[]'" }) decided!: string[];
	/**
	 * A live segment's tracker as it ended, before its open tracks were closed: the camera's next segment goes on
	 * from it, so a person walking across the cut stays one track with one alert. Null for uploads.
	 */
	@Column({ type: "jsonb", nullable: true }) handover!: LiveHandover | null;
	@UpdateDateColumn({ name: "updated_at", type: "timestamptz" }) updatedAt!: Date;
}
