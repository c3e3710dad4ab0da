import { Check, Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from "typeorm";
import { Organization } from "./organization.entity";
import { User } from "./user.entity";

export const ROLES = ["owner", "admin", "staff"] as const;
export type Role = (typeof ROLES)[number];

/** A user's role in one organization. `storeIds` limits staff to some stores; null means every store. */
@Entity("memberships")
@Check(`"role" IN ('owner', 'admin', 'staff')`)
@Unique(["orgId", "userId"])
export class Membership {
	@PrimaryGeneratedColumn("uuid") id!: string;
	@Column({ name: "org_id", type: "uuid" }) orgId!: string;
	@Column({ name: "user_id", type: "uuid" }) userId!: string;
	@ManyToOne(() => Organization, { onDelete: "CASCADE" }) @JoinColumn({ name: "org_id" }) organization?: Organization;
	@ManyToOne(() => User, { onDelete: "CASCADE" }) @JoinColumn({ name: "user_id" }) user?: User;
	@Column({ type: "text" }) role!: Role;
	@Column({ name: "store_ids", type: "uuid", array: true, nullable: true }) storeIds!: string[] | null;
	@CreateDateColumn({ name: "created_at", type: "timestamptz" }) createdAt!: Date;
	@UpdateDateColumn({ name: "updated_at", type: "timestamptz" }) updatedAt!: Date;
}
