/**
 * Alert evaluation cost per segment over a long clip: a 15-minute clip at 5 fps (450 segments of 2 s) where
 * people keep walking through and one stands still throughout, its segments committed one after another and
 * each evaluated as the alert service's job does (tracker resumed from its stored state, one transaction).
 * Prints the cost of the first and the last segment and their ratio, against two baselines measured in the
 * same run: the bare tracker on one segment's frames (no database), and the tracker replaying the whole clip
 * from its start (what each segment cost before the state was kept). Embedded PostgreSQL by default;
 * DATABASE_URL=postgres://... measures against a real one.
 *
 *   npm run bench:evaluation          (BENCH_MINUTES, default 15)
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { Camera, Clip, ClipSegment, Detection } from "../entities";
import { nodeDatabase } from "../lib/platform/node-context";
import { Tracker } from "../lib/vision/tracker";
import type { Detection as Found } from "../lib/vision/types";
import { createNode } from "../app/node";
import { benchConfig } from "./bench-config";

const FPS = 5;
const SEGMENT_FRAMES = 10;
const MINUTES = Number(process.env.BENCH_MINUTES ?? 15);
const FRAMES = MINUTES * 60 * FPS;

/** Frame k: a walker enters every 4 s and crosses in 10 s (so 2-3 are in view), and one person stands still all along. */
function scene(k: number): Found[] {
	const found: Found[] = [{ classId: 0, className: "person", score: 0.8, box: [0.45, 0.3, 0.55, 0.7] }];
	for (let w = Math.max(0, Math.floor((k - 50) / 20)); w * 20 <= k; w++) {
		const step = k - w * 20;
		if (step >= 50) continue;
		const x = 0.02 + step * 0.018;
		const y = 0.1 + (w % 3) * 0.05;
		found.push({ classId: 0, className: "person", score: 0.6 + (w % 4) * 0.1, box: [x, y, x + 0.08, y + 0.3] });
	}
	return found;
}

const ms = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e6;

async function main() {
	const config = benchConfig("evaluation", { LOG_LEVEL: "error", SERVICES: "alert" });
	const dataDir = config.dataDir;
	const broker = createNode(config);
	try {
		await broker.start();
		const db = await nodeDatabase(broker);
		const alert = broker.getLocalService("alert") as unknown as { evaluateClip(clipId: string, generation: number): Promise<void> };
		const [orgId, storeId] = [
			randomBytes(16)
				.toString("hex")
				.replace(/(.{8})(.{4})(.{4})(.{4})(.{12})/, "$1-$2-$3-$4-$5"),
			"00000000-0000-4000-8000-000000000001",
		];
		await db.query(`INSERT INTO organizations (id, name) VALUES ($1, 'Bench')`, [orgId]);
		await db.query(`INSERT INTO stores (id, org_id, name) VALUES ($1, $2, 'Bench')`, [storeId, orgId]);
		const camera = await db.getRepository(Camera).save({ orgId, storeId, name: "Aisle", kind: "upload" as const });
		// Alerts on people; the long cooldown keeps it to one snapshot attempt, so the figures are evaluation's own.
		await db.query(`INSERT INTO alert_rules (org_id, store_id, name, classes, cooldown_sec) VALUES ($1, $2, 'People', '{person}', 86400)`, [orgId, storeId]);
		const segments = Math.ceil(FRAMES / SEGMENT_FRAMES);
		const clip = await db.getRepository(Clip).save({
			orgId,
			storeId,
			cameraId: camera.id,
			status: "processing" as const,
			storageKey: "bench/none.mp4",
			sizeBytes: 1,
			sha256: randomBytes(32).toString("hex"),
			durationSec: FRAMES / FPS,
			width: 768,
			height: 576,
			sourceFps: FPS,
			sampleFps: FPS,
			segmentSec: SEGMENT_FRAMES / FPS,
			segmentsTotal: segments,
			framesTotal: FRAMES,
			framesDone: 0,
		});
		await db.getRepository(ClipSegment).insert(
			Array.from({ length: segments }, (_, index) => ({
				clipId: clip.id,
				index,
				firstFrame: index * SEGMENT_FRAMES,
				frameCount: SEGMENT_FRAMES,
				status: "pending" as const,
			})),
		);

		const costs: number[] = [];
		for (let index = 0; index < segments; index++) {
			const rows = [];
			for (let f = index * SEGMENT_FRAMES; f < (index + 1) * SEGMENT_FRAMES; f++) {
				for (const [ordinal, d] of scene(f).entries())
					rows.push({
						clipId: clip.id,
						frameIndex: f,
						ordinal,
						timeSec: f / FPS,
						classId: d.classId,
						className: d.className,
						score: d.score,
						x1: d.box[0],
						y1: d.box[1],
						x2: d.box[2],
						y2: d.box[3],
					});
			}
			await db.getRepository(Detection).insert(rows);
			await db.getRepository(ClipSegment).update({ clipId: clip.id, index }, { status: "done", framesDone: SEGMENT_FRAMES });
			const started = process.hrtime.bigint();
			await alert.evaluateClip(clip.id, 0);
			costs.push(ms(started));
		}
		const done = await db.getRepository(Clip).findOneByOrFail({ id: clip.id });

		// Baselines, in memory: the tracker alone on one segment, and replaying the clip from its start.
		const bare = new Tracker();
		const bareStart = process.hrtime.bigint();
		for (let f = 0; f < FRAMES; f++) bare.update({ index: f, time: f / FPS }, scene(f));
		const barePerSegment = ms(bareStart) / segments;
		const replay = new Tracker();
		const replayStart = process.hrtime.bigint();
		for (let f = 0; f < FRAMES; f++) replay.update({ index: f, time: f / FPS }, scene(f));
		const replayLast = ms(replayStart);

		const sorted = [...costs].sort((a, b) => a - b);
		const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
		const median = sorted[Math.floor(sorted.length / 2)];
		// The first segment also raises the clip's one alert; the last also writes the summary and the camera's memory.
		const [early, late] = [mean(costs.slice(1, 11)), mean(costs.slice(-11, -1))];
		const row = (name: string, value: number, note = "") => console.log(`${name.padEnd(44)}${value.toFixed(1).padStart(8)} ms${note && `   ${note}`}`);
		console.log(
			`\n${MINUTES}-minute clip, ${FPS} fps, ${segments} segments of ${SEGMENT_FRAMES} frames, ${done.summary?.tracks} tracks; database: ${process.env.DATABASE_URL ? "PostgreSQL" : "embedded (PGlite)"}; status ${done.status}`,
		);
		row("first segment (raises the alert)", costs[0]);
		row("segments 2-11 (mean)", early);
		row(`segments ${segments - 10}-${segments - 1} (mean)`, late, `(late / early ${(late / early).toFixed(2)}x)`);
		row(`last segment ${segments} (also the summary)`, costs[costs.length - 1]);
		row("median / p95", median, `/ ${sorted[Math.floor(sorted.length * 0.95)].toFixed(1)} ms`);
		row("bare tracker, one segment", barePerSegment, `(evaluation is ${(median / barePerSegment).toFixed(0)}x: database reads and writes)`);
		row(
			"replay from the start at the last segment",
			replayLast,
			`(tracker alone: the old per-segment floor, ${(replayLast / late).toFixed(1)}x the kept-state evaluation)`,
		);
	} finally {
		await broker.stop();
		rmSync(dataDir, { recursive: true, force: true });
	}
}

main().then(
	() => process.exit(0),
	(err) => {
		console.error(err);
		process.exit(1);
	},
);
