import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Durable alerting: a clip's evaluation state (the tracker after its last evaluated frame) and the notifier's
 * outbox mark on alerts. Alerts already there count as routed; rule minimums below the tracker's start score
 * had no effect and now say so.
 */
export class DurableEvaluation1764700000000 implements MigrationInterface {
	name = "DurableEvaluation1764700000000";

	public async up(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(
			`CREATE TABLE "clip_evaluations" ("clip_id" uuid NOT NULL, "generation" integer NOT NULL, "frames_evaluated" integer NOT NULL, "tracker" jsonb NOT NULL, "decided" jsonb NOT NULL DEFAULT '[]', "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_ce1b4e3d6069a2196605febd3c4" PRIMARY KEY ("clip_id"))`,
		);
		await queryRunner.query(
			`ALTER TABLE "clip_evaluations" ADD CONSTRAINT "FK_ce1b4e3d6069a2196605febd3c4" FOREIGN KEY ("clip_id") REFERENCES "clips"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(`ALTER TABLE "alerts" ADD "routed_at" TIMESTAMP WITH TIME ZONE`);
		await queryRunner.query(`UPDATE "alerts" SET "routed_at" = "created_at"`);
		await queryRunner.query(`CREATE INDEX "IDX_alerts_unrouted" ON "alerts" ("created_at") WHERE "routed_at" IS NULL`);
		await queryRunner.query(`UPDATE "alert_rules" SET "min_score" = 0.5 WHERE "min_score" < 0.5`);
	}

	public async down(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(`DROP INDEX "public"."IDX_alerts_unrouted"`);
		await queryRunner.query(`ALTER TABLE "alerts" DROP COLUMN "routed_at"`);
		await queryRunner.query(`ALTER TABLE "clip_evaluations" DROP CONSTRAINT "FK_ce1b4e3d6069a2196605febd3c4"`);
		await queryRunner.query(`DROP TABLE "clip_evaluations"`);
	}
}
