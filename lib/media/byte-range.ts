/**
 * HTTP byte ranges (RFC 9110, section 14) for serving a stored video: a player asks for the part it needs (seeking,
 * or the index at the end of an mp4) instead of the whole file. No broker in here.
 */

/** The bytes first..last (inclusive) of a file. */
export interface ByteRange {
	start: number;
	end: number;
}

/**
 * What a Range header asks of a file of `size` bytes: one range; `null` for the whole file (no header, one that is
 * not a single valid bytes range, which a server ignores, or an If-Range, since we give no validator it could
 * match); or "unsatisfiable" when the range starts past the end (416).
 */
export function requestedRange(header: string | undefined, size: number, ifRange?: string): ByteRange | null | "unsatisfiable" {
	if (!header || ifRange) return null;
	const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
	if (!m || (m[1] === "" && m[2] === "")) return null;
	if (m[1] === "") {
		// The last n bytes.
		const suffix = Number(m[2]);
		if (suffix === 0 || size === 0) return "unsatisfiable";
		return { start: Math.max(0, size - suffix), end: size - 1 };
	}
	const start = Number(m[1]);
	const last = m[2] === "" ? Infinity : Number(m[2]);
	if (last < start) return null;
	if (start >= size) return "unsatisfiable";
	return { start, end: Math.min(last, size - 1) };
}

export const contentRange = (range: ByteRange, size: number) => `bytes ${range.start}-${range.end}/${size}`;
