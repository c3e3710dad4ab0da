import type { MigrationInterface, QueryRunner } from "typeorm";

/** Alert rules, alerts (unique per clip, track and rule), tracks, and what each camera remembers between clips. */
export class Alerts1764000000000 implements MigrationInterface {
	name = "Alerts1764000000000";

	public async up(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(
			`CREATE TABLE "alerts" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "seq" BIGSERIAL NOT NULL, "org_id" uuid NOT NULL, "store_id" uuid NOT NULL, "camera_id" uuid NOT NULL, "clip_id" uuid NOT NULL, "track_no" integer NOT NULL, "rule_id" uuid NOT NULL, "class_name" text NOT NULL, "score" real NOT NULL, "severity" text NOT NULL, "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL, "frame_time" real NOT NULL, "box" jsonb NOT NULL, "snapshot_key" text, "status" text NOT NULL DEFAULT 'open', "acknowledged_by" uuid, "acknowledged_at" TIMESTAMP WITH TIME ZONE, "resolved_by" uuid, "resolved_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_efac868c013bc4e33257578878e" UNIQUE ("seq"), CONSTRAINT "UQ_1afb70c26ac1eaadf954f1c8245" UNIQUE ("clip_id", "track_no", "rule_id"), CONSTRAINT "CHK_a3a783cc473eacfb2c62e06ccb" CHECK ("status" IN ('open', 'acknowledged', 'resolved')), CONSTRAINT "PK_60f895662df096bfcdfab7f4b96" PRIMARY KEY ("id"))`,
		);
		await queryRunner.query(`CREATE INDEX "IDX_ec1934a6d71f761a7d6f630323" ON "alerts" ("camera_id")`);
		await queryRunner.query(`CREATE INDEX "IDX_53f2a8591f04646b7c97b74042" ON "alerts" ("store_id", "seq")`);
		await queryRunner.query(
			`CREATE TABLE "alert_rules" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "org_id" uuid NOT NULL, "store_id" uuid NOT NULL, "camera_id" uuid, "name" text NOT NULL, "classes" text array NOT NULL DEFAULT '{}', "min_score" real NOT NULL DEFAULT '0.5', "zone_ids" uuid array NOT NULL DEFAULT '{}', "min_duration_sec" real NOT NULL DEFAULT '0', "schedule" jsonb, "cooldown_sec" integer NOT NULL DEFAULT '60', "severity" text NOT NULL DEFAULT 'medium', "enabled" boolean NOT NULL DEFAULT true, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "CHK_23f774c178a40a2a42e3363d8b" CHECK ("severity" IN ('low', 'medium', 'high', 'critical')), CONSTRAINT "PK_ae580564f087ffab9d229225aec" PRIMARY KEY ("id"))`,
		);
		await queryRunner.query(`CREATE INDEX "IDX_2a593356ab89f103e53f683f08" ON "alert_rules" ("store_id")`);
		await queryRunner.query(
			`CREATE TABLE "camera_states" ("camera_id" uuid NOT NULL, "stationary_memory" jsonb NOT NULL DEFAULT '[]', "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_2be09b2b62311593fac446e877d" PRIMARY KEY ("camera_id"))`,
		);
		await queryRunner.query(
			`CREATE TABLE "tracks" ("clip_id" uuid NOT NULL, "track_no" integer NOT NULL, "class_name" text NOT NULL, "first_time" real NOT NULL, "last_time" real NOT NULL, "best_time" real NOT NULL, "best_box" jsonb NOT NULL, "max_score" real NOT NULL, "mean_score" real NOT NULL, "stationary" boolean NOT NULL, "zones_entered" jsonb NOT NULL, "line_crossings" jsonb NOT NULL, CONSTRAINT "PK_dc44642d8cc1a5daa682fba9888" PRIMARY KEY ("clip_id", "track_no"))`,
		);
		await queryRunner.query(
			`ALTER TABLE "alerts" ADD CONSTRAINT "FK_d8c50594f0d4d36c2ac9573ed22" FOREIGN KEY ("clip_id") REFERENCES "clips"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(
			`ALTER TABLE "alert_rules" ADD CONSTRAINT "FK_2a593356ab89f103e53f683f089" FOREIGN KEY ("store_id") REFERENCES "stores"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(
			`ALTER TABLE "camera_states" ADD CONSTRAINT "FK_2be09b2b62311593fac446e877d" FOREIGN KEY ("camera_id") REFERENCES "cameras"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(
			`ALTER TABLE "tracks" ADD CONSTRAINT "FK_3022beac75974e98b5626ffa766" FOREIGN KEY ("clip_id") REFERENCES "clips"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
	}

	public async down(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(`ALTER TABLE "tracks" DROP CONSTRAINT "FK_3022beac75974e98b5626ffa766"`);
		await queryRunner.query(`ALTER TABLE "camera_states" DROP CONSTRAINT "FK_2be09b2b62311593fac446e877d"`);
		await queryRunner.query(`ALTER TABLE "alert_rules" DROP CONSTRAINT "FK_2a593356ab89f103e53f683f089"`);
		await queryRunner.query(`ALTER TABLE "alerts" DROP CONSTRAINT "FK_d8c50594f0d4d36c2ac9573ed22"`);
		await queryRunner.query(`DROP TABLE "tracks"`);
		await queryRunner.query(`DROP TABLE "camera_states"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_2a593356ab89f103e53f683f08"`);
		await queryRunner.query(`DROP TABLE "alert_rules"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_53f2a8591f04646b7c97b74042"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_ec1934a6d71f761a7d6f630323"`);
		await queryRunner.query(`DROP TABLE "alerts"`);
	}
}
