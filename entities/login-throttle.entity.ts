import { Column, Entity, PrimaryColumn } from "typeorm";

/** Failed-login counter for one key (`account:<email>` or `ip:<address>`), shared by every auth node. */
@Entity("login_throttles")
export class LoginThrottle {
	@PrimaryColumn({ type: "text" }) key!: string;
	@Column({ type: "integer", default: 0 }) failures!: number;
	@Column({ name: "window_started_at", type: "timestamptz" }) windowStartedAt!: Date;
	@Column({ name: "locked_until", type: "timestamptz", nullable: true }) lockedUntil!: Date | null;
}
