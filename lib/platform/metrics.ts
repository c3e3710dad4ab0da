/** prom-client metrics of this process, exposed at /metrics. One registry per process. */
import client from "prom-client";

export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

export const httpRequests = new client.Counter({
	name: "vigil_http_requests_total",
	help: "HTTP requests answered by the gateway",
	labelNames: ["method", "route", "status"] as const,
	registers: [registry],
});

export const httpDuration = new client.Histogram({
	name: "vigil_http_request_duration_seconds",
	help: "Time to answer an HTTP request, by route pattern",
	labelNames: ["method", "route", "status"] as const,
	buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
	registers: [registry],
});

export const loginFailures = new client.Counter({
	name: "vigil_login_failures_total",
	help: "Failed sign-in attempts (wrong credentials or locked out)",
	labelNames: ["reason"] as const,
	registers: [registry],
});

/** Pipeline stages, timed per frame batch (decode, inference, post-processing) or per segment (persist). */
export const stageSeconds = new client.Histogram({
	name: "vigil_stage_seconds",
	help: "Time spent per pipeline stage: decode is ffmpeg's own CPU time per segment (decoding alone), inference and persist are wall time per batch and per segment; inference is labelled by the TF.js backend it ran on",
	labelNames: ["stage", "backend"] as const,
	buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
	registers: [registry],
});

export const clipSeconds = new client.Histogram({
	name: "vigil_clip_end_to_end_seconds",
	help: "From upload to the last segment's results, per clip",
	buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
	registers: [registry],
});

export const framesDetected = new client.Counter({
	name: "vigil_detector_frames_total",
	help: "Frames run through the detector on this node (rate() gives frames/s)",
	registers: [registry],
});

export const detectorInfo = new client.Gauge({
	name: "vigil_detector_info",
	help: "The backend and model this detector node uses (value 1)",
	labelNames: ["backend", "model"] as const,
	registers: [registry],
});

export const retentionRemoved = new client.Counter({
	name: "vigil_retention_removed_total",
	help: "What retention cleanups on this node removed: clips (videos), snapshots, detections",
	labelNames: ["kind"] as const,
	registers: [registry],
});

export const alertsRaised = new client.Counter({
	name: "vigil_alerts_raised_total",
	help: "Alerts raised, by source (clip or edge) and severity",
	labelNames: ["source", "severity"] as const,
	registers: [registry],
});

export const notificationAttempts = new client.Counter({
	name: "vigil_notification_attempts_total",
	help: "Notification send attempts by channel kind and outcome: sent, retry (failed, tried again later) or failed (last attempt)",
	labelNames: ["kind", "outcome"] as const,
	registers: [registry],
});

export const edgeEvents = new client.Counter({
	name: "vigil_edge_events_total",
	help: "Edge boxes' detection events by outcome: accepted, duplicate or rejected",
	labelNames: ["outcome"] as const,
	registers: [registry],
});

export const verdictsRecorded = new client.Counter({
	name: "vigil_verdicts_total",
	help: "Verdicts staff gave on alerts: true_positive, false_positive or wrong_class",
	labelNames: ["verdict"] as const,
	registers: [registry],
});

export const framesSkipped = new client.Counter({
	name: "vigil_detector_frames_skipped_total",
	help: "Decoded frames that skipped inference and kept the detections of the frame before, by reason: still (no motion since the last frame detected) or stride (a live camera detected every n-th frame while the detectors were behind)",
	labelNames: ["reason"] as const,
	registers: [registry],
});

export const liveStride = new client.Gauge({
	name: "vigil_live_stride",
	help: "Stride given to the latest live segment queued: 1 is every frame; more while the detector backlog is above LIVE_STRIDE_BACKLOG",
	registers: [registry],
});

export const liveSegmentsDropped = new client.Counter({
	name: "vigil_live_segments_dropped_total",
	help: "Live segments that never became clips, by reason: not_whole (ffmpeg never finished the file), rejected (the clip service refused it), backlog (STREAM_PENDING_SEGMENTS waited already), stopped (the pull ended first)",
	labelNames: ["reason"] as const,
	registers: [registry],
});

export const segmentsFailed = new client.Counter({
	name: "vigil_segments_failed_total",
	help: "Clip segments whose frames could not all be decoded, by reason: ended_early (the data ran out, a truncated file) or decoder_failed (ffmpeg gave up)",
	labelNames: ["reason"] as const,
	registers: [registry],
});
