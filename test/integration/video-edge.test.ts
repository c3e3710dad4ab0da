/**
 * Video as phones and flaky storage deliver it: a clip with a rotation tag is sized and pictured the way it is
 * displayed, a clip with damage the decoder recovers from is processed whole, and a clip whose data runs out
 * fails with a reason that agrees with its progress.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import jpeg from "jpeg-js";
import { toolPath } from "../../lib/media/tools";
import { annotatedJpeg, grabFrame } from "../../lib/media/snapshot";
import { FrameDecodeError, probeVideo, readFrames } from "../../lib/media/video";
import { startCluster, type Cluster } from "../support/cluster";
import { Client, signUp } from "../support/http";
import { describeWithFootage, eventually, STREET_CLIP } from "../support/media";

const tools = () => ({ ffmpeg: toolPath("ffmpeg"), ffprobe: toolPath("ffprobe") });
const ffmpeg = (args: string[]) => execFileSync(toolPath("ffmpeg"), ["-v", "error", "-nostdin", "-y", ...args], { stdio: "pipe" });

/** The street clip (768x576) with a 90° display rotation, stream copied: the same coded pixels. */
async function rotatedCopy(dir: string): Promise<string> {
	const out = join(dir, "rotated.mp4");
	ffmpeg(["-i", STREET_CLIP, "-c", "copy", "-metadata:s:v", "rotate=90", out]);
	const probed = JSON.parse(
		execFileSync(toolPath("ffprobe"), ["-v", "error", "-print_format", "json", "-show_streams", "-select_streams", "v:0", out]).toString(),
	);
	const tagged = probed.streams[0].side_data_list?.some((d: { rotation?: number }) => Math.abs(d.rotation ?? 0) === 90) || probed.streams[0].tags?.rotate;
	// Where this ffmpeg does not turn the rotate tag into a display matrix (newer builds), -display_rotation sets one.
	if (!tagged) ffmpeg(["-display_rotation", "90", "-i", STREET_CLIP, "-c", "copy", out]);
	return out;
}

/** A copy with 20 kB in the middle overwritten by fixed pseudo-random bytes (the same damage on every run). */
function damagedCopy(): Buffer {
	const bytes = Buffer.from(readFileSync(STREET_CLIP));
	const start = Math.floor(bytes.length / 2);
	let seed = 12345;
	for (let i = 0; i < 20_000; i++) {
		seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
		bytes[start + i] = seed >>> 24;
	}
	return bytes;
}

/** Turns an RGB24 frame a quarter turn, clockwise or not. */
function quarterTurn(rgb: Buffer, width: number, height: number, clockwise: boolean): Buffer {
	const out = Buffer.alloc(rgb.length);
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			// The turned frame is `height` wide and `width` tall.
			const [tx, ty] = clockwise ? [height - 1 - y, x] : [y, width - 1 - x];
			rgb.copy(out, (ty * height + tx) * 3, (y * width + x) * 3, (y * width + x) * 3 + 3);
		}
	}
	return out;
}

const meanDifference = (a: Buffer, b: Buffer) => {
	let sum = 0;
	for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
	return sum / a.length;
};

describeWithFootage("a clip with a rotation tag", () => {
	let dir: string;
	let rotated: string;
	beforeAll(async () => {
		dir = mkdtempSync(join(tmpdir(), "vigil-rotated-"));
		rotated = await rotatedCopy(dir);
	});
	afterAll(() => rmSync(dir, { recursive: true, force: true }));

	it("reports the size it is displayed at", async () => {
		expect(await probeVideo(STREET_CLIP, tools())).toMatchObject({ width: 768, height: 576 });
		expect(await probeVideo(rotated, tools())).toMatchObject({ width: 576, height: 768, durationSec: 10 });
	});

	it("gives snapshots that are the upright scene, not rows of the coded frame", async () => {
		const upright = await probeVideo(rotated, tools());
		const frame = await grabFrame(toolPath("ffmpeg"), rotated, 3, upright);
		const original = await grabFrame(toolPath("ffmpeg"), STREET_CLIP, 3, { width: 768, height: 576 });
		// The same decoded pixels turned a quarter: which way depends on how this ffmpeg reads the tag.
		const turned = [true, false].map((clockwise) => meanDifference(frame, quarterTurn(original, 768, 576, clockwise)));
		expect(Math.min(...turned)).toBeLessThan(2);
		// A frame read at the coded width is three interlaced copies of the scene: far from either turn.
		expect(meanDifference(original, frame)).toBeGreaterThan(10);

		const picture = jpeg.decode(annotatedJpeg(frame, upright, [0.1, 0.1, 0.5, 0.5]));
		expect({ width: picture.width, height: picture.height }).toEqual({ width: 576, height: 768 });
	});
});

