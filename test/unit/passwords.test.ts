import { hashPassword, passwordProblems, verifyPassword } from "../../lib/security/passwords";
import { crossSiteRefusal } from "../../lib/platform/http";
import type { IncomingMessage } from "node:http";

const types = (password: string, email = "sam@example.com") => passwordProblems(password, email).map((p) => p.type);

describe("password rules", () => {
	it.each(["Password1!", "Qwerty123!", "Summer2026!", "Welcome2024!", "Iloveyou123", "Football#1"])(
		"refuses %s: a common password with digits and symbols appended",
		(password) => {
			expect(types(password)).toEqual(["passwordCommon"]);
		},
	);

	it("accepts a long passphrase and a random string", () => {
		expect(types("correct horse battery staple")).toEqual([]);
		expect(types("v9#Lq2!xPz7m")).toEqual([]);
	});

	it("refuses a password built on the account's own email", () => {
		expect(types("samantha.rivers2026", "samantha.rivers@example.com")).toContain("passwordContainsEmail");
	});

	it("names the field it judged", () => {
		expect(passwordProblems("Summer2026!", "sam@example.com", "newPassword")[0]).toMatchObject({ field: "newPassword", type: "passwordCommon" });
	});
});

describe("password hashes", () => {
	it("verifies hashes written by bcryptjs ($2a$ and $2b$), so existing accounts keep signing in", async () => {
		const written = "$2b$04$31Nq0MQcal5EdHUaoM4Eju7S7BqWAnN5Aas9ZuBUxJr8vKuVVgURC";
		expect(await verifyPassword("correct horse battery staple", written)).toBe(true);
		expect(await verifyPassword("correct horse battery staple", written.replace("$2b$", "$2a$"))).toBe(true);
		expect(await verifyPassword("correct horse battery stapler", written)).toBe(false);
	});

	it("hashes with a fresh salt at the configured cost", async () => {
		const [a, b] = await Promise.all([hashPassword("a long passphrase", 5), hashPassword("a long passphrase", 5)]);
		expect(a).toMatch(/^\$2b\$05\$/);
		expect(a).not.toBe(b);
		expect(await verifyPassword("a long passphrase", a)).toBe(true);
	});
});

describe("cross-site check of cookie-authenticated changes", () => {
	const request = (headers: Record<string, string>) => ({ headers: { host: "vigil.example.com:3000", ...headers } }) as unknown as IncomingMessage;
	const allowed = ["https://dashboard.example.com"];

	it("allows this host and the CORS origins", () => {
		expect(crossSiteRefusal(request({ origin: "https://vigil.example.com:3000" }), allowed)).toBeUndefined();
		expect(crossSiteRefusal(request({ origin: "https://dashboard.example.com" }), allowed)).toBeUndefined();
		expect(crossSiteRefusal(request({ "sec-fetch-site": "same-origin" }), allowed)).toBeUndefined();
	});

	it("refuses other origins, an opaque origin and cross-site fetch metadata", () => {
		expect(crossSiteRefusal(request({ origin: "https://evil.example.net" }), allowed)).toBeDefined();
		expect(crossSiteRefusal(request({ origin: "https://vigil.example.com:3000.evil.example.net" }), allowed)).toBeDefined();
		expect(crossSiteRefusal(request({ origin: "null" }), allowed)).toBeDefined();
		expect(crossSiteRefusal(request({ "sec-fetch-site": "cross-site" }), allowed)).toBeDefined();
		expect(crossSiteRefusal(request({ "sec-fetch-site": "same-site" }), allowed)).toBeDefined();
	});

	it("allows a client that sends neither Origin nor Sec-Fetch-Site (not a browser)", () => {
		expect(crossSiteRefusal(request({}), allowed)).toBeUndefined();
	});
});
