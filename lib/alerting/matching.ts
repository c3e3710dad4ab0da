/**
 * Which alert rules a track newly meets: the one rule check of clips and edge events alike. A rule fires once
 * per track (its `decided` key, `trackKey:ruleId`, is recorded as it fires), a camera's learned or pinned
 * threshold for the class raises the rule's own minimum score, and an object the camera already knew (its
 * stationary memory) raises nothing. Plain functions: no database, no broker.
 */
import { isNewIncident, type StationaryMemory, type Track } from "../vision/tracker";
import { trackSatisfies, type RuleCriteria } from "./rules";

/** What the check reads of a rule: its criteria, its id (for the decided key) and the camera it is limited to. */
export interface MatchableRule extends RuleCriteria {
	id: string;
	cameraId: string | null;
}

/** What the check reads of a camera. */
export interface MatchingCamera {
	id: string;
	timezone: string;
}

/** The key that marks a rule decided for a track: each pair is decided once. */
export const decidedKey = (trackKey: string, ruleId: string) => `${trackKey}:${ruleId}`;

/**
 * The rules `track` satisfies at `at` that are not yet in `decided`; each one returned is added to `decided`.
 * `learned` holds the camera's threshold per class (pinned, else learned from feedback).
 */
export function newlyMet<R extends MatchableRule>(
	camera: MatchingCamera,
	track: Track,
	at: Date,
	rules: R[],
	memory: StationaryMemory,
	decided: Set<string>,
	trackKey: string,
	learned: Map<string, number>,
): R[] {
	if (!isNewIncident(track, memory)) return [];
	const met: R[] = [];
	for (const rule of rules) {
		const key = decidedKey(trackKey, rule.id);
		if (decided.has(key) || (rule.cameraId && rule.cameraId !== camera.id)) continue;
		if (!trackSatisfies(rule, track, at, camera.timezone, Math.max(rule.minScore, learned.get(track.className) ?? 0))) continue;
		decided.add(key);
		met.push(rule);
	}
	return met;
}
