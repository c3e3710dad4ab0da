import type { MigrationInterface, QueryRunner } from "typeorm";

/** Alerts go with their camera: edge alerts have no clip to cascade from. */
export class AlertCamera1764500000000 implements MigrationInterface {
	name = "AlertCamera1764500000000";

	public async up(queryRunner: QueryRunner): Promise<void> {
		// Edge alerts of cameras deleted before this constraint existed.
		await queryRunner.query(`DELETE FROM "alerts" a WHERE NOT EXISTS (SELECT 1 FROM "cameras" c WHERE c."id" = a."camera_id")`);
		await queryRunner.query(
			`ALTER TABLE "alerts" ADD CONSTRAINT "FK_ec1934a6d71f761a7d6f630323e" FOREIGN KEY ("camera_id") REFERENCES "cameras"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
	}

	public async down(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(`ALTER TABLE "alerts" DROP CONSTRAINT "FK_ec1934a6d71f761a7d6f630323e"`);
	}
}
