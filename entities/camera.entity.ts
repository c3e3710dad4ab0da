import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from "typeorm";
import { Store } from "./store.entity";

export const CAMERA_KINDS = ["rtsp", "onvif", "http", "upload", "edge"] as const;
/** Kinds whose stream URL a stream node pulls (upload and edge cameras send to Vigil instead). */
export const STREAM_KINDS = ["rtsp", "http", "onvif"] as const;

/** A camera of a store. The stream URL is kept encrypted (it often carries a password). */
@Entity("cameras")
@Check(`"sample_fps" > 0 AND "sample_fps" <= 30`)
export class Camera {
	@PrimaryGeneratedColumn("uuid") id!: string;
	@Index() @Column({ name: "org_id", type: "uuid" }) orgId!: string;
	@Index() @Column({ name: "store_id", type: "uuid" }) storeId!: string;
	@ManyToOne(() => Store, { onDelete: "CASCADE" }) @JoinColumn({ name: "store_id" }) store?: Store;
	@Column({ type: "text" }) name!: string;
	@Column({ type: "text" }) kind!: (typeof CAMERA_KINDS)[number];
	@Column({ type: "text", nullable: true }) vendor!: string | null;
	/** AES-256-GCM sealed stream URL (`lib/secrets.ts`), never returned in clear. */
	@Column({ name: "stream_url_enc", type: "text", nullable: true }) streamUrlEnc!: string | null;
	@Column({ type: "text", default: "UTC" }) timezone!: string;
	@Column({ type: "boolean", default: true }) enabled!: boolean;
	@Column({ name: "sample_fps", type: "real", default: 5 }) sampleFps!: number;
	/** Detect every n-th sampled frame (1: all); the frames between keep the detections before them. */
	@Column({ name: "detect_every", type: "integer", default: 1 }) detectEvery!: number;
	@Column({ type: "text", array: true, default: () => "'{person,car}'" }) classes!: string[];
	@CreateDateColumn({ name: "created_at", type: "timestamptz" }) createdAt!: Date;
	@UpdateDateColumn({ name: "updated_at", type: "timestamptz" }) updatedAt!: Date;
}
