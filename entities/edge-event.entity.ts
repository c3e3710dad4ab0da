import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from "typeorm";
import { Camera } from "./camera.entity";

/**
 * One detection reported by an edge box that runs its own detector. Unique per (store, client event id), so a
 * batch sent again stores nothing twice. `trackKey` is the alert track the event was last evaluated into.
 */
@Entity("edge_events")
@Unique(["storeId", "eventId"])
@Index(["cameraId", "time"])
export class EdgeEvent {
	@PrimaryGeneratedColumn("uuid") id!: string;
	@Column({ name: "org_id", type: "uuid" }) orgId!: string;
	@Column({ name: "store_id", type: "uuid" }) storeId!: string;
	@Column({ name: "camera_id", type: "uuid" }) cameraId!: string;
	@ManyToOne(() => Camera, { onDelete: "CASCADE" }) @JoinColumn({ name: "camera_id" }) camera?: Camera;
	/** The service token (edge box) that sent it; kept when the token is deleted. */
	@Column({ name: "token_id", type: "uuid", nullable: true }) tokenId!: string | null;
	/** The box's own id for the event: the idempotency key. */
	@Column({ name: "event_id", type: "text" }) eventId!: string;
	@Column({ type: "timestamptz" }) time!: Date;
	@Column({ name: "class_name", type: "text" }) className!: string;
	@Column({ type: "real" }) score!: number;
	/** [x1, y1, x2, y2], normalised 0..1 from the top-left. */
	@Column({ type: "jsonb" }) box!: [number, number, number, number];
	/** The box's own tracker id, when it tracks. */
	@Column({ name: "track_id", type: "text", nullable: true }) trackId!: string | null;
	@Column({ type: "text", nullable: true }) plate!: string | null;
	@Column({ name: "track_key", type: "text", nullable: true }) trackKey!: string | null;
	@Column({ name: "received_at", type: "timestamptz", default: () => "now()" }) receivedAt!: Date;
}
