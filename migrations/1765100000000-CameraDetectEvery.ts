import type { MigrationInterface, QueryRunner } from "typeorm";

/** A camera may be detected every n-th analysed frame (`detectEvery`), the tracker bridging the frames between. */
export class CameraDetectEvery1765100000000 implements MigrationInterface {
	name = "CameraDetectEvery1765100000000";

	public async up(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(`ALTER TABLE "cameras" ADD "detect_every" integer NOT NULL DEFAULT 1`);
	}

	public async down(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(`ALTER TABLE "cameras" DROP COLUMN "detect_every"`);
	}
}
