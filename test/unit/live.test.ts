import { classifyExit, maskUrlsIn } from "../../lib/media/live";

describe("a camera URL as it may be shown", () => {
	it("keeps the user name and hides the password", () => {
		expect(maskUrlsIn("rtsp://user:pass@host/x")).toBe("rtsp://user:***@host/x");
		expect(maskUrlsIn("rtsps://admin:s3cr3t@gate.invalid:322/Streaming/Channels/101")).toBe("rtsps://admin:***@gate.invalid:322/Streaming/Channels/101");
		expect(maskUrlsIn("http://viewer:pw@cam.invalid/video.mjpg")).toBe("http://viewer:***@cam.invalid/video.mjpg");
	});

	it("hides a password that holds @ or :, and one with nothing after the host", () => {
		expect(maskUrlsIn("rtsp://admin:p@ss:word@host:554/live")).toBe("rtsp://admin:***@host:554/live");
		expect(maskUrlsIn("rtsp://admin:secret@host")).toBe("rtsp://admin:***@host");
		expect(maskUrlsIn("rtsp://:secret@host/x")).toBe("rtsp://:***@host/x");
	});

	it("leaves URLs without a password as they are", () => {
		for (const url of ["rtsp://host:554/x", "rtsp://user@host/x", "http://cam.invalid/a@b", "/srv/footage/clip.mp4"]) expect(maskUrlsIn(url)).toBe(url);
	});

	it("hides passwords and tokens passed as query parameters", () => {
		expect(maskUrlsIn("http://cam.invalid/cgi-bin/mjpg?user=admin&password=hunter2&channel=1")).toBe(
			"http://cam.invalid/cgi-bin/mjpg?user=admin&password=***&channel=1",
		);
		expect(maskUrlsIn("https://cam.invalid/live.m3u8?token=abc123")).toBe("https://cam.invalid/live.m3u8?token=***");
	});

	it("masks every URL inside a line of ffmpeg's output", () => {
		expect(maskUrlsIn("Input #0, rtsp, from 'rtsp://u:secret@h/x': and rtsp://v:other@k: Connection refused")).toBe(
			"Input #0, rtsp, from 'rtsp://u:***@h/x': and rtsp://v:***@k: Connection refused",
		);
	});
});

describe("why a live stream ended, in words", () => {
	const failed = (stderr: string, streamed = false, code: number | null = 1) => classifyExit(stderr, { code, streamed });

	it("tells a refused password from a missing stream and an unreachable camera", () => {
		expect(failed("[rtsp @ 0x1] method DESCRIBE failed: 401 Unauthorized\nrtsp://u:***@h/x: Server returned 401 Unauthorized (authorization failed)")).toEqual({
			error: "unauthorized",
			message: "The camera refused the user name or password (Server returned 401 Unauthorized (authorization failed))",
		});
		expect(failed("http://cam.invalid/x: Server returned 404 Not Found").error).toBe("not_found");
		expect(failed("rtsp://127.0.0.1:40404/x: Connection refused")).toEqual({
			error: "unreachable",
			message: "The camera cannot be reached (Connection refused)",
		});
		expect(failed("[tcp @ 0x1] Failed to resolve hostname cam.invalid: Name or service not known").error).toBe("unreachable");
		expect(failed("http://cam.invalid/x: Invalid data found when processing input").error).toBe("bad_stream");
	});

	it("does not read a number in the camera's address as an HTTP status", () => {
		expect(failed("rtsp://h/cameras/404/stream: Connection refused").error).toBe("unreachable");
	});

	it("calls a stream that flowed and then timed out a stall", () => {
		expect(failed("http://h/x: Connection timed out", true, 0).error).toBe("stalled");
		expect(failed("http://h/x: Connection timed out", false).error).toBe("unreachable");
	});

	it("keeps server paths out of the message, and says when the stream simply ended", () => {
		expect(failed("/srv/vigil/footage/cam.mp4: No such file or directory")).toEqual({
			error: "not_found",
			message: "The camera has no stream at this address (No such file or directory)",
		});
		expect(failed("", true, 0)).toEqual({ error: "exited", message: "The stream ended" });
		expect(failed("", false, 1)).toEqual({ error: "exited", message: "ffmpeg stopped with code 1" });
	});
});
