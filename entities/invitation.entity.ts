import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from "typeorm";
import { Organization } from "./organization.entity";
import type { Role } from "./membership.entity";

/** An offer of a role in an organization to an email; its token is single-use and expires. */
@Entity("invitations")
@Check(`"role" IN ('owner', 'admin', 'staff')`)
export class Invitation {
	@PrimaryGeneratedColumn("uuid") id!: string;
	@Index() @Column({ name: "org_id", type: "uuid" }) orgId!: string;
	@ManyToOne(() => Organization, { onDelete: "CASCADE" }) @JoinColumn({ name: "org_id" }) organization?: Organization;
	@Column({ type: "text" }) email!: string;
	@Column({ type: "text" }) role!: Role;
	@Column({ name: "store_ids", type: "uuid", array: true, nullable: true }) storeIds!: string[] | null;
	@Column({ name: "token_hash", type: "text", unique: true }) tokenHash!: string;
	@Column({ name: "invited_by", type: "uuid", nullable: true }) invitedBy!: string | null;
	@Column({ name: "expires_at", type: "timestamptz" }) expiresAt!: Date;
	@Column({ name: "accepted_at", type: "timestamptz", nullable: true }) acceptedAt!: Date | null;
	@Column({ name: "accepted_by", type: "uuid", nullable: true }) acceptedBy!: string | null;
	@Column({ name: "revoked_at", type: "timestamptz", nullable: true }) revokedAt!: Date | null;
	@CreateDateColumn({ name: "created_at", type: "timestamptz" }) createdAt!: Date;
}
