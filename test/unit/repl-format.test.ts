/** What the operator commands of `vigil repl` print, from the actions' answers. */
import { age, formatCameras, formatLetters, formatNodes, formatQueues, formatRetentionRun, formatThresholds, table } from "../../lib/operations/repl-format";

describe("operator command output", () => {
	it("lines up columns as wide as their widest cell", () => {
		expect(table(["A", "LONGER"], [["wide cell", 1]])).toBe("A          LONGER\nwide cell  1");
	});

	it("says ages the way an operator reads them", () => {
		expect([age(null), age(900), age(65_000), age(3_723_000), age(90_000_000)]).toEqual(["-", "0s", "1m 5s", "1h 2m", "1d 1h"]);
	});

	it("queues: a queue no node works shows 0 consumers, one worked shows which nodes", () => {
		const out = formatQueues(
			[
				{ queue: "detector", pending: 3, oldestAgeMs: 41_000, deadLetters: 0 },
				{ queue: "notify", pending: 0, oldestAgeMs: null, deadLetters: 2 },
			],
			{ detector: ["det-1", "det-2"] },
		);
		expect(out.split("\n")).toEqual([
			"QUEUE     PENDING  CONSUMERS         OLDEST  DEAD LETTERS",
			"detector  3        2 (det-1, det-2)  41s     0",
			"notify    0        0                 -       2",
		]);
	});

	it("nodes: marks this REPL, shows a detector's model, and leaves out REPLs that have left", () => {
		const out = formatNodes(
			[
				{ nodeId: "core-1", hostname: null, available: true, local: true, services: ["alert", "jobs"], cpu: 12.4, detector: null },
				{
					nodeId: "det-1",
					hostname: null,
					available: true,
					local: false,
					services: ["detector"],
					cpu: 87,
					detector: { backend: "wasm", model: "yolov8n", inFlight: 2 },
				},
				{ nodeId: "repl-old", hostname: null, available: false, local: false, services: [], cpu: null, detector: null },
				{ nodeId: "repl-me", hostname: null, available: true, local: false, services: [], cpu: null, detector: null },
			],
			"repl-me",
		);
		expect(out).toMatch(/^core-1\s+up\s+12%\s+-\s+alert,jobs$/m);
		expect(out).toMatch(/^det-1\s+up\s+87%\s+wasm yolov8n \(2 in hand\)\s+detector$/m);
		expect(out).toMatch(/^repl-me \(this REPL\)\s+up\s+-\s+-\s+\(none\)$/m);
		expect(out).not.toContain("repl-old");
	});

	it("cameras: counts without --stale, the stale and offline ones with it", () => {
		const orgs = [
			{
				name: "Corner Shop",
				counts: { online: 2, stale: 0, offline: 1, unknown: 0 },
				items: [{ cameraId: "c1", name: "Till", storeName: "High Street", enabled: true, status: "offline", lastSeenAt: "2026-03-01T08:12:40.123Z" }],
			},
		];
		expect(formatCameras(orgs, false)).toMatch(/Corner Shop\s+2\s+0\s+1\s+0/);
		expect(formatCameras(orgs, true)).toMatch(/Corner Shop\s+High Street\s+Till\s+c1\s+offline\s+2026-03-01T08:12:40Z/);
		expect(formatCameras([{ ...orgs[0], items: [] }], true)).toBe("No stale or offline cameras.");
	});

	it("thresholds, dead letters and a retention run", () => {
		expect(formatThresholds({ cameraId: "c1", name: "Till" }, [])).toContain("no thresholds learned or pinned yet");
		expect(
			formatThresholds({ cameraId: "c1", name: "Till" }, [
				{ className: "person", threshold: 0.7, learned: 0.62, pinned: 0.7, verdicts: 48, precision: 0.913, suppressedShare: null },
			]),
		).toMatch(/person\s+0\.70\s+0\.62\s+0\.70\s+48\s+0\.91\s+-/);
		const long = "x".repeat(120);
		expect(
			formatLetters([{ queue: "notify", letterId: "17", jobId: "j", orgId: null, error: long, attempts: 5, failedAt: "2026-03-01T07:58:02Z", node: "core-1" }]),
		).toMatch(/notify\s+17\s+2026-03-01T07:58:02Z\s+5\s+core-1\s+x{77}\.\.\.$/);
		expect(formatLetters([])).toBe("No dead letters.");
		expect(
			formatRetentionRun({
				id: "r1",
				trigger: "manual",
				node: "core-1",
				startedAt: "2026-03-01T08:00:00Z",
				finishedAt: "2026-03-01T08:00:03Z",
				removed: { clips: 12, snapshots: 0 },
			}),
		).toBe("Retention run r1 (manual) on core-1: removed clips 12, snapshots 0; finished 2026-03-01T08:00:03Z");
	});
});
