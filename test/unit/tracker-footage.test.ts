/**
 * The tracker on real street footage: the bundled detector's boxes for vtest_10s.mp4 at 5 fps (made by
 * bench/tracking-fixture.ts) replayed frame by frame, against who is who counted by hand (street-people.json).
 */
import type { TrackingFixture } from "../../bench/tracking-fixture";
import { Tracker, type TrackerOptions } from "../../lib/vision/tracker";
import type { Detection } from "../../lib/vision/types";
import footage from "../fixtures/street-detections.json";
import people from "../fixtures/street-people.json";

const fixture = footage as TrackingFixture;
/** DETECT_MIN_SCORE's default: the detector service drops weaker boxes before they reach the tracker. */
const DETECT_MIN_SCORE = 0.3;
/** How near (pixels) a track's feet must be to a person's to be that person in that frame. */
const NEAR = 20;
type Person = keyof typeof people.people;

/** Replays the clip; for each person, the id of the track that stood on them in each frame they were seen. */
function replay(options: Partial<TrackerOptions> = {}, minScore = DETECT_MIN_SCORE) {
	const tracker = new Tracker([], options);
	const idsOf = new Map<Person, number[]>();
	const peopleOf = new Map<number, Set<Person>>();
	fixture.frames.forEach((found, index) => {
		const detections: Detection[] = found.filter(([score]) => score >= minScore).map(([score, ...box]) => ({ classId: 0, className: "person", score, box }));
		for (const track of tracker.update({ index, time: index / fixture.fps }, detections).updated) {
			const x = ((track.box[0] + track.box[2]) / 2) * fixture.width;
			const y = track.box[3] * fixture.height;
			let who: Person | undefined;
			let nearest = NEAR;
			for (const [name, { feet }] of Object.entries(people.people) as [Person, { feet: number[][] }][]) {
				const at = feet.find(([frame]) => frame === index);
				const distance = at ? Math.hypot(at[1] - x, at[2] - y) : Infinity;
				if (distance < nearest) [who, nearest] = [name, distance];
			}
			if (!who) continue;
			(idsOf.get(who) ?? idsOf.set(who, []).get(who)!).push(track.id);
			(peopleOf.get(track.id) ?? peopleOf.set(track.id, new Set()).get(track.id)!).add(who);
		}
	});
	/** A person's ids in the order they had them, each once. */
	const ids = (who: Person) => [...new Set(idsOf.get(who))];
	const switches = [...idsOf.values()].reduce((n, seq) => n + seq.filter((id, i) => i > 0 && id !== seq[i - 1]).length, 0);
	return { counts: tracker.summary().counts, ids, switches, peopleOf };
}

describe("tracking people on the street footage", () => {
	it("is the fixture the test was counted on", () => {
		expect(fixture).toMatchObject({ video: "vtest_10s.mp4", model: "centernet-coco", width: 768, height: 576, fps: 5, minScore: 0.1 });
		expect(fixture.frames).toHaveLength(50);
	});

	it("counts the seven people, and finds every one of them", () => {
		const { counts, ids } = replay();
		expect(counts).toEqual({ person: 7 });
		for (const who of Object.keys(people.people) as Person[]) expect(ids(who).length).toBeGreaterThan(0);
	});

	it("keeps C's id behind the sign (frames 13-17) and behind B and A (frames 26-29)", () => {
		const { ids, peopleOf } = replay();
		expect(ids("C")).toHaveLength(1);
		expect(peopleOf.get(ids("C")[0])).toEqual(new Set(["C"]));
		// Without the third pass C came back as a new person after each occlusion.
		const before = replay({ recoveryReach: 0, lostVelocityDecay: 1 });
		expect(before.ids("C")).toHaveLength(3);
		expect(before.counts).toEqual({ person: 9 });
	});

	it("has no id switch but the one an IoU tracker cannot avoid: B stepping out from behind A as A steps behind the sign", () => {
		const { ids, switches, peopleOf } = replay();
		for (const who of ["A", "C", "D", "E", "F", "G"] as Person[]) expect(ids(who)).toHaveLength(1);
		// B's first track ends behind the sign (frame 9); from frame 18 B has the track A had.
		expect(ids("B")).toEqual([ids("B")[0], ids("A")[0]]);
		expect(switches).toBe(1);
		const shared = [...peopleOf].filter(([, who]) => who.size > 1);
		expect(shared).toEqual([[ids("A")[0], new Set(["A", "B"])]]);
	});
});
