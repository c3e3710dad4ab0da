/** Shared shapes of the detection core. Boxes are [x1, y1, x2, y2]; the unit depends on where they are used. */
export type Box = [number, number, number, number];

export interface Size {
	width: number;
	height: number;
}

/** One object found in one frame; `box` is normalised to the source frame (0..1, origin top-left). */
export interface Detection {
	classId: number;
	className: string;
	score: number;
	box: Box;
	/** The caller's id for it (an edge event's id); the tracker hands it back as the track's firstRef/lastRef. */
	ref?: string;
}

export interface DetectOptions {
	/** Lowest score kept (inclusive), 0..1. */
	minScore: number;
	/** Boxes of one class overlapping a better one by more than this IoU are dropped. */
	iouThreshold: number;
	/** At most this many detections per frame, best first. */
	maxDetections: number;
}
