import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Edge boxes: their detection events (unique per store and event id), last heartbeats and queued commands;
 * when each camera was last seen; alerts raised from edge events (no clip: unique per camera, track key, rule).
 */
export class Edge1764300000000 implements MigrationInterface {
	name = "Edge1764300000000";

	public async up(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(
			`CREATE TABLE "camera_liveness" ("camera_id" uuid NOT NULL, "last_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL, "source" text NOT NULL, CONSTRAINT "PK_d362b2b705fb425db71e69a9289" PRIMARY KEY ("camera_id"))`,
		);
		await queryRunner.query(
			`CREATE TABLE "edge_boxes" ("token_id" uuid NOT NULL, "org_id" uuid NOT NULL, "store_id" uuid NOT NULL, "last_heartbeat_at" TIMESTAMP WITH TIME ZONE NOT NULL, "uptime_sec" real, "queue_depth" integer, "cameras_online" jsonb NOT NULL DEFAULT '[]', "config_version" text, "software_version" text, "ip" text, CONSTRAINT "PK_b724e760be66dc1a025e1ecfb7e" PRIMARY KEY ("token_id"))`,
		);
		await queryRunner.query(`CREATE INDEX "IDX_461736cef85bb9f1d1583298e2" ON "edge_boxes" ("store_id")`);
		await queryRunner.query(
			`CREATE TABLE "edge_commands" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "org_id" uuid NOT NULL, "store_id" uuid NOT NULL, "token_id" uuid NOT NULL, "kind" text NOT NULL, "payload" jsonb, "status" text NOT NULL DEFAULT 'pending', "created_by" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "delivered_count" integer NOT NULL DEFAULT '0', "first_delivered_at" TIMESTAMP WITH TIME ZONE, "last_delivered_at" TIMESTAMP WITH TIME ZONE, "acked_at" TIMESTAMP WITH TIME ZONE, "result_message" text, CONSTRAINT "CHK_c16d43d441f56ccab0d5495bda" CHECK ("status" IN ('pending', 'done', 'failed')), CONSTRAINT "CHK_94451e9423e1ef851a63b3b6ae" CHECK ("kind" IN ('config_update', 'reprocess', 'restart')), CONSTRAINT "PK_2d5c05f7c4e229a265796160861" PRIMARY KEY ("id"))`,
		);
		await queryRunner.query(`CREATE INDEX "IDX_01ae2864b00d64913b8475f1b2" ON "edge_commands" ("store_id")`);
		await queryRunner.query(`CREATE INDEX "IDX_9f74689a68f62e66096fef633b" ON "edge_commands" ("token_id", "status")`);
		await queryRunner.query(
			`CREATE TABLE "edge_events" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "org_id" uuid NOT NULL, "store_id" uuid NOT NULL, "camera_id" uuid NOT NULL, "token_id" uuid, "event_id" text NOT NULL, "time" TIMESTAMP WITH TIME ZONE NOT NULL, "class_name" text NOT NULL, "score" real NOT NULL, "box" jsonb NOT NULL, "track_id" text, "plate" text, "track_key" text, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_e3ebfa864b7bf57785b1ef1c273" UNIQUE ("store_id", "event_id"), CONSTRAINT "PK_8ebf62b765d04575d7b612f0790" PRIMARY KEY ("id"))`,
		);
		await queryRunner.query(`CREATE INDEX "IDX_9ff52d3d23a5bf094efb557227" ON "edge_events" ("camera_id", "time")`);
		await queryRunner.query(`ALTER TABLE "alerts" ADD "source" text NOT NULL DEFAULT 'clip'`);
		await queryRunner.query(`ALTER TABLE "alerts" ADD "edge_track_key" text`);
		await queryRunner.query(`ALTER TABLE "alerts" ADD "plate" text`);
		await queryRunner.query(`ALTER TABLE "alerts" ALTER COLUMN "clip_id" DROP NOT NULL`);
		await queryRunner.query(`ALTER TABLE "alerts" ALTER COLUMN "track_no" DROP NOT NULL`);
		await queryRunner.query(`CREATE UNIQUE INDEX "IDX_f1da5a8bff62d81bb4573c6b16" ON "alerts" ("camera_id", "edge_track_key", "rule_id")`);
		await queryRunner.query(
			`ALTER TABLE "alerts" ADD CONSTRAINT "CHK_37a554ec4205e037a774b5f1b7" CHECK (("source" = 'clip' AND "clip_id" IS NOT NULL AND "track_no" IS NOT NULL) OR ("source" = 'edge' AND "edge_track_key" IS NOT NULL))`,
		);
		await queryRunner.query(
			`ALTER TABLE "camera_liveness" ADD CONSTRAINT "FK_d362b2b705fb425db71e69a9289" FOREIGN KEY ("camera_id") REFERENCES "cameras"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(
			`ALTER TABLE "edge_boxes" ADD CONSTRAINT "FK_b724e760be66dc1a025e1ecfb7e" FOREIGN KEY ("token_id") REFERENCES "service_tokens"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(
			`ALTER TABLE "edge_commands" ADD CONSTRAINT "FK_5e3af0457df6cbd1352d015f6bc" FOREIGN KEY ("token_id") REFERENCES "service_tokens"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(
			`ALTER TABLE "edge_events" ADD CONSTRAINT "FK_5d1718e1d6461ccb38ff70dc413" FOREIGN KEY ("camera_id") REFERENCES "cameras"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
	}

	public async down(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(`ALTER TABLE "edge_events" DROP CONSTRAINT "FK_5d1718e1d6461ccb38ff70dc413"`);
		await queryRunner.query(`ALTER TABLE "edge_commands" DROP CONSTRAINT "FK_5e3af0457df6cbd1352d015f6bc"`);
		await queryRunner.query(`ALTER TABLE "edge_boxes" DROP CONSTRAINT "FK_b724e760be66dc1a025e1ecfb7e"`);
		await queryRunner.query(`ALTER TABLE "camera_liveness" DROP CONSTRAINT "FK_d362b2b705fb425db71e69a9289"`);
		// Alerts without a clip cannot survive the clip column becoming required again.
		await queryRunner.query(`DELETE FROM "alerts" WHERE "source" = 'edge'`);
		await queryRunner.query(`ALTER TABLE "alerts" DROP CONSTRAINT "CHK_37a554ec4205e037a774b5f1b7"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_f1da5a8bff62d81bb4573c6b16"`);
		await queryRunner.query(`ALTER TABLE "alerts" ALTER COLUMN "track_no" SET NOT NULL`);
		await queryRunner.query(`ALTER TABLE "alerts" ALTER COLUMN "clip_id" SET NOT NULL`);
		await queryRunner.query(`ALTER TABLE "alerts" DROP COLUMN "plate"`);
		await queryRunner.query(`ALTER TABLE "alerts" DROP COLUMN "edge_track_key"`);
		await queryRunner.query(`ALTER TABLE "alerts" DROP COLUMN "source"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_9ff52d3d23a5bf094efb557227"`);
		await queryRunner.query(`DROP TABLE "edge_events"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_9f74689a68f62e66096fef633b"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_01ae2864b00d64913b8475f1b2"`);
		await queryRunner.query(`DROP TABLE "edge_commands"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_461736cef85bb9f1d1583298e2"`);
		await queryRunner.query(`DROP TABLE "edge_boxes"`);
		await queryRunner.query(`DROP TABLE "camera_liveness"`);
	}
}
