import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from "typeorm";
import { ServiceToken } from "./service-token.entity";

export const EDGE_COMMAND_KINDS = ["config_update", "reprocess", "restart"] as const;
export type EdgeCommandKind = (typeof EDGE_COMMAND_KINDS)[number];
export const EDGE_COMMAND_STATUSES = ["pending", "done", "failed"] as const;
export type EdgeCommandStatus = (typeof EDGE_COMMAND_STATUSES)[number];

/** Something an admin asked an edge box to do. Pending until the box acknowledges it, however often delivered. */
@Entity("edge_commands")
@Check(`"kind" IN ('config_update', 'reprocess', 'restart')`)
@Check(`"status" IN ('pending', 'done', 'failed')`)
@Index(["tokenId", "status"])
export class EdgeCommand {
	@PrimaryGeneratedColumn("uuid") id!: string;
	@Column({ name: "org_id", type: "uuid" }) orgId!: string;
	@Index() @Column({ name: "store_id", type: "uuid" }) storeId!: string;
	/** The box (service token) it is for. */
	@Column({ name: "token_id", type: "uuid" }) tokenId!: string;
	@ManyToOne(() => ServiceToken, { onDelete: "CASCADE" }) @JoinColumn({ name: "token_id" }) token?: ServiceToken;
	@Column({ type: "text" }) kind!: EdgeCommandKind;
	@Column({ type: "jsonb", nullable: true }) payload!: Record<string, unknown> | null;
	@Column({ type: "text", default: "pending" }) status!: EdgeCommandStatus;
	@Column({ name: "created_by", type: "uuid", nullable: true }) createdBy!: string | null;
	@CreateDateColumn({ name: "created_at", type: "timestamptz" }) createdAt!: Date;
	/** Heartbeat answers that carried it. */
	@Column({ name: "delivered_count", type: "integer", default: 0 }) deliveredCount!: number;
	@Column({ name: "first_delivered_at", type: "timestamptz", nullable: true }) firstDeliveredAt!: Date | null;
	@Column({ name: "last_delivered_at", type: "timestamptz", nullable: true }) lastDeliveredAt!: Date | null;
	@Column({ name: "acked_at", type: "timestamptz", nullable: true }) ackedAt!: Date | null;
	/** What the box said when it acknowledged (an error, for failed). */
	@Column({ name: "result_message", type: "text", nullable: true }) resultMessage!: string | null;
}
