import type { MigrationInterface, QueryRunner } from "typeorm";

/** Verdicts on alerts (one per user and alert), learned thresholds per camera and class, and each alert's clean frame. */
export class Feedback1764100000000 implements MigrationInterface {
	name = "Feedback1764100000000";

	public async up(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(
			`CREATE TABLE "verdicts" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "alert_id" uuid NOT NULL, "org_id" uuid NOT NULL, "store_id" uuid NOT NULL, "camera_id" uuid NOT NULL, "class_name" text NOT NULL, "score" real NOT NULL, "user_id" uuid NOT NULL, "verdict" text NOT NULL, "correct_class" text, "note" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_78921e20b289fcc21360ba63dcb" UNIQUE ("alert_id", "user_id"), CONSTRAINT "CHK_3d46bab36cbec5d4baea4fdb1e" CHECK (("verdict" = 'wrong_class') = ("correct_class" IS NOT NULL)), CONSTRAINT "CHK_9de1e29e0c36299535b1926913" CHECK ("verdict" IN ('true_positive', 'false_positive', 'wrong_class')), CONSTRAINT "PK_2c4a14769fb5ae0dac9cafbb941" PRIMARY KEY ("id"))`,
		);
		await queryRunner.query(`CREATE INDEX "IDX_fd294d9d7895bf244a06cb782e" ON "verdicts" ("store_id", "alert_id")`);
		await queryRunner.query(`CREATE INDEX "IDX_00807d962847e990b408c97a1d" ON "verdicts" ("camera_id", "class_name", "updated_at")`);
		await queryRunner.query(
			`CREATE TABLE "learned_thresholds" ("camera_id" uuid NOT NULL, "class_name" text NOT NULL, "org_id" uuid NOT NULL, "store_id" uuid NOT NULL, "learned" real, "pinned" real, "pinned_by" uuid, "pinned_at" TIMESTAMP WITH TIME ZONE, "verdicts" integer NOT NULL DEFAULT '0', "true_positives" integer NOT NULL DEFAULT '0', "false_positives" integer NOT NULL DEFAULT '0', "precision" real, "precision_lower_bound" real, "suppressed_share" real NOT NULL DEFAULT '0', "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_16b4f8a271ea029cb4e6897d429" PRIMARY KEY ("camera_id", "class_name"))`,
		);
		await queryRunner.query(`ALTER TABLE "alerts" ADD "frame_key" text`);
		await queryRunner.query(
			`ALTER TABLE "verdicts" ADD CONSTRAINT "FK_42d20c09e01c4f732a94cfce95e" FOREIGN KEY ("alert_id") REFERENCES "alerts"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(
			`ALTER TABLE "learned_thresholds" ADD CONSTRAINT "FK_799685edf187ee4722d5c665ea3" FOREIGN KEY ("camera_id") REFERENCES "cameras"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
	}

	public async down(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(`ALTER TABLE "learned_thresholds" DROP CONSTRAINT "FK_799685edf187ee4722d5c665ea3"`);
		await queryRunner.query(`ALTER TABLE "verdicts" DROP CONSTRAINT "FK_42d20c09e01c4f732a94cfce95e"`);
		await queryRunner.query(`ALTER TABLE "alerts" DROP COLUMN "frame_key"`);
		await queryRunner.query(`DROP TABLE "learned_thresholds"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_00807d962847e990b408c97a1d"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_fd294d9d7895bf244a06cb782e"`);
		await queryRunner.query(`DROP TABLE "verdicts"`);
	}
}
