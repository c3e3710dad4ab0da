/**
 * The durable work the alert service takes from its queue: evaluate what was committed since the last time, for
 * a clip (each committed segment queues one) or for a camera's edge events (each stored batch queues one). A job
 * may run twice or find nothing new: evaluation resumes from its stored state and raises nothing twice.
 */
export const EVALUATE_QUEUE = "evaluate";

export type EvaluationJob =
	{ kind: "clip"; clipId: string; generation: number; orgId?: string } | { kind: "edge"; cameraId: string; orgId?: string; oldest?: string; newest?: string };

/** The job id (its dedupe key) of a clip's evaluation after one segment; a resume (after a restart, by an operator) is always new. */
export const clipEvaluationId = (clipId: string, generation: number, segment: number | "resume") =>
	`clip:${clipId}:${generation}:${segment === "resume" ? `resume-${Date.now()}` : segment}`;
