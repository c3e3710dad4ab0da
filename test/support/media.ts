/** The real footage in ../shared (a fresh clone elsewhere lacks it: tests using it skip and say so; CI has it). */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { requireService } from "./require";

export const SHARED = join(__dirname, "..", "..", "..", "shared");
export const STREET_CLIP = join(SHARED, "media", "vtest_10s.mp4");
export const hasStreetClip = existsSync(STREET_CLIP);
export const streetClip = (): Buffer => readFileSync(STREET_CLIP);

/** The footage, or a visible skip (a failure under CI, which has it). */
export const requireFootage = (what: string): boolean => hasStreetClip || requireService(`../shared/media/vtest_10s.mp4 (for ${what})`, false);

/** describe() when the footage is there, else a visible skip (under CI, a failure). */
export function describeWithFootage(name: string, fn: () => void) {
	if (requireFootage(name)) describe(name, fn);
	else describe.skip(name, fn);
}

/** Polls until `check` returns a value (not undefined) or the time is up. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 60000, everyMs = 250): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error(`Condition not met within ${timeoutMs} ms`);
		await new Promise((r) => setTimeout(r, everyMs));
	}
}
