import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Notifications: channels per organization (sealed settings), one delivery row per alert, channel and recipient
 * (unique: the trigger is idempotent across nodes), rate windows and digests kept in the database so any node
 * can flush them, and users' mutes.
 */
export class Notifications1764200000000 implements MigrationInterface {
	name = "Notifications1764200000000";

	public async up(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(
			`CREATE TABLE "notification_channels" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "org_id" uuid NOT NULL, "kind" text NOT NULL, "name" text NOT NULL, "config_enc" text NOT NULL, "min_severity" text NOT NULL DEFAULT 'low', "store_ids" uuid array, "enabled" boolean NOT NULL DEFAULT true, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "CHK_4ffd1df99f4e7e478879af9dd1" CHECK ("min_severity" IN ('low', 'medium', 'high', 'critical')), CONSTRAINT "CHK_f8f41e31b7c45099adaf962f11" CHECK ("kind" IN ('webhook', 'telegram', 'email')), CONSTRAINT "PK_3bc0cb5b60e8659f5fc859b2af0" PRIMARY KEY ("id"))`,
		);
		await queryRunner.query(`CREATE INDEX "IDX_5b54c3f2610e2f60fde48fb5c9" ON "notification_channels" ("org_id")`);
		await queryRunner.query(
			`CREATE TABLE "notification_digests" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "org_id" uuid NOT NULL, "channel_id" uuid NOT NULL, "camera_id" uuid NOT NULL, "recipient" text NOT NULL DEFAULT '', "window_start" TIMESTAMP WITH TIME ZONE NOT NULL, "due_at" TIMESTAMP WITH TIME ZONE NOT NULL, "status" text NOT NULL DEFAULT 'collecting', "attempts" integer NOT NULL DEFAULT '0', "last_error" text, "queued_at" TIMESTAMP WITH TIME ZONE, "sent_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_7fdc19797b5dc6994dcb99a7bad" UNIQUE ("channel_id", "camera_id", "recipient", "window_start"), CONSTRAINT "CHK_e6c1276d907067d8c0a16c024d" CHECK ("status" IN ('collecting', 'pending', 'sent', 'failed')), CONSTRAINT "PK_d1dfad641230ea835751ccc8493" PRIMARY KEY ("id"))`,
		);
		await queryRunner.query(`CREATE INDEX "IDX_17e9d2af89926d3f1776f38139" ON "notification_digests" ("camera_id")`);
		await queryRunner.query(`CREATE INDEX "IDX_5a30ecbd229bb224a8ed300c6a" ON "notification_digests" ("status", "due_at")`);
		await queryRunner.query(
			`CREATE TABLE "notification_deliveries" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "org_id" uuid NOT NULL, "alert_id" uuid NOT NULL, "channel_id" uuid NOT NULL, "recipient" text NOT NULL DEFAULT '', "status" text NOT NULL DEFAULT 'pending', "attempts" integer NOT NULL DEFAULT '0', "last_error" text, "digest_id" uuid, "queued_at" TIMESTAMP WITH TIME ZONE, "sent_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_f93a8cdbc6b44f938f70e1e4377" UNIQUE ("alert_id", "channel_id", "recipient"), CONSTRAINT "CHK_ee6607f0b34d51d08d1975b372" CHECK ("status" IN ('pending', 'sent', 'failed', 'digested')), CONSTRAINT "PK_81daeff81f237bd384f7cfc4a4c" PRIMARY KEY ("id"))`,
		);
		await queryRunner.query(`CREATE INDEX "IDX_cb8fc3f1c2debe694670bc9d65" ON "notification_deliveries" ("channel_id")`);
		await queryRunner.query(`CREATE INDEX "IDX_e9c43497ac1f1a2eae1a22b242" ON "notification_deliveries" ("status")`);
		await queryRunner.query(`CREATE INDEX "IDX_1eb9577d06237b95bb8a9592e1" ON "notification_deliveries" ("digest_id")`);
		await queryRunner.query(
			`CREATE TABLE "notification_mutes" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "user_id" uuid NOT NULL, "org_id" uuid NOT NULL, "store_id" uuid NOT NULL, "camera_id" uuid, "until" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_f30f9ed8ef9cfdfd4a865603638" PRIMARY KEY ("id"))`,
		);
		await queryRunner.query(`CREATE INDEX "IDX_9edb9c1682175e8dab1382d153" ON "notification_mutes" ("user_id")`);
		await queryRunner.query(`CREATE INDEX "IDX_cec22f7adc087d4132383b9145" ON "notification_mutes" ("store_id")`);
		await queryRunner.query(
			`CREATE TABLE "notification_windows" ("channel_id" uuid NOT NULL, "camera_id" uuid NOT NULL, "recipient" text NOT NULL, "window_start" TIMESTAMP WITH TIME ZONE NOT NULL, "sent" integer NOT NULL DEFAULT '0', CONSTRAINT "PK_f0b206a63f556b89de53c38eacc" PRIMARY KEY ("channel_id", "camera_id", "recipient"))`,
		);
		await queryRunner.query(
			`ALTER TABLE "notification_channels" ADD CONSTRAINT "FK_5b54c3f2610e2f60fde48fb5c9f" FOREIGN KEY ("org_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(
			`ALTER TABLE "notification_digests" ADD CONSTRAINT "FK_8be580c95e3a6ef9baf205fcd6d" FOREIGN KEY ("channel_id") REFERENCES "notification_channels"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(
			`ALTER TABLE "notification_digests" ADD CONSTRAINT "FK_17e9d2af89926d3f1776f381398" FOREIGN KEY ("camera_id") REFERENCES "cameras"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(
			`ALTER TABLE "notification_deliveries" ADD CONSTRAINT "FK_562ff70addce16d1bce6317fe93" FOREIGN KEY ("alert_id") REFERENCES "alerts"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(
			`ALTER TABLE "notification_deliveries" ADD CONSTRAINT "FK_cb8fc3f1c2debe694670bc9d655" FOREIGN KEY ("channel_id") REFERENCES "notification_channels"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(
			`ALTER TABLE "notification_deliveries" ADD CONSTRAINT "FK_1eb9577d06237b95bb8a9592e10" FOREIGN KEY ("digest_id") REFERENCES "notification_digests"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
		);
		await queryRunner.query(
			`ALTER TABLE "notification_mutes" ADD CONSTRAINT "FK_9edb9c1682175e8dab1382d153e" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(
			`ALTER TABLE "notification_mutes" ADD CONSTRAINT "FK_cec22f7adc087d4132383b91457" FOREIGN KEY ("store_id") REFERENCES "stores"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(
			`ALTER TABLE "notification_mutes" ADD CONSTRAINT "FK_9f11c62b667788d4052f6a133f1" FOREIGN KEY ("camera_id") REFERENCES "cameras"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(
			`ALTER TABLE "notification_windows" ADD CONSTRAINT "FK_36e8c5754142277d6899c15f333" FOREIGN KEY ("channel_id") REFERENCES "notification_channels"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(
			`ALTER TABLE "notification_windows" ADD CONSTRAINT "FK_60fbbdf54fb2643632d480098a9" FOREIGN KEY ("camera_id") REFERENCES "cameras"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
	}

	public async down(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(`ALTER TABLE "notification_windows" DROP CONSTRAINT "FK_60fbbdf54fb2643632d480098a9"`);
		await queryRunner.query(`ALTER TABLE "notification_windows" DROP CONSTRAINT "FK_36e8c5754142277d6899c15f333"`);
		await queryRunner.query(`ALTER TABLE "notification_mutes" DROP CONSTRAINT "FK_9f11c62b667788d4052f6a133f1"`);
		await queryRunner.query(`ALTER TABLE "notification_mutes" DROP CONSTRAINT "FK_cec22f7adc087d4132383b91457"`);
		await queryRunner.query(`ALTER TABLE "notification_mutes" DROP CONSTRAINT "FK_9edb9c1682175e8dab1382d153e"`);
		await queryRunner.query(`ALTER TABLE "notification_deliveries" DROP CONSTRAINT "FK_1eb9577d06237b95bb8a9592e10"`);
		await queryRunner.query(`ALTER TABLE "notification_deliveries" DROP CONSTRAINT "FK_cb8fc3f1c2debe694670bc9d655"`);
		await queryRunner.query(`ALTER TABLE "notification_deliveries" DROP CONSTRAINT "FK_562ff70addce16d1bce6317fe93"`);
		await queryRunner.query(`ALTER TABLE "notification_digests" DROP CONSTRAINT "FK_17e9d2af89926d3f1776f381398"`);
		await queryRunner.query(`ALTER TABLE "notification_digests" DROP CONSTRAINT "FK_8be580c95e3a6ef9baf205fcd6d"`);
		await queryRunner.query(`ALTER TABLE "notification_channels" DROP CONSTRAINT "FK_5b54c3f2610e2f60fde48fb5c9f"`);
		await queryRunner.query(`DROP TABLE "notification_windows"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_cec22f7adc087d4132383b9145"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_9edb9c1682175e8dab1382d153"`);
		await queryRunner.query(`DROP TABLE "notification_mutes"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_1eb9577d06237b95bb8a9592e1"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_e9c43497ac1f1a2eae1a22b242"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_cb8fc3f1c2debe694670bc9d65"`);
		await queryRunner.query(`DROP TABLE "notification_deliveries"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_5a30ecbd229bb224a8ed300c6a"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_17e9d2af89926d3f1776f38139"`);
		await queryRunner.query(`DROP TABLE "notification_digests"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_5b54c3f2610e2f60fde48fb5c9"`);
		await queryRunner.query(`DROP TABLE "notification_channels"`);
	}
}
