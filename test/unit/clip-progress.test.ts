import { clipSummary, segmentProgress, trackRow, type SegmentState } from "../../lib/alerting/clip-progress";
import { Tracker, type Track } from "../../lib/vision/tracker";
import { aTrack } from "../support/tracks";
import type { Box, Detection } from "../../lib/vision/types";

const segment = (index: number, status: SegmentState["status"], error: string | null = null): SegmentState => ({
	firstFrame: index * 10,
	frameCount: 10,
	status,
	error,
});

describe("a clip's segments", () => {
	it("frames are evaluated up to the end of the contiguous committed segments from the start", () => {
		expect(segmentProgress([segment(0, "done"), segment(1, "pending"), segment(2, "done")])).toEqual({
			committedFrames: 10,
			allIn: false,
			finished: null,
			failureReason: null,
		});
		expect(segmentProgress([segment(0, "pending"), segment(1, "done")]).committedFrames).toBe(0);
		expect(segmentProgress([segment(0, "done"), segment(1, "done")])).toEqual({ committedFrames: 20, allIn: true, finished: "done", failureReason: null });
	});

	it("a failed segment counts as in (its frames are empty) and fails the clip with its error", () => {
		const progress = segmentProgress([segment(0, "done"), segment(1, "failed", "decode error"), segment(2, "done"), segment(3, "failed", "later")]);
		expect(progress).toEqual({ committedFrames: 40, allIn: true, finished: "failed", failureReason: "decode error" });
		expect(segmentProgress([segment(0, "failed", "x"), segment(1, "pending")]).finished).toBeNull();
	});
});

/** Frame k: a walker crosses left to right every 12 frames, a car drives through once, a person stands still throughout. */
function scene(k: number): Detection[] {
	const found: Detection[] = [{ classId: 0, className: "person", score: 0.8, box: [0.45, 0.3, 0.55, 0.7] }];
	for (let w = 0; w * 12 <= k; w++) {
		const step = k - w * 12;
		if (step >= 20) continue;
		const x = 0.02 + step * 0.04;
		found.push({ classId: 0, className: "person", score: 0.7, box: [x, 0.1, x + 0.08, 0.4] as Box });
	}
	if (k >= 30 && k < 45) {
		const x = 0.9 - (k - 30) * 0.05;
		found.push({ classId: 2, className: "car", score: 0.9, box: [x, 0.75, x + 0.15, 0.95] as Box });
	}
	return found;
}

describe("a finished clip's summary", () => {
	it("counts per class add up to `tracks`, the tracks stored, also when the tracker resumes segment by segment", () => {
		const zones = [
			{
				id: "door",
				kind: "line" as const,
				points: [
					[0.5, 0],
					[0.5, 1],
				] as [number, number][],
				classes: [],
			},
		];
		let tracker = new Tracker(zones);
		const stored: Track[] = [];
		for (let k = 0; k < 80; k++) {
			// Each segment of 10 frames resumes from the state the previous one stored, as the evaluation does.
			if (k % 10 === 0 && k > 0) tracker = Tracker.restore(tracker.snapshot(), zones);
			stored.push(...tracker.update({ index: k, time: k / 5 }, scene(k)).ended);
		}
		stored.push(...tracker.finish());
		const summary = clipSummary(tracker.summary());
		expect(summary.tracks).toBe(stored.length);
		expect(Object.values(summary.counts).reduce((a, b) => a + b, 0)).toBe(summary.tracks);
		const byClass: Record<string, number> = {};
		for (const t of stored) byClass[t.className] = (byClass[t.className] ?? 0) + 1;
		expect(summary.counts).toEqual(byClass);
		expect(summary.counts.car).toBe(1);
		expect(summary.counts.person).toBeGreaterThan(3);
		// Line crossings are reported as a count per line, every line listed.
		expect(Object.keys(summary.lineCrossings ?? {})).toEqual(["door"]);
		expect(summary.lineCrossings?.door).toBe(Object.values(tracker.summary().lineCrossings)[0].count);
		expect(summary.lineCrossings?.door).toBeGreaterThan(0);
	});

	it("an empty clip has no tracks", () => {
		expect(clipSummary(new Tracker().summary())).toEqual({ counts: {}, tracks: 0, lineCrossings: {} });
	});

	it("a stored track keeps its figures and its line crossings without the latest direction", () => {
		const t = aTrack({ id: 3, zonesEntered: ["aisle"], lineCrossings: { door: { count: 1, forward: 1, backward: 0, direction: 1 } } });
		expect(trackRow("clip-1", t)).toEqual({
			clipId: "clip-1",
			trackNo: 3,
			className: "person",
			firstTime: 0,
			lastTime: 2,
			bestTime: 1,
			bestBox: [0.1, 0.1, 0.2, 0.4],
			maxScore: 0.8,
			meanScore: 0.7,
			stationary: false,
			zonesEntered: ["aisle"],
			lineCrossings: { door: { count: 1, forward: 1, backward: 0 } },
			path: [
				[0, 0.15, 0.4],
				[2, 0.15, 0.4],
			],
		});
	});
});
