import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from "typeorm";
import { Camera } from "./camera.entity";
import { Store } from "./store.entity";
import { User } from "./user.entity";

/**
 * A user silencing a store or one camera for their own email notifications, until a time or for good.
 * Organization-wide channels (webhook, Telegram) are not personal and ignore it.
 */
@Entity("notification_mutes")
export class NotificationMute {
	@PrimaryGeneratedColumn("uuid") id!: string;
	@Index() @Column({ name: "user_id", type: "uuid" }) userId!: string;
	@ManyToOne(() => User, { onDelete: "CASCADE" }) @JoinColumn({ name: "user_id" }) user?: User;
	@Column({ name: "org_id", type: "uuid" }) orgId!: string;
	@Index() @Column({ name: "store_id", type: "uuid" }) storeId!: string;
	@ManyToOne(() => Store, { onDelete: "CASCADE" }) @JoinColumn({ name: "store_id" }) store?: Store;
	/** null: the whole store. */
	@Column({ name: "camera_id", type: "uuid", nullable: true }) cameraId!: string | null;
	@ManyToOne(() => Camera, { onDelete: "CASCADE" }) @JoinColumn({ name: "camera_id" }) camera?: Camera;
	/** null: until the user removes it. */
	@Column({ type: "timestamptz", nullable: true }) until!: Date | null;
	@CreateDateColumn({ name: "created_at", type: "timestamptz" }) createdAt!: Date;
}
