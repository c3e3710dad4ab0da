/**
 * The live alert stream without a broker: alerts put back in sequence order (so resuming from Last-Event-ID
 * loses nothing), resume points checked, and a stream that follows its caller's access.
 */
import { AlertSequencer, AlertStream, parseResumePoint, type AlertEvent } from "../../lib/alerting/stream";

const WAIT = 500;
const alert = (seq: number, storeId = "store-a"): AlertEvent => ({ seq, storeId, id: `alert-${seq}` });

/** A client that drops after `dropAfter` events and resumes from the last id it saw, as a browser does. */
function resumeFrom(delivered: number[], dropAfter: number) {
	const lastSeen = delivered[dropAfter - 1];
	return { before: delivered.slice(0, dropAfter), lastSeen };
}

function sequencer(database: AlertEvent[] = []) {
	const delivered: number[] = [];
	const fetches: number[] = [];
	const s = new AlertSequencer({
		waitMs: WAIT,
		fetchAfter: async (seq) => {
			fetches.push(seq);
			return database.filter((a) => a.seq > seq).sort((a, b) => a.seq - b.seq);
		},
		deliver: (a) => delivered.push(a.seq),
	});
	return { s, delivered, fetches };
}

/** A sink that records what a stream wrote. */
function sink() {
	const chunks: string[] = [];
	return {
		chunks,
		ended: false,
		write(chunk: string) {
			chunks.push(chunk);
		},
		end() {
			this.ended = true;
		},
		get writableEnded() {
			return this.ended;
		},
		ids: () => chunks.filter((c) => c.startsWith("id: ")).map((c) => Number(c.slice(4, c.indexOf("\n")))),
		events: () => chunks.map((c) => /^event: (.+)$/m.exec(c)?.[1]).filter(Boolean),
	};
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe("alerts in sequence order", () => {
	it("holds 11 until 10 arrives, then delivers both in order", async () => {
		const { s, delivered } = sequencer();
		s.push(alert(9));
		await jest.advanceTimersByTimeAsync(WAIT);
		expect(delivered).toEqual([9]);

		s.push(alert(11));
		await jest.advanceTimersByTimeAsync(WAIT / 2);
		expect(delivered).toEqual([9]);
		s.push(alert(10));
		expect(delivered).toEqual([9, 10, 11]);
		s.close();
	});

	it("a client that drops between 11 and 10 and resumes from its last id loses neither", async () => {
		const { s, delivered } = sequencer();
		s.push(alert(9));
		await jest.advanceTimersByTimeAsync(WAIT);
		s.push(alert(11));
		s.push(alert(10));
		s.push(alert(12));
		// Whatever point the client drops at, everything after its last seen id is still to come.
		for (let drop = 1; drop <= delivered.length; drop++) {
			const { before, lastSeen } = resumeFrom(delivered, drop);
			const after = delivered.filter((seq) => seq > lastSeen);
			expect([...before, ...after].sort((a, b) => a - b)).toEqual([9, 10, 11, 12]);
		}
		s.close();
	});

	it("a gap that never fills (a number no alert used) costs one wait, then the database is read and delivery goes on", async () => {
		const database = [alert(20), alert(22), alert(23)];
		const { s, delivered, fetches } = sequencer(database);
		s.push(alert(20));
		await jest.advanceTimersByTimeAsync(WAIT);
		s.push(alert(22));
		await jest.advanceTimersByTimeAsync(WAIT - 1);
		expect(delivered).toEqual([20]);
		await jest.advanceTimersByTimeAsync(1);
		// 23 was committed but its broadcast was lost: the database read finds it.
		expect(fetches).toEqual([20]);
		expect(delivered).toEqual([20, 22, 23]);
		s.push(alert(24));
		expect(delivered).toEqual([20, 22, 23, 24]);
		s.close();
	});

	it("the first alerts a gateway hears are put in order among themselves", async () => {
		const { s, delivered, fetches } = sequencer();
		s.push(alert(7));
		s.push(alert(5));
		s.push(alert(6));
		expect(delivered).toEqual([]);
		await jest.advanceTimersByTimeAsync(WAIT);
		expect(delivered).toEqual([5, 6, 7]);
		expect(fetches).toEqual([]);
		s.close();
	});

	it("an alert arriving after its gap was given up on is delivered late, once, not dropped", async () => {
		const { s, delivered } = sequencer([alert(1), alert(3)]);
		s.push(alert(1));
		await jest.advanceTimersByTimeAsync(WAIT);
		s.push(alert(3));
		await jest.advanceTimersByTimeAsync(WAIT);
		expect(delivered).toEqual([1, 3]);
		s.push(alert(2));
		s.push(alert(3));
		s.push(alert(2));
		expect(delivered).toEqual([1, 3, 2]);
		s.close();
	});

	it("a failed database read does not stop delivery", async () => {
		const delivered: number[] = [];
		const errors: unknown[] = [];
		const s = new AlertSequencer({
			waitMs: WAIT,
			fetchAfter: () => Promise.reject(new Error("down")),
			deliver: (a) => delivered.push(a.seq),
			onError: (e) => errors.push(e),
		});
		s.push(alert(1));
		await jest.advanceTimersByTimeAsync(WAIT);
		s.push(alert(4));
		await jest.advanceTimersByTimeAsync(WAIT);
		expect(delivered).toEqual([1, 4]);
		expect(errors).toHaveLength(1);
		s.close();
	});
});

describe("resume points", () => {
	it.each([[undefined], [null], [""], ["  "]])("%p: from now", (raw) => {
		expect(parseResumePoint(raw)).toBeUndefined();
	});

	it("a sequence number resumes after it", () => {
		expect(parseResumePoint("0")).toBe(0);
		expect(parseResumePoint("42")).toBe(42);
		expect(parseResumePoint(String(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
	});

	it.each(["9223372036854775808", "99999999999999999999999", String(Number.MAX_SAFE_INTEGER + 2), "-1", "1e3", "abc", "1.5"])(
		"%s: 400 INVALID_LAST_EVENT_ID",
		(raw) => {
			expect(() => parseResumePoint(raw)).toThrow(expect.objectContaining({ code: 400, type: "INVALID_LAST_EVENT_ID" }));
		},
	);
});

describe("one stream", () => {
	const caller = { userId: "u1", email: "u1@example.com", superAdmin: false };
	const open = (out: ReturnType<typeof sink>, more: Partial<ConstructorParameters<typeof AlertStream>[1]> = {}) =>
		new AlertStream(out, { caller, visibility: { all: false, storeIds: ["store-a", "store-b"], orgIds: ["org-1"] }, onEnd: () => undefined, ...more });

	it("sends only the alerts of stores its user can see, each once", () => {
		const out = sink();
		const stream = open(out);
		stream.push(alert(1, "store-a"));
		stream.push(alert(2, "store-c"));
		stream.push(alert(3, "store-b"));
		stream.push(alert(3, "store-b"));
		expect(out.ids()).toEqual([1, 3]);
		stream.dispose();
	});

	it("a resumed stream replays first, then the live alerts that came meanwhile, in order", () => {
		const out = sink();
		const stream = open(out, { resumeFrom: 10 });
		stream.push(alert(14));
		stream.push(alert(13));
		stream.push(alert(10));
		stream.replayed([alert(11), alert(12), alert(13)]);
		expect(out.ids()).toEqual([11, 12, 13, 14]);
		stream.dispose();
	});

	it("alert.updated goes to streams that see the store, without an id", () => {
		const out = sink();
		const stream = open(out);
		stream.update({ ...alert(5, "store-a"), status: "acknowledged" });
		stream.update({ ...alert(6, "store-c"), status: "resolved" });
		expect(out.events()).toEqual(["alert.updated"]);
		expect(out.ids()).toEqual([]);
		stream.dispose();
	});

	it("alerts raised while access is re-checked wait for the answer: a lost store's alert is never sent", () => {
		const out = sink();
		const ended: string[] = [];
		const stream = open(out, { onEnd: () => ended.push("ended") });
		const ticket = stream.checking();
		stream.push(alert(1, "store-b"));
		stream.checked(ticket, { all: false, storeIds: ["store-a"], orgIds: ["org-1"] });
		expect(out.ids()).toEqual([]);
		expect(out.events()).toEqual(["reauthenticate"]);
		expect(out.chunks.at(-1)).toMatch(/retry: \d+\ndata: {"reason":"access_changed"}/);
		expect(out.ended).toBe(true);
		expect(ended).toEqual(["ended"]);
	});

	it("a gained store is seen from then on; an older re-check answering late does not undo it", () => {
		const out = sink();
		const stream = open(out);
		const older = stream.checking();
		const newer = stream.checking();
		stream.checked(newer, { all: false, storeIds: ["store-a", "store-b", "store-new"], orgIds: ["org-1"] });
		stream.checked(older, { all: false, storeIds: ["store-a", "store-b"], orgIds: ["org-1"] });
		stream.push(alert(1, "store-new"));
		expect(out.ids()).toEqual([1]);
		expect(stream.concerns({ orgId: "org-1", reason: "store_created" })).toBe(true);
		expect(stream.concerns({ orgId: "org-2", reason: "store_created" })).toBe(false);
		stream.dispose();
	});

	it("ends when its access token would have expired, telling the client to reauthenticate", async () => {
		const out = sink();
		open(out, { expiresAt: Date.now() + 30_000 });
		await jest.advanceTimersByTimeAsync(29_999);
		expect(out.ended).toBe(false);
		await jest.advanceTimersByTimeAsync(1);
		expect(out.ended).toBe(true);
		expect(out.chunks.at(-1)).toMatch(/^event: reauthenticate\nretry: \d+\ndata: {"reason":"token_expired"}\n\n$/);
	});
});