describeWithFootage("damaged and truncated clips", () => {
	let cluster: Cluster;
	let api: Client;
	let token: string;
	let storeBase: string;
	let dir: string;

	beforeAll(async () => {
		dir = mkdtempSync(join(tmpdir(), "vigil-damaged-"));
		cluster = await startCluster();
		api = new Client(cluster.url);
		token = (await signUp(api, "video-edge")).token;
		const org = (await api.post("/api/v1/orgs", { name: "Edge cases" }, { token })).body;
		const store = (await api.post(`/api/v1/orgs/${org.id}/stores`, { name: "S" }, { token })).body;
		storeBase = `/api/v1/orgs/${org.id}/stores/${store.id}`;
	}, 60_000);
	afterAll(async () => {
		await cluster?.stop();
		rmSync(dir, { recursive: true, force: true });
	});

	async function uploadAndWait(raw: Buffer, sampleFps: number) {
		const camera = (await api.post(`${storeBase}/cameras`, { name: `C${sampleFps}`, classes: ["person"], sampleFps }, { token })).body;
		const uploaded = await api.request("POST", `${storeBase}/cameras/${camera.id}/clips`, { raw, headers: { "content-type": "video/mp4" }, token });
		expect(uploaded.status).toBe(201);
		const ended = await eventually(
			async () => {
				const c = (await api.get(`${storeBase}/clips/${uploaded.body.id}`, { token })).body;
				return c.status === "done" || c.status === "failed" ? c : undefined;
			},
			150_000,
			500,
		);
		return { uploaded: uploaded.body, ended };
	}

	const failedSegments = async (reason: string) => {
		const text = await (await fetch(`${cluster.url}/metrics`)).text();
		return Number(text.match(new RegExp(`^vigil_segments_failed_total\\{reason="${reason}"\\} (\\d+)`, "m"))?.[1] ?? 0);
	};

	it("20 kB of damage in the middle: every frame is decoded and the clip ends done", async () => {
		const damaged = damagedCopy();
		const file = join(dir, "damaged.mp4");
		writeFileSync(file, damaged);
		// The damage is real: ffmpeg told to stop at the first decode error fails on it.
		expect(() => ffmpeg(["-xerror", "-i", file, "-f", "null", "-"])).toThrow();
		const { ended } = await uploadAndWait(damaged, 5);
		expect(ended).toMatchObject({ status: "done", failureReason: null, progress: { framesDone: 50, framesTotal: 50 } });
	}, 200_000);

	it("a clip whose data runs out fails with the frame it stopped at, as its progress says, and is counted", async () => {
		// A faststart copy cut short: its first seconds decode (so the upload is accepted), the rest does not.
		const faststart = join(dir, "faststart.mp4");
		ffmpeg(["-i", STREET_CLIP, "-c", "copy", "-movflags", "+faststart", faststart]);
		const before = await failedSegments("ended_early");
		const { ended } = await uploadAndWait(readFileSync(faststart).subarray(0, 380_000), 5);
		expect(ended.status).toBe("failed");
		const stoppedAt = Number(/^Decoding failed at frame (\d+) \(segment \d+ decoded \d+ of its \d+ frames\): /.exec(ended.failureReason)?.[1]);
		expect(stoppedAt).toBe(ended.progress.framesDone);
		expect(ended.progress.framesDone).toBeGreaterThan(0);
		expect(ended.progress.framesDone).toBeLessThan(50);
		expect(await failedSegments("ended_early")).toBeGreaterThan(before);
	}, 200_000);

	it("a rotated clip is stored with its displayed size", async () => {
		const rotated = await rotatedCopy(dir);
		const { uploaded, ended } = await uploadAndWait(readFileSync(rotated), 1);
		expect(uploaded).toMatchObject({ width: 576, height: 768 });
		expect(ended).toMatchObject({ status: "done", progress: { framesDone: 10, framesTotal: 10 } });
	}, 200_000);
});

describeWithFootage("reading the frames of a range", () => {
	it("names how many of the range's frames came before the data ran out", async () => {
		const dir = mkdtempSync(join(tmpdir(), "vigil-cut-"));
		try {
			const faststart = join(dir, "faststart.mp4");
			ffmpeg(["-i", STREET_CLIP, "-c", "copy", "-movflags", "+faststart", faststart]);
			const cut = join(dir, "cut.mp4");
			writeFileSync(cut, readFileSync(faststart).subarray(0, 380_000));
			let frames = 0;
			const reading = (async () => {
				for await (const frame of readFrames(toolPath("ffmpeg"), {
					file: cut,
					startSec: 6,
					durationSec: 2.1,
					fps: 5,
					scaleFilter: "scale=32:24",
					width: 32,
					height: 24,
					maxFrames: 10,
				})) {
					expect(frame.length).toBe(32 * 24 * 3);
					frames++;
				}
			})();
			const error = await reading.then(
				() => undefined,
				(err: unknown) => err,
			);
			expect(error).toBeInstanceOf(FrameDecodeError);
			expect(error).toMatchObject({ decoded: frames, expected: 10, reason: "ended_early" });
			expect((error as Error).message).toMatch(new RegExp(`^Decoding failed after ${frames} of 10 frames: `));
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});
});
