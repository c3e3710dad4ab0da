import { learnThreshold, resolveVerdict, statsAt, wilsonLowerBound, type LabelledScore, type LearnOptions, type Vote } from "../../lib/learning/thresholds";

const options: LearnOptions = { targetPrecision: 0.9, minVerdicts: 20, minThreshold: 0.05, maxThreshold: 0.95 };

/** Small seeded generator (mulberry32): the same stream on every run. */
function prng(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = Math.imul(a ^ (a >>> 15), 1 | a);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

const labelled = (scores: number[], truePositive: boolean): LabelledScore[] => scores.map((score) => ({ score, truePositive }));

describe("Wilson lower bound", () => {
	it("is cautious with few verdicts and tightens with many", () => {
		expect(wilsonLowerBound(5, 5)).toBeCloseTo(0.649, 2);
		expect(wilsonLowerBound(100, 100)).toBeCloseTo(0.974, 2);
		expect(wilsonLowerBound(90, 100)).toBeGreaterThan(0.83);
		expect(wilsonLowerBound(90, 100)).toBeLessThan(0.9);
		expect(wilsonLowerBound(0, 10)).toBe(0);
		expect(wilsonLowerBound(0, 0)).toBe(0);
	});
});

describe("learning a threshold", () => {
	it("learns nothing below the minimum number of verdicts", () => {
		const few = [...labelled([0.9, 0.92, 0.95, 0.97, 0.99], true), ...labelled([0.5, 0.52], false)];
		const learned = learnThreshold(few, options);
		expect(learned).toMatchObject({ threshold: null, verdicts: 7, truePositives: 5, falsePositives: 2, suppressedShare: 0 });
	});

	/** The learned threshold reaches the target, and no lower score would have. */
	function expectLowestReachingTarget(data: LabelledScore[], threshold: number) {
		expect(statsAt(data, threshold).precisionLowerBound).toBeGreaterThanOrEqual(options.targetPrecision);
		for (const lower of new Set(data.map((d) => d.score).filter((s) => s < threshold)))
			expect(statsAt(data, lower).precisionLowerBound).toBeLessThan(options.targetPrecision);
	}

	it("sets the threshold at the top of where false positives cluster, keeping the alerts above at the target precision", () => {
		const tp = labelled(
			Array.from({ length: 60 }, (_, i) => 0.7 + i * 0.005),
			true,
		);
		const fp = labelled(
			Array.from({ length: 20 }, (_, i) => 0.4 + i * 0.01),
			false,
		);
		const data = [...tp, ...fp];
		const learned = learnThreshold(data, options);
		expect(learned.threshold).toBeGreaterThan(0.5);
		expect(learned.threshold).toBeLessThanOrEqual(0.7);
		expectLowestReachingTarget(data, learned.threshold!);
		expect(learned).toMatchObject({ verdicts: 80, truePositives: 60, falsePositives: 20 });
		expect(learned.suppressedShare).toBeGreaterThan(0.15);
		expect(learned.precision).toBeGreaterThan(0.9);
	});

	it("tolerates the odd false positive among high scores instead of jumping over it", () => {
		const tp = labelled(
			Array.from({ length: 100 }, (_, i) => 0.6 + i * 0.004),
			true,
		);
		const fp = [
			...labelled(
				Array.from({ length: 20 }, (_, i) => 0.3 + i * 0.01),
				false,
			),
			...labelled([0.85], false),
		];
		const data = [...tp, ...fp];
		const learned = learnThreshold(data, options);
		expect(learned.threshold).toBeLessThanOrEqual(0.6);
		expectLowestReachingTarget(data, learned.threshold!);
	});

	it("a handful of verdicts cannot certify a threshold, however clean they look", () => {
		// 20 true positives: the plain ratio is 1, but the lower bound (0.88) is still under the 0.9 target.
		expect(
			learnThreshold(
				labelled(
					Array.from({ length: 20 }, (_, i) => 0.5 + i * 0.02),
					true,
				),
				options,
			).threshold,
		).toBeNull();
		expect(
			learnThreshold(
				labelled(
					Array.from({ length: 30 }, (_, i) => 0.5 + i * 0.01),
					true,
				),
				options,
			).threshold,
		).toBeCloseTo(0.5, 5);
	});

	it("learns nothing when no threshold reaches the target (all false positives)", () => {
		const learned = learnThreshold(
			labelled(
				Array.from({ length: 50 }, (_, i) => 0.3 + i * 0.01),
				false,
			),
			options,
		);
		expect(learned).toMatchObject({ threshold: null, falsePositives: 50, precision: 0 });
	});

	it("never leaves its bounds", () => {
		const high = [
			...labelled(
				Array.from({ length: 40 }, (_, i) => 0.97 + i * 0.0005),
				true,
			),
			...labelled(
				Array.from({ length: 40 }, (_, i) => 0.5 + i * 0.01),
				false,
			),
		];
		expect(learnThreshold(high, options).threshold).toBe(0.95);
		const low = labelled(
			Array.from({ length: 40 }, (_, i) => 0.01 + i * 0.02),
			true,
		);
		expect(learnThreshold(low, options).threshold).toBe(0.05);
	});

	it("reports how a given threshold would have done", () => {
		const data = [...labelled([0.9, 0.8, 0.7], true), ...labelled([0.6, 0.75], false)];
		expect(statsAt(data, 0.7)).toMatchObject({ verdicts: 5, truePositives: 3, falsePositives: 2, precision: 0.75, suppressedShare: 0.2 });
		expect(statsAt(data, null)).toMatchObject({ precision: 0.6, suppressedShare: 0 });
		expect(statsAt([], 0.5)).toMatchObject({ verdicts: 0, precision: null, precisionLowerBound: null, suppressedShare: 0 });
	});
});

describe("several people's verdicts on one alert", () => {
	const at = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s));
	const vote = (verdict: Vote["verdict"], s: number, correctClass: string | null = null): Vote => ({ verdict, correctClass, at: at(s) });

	it("the majority wins", () => {
		expect(
			resolveVerdict([vote("true_positive", 1), vote("false_positive", 2), vote("true_positive", 3), vote("false_positive", 4), vote("false_positive", 5)])
				?.verdict,
		).toBe("false_positive");
	});

	it("a tie goes to the most recent verdict", () => {
		expect(resolveVerdict([vote("true_positive", 1), vote("false_positive", 2)])?.verdict).toBe("false_positive");
		expect(resolveVerdict([vote("false_positive", 1), vote("true_positive", 2)])?.verdict).toBe("true_positive");
	});

	it("wrong-class verdicts naming different classes are different answers", () => {
		const resolved = resolveVerdict([vote("wrong_class", 1, "dog"), vote("wrong_class", 2, "cat"), vote("wrong_class", 3, "dog"), vote("true_positive", 4)]);
		expect(resolved).toMatchObject({ verdict: "wrong_class", correctClass: "dog" });
		expect(resolveVerdict([])).toBeUndefined();
	});
});

