import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from "typeorm";
import { Camera } from "./camera.entity";
import { NotificationChannel } from "./notification-channel.entity";

export const DIGEST_STATUSES = ["collecting", "pending", "sent", "failed"] as const;
export type DigestStatus = (typeof DIGEST_STATUSES)[number];

/**
 * One message standing for the alerts a channel held back about one camera (and email recipient) in one rate
 * window: `collecting` until the window ends, then `pending` while its job sends it. Unique per window, so nodes
 * holding alerts at the same time add them to the same digest.
 */
@Entity("notification_digests")
@Unique(["channelId", "cameraId", "recipient", "windowStart"])
@Check(`"status" IN ('collecting', 'pending', 'sent', 'failed')`)
@Index(["status", "dueAt"])
export class NotificationDigest {
	@PrimaryGeneratedColumn("uuid") id!: string;
	@Column({ name: "org_id", type: "uuid" }) orgId!: string;
	@Column({ name: "channel_id", type: "uuid" }) channelId!: string;
	@ManyToOne(() => NotificationChannel, { onDelete: "CASCADE" }) @JoinColumn({ name: "channel_id" }) channel?: NotificationChannel;
	@Index() @Column({ name: "camera_id", type: "uuid" }) cameraId!: string;
	@ManyToOne(() => Camera, { onDelete: "CASCADE" }) @JoinColumn({ name: "camera_id" }) camera?: Camera;
	/** The email address for email channels; empty for webhook and Telegram. */
	@Column({ type: "text", default: "" }) recipient!: string;
	@Column({ name: "window_start", type: "timestamptz" }) windowStart!: Date;
	/** When the window ends and the digest is sent. */
	@Column({ name: "due_at", type: "timestamptz" }) dueAt!: Date;
	@Column({ type: "text", default: "collecting" }) status!: DigestStatus;
	@Column({ type: "integer", default: 0 }) attempts!: number;
	@Column({ name: "last_error", type: "text", nullable: true }) lastError!: string | null;
	/** Set once its job is in the queue; a pending digest without it (a node died in between) is queued again. */
	@Column({ name: "queued_at", type: "timestamptz", nullable: true }) queuedAt!: Date | null;
	@Column({ name: "sent_at", type: "timestamptz", nullable: true }) sentAt!: Date | null;
	@CreateDateColumn({ name: "created_at", type: "timestamptz" }) createdAt!: Date;
	@UpdateDateColumn({ name: "updated_at", type: "timestamptz" }) updatedAt!: Date;
}
