import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from "typeorm";
import { Organization } from "./organization.entity";

/** A site of an organization (a shop, a home, a parking lot). */
@Entity("stores")
export class Store {
	@PrimaryGeneratedColumn("uuid") id!: string;
	@Index() @Column({ name: "org_id", type: "uuid" }) orgId!: string;
	@ManyToOne(() => Organization, { onDelete: "CASCADE" }) @JoinColumn({ name: "org_id" }) organization?: Organization;
	@Column({ type: "text" }) name!: string;
	@Column({ type: "text", nullable: true }) address!: string | null;
	@Column({ type: "text", default: "UTC" }) timezone!: string;
	@CreateDateColumn({ name: "created_at", type: "timestamptz" }) createdAt!: Date;
	@UpdateDateColumn({ name: "updated_at", type: "timestamptz" }) updatedAt!: Date;
}
