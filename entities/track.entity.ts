import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from "typeorm";
import type { PathPoint } from "../lib/vision/tracker";
import { Clip } from "./clip.entity";

/** One object followed across the frames of a clip (written when the clip's processing ends). */
@Entity("tracks")
export class Track {
	@PrimaryColumn({ name: "clip_id", type: "uuid" }) clipId!: string;
	@PrimaryColumn({ name: "track_no", type: "integer" }) trackNo!: number;
	@ManyToOne(() => Clip, { onDelete: "CASCADE" }) @JoinColumn({ name: "clip_id" }) clip?: Clip;
	@Column({ name: "class_name", type: "text" }) className!: string;
	@Column({ name: "first_time", type: "real" }) firstTime!: number;
	@Column({ name: "last_time", type: "real" }) lastTime!: number;
	@Column({ name: "best_time", type: "real" }) bestTime!: number;
	@Column({ name: "best_box", type: "jsonb" }) bestBox!: [number, number, number, number];
	@Column({ name: "max_score", type: "real" }) maxScore!: number;
	@Column({ name: "mean_score", type: "real" }) meanScore!: number;
	@Column({ type: "boolean" }) stationary!: boolean;
	@Column({ name: "zones_entered", type: "jsonb" }) zonesEntered!: string[];
	@Column({ name: "line_crossings", type: "jsonb" }) lineCrossings!: Record<string, { count: number; forward: number; backward: number }>;
	/** The anchor's path, [time, x, y] points, at most 64: to draw the track over a still frame. Empty for tracks stored before paths. */
	@Column({ type: "jsonb", default: () => "'[]'" }) path!: PathPoint[];
}
