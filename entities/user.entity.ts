import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from "typeorm";

/** A person who signs in. Emails are stored lower-cased; uniqueness is on that form. */
@Entity("users")
export class User {
	@PrimaryGeneratedColumn("uuid") id!: string;
	@Column({ type: "text", unique: true }) email!: string;
	@Column({ name: "password_hash", type: "text" }) passwordHash!: string;
	@Column({ name: "display_name", type: "text", nullable: true }) displayName!: string | null;
	@Column({ name: "is_super_admin", type: "boolean", default: false }) isSuperAdmin!: boolean;
	/** Bumped on password change: access tokens carry it, so older ones stop working at once. */
	@Column({ name: "token_version", type: "integer", default: 0 }) tokenVersion!: number;
	@Column({ name: "disabled_at", type: "timestamptz", nullable: true }) disabledAt!: Date | null;
	@CreateDateColumn({ name: "created_at", type: "timestamptz" }) createdAt!: Date;
	@UpdateDateColumn({ name: "updated_at", type: "timestamptz" }) updatedAt!: Date;
}
