import { randomBytes } from "node:crypto";
import { hashToken, maskUrl, newToken, seal, unseal } from "../../lib/security/secrets";

describe("secrets at rest", () => {
	const key = randomBytes(32);

	it("seals and unseals, with a fresh nonce every time", () => {
		const a = seal(key, "rtsp://admin:pw@cam/1");
		const b = seal(key, "rtsp://admin:pw@cam/1");
		expect(a).not.toBe(b);
		expect(unseal(key, a)).toBe("rtsp://admin:pw@cam/1");
	});

	it("refuses a tampered ciphertext or the wrong key", () => {
		const sealed = seal(key, "secret");
		const parts = sealed.split(".");
		const flipped = Buffer.from(parts[3], "base64url");
		flipped[0] ^= 1;
		expect(() => unseal(key, [...parts.slice(0, 3), flipped.toString("base64url")].join("."))).toThrow();
		expect(() => unseal(randomBytes(32), sealed)).toThrow();
	});

	it("masks passwords and secret query values, keeps the rest readable", () => {
		expect(maskUrl("rtsp://admin:pw@back-door.invalid:554/live?channel=1&token=abc")).toBe("rtsp://admin:****@back-door.invalid:554/live?channel=1&token=****");
		expect(maskUrl("http://cam.local/stream.mjpg")).toBe("http://cam.local/stream.mjpg");
		expect(maskUrl("not a url")).toBe("****");
	});

	it("makes prefixed random tokens and one-way hashes", () => {
		const token = newToken("vst");
		expect(token).toMatch(/^vst_[A-Za-z0-9_-]{43}$/);
		expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
		expect(hashToken(token)).toBe(hashToken(token));
	});
});
