/**
 * Still frames for people to look at (camera thumbnails, the picture zones are drawn on, a clip's tracks): one
 * frame of a stored clip as a JPEG no wider than a setting. Encoded frames are kept in memory up to a byte budget
 * (a dashboard asks for the same thumbnails again and again), and only a few ffmpeg processes run at once however
 * many requests arrive.
 */
import { frameJpeg, grabFrame } from "./snapshot";

export interface StillOptions {
	/** Widest frame produced; narrower videos keep their size. */
	maxWidth: number;
	/** Bytes of JPEGs kept; 0 keeps none. */
	cacheBytes: number;
	/** ffmpeg processes at once. */
	concurrency: number;
}

/** The size a frame is shown at: at most `maxWidth` wide, same aspect, even sides (what video scalers want). */
export function stillSize(source: { width: number; height: number }, maxWidth: number): { width: number; height: number } {
	const scale = Math.min(1, maxWidth / source.width);
	const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);
	return { width: even(source.width * scale), height: even(source.height * scale) };
}

type Grab = (file: string, timeSec: number, size: { width: number; height: number }) => Promise<Buffer>;

export class StillFrames {
	/** Insertion order is recency: a hit moves its entry to the end, eviction takes from the start. */
	private readonly cache = new Map<string, Buffer>();
	private cachedBytes = 0;
	private running = 0;
	private readonly waiting: (() => void)[] = [];
	/** Requests for a frame being encoded share its result. */
	private readonly pending = new Map<string, Promise<Buffer>>();

	constructor(
		private readonly options: StillOptions,
		private readonly grab: Grab,
	) {}

	/** A StillFrames that grabs with the given ffmpeg binary. */
	static withFfmpeg(ffmpeg: string, options: StillOptions): StillFrames {
		return new StillFrames(options, async (file, timeSec, size) => frameJpeg(await grabFrame(ffmpeg, file, timeSec, size), size, 85));
	}

	/** The JPEG of `file` at `timeSec`; `key` names that frame (it must change when the file does). */
	async jpeg(key: string, file: string, timeSec: number, source: { width: number; height: number }): Promise<Buffer> {
		const cached = this.cache.get(key);
		if (cached) {
			this.cache.delete(key);
			this.cache.set(key, cached);
			return cached;
		}
		let pending = this.pending.get(key);
		if (!pending) {
			pending = this.limited(() => this.grab(file, timeSec, stillSize(source, this.options.maxWidth))).finally(() => this.pending.delete(key));
			this.pending.set(key, pending);
		}
		const jpeg = await pending;
		this.remember(key, jpeg);
		return jpeg;
	}

	/** Drops every frame whose key starts with `prefix` (a clip deleted or reprocessed). */
	forget(prefix: string): void {
		for (const [key, jpeg] of this.cache) {
			if (!key.startsWith(prefix)) continue;
			this.cache.delete(key);
			this.cachedBytes -= jpeg.length;
		}
	}

	get stats() {
		return { frames: this.cache.size, bytes: this.cachedBytes, running: this.running, waiting: this.waiting.length };
	}

	private remember(key: string, jpeg: Buffer) {
		if (this.cache.has(key) || jpeg.length > this.options.cacheBytes) return;
		this.cache.set(key, jpeg);
		this.cachedBytes += jpeg.length;
		for (const [oldest, frame] of this.cache) {
			if (this.cachedBytes <= this.options.cacheBytes) break;
			this.cache.delete(oldest);
			this.cachedBytes -= frame.length;
		}
	}

	private async limited<T>(work: () => Promise<T>): Promise<T> {
		if (this.running >= this.options.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
		else this.running++;
		try {
			return await work();
		} finally {
			// The slot passes straight to the next waiter, so `running` never exceeds the limit.
			const next = this.waiting.shift();
			if (next) next();
			else this.running--;
		}
	}
}