describe("the feedback loop on a replayed stream of alerts", () => {
	it("after learning, false-positive alerts drop by at least half while true positives lose at most 5 %", () => {
		const random = prng(20251126);
		// True positives score high (skewed towards 1); false positives cluster just above the rule's 0.5, with a tail into the true ones.
		const stream = Array.from({ length: 3000 }, () => {
			const truePositive = random() < 0.6;
			const score = truePositive ? 0.6 + 0.4 * Math.sqrt(random()) : 0.5 + 0.3 * Math.min(random(), random(), random(), random());
			return { score, truePositive };
		});
		const window = 1000;
		const learnPart = 1000;
		let threshold: number | null = null;
		const verdicts: LabelledScore[] = [];
		const raised = { tp: 0, fp: 0 };
		const baseline = { tp: 0, fp: 0 };
		stream.forEach((alert, i) => {
			const measured = i >= learnPart;
			if (measured) baseline[alert.truePositive ? "tp" : "fp"]++;
			// An alert is raised only at or above the threshold in force; only raised alerts get verdicts (as in production).
			if (threshold !== null && alert.score < threshold) return;
			if (measured) raised[alert.truePositive ? "tp" : "fp"]++;
			verdicts.push(alert);
			threshold = learnThreshold(verdicts.slice(-window), options).threshold;
		});
		expect(threshold).not.toBeNull();
		expect(raised.fp).toBeLessThanOrEqual(baseline.fp * 0.5);
		expect(raised.tp).toBeGreaterThanOrEqual(baseline.tp * 0.95);
		// And it does work: without learning the same stream keeps every false positive.
		expect(baseline.fp).toBeGreaterThan(500);
	});
});
