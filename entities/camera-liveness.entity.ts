import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn } from "typeorm";
import { Camera } from "./camera.entity";

export const SEEN_SOURCES = ["event", "heartbeat", "clip", "stream"] as const;
export type SeenSource = (typeof SEEN_SOURCES)[number];

/** When a camera was last seen: an edge event for it, a heartbeat listing it online, a clip upload, or its live stream. */
@Entity("camera_liveness")
export class CameraLiveness {
	@PrimaryColumn({ name: "camera_id", type: "uuid" }) cameraId!: string;
	@OneToOne(() => Camera, { onDelete: "CASCADE" }) @JoinColumn({ name: "camera_id" }) camera?: Camera;
	@Column({ name: "last_seen_at", type: "timestamptz" }) lastSeenAt!: Date;
	/** What showed it last. */
	@Column({ type: "text" }) source!: SeenSource;
}
