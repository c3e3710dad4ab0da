import type { MigrationInterface, QueryRunner } from "typeorm";

/** Identity, tenancy and cameras: users, login sessions, organizations, stores, memberships, cameras, zones. */
export class Foundation1763800000000 implements MigrationInterface {
	name = "Foundation1763800000000";

	public async up(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(
			`CREATE TABLE "organizations" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_6b031fcd0863e3f6b44230163f9" PRIMARY KEY ("id"))`,
		);
		await queryRunner.query(
			`CREATE TABLE "stores" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "org_id" uuid NOT NULL, "name" text NOT NULL, "address" text, "timezone" text NOT NULL DEFAULT 'UTC', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_7aa6e7d71fa7acdd7ca43d7c9cb" PRIMARY KEY ("id"))`,
		);
		await queryRunner.query(`CREATE INDEX "IDX_1ab7b82c2a2b0848a17557008d" ON "stores" ("org_id")`);
		await queryRunner.query(
			`CREATE TABLE "cameras" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "org_id" uuid NOT NULL, "store_id" uuid NOT NULL, "name" text NOT NULL, "kind" text NOT NULL, "vendor" text, "stream_url_enc" text, "timezone" text NOT NULL DEFAULT 'UTC', "enabled" boolean NOT NULL DEFAULT true, "sample_fps" real NOT NULL DEFAULT '5', "classes" text array NOT NULL DEFAULT '{person,car}', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "CHK_6291de44c6c2269b2dbcf6e8fc" CHECK ("sample_fps" > 0 AND "sample_fps" <= 30), CONSTRAINT "PK_88b40b9817f9f422121f861e1e8" PRIMARY KEY ("id"))`,
		);
		await queryRunner.query(`CREATE INDEX "IDX_444ce4d676b1efda6177d4ce40" ON "cameras" ("org_id")`);
		await queryRunner.query(`CREATE INDEX "IDX_9edd9be217b77f9c78e2d8df90" ON "cameras" ("store_id")`);
		await queryRunner.query(
			`CREATE TABLE "invitations" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "org_id" uuid NOT NULL, "email" text NOT NULL, "role" text NOT NULL, "store_ids" uuid array, "token_hash" text NOT NULL, "invited_by" uuid, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "accepted_at" TIMESTAMP WITH TIME ZONE, "accepted_by" uuid, "revoked_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_872ac94a64b3d44fc4b554780cd" UNIQUE ("token_hash"), CONSTRAINT "CHK_5107d0b1c0385113db93d5d9fb" CHECK ("role" IN ('owner', 'admin', 'staff')), CONSTRAINT "PK_5dec98cfdfd562e4ad3648bbb07" PRIMARY KEY ("id"))`,
		);
		await queryRunner.query(`CREATE INDEX "IDX_5267611dcc50f78999dbf54f46" ON "invitations" ("org_id")`);
		await queryRunner.query(
			`CREATE TABLE "login_throttles" ("key" text NOT NULL, "failures" integer NOT NULL DEFAULT '0', "window_started_at" TIMESTAMP WITH TIME ZONE NOT NULL, "locked_until" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_366650e3560115bd25315ca53d0" PRIMARY KEY ("key"))`,
		);
		await queryRunner.query(
			`CREATE TABLE "users" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "email" text NOT NULL, "password_hash" text NOT NULL, "display_name" text, "is_super_admin" boolean NOT NULL DEFAULT false, "token_version" integer NOT NULL DEFAULT '0', "disabled_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_97672ac88f789774dd47f7c8be3" UNIQUE ("email"), CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id"))`,
		);
		await queryRunner.query(
			`CREATE TABLE "memberships" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "org_id" uuid NOT NULL, "user_id" uuid NOT NULL, "role" text NOT NULL, "store_ids" uuid array, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_8a43e03ebb7e6f6486a1eab9392" UNIQUE ("org_id", "user_id"), CONSTRAINT "CHK_ce2183de87989f2bc1ce961dee" CHECK ("role" IN ('owner', 'admin', 'staff')), CONSTRAINT "PK_25d28bd932097a9e90495ede7b4" PRIMARY KEY ("id"))`,
		);
		await queryRunner.query(
			`CREATE TABLE "refresh_tokens" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "user_id" uuid NOT NULL, "family_id" uuid NOT NULL, "token_hash" text NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "rotated_at" TIMESTAMP WITH TIME ZONE, "revoked_at" TIMESTAMP WITH TIME ZONE, "user_agent" text, "ip" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_a7838d2ba25be1342091b6695f1" UNIQUE ("token_hash"), CONSTRAINT "PK_7d8bee0204106019488c4c50ffa" PRIMARY KEY ("id"))`,
		);
		await queryRunner.query(`CREATE INDEX "IDX_3ddc983c5f7bcf132fd8732c3f" ON "refresh_tokens" ("user_id")`);
		await queryRunner.query(`CREATE INDEX "IDX_d5e27da0cd39bc3bb2811fc8ba" ON "refresh_tokens" ("family_id")`);
		await queryRunner.query(
			`CREATE TABLE "service_tokens" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "org_id" uuid NOT NULL, "store_id" uuid NOT NULL, "name" text NOT NULL, "token_hash" text NOT NULL, "created_by" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_used_at" TIMESTAMP WITH TIME ZONE, "revoked_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "UQ_a4b39faea11d94cb465fab43a9e" UNIQUE ("token_hash"), CONSTRAINT "PK_82d2e44e9db9e25e79096018a3e" PRIMARY KEY ("id"))`,
		);
		await queryRunner.query(`CREATE INDEX "IDX_be346ba5cfdd82204a25258d58" ON "service_tokens" ("store_id")`);
		await queryRunner.query(
			`CREATE TABLE "zones" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "camera_id" uuid NOT NULL, "org_id" uuid NOT NULL, "name" text NOT NULL, "kind" text NOT NULL DEFAULT 'polygon', "points" jsonb NOT NULL, "classes" text array NOT NULL DEFAULT '{}', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "CHK_9f24e378c582986534f46f50d4" CHECK ("kind" IN ('polygon', 'line')), CONSTRAINT "PK_880484a43ca311707b05895bd4a" PRIMARY KEY ("id"))`,
		);
		await queryRunner.query(`CREATE INDEX "IDX_c2d62f3fa357e5aa8c21cb510c" ON "zones" ("camera_id")`);
		await queryRunner.query(
			`ALTER TABLE "stores" ADD CONSTRAINT "FK_1ab7b82c2a2b0848a17557008d2" FOREIGN KEY ("org_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(
			`ALTER TABLE "cameras" ADD CONSTRAINT "FK_9edd9be217b77f9c78e2d8df90f" FOREIGN KEY ("store_id") REFERENCES "stores"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(
			`ALTER TABLE "invitations" ADD CONSTRAINT "FK_5267611dcc50f78999dbf54f461" FOREIGN KEY ("org_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(
			`ALTER TABLE "memberships" ADD CONSTRAINT "FK_8c6a511c72951c42e008f5537dc" FOREIGN KEY ("org_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(
			`ALTER TABLE "memberships" ADD CONSTRAINT "FK_7c1e2fdfed4f6838e0c05ae5051" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(
			`ALTER TABLE "refresh_tokens" ADD CONSTRAINT "FK_3ddc983c5f7bcf132fd8732c3f4" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(
			`ALTER TABLE "service_tokens" ADD CONSTRAINT "FK_be346ba5cfdd82204a25258d58e" FOREIGN KEY ("store_id") REFERENCES "stores"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(
			`ALTER TABLE "zones" ADD CONSTRAINT "FK_c2d62f3fa357e5aa8c21cb510ce" FOREIGN KEY ("camera_id") REFERENCES "cameras"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
	}

	public async down(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(`ALTER TABLE "zones" DROP CONSTRAINT "FK_c2d62f3fa357e5aa8c21cb510ce"`);
		await queryRunner.query(`ALTER TABLE "service_tokens" DROP CONSTRAINT "FK_be346ba5cfdd82204a25258d58e"`);
		await queryRunner.query(`ALTER TABLE "refresh_tokens" DROP CONSTRAINT "FK_3ddc983c5f7bcf132fd8732c3f4"`);
		await queryRunner.query(`ALTER TABLE "memberships" DROP CONSTRAINT "FK_7c1e2fdfed4f6838e0c05ae5051"`);
		await queryRunner.query(`ALTER TABLE "memberships" DROP CONSTRAINT "FK_8c6a511c72951c42e008f5537dc"`);
		await queryRunner.query(`ALTER TABLE "invitations" DROP CONSTRAINT "FK_5267611dcc50f78999dbf54f461"`);
		await queryRunner.query(`ALTER TABLE "cameras" DROP CONSTRAINT "FK_9edd9be217b77f9c78e2d8df90f"`);
		await queryRunner.query(`ALTER TABLE "stores" DROP CONSTRAINT "FK_1ab7b82c2a2b0848a17557008d2"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_c2d62f3fa357e5aa8c21cb510c"`);
		await queryRunner.query(`DROP TABLE "zones"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_be346ba5cfdd82204a25258d58"`);
		await queryRunner.query(`DROP TABLE "service_tokens"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_d5e27da0cd39bc3bb2811fc8ba"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_3ddc983c5f7bcf132fd8732c3f"`);
		await queryRunner.query(`DROP TABLE "refresh_tokens"`);
		await queryRunner.query(`DROP TABLE "memberships"`);
		await queryRunner.query(`DROP TABLE "users"`);
		await queryRunner.query(`DROP TABLE "login_throttles"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_5267611dcc50f78999dbf54f46"`);
		await queryRunner.query(`DROP TABLE "invitations"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_9edd9be217b77f9c78e2d8df90"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_444ce4d676b1efda6177d4ce40"`);
		await queryRunner.query(`DROP TABLE "cameras"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_1ab7b82c2a2b0848a17557008d"`);
		await queryRunner.query(`DROP TABLE "stores"`);
		await queryRunner.query(`DROP TABLE "organizations"`);
	}
}
