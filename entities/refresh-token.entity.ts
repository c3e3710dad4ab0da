import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from "typeorm";
import { User } from "./user.entity";

/**
 * One refresh token of a login session. Tokens of one login form a family: each use rotates to a new token;
 * presenting a rotated one again means it was stolen, and the whole family is revoked.
 */
@Entity("refresh_tokens")
export class RefreshToken {
	@PrimaryGeneratedColumn("uuid") id!: string;
	@Index() @Column({ name: "user_id", type: "uuid" }) userId!: string;
	@ManyToOne(() => User, { onDelete: "CASCADE" }) @JoinColumn({ name: "user_id" }) user?: User;
	@Index() @Column({ name: "family_id", type: "uuid" }) familyId!: string;
	/** sha256 of the opaque token: a database leak yields no usable token. */
	@Column({ name: "token_hash", type: "text", unique: true }) tokenHash!: string;
	@Column({ name: "expires_at", type: "timestamptz" }) expiresAt!: Date;
	@Column({ name: "rotated_at", type: "timestamptz", nullable: true }) rotatedAt!: Date | null;
	@Column({ name: "revoked_at", type: "timestamptz", nullable: true }) revokedAt!: Date | null;
	@Column({ name: "user_agent", type: "text", nullable: true }) userAgent!: string | null;
	@Column({ type: "text", nullable: true }) ip!: string | null;
	@CreateDateColumn({ name: "created_at", type: "timestamptz" }) createdAt!: Date;
}
