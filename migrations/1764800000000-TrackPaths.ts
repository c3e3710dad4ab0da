import type { MigrationInterface, QueryRunner } from "typeorm";

/** Each track's path (its anchor's [time, x, y] points), so a clip's tracks can be drawn over a still frame. Tracks stored before have none. */
export class TrackPaths1764800000000 implements MigrationInterface {
	name = "TrackPaths1764800000000";

	public async up(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(`ALTER TABLE "tracks" ADD "path" jsonb NOT NULL DEFAULT '[]'`);
	}

	public async down(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(`ALTER TABLE "tracks" DROP COLUMN "path"`);
	}
}
