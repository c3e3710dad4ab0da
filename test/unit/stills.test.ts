import { StillFrames, stillSize } from "../../lib/media/stills";

/** A grab that hands out a JPEG-sized buffer when told to, and records what it was asked for. */
function fakeGrab(bytes = 100) {
	const calls: { file: string; time: number; size: { width: number; height: number } }[] = [];
	const gates: (() => void)[] = [];
	let running = 0;
	let most = 0;
	const grab = async (file: string, time: number, size: { width: number; height: number }) => {
		calls.push({ file, time, size });
		running++;
		most = Math.max(most, running);
		await new Promise<void>((resolve) => gates.push(resolve));
		running--;
		return Buffer.alloc(bytes, calls.length);
	};
	return { grab, calls, release: () => gates.splice(0).forEach((open) => open()), most: () => most };
}

/** Lets pending promise callbacks run, as many rounds as it takes for queued grabs to start. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("still frames", () => {
	it("scales to the widest setting, keeping the aspect with even sides", () => {
		expect(stillSize({ width: 1920, height: 1080 }, 960)).toEqual({ width: 960, height: 540 });
		expect(stillSize({ width: 640, height: 360 }, 960)).toEqual({ width: 640, height: 360 });
		expect(stillSize({ width: 1001, height: 333 }, 500)).toEqual({ width: 500, height: 166 });
	});

	it("grabs a frame once and serves it from memory after, and asks with the scaled size", async () => {
		const f = fakeGrab();
		const stills = new StillFrames({ maxWidth: 960, cacheBytes: 1000, concurrency: 2 }, f.grab);
		const first = stills.jpeg("clip-1@0", "a.mp4", 0, { width: 1920, height: 1080 });
		const same = stills.jpeg("clip-1@0", "a.mp4", 0, { width: 1920, height: 1080 });
		await settle();
		f.release();
		expect(await first).toBe(await same);
		expect(await stills.jpeg("clip-1@0", "a.mp4", 0, { width: 1920, height: 1080 })).toBe(await first);
		expect(f.calls).toEqual([{ file: "a.mp4", time: 0, size: { width: 960, height: 540 } }]);
	});

	it("keeps within its byte budget, dropping the least recently used frame", async () => {
		const f = fakeGrab(400);
		const stills = new StillFrames({ maxWidth: 960, cacheBytes: 1000, concurrency: 4 }, f.grab);
		const get = async (key: string) => {
			const jpeg = stills.jpeg(key, key, 0, { width: 640, height: 360 });
			await settle();
			f.release();
			return jpeg;
		};
		await get("a");
		await get("b");
		await get("a"); // a is now the most recent
		await get("c"); // over budget: b goes
		expect(stills.stats).toMatchObject({ frames: 2, bytes: 800 });
		await get("a");
		await get("b");
		expect(f.calls.map((c) => c.file)).toEqual(["a", "b", "c", "b"]);
	});

	it("runs no more grabs at once than its concurrency, and every request is answered", async () => {
		const f = fakeGrab();
		const stills = new StillFrames({ maxWidth: 960, cacheBytes: 0, concurrency: 2 }, f.grab);
		const all = Promise.all(["a", "b", "c", "d", "e"].map((key) => stills.jpeg(key, key, 0, { width: 640, height: 360 })));
		for (let round = 0; round < 5; round++) {
			await settle();
			expect(stills.stats.running).toBeLessThanOrEqual(2);
			f.release();
		}
		expect(await all).toHaveLength(5);
		expect(f.most()).toBe(2);
		expect(stills.stats).toMatchObject({ frames: 0, running: 0, waiting: 0 });
	});

	it("forgets a clip's frames", async () => {
		const f = fakeGrab();
		const stills = new StillFrames({ maxWidth: 960, cacheBytes: 1000, concurrency: 1 }, f.grab);
		const one = stills.jpeg("clip-1@0", "a", 0, { width: 640, height: 360 });
		await settle();
		f.release();
		await one;
		stills.forget("clip-1@");
		expect(stills.stats).toMatchObject({ frames: 0, bytes: 0 });
	});
});
