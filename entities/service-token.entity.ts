import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from "typeorm";
import { Store } from "./store.entity";

/** A named credential for a machine (edge box, camera uploader), limited to one store. */
@Entity("service_tokens")
export class ServiceToken {
	@PrimaryGeneratedColumn("uuid") id!: string;
	@Column({ name: "org_id", type: "uuid" }) orgId!: string;
	@Index() @Column({ name: "store_id", type: "uuid" }) storeId!: string;
	@ManyToOne(() => Store, { onDelete: "CASCADE" }) @JoinColumn({ name: "store_id" }) store?: Store;
	@Column({ type: "text" }) name!: string;
	@Column({ name: "token_hash", type: "text", unique: true }) tokenHash!: string;
	@Column({ name: "created_by", type: "uuid", nullable: true }) createdBy!: string | null;
	@CreateDateColumn({ name: "created_at", type: "timestamptz" }) createdAt!: Date;
	@Column({ name: "last_used_at", type: "timestamptz", nullable: true }) lastUsedAt!: Date | null;
	@Column({ name: "revoked_at", type: "timestamptz", nullable: true }) revokedAt!: Date | null;
}
