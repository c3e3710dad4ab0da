import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Live cameras: each stream's lease and state; clips that are segments of a stream, with their wall-clock start;
 * and the tracker a segment hands to the next.
 */
export class LiveStreams1764900000000 implements MigrationInterface {
	name = "LiveStreams1764900000000";

	public async up(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(
			`CREATE TABLE "live_streams" ("camera_id" uuid NOT NULL, "org_id" uuid NOT NULL, "holder" text, "lease_expires_at" TIMESTAMP WITH TIME ZONE, "status" text NOT NULL DEFAULT 'idle', "error" text, "message" text, "since" TIMESTAMP WITH TIME ZONE, "last_frame_at" TIMESTAMP WITH TIME ZONE, "segments" integer NOT NULL DEFAULT '0', "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_093ad6feaff509a65670060f4f0" PRIMARY KEY ("camera_id"))`,
		);
		await queryRunner.query(
			`ALTER TABLE "live_streams" ADD CONSTRAINT "FK_093ad6feaff509a65670060f4f0" FOREIGN KEY ("camera_id") REFERENCES "cameras"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(`ALTER TABLE "clips" ADD "source" text NOT NULL DEFAULT 'upload'`);
		await queryRunner.query(`ALTER TABLE "clips" ADD "recorded_at" TIMESTAMP WITH TIME ZONE`);
		await queryRunner.query(`ALTER TABLE "clip_evaluations" ADD "handover" jsonb`);
	}

	public async down(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(`ALTER TABLE "clip_evaluations" DROP COLUMN "handover"`);
		await queryRunner.query(`ALTER TABLE "clips" DROP COLUMN "recorded_at"`);
		await queryRunner.query(`ALTER TABLE "clips" DROP COLUMN "source"`);
		await queryRunner.query(`ALTER TABLE "live_streams" DROP CONSTRAINT "FK_093ad6feaff509a65670060f4f0"`);
		await queryRunner.query(`DROP TABLE "live_streams"`);
	}
}
