import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from "typeorm";
import type { Severity } from "./alert-rule.entity";
import { Organization } from "./organization.entity";

export const CHANNEL_KINDS = ["webhook", "telegram", "email"] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/**
 * Where an organization's alerts are sent. The kind's settings (webhook URL and signing secret, bot token and
 * chat, email addresses) are sealed together with AES-256-GCM, like camera stream URLs, and leave only masked.
 */
@Entity("notification_channels")
@Check(`"kind" IN ('webhook', 'telegram', 'email')`)
@Check(`"min_severity" IN ('low', 'medium', 'high', 'critical')`)
export class NotificationChannel {
	@PrimaryGeneratedColumn("uuid") id!: string;
	@Index() @Column({ name: "org_id", type: "uuid" }) orgId!: string;
	@ManyToOne(() => Organization, { onDelete: "CASCADE" }) @JoinColumn({ name: "org_id" }) organization?: Organization;
	@Column({ type: "text" }) kind!: ChannelKind;
	@Column({ type: "text" }) name!: string;
	/** The kind's settings as sealed JSON (`lib/notify/channel-config.ts`). */
	@Column({ name: "config_enc", type: "text" }) configEnc!: string;
	/** Alerts below this severity are not sent here. */
	@Column({ name: "min_severity", type: "text", default: "low" }) minSeverity!: Severity;
	/** Only alerts of these stores; null: every store of the organization. */
	@Column({ name: "store_ids", type: "uuid", array: true, nullable: true }) storeIds!: string[] | null;
	@Column({ type: "boolean", default: true }) enabled!: boolean;
	@CreateDateColumn({ name: "created_at", type: "timestamptz" }) createdAt!: Date;
	@UpdateDateColumn({ name: "updated_at", type: "timestamptz" }) updatedAt!: Date;
}
