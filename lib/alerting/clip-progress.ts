/**
 * The figures of a clip's evaluation that need no database: how far its committed segments reach, whether and
 * how it finished, its summary, and the rows of its ended tracks.
 */
import type { ClipSummary } from "../../entities/clip.entity";
import type { Track, TrackerSummary } from "../vision/tracker";

export interface SegmentState {
	firstFrame: number;
	frameCount: number;
	status: "pending" | "done" | "failed";
	error: string | null;
}

export interface SegmentProgress {
	/** End of the contiguous run of committed segments from the start: frames before it can be evaluated. */
	committedFrames: number;
	/** No segment is pending any more. */
	allIn: boolean;
	/** Once all are in: `failed` if any segment failed, else `done`; null while some are pending. */
	finished: "done" | "failed" | null;
	/** The error of the first failed segment, if any. */
	failureReason: string | null;
}

/** Where a clip's segments (in index order) stand. */
export function segmentProgress(segments: SegmentState[]): SegmentProgress {
	let committedFrames = 0;
	for (const s of segments) {
		if (s.status === "pending") break;
		committedFrames = s.firstFrame + s.frameCount;
	}
	const allIn = segments.every((s) => s.status !== "pending");
	const failed = segments.find((s) => s.status === "failed");
	return { committedFrames, allIn, finished: allIn ? (failed ? "failed" : "done") : null, failureReason: failed?.error ?? null };
}

/** A finished clip's summary. Every figure counts confirmed tracks: `counts` per class adds up to `tracks`, the clip's stored tracks. */
export function clipSummary(summary: TrackerSummary): ClipSummary {
	return {
		counts: summary.counts,
		tracks: Object.values(summary.counts).reduce((a, b) => a + b, 0),
		lineCrossings: Object.fromEntries(Object.entries(summary.lineCrossings).map(([k, v]) => [k, v.count])),
	};
}

/** The stored row of a track that ended. */
export function trackRow(clipId: string, t: Track) {
	return {
		clipId,
		trackNo: t.id,
		className: t.className,
		firstTime: t.firstTime,
		lastTime: t.lastTime,
		bestTime: t.bestFrame.time,
		bestBox: t.bestBox,
		maxScore: t.maxScore,
		meanScore: t.meanScore,
		stationary: t.stationary,
		zonesEntered: t.zonesEntered,
		lineCrossings: Object.fromEntries(Object.entries(t.lineCrossings).map(([k, v]) => [k, { count: v.count, forward: v.forward, backward: v.backward }])),
		path: t.path,
	};
}
