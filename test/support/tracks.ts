/** A confirmed track as the tracker reports it, for tests of what is decided about tracks. */
import type { Track } from "../../lib/vision/tracker";

export const aTrack = (over: Partial<Track> = {}): Track => ({
	id: 1,
	classId: 0,
	className: "person",
	firstFrame: 0,
	lastFrame: 10,
	firstTime: 0,
	lastTime: 2,
	hits: 10,
	box: [0.1, 0.1, 0.2, 0.4],
	bestFrame: { index: 5, time: 1 },
	bestBox: [0.1, 0.1, 0.2, 0.4],
	maxScore: 0.8,
	meanScore: 0.7,
	confirmed: true,
	stationary: false,
	zonesEntered: [],
	lineCrossings: {},
	path: [
		[0, 0.15, 0.4],
		[2, 0.15, 0.4],
	],
	...over,
});
