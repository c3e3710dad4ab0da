import type { MigrationInterface, QueryRunner } from "typeorm";

/** An operator at `vigil repl` is an actor of the audit log of its own kind (not a user, not the system). */
export class OperatorActor1765300000000 implements MigrationInterface {
	name = "OperatorActor1765300000000";

	public async up(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(`ALTER TABLE "audit_log" DROP CONSTRAINT "CHK_9b47fe6b08fbce652c32c3995c"`);
		await queryRunner.query(
			`ALTER TABLE "audit_log" ADD CONSTRAINT "CHK_efc2318bc00dc38f4bc5e7b157" CHECK ("actor_kind" IN ('user', 'service', 'system', 'operator'))`,
		);
	}

	public async down(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(`ALTER TABLE "audit_log" DROP CONSTRAINT "CHK_efc2318bc00dc38f4bc5e7b157"`);
		await queryRunner.query(`ALTER TABLE "audit_log" ADD CONSTRAINT "CHK_9b47fe6b08fbce652c32c3995c" CHECK ("actor_kind" IN ('user', 'service', 'system'))`);
	}
}
