import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from "typeorm";
import { Alert } from "./alert.entity";
import { NotificationChannel } from "./notification-channel.entity";
import { NotificationDigest } from "./notification-digest.entity";

export const DELIVERY_STATUSES = ["pending", "sent", "failed", "digested"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * One alert sent to one channel (and, for email, one recipient). Unique, so every notifier node hearing the
 * same `alert.raised` inserts it once, and only the node that inserted it queues the job (job id = this id).
 */
@Entity("notification_deliveries")
@Unique(["alertId", "channelId", "recipient"])
@Check(`"status" IN ('pending', 'sent', 'failed', 'digested')`)
export class NotificationDelivery {
	@PrimaryGeneratedColumn("uuid") id!: string;
	@Column({ name: "org_id", type: "uuid" }) orgId!: string;
	@Column({ name: "alert_id", type: "uuid" }) alertId!: string;
	@ManyToOne(() => Alert, { onDelete: "CASCADE" }) @JoinColumn({ name: "alert_id" }) alert?: Alert;
	@Index() @Column({ name: "channel_id", type: "uuid" }) channelId!: string;
	@ManyToOne(() => NotificationChannel, { onDelete: "CASCADE" }) @JoinColumn({ name: "channel_id" }) channel?: NotificationChannel;
	/** The email address for email channels; empty for webhook and Telegram. */
	@Column({ type: "text", default: "" }) recipient!: string;
	@Index() @Column({ type: "text", default: "pending" }) status!: DeliveryStatus;
	@Column({ type: "integer", default: 0 }) attempts!: number;
	@Column({ name: "last_error", type: "text", nullable: true }) lastError!: string | null;
	/** `digested`: the rate limit held this alert back; it is listed in this digest instead. */
	@Index() @Column({ name: "digest_id", type: "uuid", nullable: true }) digestId!: string | null;
	@ManyToOne(() => NotificationDigest, { onDelete: "SET NULL" }) @JoinColumn({ name: "digest_id" }) digest?: NotificationDigest;
	/** Set once its job is in the queue; a pending delivery without it (a node died in between) is queued again. */
	@Column({ name: "queued_at", type: "timestamptz", nullable: true }) queuedAt!: Date | null;
	@Column({ name: "sent_at", type: "timestamptz", nullable: true }) sentAt!: Date | null;
	@CreateDateColumn({ name: "created_at", type: "timestamptz" }) createdAt!: Date;
	@UpdateDateColumn({ name: "updated_at", type: "timestamptz" }) updatedAt!: Date;
}
