import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from "typeorm";
import { Camera } from "./camera.entity";

export const CLIP_STATUSES = ["received", "queued", "processing", "done", "failed"] as const;
export type ClipStatus = (typeof CLIP_STATUSES)[number];
export const CLIP_SOURCES = ["upload", "live"] as const;
export type ClipSource = (typeof CLIP_SOURCES)[number];

/** Counts per class of what a clip contained (each tracked object once), filled when processing ends. */
export interface ClipSummary {
	counts: Record<string, number>;
	tracks: number;
	lineCrossings?: Record<string, number>;
}

/**
 * A video of a camera: uploaded, dropped in its folder, or a segment of its live stream. An upload's sha256 makes a
 * re-upload of the same content to the same camera return this clip (unless retention has removed its video: then
 * the content may be uploaded again as a new clip); a live segment is the same one again by its `recordedAt`.
 * Progress is frames done over frames total, across the segments detector nodes work on.
 */
@Entity("clips")
@Index(["cameraId", "sha256"], { unique: true, where: `"expired_at" IS NULL AND "source" <> 'live'` })
@Check(`"status" IN ('received', 'queued', 'processing', 'done', 'failed')`)
@Index(["storeId", "createdAt"])
/**
 * A camera's recording, browsed by time (`clip.recording`): its live segments by wall-clock start, which is also
 * what makes a live segment the same one again (a frozen camera sends the same bytes twice; they are two segments).
 */
@Index(["cameraId", "recordedAt"], { unique: true, where: `"source" = 'live'` })
export class Clip {
	@PrimaryGeneratedColumn("uuid") id!: string;
	@Column({ name: "org_id", type: "uuid" }) orgId!: string;
	@Column({ name: "store_id", type: "uuid" }) storeId!: string;
	@Index() @Column({ name: "camera_id", type: "uuid" }) cameraId!: string;
	@ManyToOne(() => Camera, { onDelete: "CASCADE" }) @JoinColumn({ name: "camera_id" }) camera?: Camera;
	@Index() @Column({ type: "text" }) status!: ClipStatus;
	@Column({ name: "failure_reason", type: "text", nullable: true }) failureReason!: string | null;
	@Column({ name: "storage_key", type: "text" }) storageKey!: string;
	@Column({ name: "size_bytes", type: "bigint", transformer: { to: (v: number) => v, from: (v: string | number) => Number(v) } }) sizeBytes!: number;
	@Column({ type: "text" }) sha256!: string;
	@Column({ name: "duration_sec", type: "real" }) durationSec!: number;
	@Column({ type: "integer" }) width!: number;
	@Column({ type: "integer" }) height!: number;
	@Column({ name: "source_fps", type: "real" }) sourceFps!: number;
	@Column({ name: "sample_fps", type: "real" }) sampleFps!: number;
	@Column({ name: "segment_sec", type: "real" }) segmentSec!: number;
	@Column({ name: "segments_total", type: "integer" }) segmentsTotal!: number;
	@Column({ name: "frames_total", type: "integer" }) framesTotal!: number;
	@Column({ name: "frames_done", type: "integer", default: 0 }) framesDone!: number;
	/** Bumped by reprocess: results of jobs from an older generation are ignored. */
	@Column({ type: "integer", default: 0 }) generation!: number;
	@Column({ type: "jsonb", nullable: true }) summary!: ClipSummary | null;
	@Column({ name: "uploaded_by", type: "text", nullable: true }) uploadedBy!: string | null;
	/** `upload` (a file someone sent) or `live` (a segment of the camera's stream, cut by a stream node). */
	@Column({ type: "text", default: "upload" }) source!: ClipSource;
	/** Wall-clock time of the clip's first frame, when known (live segments); alerts' times count from it. */
	@Column({ name: "recorded_at", type: "timestamptz", nullable: true }) recordedAt!: Date | null;
	@CreateDateColumn({ name: "created_at", type: "timestamptz" }) createdAt!: Date;
	@Column({ name: "started_at", type: "timestamptz", nullable: true }) startedAt!: Date | null;
	@Column({ name: "finished_at", type: "timestamptz", nullable: true }) finishedAt!: Date | null;
	/** When retention removed the video file; the clip's summary, tracks and alerts stay. */
	@Column({ name: "expired_at", type: "timestamptz", nullable: true }) expiredAt!: Date | null;
}
