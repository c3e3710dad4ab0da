import { decidedKey, newlyMet, type MatchableRule } from "../../lib/alerting/matching";
import type { Track } from "../../lib/vision/tracker";
import { aTrack } from "../support/tracks";

const track = (over: Partial<Track> = {}): Track => aTrack({ id: 7, zonesEntered: [], ...over });
const rule = (id: string, over: Partial<MatchableRule> = {}): MatchableRule => ({
	id,
	cameraId: null,
	classes: ["person"],
	minScore: 0.5,
	zoneIds: [],
	minDurationSec: 0,
	schedule: null,
	...over,
});
const camera = { id: "cam-1", timezone: "UTC" };
const at = new Date("2026-11-22T12:00:00Z");
const none = new Map<string, number>();

describe("which rules a track newly meets", () => {
	it("a rule fires once per track: its decided key is recorded and a second look raises nothing", () => {
		const decided = new Set<string>();
		const rules = [rule("r1"), rule("r2", { classes: ["car"] })];
		expect(newlyMet(camera, track(), at, rules, [], decided, "7", none).map((r) => r.id)).toEqual(["r1"]);
		expect([...decided]).toEqual([decidedKey("7", "r1")]);
		expect(decidedKey("7", "r1")).toBe("7:r1");
		expect(newlyMet(camera, track({ lastTime: 5 }), at, rules, [], decided, "7", none)).toEqual([]);
		// Another track (another key) is decided on its own.
		expect(newlyMet(camera, track({ id: 8 }), at, rules, [], decided, "8", none).map((r) => r.id)).toEqual(["r1"]);
	});

	it("keys decided by an earlier evaluation (the stored state) are not raised again", () => {
		const decided = new Set([decidedKey("box:T1:e1", "r1")]);
		expect(newlyMet(camera, track(), at, [rule("r1"), rule("r2")], [], decided, "box:T1:e1", none).map((r) => r.id)).toEqual(["r2"]);
	});

	it("the camera's learned threshold raises a rule's minimum, never lowers it", () => {
		const rules = [rule("r1", { minScore: 0.5 })];
		expect(newlyMet(camera, track({ maxScore: 0.7 }), at, rules, [], new Set(), "7", new Map([["person", 0.75]]))).toEqual([]);
		expect(newlyMet(camera, track({ maxScore: 0.8 }), at, rules, [], new Set(), "7", new Map([["person", 0.75]])).map((r) => r.id)).toEqual(["r1"]);
		// A learned value below the rule's minimum leaves the rule's own.
		expect(newlyMet(camera, track({ maxScore: 0.45 }), at, rules, [], new Set(), "7", new Map([["person", 0.2]]))).toEqual([]);
		// Another class's threshold does not apply.
		expect(newlyMet(camera, track({ maxScore: 0.7 }), at, rules, [], new Set(), "7", new Map([["car", 0.9]])).map((r) => r.id)).toEqual(["r1"]);
	});

	it("a track that does not meet a rule yet leaves it undecided, so a later frame may still fire it", () => {
		const decided = new Set<string>();
		const rules = [rule("r1", { minDurationSec: 5 })];
		expect(newlyMet(camera, track({ lastTime: 2 }), at, rules, [], decided, "7", none)).toEqual([]);
		expect(decided.size).toBe(0);
		expect(newlyMet(camera, track({ lastTime: 6 }), at, rules, [], decided, "7", none).map((r) => r.id)).toEqual(["r1"]);
	});

	it("a rule of another camera is skipped; a store-wide rule applies to every camera", () => {
		const rules = [rule("mine", { cameraId: "cam-1" }), rule("theirs", { cameraId: "cam-2" }), rule("store")];
		expect(newlyMet(camera, track(), at, rules, [], new Set(), "7", none).map((r) => r.id)).toEqual(["mine", "store"]);
	});

	it("nothing for a tentative track, a parked car, or an object the camera already knew", () => {
		const any = [rule("r1", { classes: [] })];
		expect(newlyMet(camera, track({ confirmed: false }), at, any, [], new Set(), "7", none)).toEqual([]);
		expect(newlyMet(camera, track({ className: "car", stationary: true }), at, any, [], new Set(), "7", none)).toEqual([]);
		const memory = [{ className: "person", box: [0.1, 0.1, 0.2, 0.4] as [number, number, number, number], lastSeen: 0 }];
		const decided = new Set<string>();
		expect(newlyMet(camera, track(), at, any, memory, decided, "7", none)).toEqual([]);
		expect(decided.size).toBe(0);
		// Someone standing still still counts when the camera did not know them.
		expect(newlyMet(camera, track({ stationary: true }), at, any, [], new Set(), "7", none).map((r) => r.id)).toEqual(["r1"]);
	});
});
