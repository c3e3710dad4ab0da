import type { MigrationInterface, QueryRunner } from "typeorm";

/** A camera's recording is browsed by time: its clips by camera and wall-clock start (`clip.recording`). */
export class RecordingIndex1765000000000 implements MigrationInterface {
	name = "RecordingIndex1765000000000";

	public async up(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(`CREATE INDEX "IDX_d0cc5f38fc6da00c3fc13a5076" ON "clips" ("camera_id", "recorded_at") `);
	}

	public async down(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(`DROP INDEX "public"."IDX_d0cc5f38fc6da00c3fc13a5076"`);
	}
}
