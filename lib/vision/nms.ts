/** Intersection over union and class-aware non-maximum suppression. */
import type { Box } from "./types";

export interface Scored {
	box: Box;
	score: number;
	classId: number;
}

export function iou(a: Box, b: Box): number {
	const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
	const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
	if (w <= 0 || h <= 0) return 0;
	const inter = w * h;
	const union = area(a) + area(b) - inter;
	return union > 0 ? inter / union : 0;
}

function area(b: Box): number {
	return Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
}

/**
 * Greedy NMS, best score first: a box is dropped when it overlaps an already kept box of the same class by more
 * than `iouThreshold`. Different classes never suppress each other (a person holding a bag keeps both).
 */
export function nms<T extends Scored>(candidates: readonly T[], iouThreshold: number, maxDetections: number): T[] {
	const sorted = [...candidates].sort((a, b) => b.score - a.score);
	const kept: T[] = [];
	const keptByClass = new Map<number, T[]>();
	for (const c of sorted) {
		if (kept.length >= maxDetections) break;
		const sameClass = keptByClass.get(c.classId) ?? [];
		if (sameClass.some((k) => iou(k.box, c.box) > iouThreshold)) continue;
		sameClass.push(c);
		keptByClass.set(c.classId, sameClass);
		kept.push(c);
	}
	return kept;
}
