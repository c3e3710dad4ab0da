import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * A live segment is one by its camera and wall-clock start, not by its bytes: a frozen camera or a still scene sends
 * the same bytes twice, and each is a segment of the recording. Uploads stay one per content.
 */
export class LiveSegmentIdentity1765200000000 implements MigrationInterface {
	name = "LiveSegmentIdentity1765200000000";

	public async up(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(`DROP INDEX "public"."IDX_e433843aee0fc508b697e966f0"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_d0cc5f38fc6da00c3fc13a5076"`);
		await queryRunner.query(`CREATE UNIQUE INDEX "IDX_c25b0ef81571a570bedec927f8" ON "clips" ("camera_id", "recorded_at") WHERE "source" = 'live'`);
		await queryRunner.query(
			`CREATE UNIQUE INDEX "IDX_92e67b500c0f09f4a09b94be45" ON "clips" ("camera_id", "sha256") WHERE "expired_at" IS NULL AND "source" <> 'live'`,
		);
	}

	public async down(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(`DROP INDEX "public"."IDX_92e67b500c0f09f4a09b94be45"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_c25b0ef81571a570bedec927f8"`);
		await queryRunner.query(`CREATE INDEX "IDX_d0cc5f38fc6da00c3fc13a5076" ON "clips" ("camera_id", "recorded_at") `);
		await queryRunner.query(`CREATE UNIQUE INDEX "IDX_e433843aee0fc508b697e966f0" ON "clips" ("camera_id", "sha256") WHERE "expired_at" IS NULL`);
	}
}
