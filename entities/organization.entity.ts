import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from "typeorm";

/** The tenant: a business with its stores, people and cameras. */
@Entity("organizations")
export class Organization {
	@PrimaryGeneratedColumn("uuid") id!: string;
	@Column({ type: "text" }) name!: string;
	@CreateDateColumn({ name: "created_at", type: "timestamptz" }) createdAt!: Date;
	@UpdateDateColumn({ name: "updated_at", type: "timestamptz" }) updatedAt!: Date;
}
