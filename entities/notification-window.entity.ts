import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from "typeorm";
import { Camera } from "./camera.entity";
import { NotificationChannel } from "./notification-channel.entity";

/**
 * The current rate window of one channel, camera and recipient: when it began and how many messages it has
 * sent. Kept in the database (and locked while deciding) so every notifier node counts against the same limit.
 */
@Entity("notification_windows")
export class NotificationWindow {
	@PrimaryColumn({ name: "channel_id", type: "uuid" }) channelId!: string;
	@ManyToOne(() => NotificationChannel, { onDelete: "CASCADE" }) @JoinColumn({ name: "channel_id" }) channel?: NotificationChannel;
	@PrimaryColumn({ name: "camera_id", type: "uuid" }) cameraId!: string;
	@ManyToOne(() => Camera, { onDelete: "CASCADE" }) @JoinColumn({ name: "camera_id" }) camera?: Camera;
	@PrimaryColumn({ type: "text" }) recipient!: string;
	@Column({ name: "window_start", type: "timestamptz" }) windowStart!: Date;
	@Column({ type: "integer", default: 0 }) sent!: number;
}
