/**
 * The threshold learner. From alerts people judged (true or false positive), the lowest score threshold whose
 * precision stays at or above a target, judged by a lower confidence bound so that a handful of verdicts cannot
 * swing it. Plain functions, no broker: the feedback service feeds it the labelled alerts of one camera and class.
 */

export const VERDICTS = ["true_positive", "false_positive", "wrong_class"] as const;
export type VerdictKind = (typeof VERDICTS)[number];

/** One person's verdict on one alert. */
export interface Vote {
	verdict: VerdictKind;
	/** The class the object really was, for wrong_class. */
	correctClass: string | null;
	/** When the verdict was given (its latest change). */
	at: Date;
}

/**
 * What several people's verdicts on one alert add up to: the majority, where each corrected class of a wrong_class
 * verdict is an answer of its own; a tie goes to the most recent verdict among the tied answers. Undefined: no vote.
 */
export function resolveVerdict<V extends Vote>(votes: readonly V[]): V | undefined {
	const answers = new Map<string, { count: number; latest: V }>();
	for (const vote of votes) {
		const key = vote.verdict === "wrong_class" ? `wrong_class:${vote.correctClass}` : vote.verdict;
		const seen = answers.get(key);
		if (!seen) answers.set(key, { count: 1, latest: vote });
		else {
			seen.count++;
			if (vote.at.getTime() > seen.latest.at.getTime()) seen.latest = vote;
		}
	}
	let best: { count: number; latest: V } | undefined;
	for (const answer of answers.values()) {
		if (!best || answer.count > best.count || (answer.count === best.count && answer.latest.at.getTime() > best.latest.at.getTime())) best = answer;
	}
	return best?.latest;
}

/** An alert's score and whether it was right about its class (wrong_class counts as a false positive). */
export interface LabelledScore {
	score: number;
	truePositive: boolean;
}

export interface LearnOptions {
	/** Precision the alerts at or above the threshold must keep, as a lower confidence bound (0..1). */
	targetPrecision: number;
	/** Labelled alerts needed before anything is learned. */
	minVerdicts: number;
	/** Bounds the learned threshold never leaves. */
	minThreshold: number;
	maxThreshold: number;
	/** Standard normal quantile of the bound; 1.645 is one-sided 95 %. */
	z?: number;
}

/** One-sided 95 %: "precision is at least this, 19 times out of 20". */
export const WILSON_Z = 1.645;

/**
 * Wilson score interval's lower end for `successes` out of `n`. Unlike the plain ratio it is cautious with small
 * samples: 5 out of 5 gives about 0.65, 100 out of 100 about 0.97.
 */
export function wilsonLowerBound(successes: number, n: number, z = WILSON_Z): number {
	if (n <= 0) return 0;
	const p = successes / n;
	const z2 = z * z;
	const centre = p + z2 / (2 * n);
	const spread = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
	return Math.max(0, (centre - spread) / (1 + z2 / n));
}

export interface ThresholdStats {
	/** Labelled alerts considered. */
	verdicts: number;
	truePositives: number;
	falsePositives: number;
	/** Share of true positives among the labelled alerts at or above the threshold; null when there are none. */
	precision: number | null;
	/** Its Wilson lower bound; null when there are none. */
	precisionLowerBound: number | null;
	/** Share of the labelled alerts the threshold would have suppressed (score below it). */
	suppressedShare: number;
}

/** How a threshold (null: none) would have done on the labelled alerts. */
export function statsAt(labelled: readonly LabelledScore[], threshold: number | null, z = WILSON_Z): ThresholdStats {
	let kept = 0,
		keptTrue = 0,
		truePositives = 0;
	for (const l of labelled) {
		if (l.truePositive) truePositives++;
		if (threshold !== null && l.score < threshold) continue;
		kept++;
		if (l.truePositive) keptTrue++;
	}
	const n = labelled.length;
	return {
		verdicts: n,
		truePositives,
		falsePositives: n - truePositives,
		precision: kept ? keptTrue / kept : null,
		precisionLowerBound: kept ? wilsonLowerBound(keptTrue, kept, z) : null,
		suppressedShare: n ? (n - kept) / n : 0,
	};
}

export interface Learned extends ThresholdStats {
	/** The learned threshold; null: nothing learned (too few verdicts, or no threshold reaches the target). */
	threshold: number | null;
}

/**
 * The lowest threshold t among the labelled scores such that the Wilson lower bound of the precision of the alerts
 * scoring t or more is at least the target, clamped to the bounds. Null below `minVerdicts`, and null when no t
 * reaches the target: what cannot be shown to help is not applied (the rule's own minimum stays in force).
 */
export function learnThreshold(labelled: readonly LabelledScore[], options: LearnOptions): Learned {
	const z = options.z ?? WILSON_Z;
	if (labelled.length < options.minVerdicts) return { threshold: null, ...statsAt(labelled, null, z) };
	const sorted = [...labelled].sort((a, b) => b.score - a.score);
	// Walking down from the top score: at each distinct score t, the alerts scoring t or more are those seen so far.
	let kept = 0,
		keptTrue = 0;
	let lowest: number | null = null;
	for (let i = 0; i < sorted.length; i++) {
		kept++;
		if (sorted[i].truePositive) keptTrue++;
		const t = sorted[i].score;
		if (i + 1 < sorted.length && sorted[i + 1].score === t) continue;
		if (wilsonLowerBound(keptTrue, kept, z) >= options.targetPrecision) lowest = t;
	}
	if (lowest === null) return { threshold: null, ...statsAt(labelled, null, z) };
	const lo = Math.min(options.minThreshold, options.maxThreshold),
		hi = Math.max(options.minThreshold, options.maxThreshold);
	const threshold = Math.min(hi, Math.max(lo, lowest));
	return { threshold, ...statsAt(labelled, threshold, z) };
}
