import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn, UpdateDateColumn } from "typeorm";
import { Camera } from "./camera.entity";

export const LIVE_STATUSES = ["idle", "connecting", "streaming", "error"] as const;
export type LiveStatus = (typeof LIVE_STATUSES)[number];

/**
 * A live camera's stream: which node pulls it (a lease that node renews; another node takes it once it lapses)
 * and how the pull goes, for the camera's status in the API. One row per camera with a stream URL once a stream
 * node has seen it.
 */
@Entity("live_streams")
export class LiveStream {
	@PrimaryColumn({ name: "camera_id", type: "uuid" }) cameraId!: string;
	@OneToOne(() => Camera, { onDelete: "CASCADE" }) @JoinColumn({ name: "camera_id" }) camera?: Camera;
	@Column({ name: "org_id", type: "uuid" }) orgId!: string;
	/** The node holding the lease; null when released. */
	@Column({ type: "text", nullable: true }) holder!: string | null;
	@Column({ name: "lease_expires_at", type: "timestamptz", nullable: true }) leaseExpiresAt!: Date | null;
	@Column({ type: "text", default: "idle" }) status!: LiveStatus;
	/** Why the stream is not flowing (unauthorized, unreachable, not_found, bad_stream, stalled, exited); null while it flows. */
	@Column({ type: "text", nullable: true }) error!: string | null;
	/** A sentence for people, credentials masked. */
	@Column({ type: "text", nullable: true }) message!: string | null;
	/** Since when the status holds. */
	@Column({ type: "timestamptz", nullable: true }) since!: Date | null;
	@Column({ name: "last_frame_at", type: "timestamptz", nullable: true }) lastFrameAt!: Date | null;
	/** Segments handed to the pipeline since the row was made. */
	@Column({ type: "integer", default: 0 }) segments!: number;
	@UpdateDateColumn({ name: "updated_at", type: "timestamptz" }) updatedAt!: Date;
}
