/**
 * Keyset cursors for list pages. A cursor comes back from the client, so decoding checks everything the query
 * will use: a cursor that was not one of ours, or that points outside what the database can hold, is a 422.
 */
import { invalid } from "./errors";

const badCursor = () => invalid("The cursor is not valid", [{ field: "cursor", type: "cursor", message: "Use the nextCursor of a previous page." }]);

/** A sequence number (a bigint column read as a JavaScript number, so only safe integers ever come out). */
export const encodeSeqCursor = (seq: number): string => String(seq);

export function decodeSeqCursor(cursor: string): number {
	const seq = /^\d{1,16}$/.test(cursor) ? Number(cursor) : NaN;
	if (!Number.isSafeInteger(seq)) throw badCursor();
	return seq;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A time and a row id (ties broken by id), opaque to clients. */
export const encodeTimeCursor = (at: Date, id: string): string => Buffer.from(JSON.stringify([at.toISOString(), id])).toString("base64url");

export function decodeTimeCursor(cursor: string): { at: Date; id: string } {
	let parsed: unknown;
	try {
		parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
	} catch {
		throw badCursor();
	}
	if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== "string" || typeof parsed[1] !== "string" || !UUID.test(parsed[1]))
		throw badCursor();
	const at = new Date(parsed[0]);
	// PostgreSQL has no year 0, and timestamps beyond 9999 do not round-trip through ISO 8601.
	const year = at.getUTCFullYear();
	if (Number.isNaN(at.getTime()) || year < 1 || year > 9999) throw badCursor();
	return { at, id: parsed[1] };
}
