/**
 * What the clip service and detector nodes exchange: the durable job (ids and a frame range, never frame
 * bytes: the detector reads the clip from storage and decodes its own segment) and the result it hands back.
 */
export const DETECT_QUEUE = "detector";

export interface SegmentJob {
	/** The clip's organization, so its dead letters are shown to that organization's admins (absent in jobs queued before it was added). */
	orgId?: string;
	clipId: string;
	cameraId: string;
	segment: number;
	/** The clip's generation when queued; results of an older generation (before a reprocess) are dropped. */
	generation: number;
	/** Global index of the segment's first sampled frame, at `fps`. */
	firstFrame: number;
	frameCount: number;
	fps: number;
	storageKey: string;
	width: number;
	height: number;
	/** The camera's classes of interest; empty = every class the model knows. */
	classes: string[];
	/**
	 * Detect every stride-th frame only (1, or absent: every frame); the frames between keep the detections of the
	 * last frame detected. Widened for live cameras while the detectors are behind, never for uploads.
	 */
	stride?: number;
}

export interface DetectedObject {
	classId: number;
	className: string;
	score: number;
	/** x1, y1, x2, y2 normalised to 0..1 of the source frame. */
	box: [number, number, number, number];
}

export interface SegmentResult {
	clipId: string;
	segment: number;
	generation: number;
	frames: { index: number; time: number; detections: DetectedObject[] }[];
	/** Set when decoding stopped early: the frames before it are kept and the clip ends failed with this reason. */
	error?: string;
}
