import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The audit log (append-only: a trigger refuses UPDATE, DELETE and TRUNCATE; no foreign key to organizations,
 * so the trail outlives them), retention policies and run reports, and clips whose video retention removed
 * (`expired_at`; the same content may then be uploaded again, so the sha256 is unique among live clips only).
 */
export class AuditRetention1764400000000 implements MigrationInterface {
	name = "AuditRetention1764400000000";

	public async up(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(
			`CREATE TABLE "audit_log" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "seq" BIGSERIAL NOT NULL, "org_id" uuid, "actor_kind" text NOT NULL, "actor_id" uuid, "actor_email" text, "action" text NOT NULL, "target_type" text, "target_id" text, "details" jsonb NOT NULL DEFAULT '{}', "ip" text, "user_agent" text, "request_id" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_ce5b9b7d945cab0a6c604bafd9e" UNIQUE ("seq"), CONSTRAINT "CHK_9b47fe6b08fbce652c32c3995c" CHECK ("actor_kind" IN ('user', 'service', 'system')), CONSTRAINT "PK_07fefa57f7f5ab8fc3f52b3ed0b" PRIMARY KEY ("id"))`,
		);
		await queryRunner.query(`CREATE INDEX "IDX_1d9df8b20a4b0fec3513053809" ON "audit_log" ("org_id", "seq") `);
		await queryRunner.query(
			`CREATE FUNCTION "audit_log_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege'; END $$`,
		);
		await queryRunner.query(
			`CREATE TRIGGER "audit_log_no_change" BEFORE UPDATE OR DELETE ON "audit_log" FOR EACH ROW EXECUTE FUNCTION "audit_log_append_only"()`,
		);
		await queryRunner.query(
			`CREATE TRIGGER "audit_log_no_truncate" BEFORE TRUNCATE ON "audit_log" FOR EACH STATEMENT EXECUTE FUNCTION "audit_log_append_only"()`,
		);
		await queryRunner.query(
			`CREATE TABLE "retention_policies" ("org_id" uuid NOT NULL, "clips_days" integer, "snapshots_days" integer, "detections_days" integer, "updated_by" uuid, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_41f035701261cec8f9b0d64656d" PRIMARY KEY ("org_id"))`,
		);
		await queryRunner.query(
			`CREATE TABLE "retention_runs" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "trigger" text NOT NULL, "node" text NOT NULL, "started_at" TIMESTAMP WITH TIME ZONE NOT NULL, "finished_at" TIMESTAMP WITH TIME ZONE, "removed" jsonb NOT NULL, "per_org" jsonb NOT NULL DEFAULT '{}', "errors" jsonb NOT NULL DEFAULT '[]', CONSTRAINT "CHK_df437e5847c3a838f1c74d89ee" CHECK ("trigger" IN ('schedule', 'manual')), CONSTRAINT "PK_80f0aec401112f8d4bad156a908" PRIMARY KEY ("id"))`,
		);
		await queryRunner.query(`CREATE INDEX "IDX_e74b0b48cf8c59c5cb6af3f218" ON "retention_runs" ("started_at") `);
		await queryRunner.query(
			`ALTER TABLE "retention_policies" ADD CONSTRAINT "FK_41f035701261cec8f9b0d64656d" FOREIGN KEY ("org_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(`ALTER TABLE "clips" ADD "expired_at" TIMESTAMP WITH TIME ZONE`);
		await queryRunner.query(`ALTER TABLE "clips" DROP CONSTRAINT "UQ_905c9807e1081b75c9707d17e60"`);
		await queryRunner.query(`CREATE UNIQUE INDEX "IDX_e433843aee0fc508b697e966f0" ON "clips" ("camera_id", "sha256") WHERE "expired_at" IS NULL`);
	}

	public async down(queryRunner: QueryRunner): Promise<void> {
		// Fails if the same content was uploaded again after its first clip expired (two rows per camera and sha256).
		await queryRunner.query(`DROP INDEX "public"."IDX_e433843aee0fc508b697e966f0"`);
		await queryRunner.query(`ALTER TABLE "clips" ADD CONSTRAINT "UQ_905c9807e1081b75c9707d17e60" UNIQUE ("camera_id", "sha256")`);
		await queryRunner.query(`ALTER TABLE "clips" DROP COLUMN "expired_at"`);
		await queryRunner.query(`ALTER TABLE "retention_policies" DROP CONSTRAINT "FK_41f035701261cec8f9b0d64656d"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_e74b0b48cf8c59c5cb6af3f218"`);
		await queryRunner.query(`DROP TABLE "retention_runs"`);
		await queryRunner.query(`DROP TABLE "retention_policies"`);
		await queryRunner.query(`DROP TRIGGER "audit_log_no_truncate" ON "audit_log"`);
		await queryRunner.query(`DROP TRIGGER "audit_log_no_change" ON "audit_log"`);
		await queryRunner.query(`DROP FUNCTION "audit_log_append_only"()`);
		await queryRunner.query(`DROP INDEX "public"."IDX_1d9df8b20a4b0fec3513053809"`);
		await queryRunner.query(`DROP TABLE "audit_log"`);
	}
}
