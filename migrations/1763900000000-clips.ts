import type { MigrationInterface, QueryRunner } from "typeorm";

/** Clips, their segments (units of detector work) and the detections found in sampled frames. */
export class Clips1763900000000 implements MigrationInterface {
	name = "Clips1763900000000";

	public async up(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(
			`CREATE TABLE "clips" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "org_id" uuid NOT NULL, "store_id" uuid NOT NULL, "camera_id" uuid NOT NULL, "status" text NOT NULL, "failure_reason" text, "storage_key" text NOT NULL, "size_bytes" bigint NOT NULL, "sha256" text NOT NULL, "duration_sec" real NOT NULL, "width" integer NOT NULL, "height" integer NOT NULL, "source_fps" real NOT NULL, "sample_fps" real NOT NULL, "segment_sec" real NOT NULL, "segments_total" integer NOT NULL, "frames_total" integer NOT NULL, "frames_done" integer NOT NULL DEFAULT '0', "generation" integer NOT NULL DEFAULT '0', "summary" jsonb, "uploaded_by" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "started_at" TIMESTAMP WITH TIME ZONE, "finished_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "UQ_905c9807e1081b75c9707d17e60" UNIQUE ("camera_id", "sha256"), CONSTRAINT "CHK_149f59edcf23fdbd0c42b9102d" CHECK ("status" IN ('received', 'queued', 'processing', 'done', 'failed')), CONSTRAINT "PK_cdb959a37f95935a5d30460dc3c" PRIMARY KEY ("id"))`,
		);
		await queryRunner.query(`CREATE INDEX "IDX_5a94f01909b3e63f96c9752ea5" ON "clips" ("camera_id")`);
		await queryRunner.query(`CREATE INDEX "IDX_3ba9ad484461e9de771fa363ae" ON "clips" ("status")`);
		await queryRunner.query(`CREATE INDEX "IDX_8bd86844ee7ecca24139fee7d1" ON "clips" ("store_id", "created_at")`);
		await queryRunner.query(
			`CREATE TABLE "clip_segments" ("clip_id" uuid NOT NULL, "index" integer NOT NULL, "first_frame" integer NOT NULL, "frame_count" integer NOT NULL, "status" text NOT NULL DEFAULT 'pending', "frames_done" integer NOT NULL DEFAULT '0', "error" text, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "CHK_916255e8e1f98877d1688f36ab" CHECK ("status" IN ('pending', 'done', 'failed')), CONSTRAINT "PK_8fe99d5a886ec03ff3d0f266f68" PRIMARY KEY ("clip_id", "index"))`,
		);
		await queryRunner.query(
			`CREATE TABLE "detections" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "clip_id" uuid NOT NULL, "frame_index" integer NOT NULL, "ordinal" smallint NOT NULL, "time_sec" real NOT NULL, "class_id" smallint NOT NULL, "class_name" text NOT NULL, "score" real NOT NULL, "x1" real NOT NULL, "y1" real NOT NULL, "x2" real NOT NULL, "y2" real NOT NULL, CONSTRAINT "UQ_f7302cf9860016ebc9d2c6609db" UNIQUE ("clip_id", "frame_index", "ordinal"), CONSTRAINT "PK_4da30bad53c898b6d767852594e" PRIMARY KEY ("id"))`,
		);
		await queryRunner.query(`CREATE INDEX "IDX_a9f569073b01cc77ccb0384553" ON "detections" ("clip_id")`);
		await queryRunner.query(
			`ALTER TABLE "clips" ADD CONSTRAINT "FK_5a94f01909b3e63f96c9752ea54" FOREIGN KEY ("camera_id") REFERENCES "cameras"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(
			`ALTER TABLE "clip_segments" ADD CONSTRAINT "FK_34c53c4b4cc92984ba67496056e" FOREIGN KEY ("clip_id") REFERENCES "clips"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
		await queryRunner.query(
			`ALTER TABLE "detections" ADD CONSTRAINT "FK_a9f569073b01cc77ccb03845536" FOREIGN KEY ("clip_id") REFERENCES "clips"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
		);
	}

	public async down(queryRunner: QueryRunner): Promise<void> {
		await queryRunner.query(`ALTER TABLE "detections" DROP CONSTRAINT "FK_a9f569073b01cc77ccb03845536"`);
		await queryRunner.query(`ALTER TABLE "clip_segments" DROP CONSTRAINT "FK_34c53c4b4cc92984ba67496056e"`);
		await queryRunner.query(`ALTER TABLE "clips" DROP CONSTRAINT "FK_5a94f01909b3e63f96c9752ea54"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_a9f569073b01cc77ccb0384553"`);
		await queryRunner.query(`DROP TABLE "detections"`);
		await queryRunner.query(`DROP TABLE "clip_segments"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_8bd86844ee7ecca24139fee7d1"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_3ba9ad484461e9de771fa363ae"`);
		await queryRunner.query(`DROP INDEX "public"."IDX_5a94f01909b3e63f96c9752ea5"`);
		await queryRunner.query(`DROP TABLE "clips"`);
	}
}
