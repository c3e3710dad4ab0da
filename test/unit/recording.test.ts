import { requestedRange } from "../../lib/media/byte-range";
import { checkRange, decodeRecordingCursor, encodeRecordingCursor, gapsOf } from "../../lib/media/recording";
import { VigilError } from "../../lib/platform/errors";

const at = (seconds: number) => new Date(Date.UTC(2025, 0, 1) + seconds * 1000);
const footage = (id: string, start: number, seconds = 2) => ({ id, recordedAt: at(start), durationSec: seconds });
const gap = (from: number, to: number) => ({ from: at(from), to: at(to), seconds: to - from });

describe("a recording's gaps", () => {
	it("are the spans of the range no segment covers, at its start, between segments and at its end", () => {
		const { gaps, reach } = gapsOf([footage("a", 3), footage("b", 5), footage("c", 10)], at(0), at(20));
		expect(gaps).toEqual([gap(0, 3), gap(7, 10), gap(12, 20)]);
		expect(reach).toEqual(at(20));
	});

	it("a segment begun before the range, overlapping segments and breaks of timing jitter leave none", () => {
		const segments = [footage("a", -1), footage("b", 1.1, 3), footage("c", 3), footage("d", 4.2, 1)];
		expect(gapsOf(segments, at(0), at(5.1)).gaps).toEqual([]);
	});

	it("stop at the footage on a page that is not the last, and go on from where it reached on the next", () => {
		const first = gapsOf([footage("a", 2)], at(0), null);
		expect(first).toEqual({ gaps: [gap(0, 2)], reach: at(4) });
		expect(gapsOf([footage("b", 6)], first.reach, at(10)).gaps).toEqual([gap(4, 6), gap(8, 10)]);
	});
});

describe("a recording's cursor", () => {
	it("round-trips the position and the reach", () => {
		const id = "3f1c2b9e-7a4d-4e3f-9b2a-1c2d3e4f5a6b";
		expect(decodeRecordingCursor(encodeRecordingCursor(footage(id, 3), at(9)))).toEqual({ at: at(3), id, reach: at(9) });
	});

	it.each(["", "abc", "a.b", "a.b.c", "..", "W10.W10"])("refuses %p with a 422 on cursor", (cursor) => {
		expect(() => decodeRecordingCursor(cursor)).toThrow(VigilError);
		try {
			decodeRecordingCursor(cursor);
		} catch (err) {
			expect((err as VigilError).data).toEqual([expect.objectContaining({ field: "cursor" })]);
		}
	});
});

describe("a recording's range", () => {
	it("must run forwards, at most the longest range apart, within the years PostgreSQL holds", () => {
		expect(() => checkRange(at(0), at(24 * 3600), 24)).not.toThrow();
		expect(() => checkRange(at(0), at(24 * 3600 + 1), 24)).toThrow(/at most 24 hours/);
		expect(() => checkRange(at(5), at(5), 24)).toThrow(/after 'from'/);
		expect(() => checkRange(new Date("0000-06-01T00:00:00Z"), at(0), 24)).toThrow(/years 1 and 9999/);
	});
});

describe("a Range header", () => {
	it.each([
		["bytes=0-99", { start: 0, end: 99 }],
		["bytes=100-", { start: 100, end: 999 }],
		["bytes=-100", { start: 900, end: 999 }],
		["bytes=-5000", { start: 0, end: 999 }],
		["bytes=990-5000", { start: 990, end: 999 }],
		["Bytes = 1 - 2", { start: 1, end: 2 }],
	])("%s of 1000 bytes is %p", (header, range) => {
		expect(requestedRange(header, 1000)).toEqual(range);
	});

	it.each(["bytes=1000-", "bytes=1000-1200", "bytes=-0", `bytes=${"9".repeat(30)}-`])("%s of 1000 bytes is unsatisfiable", (header) => {
		expect(requestedRange(header, 1000)).toBe("unsatisfiable");
	});

	it.each([undefined, "", "bytes=5-2", "bytes=0-1,4-5", "items=0-1", "bytes=-", "bytes=a-b"])("%p asks for the whole file", (header) => {
		expect(requestedRange(header, 1000)).toBeNull();
	});

	it("with If-Range (we give no validator it could match) asks for the whole file", () => {
		expect(requestedRange("bytes=0-1", 1000, '"abc"')).toBeNull();
	});

	it("nothing of an empty file can be served as a range", () => {
		expect(requestedRange("bytes=0-", 0)).toBe("unsatisfiable");
		expect(requestedRange("bytes=-1", 0)).toBe("unsatisfiable");
	});
});
