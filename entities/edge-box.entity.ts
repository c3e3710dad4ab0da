import { Column, Entity, Index, JoinColumn, OneToOne, PrimaryColumn } from "typeorm";
import { ServiceToken } from "./service-token.entity";

/** The last heartbeat of an edge box. An edge box is a store's service token: one row per token. */
@Entity("edge_boxes")
export class EdgeBox {
	@PrimaryColumn({ name: "token_id", type: "uuid" }) tokenId!: string;
	@OneToOne(() => ServiceToken, { onDelete: "CASCADE" }) @JoinColumn({ name: "token_id" }) token?: ServiceToken;
	@Column({ name: "org_id", type: "uuid" }) orgId!: string;
	@Index() @Column({ name: "store_id", type: "uuid" }) storeId!: string;
	@Column({ name: "last_heartbeat_at", type: "timestamptz" }) lastHeartbeatAt!: Date;
	@Column({ name: "uptime_sec", type: "real", nullable: true }) uptimeSec!: number | null;
	@Column({ name: "queue_depth", type: "integer", nullable: true }) queueDepth!: number | null;
	/** Camera ids the box reported online in its last heartbeat (those of its store). */
	@Column({ name: "cameras_online", type: "jsonb", default: () => "'[]'" }) camerasOnline!: string[];
	@Column({ name: "config_version", type: "text", nullable: true }) configVersion!: string | null;
	@Column({ name: "software_version", type: "text", nullable: true }) softwareVersion!: string | null;
	@Column({ type: "text", nullable: true }) ip!: string | null;
}
