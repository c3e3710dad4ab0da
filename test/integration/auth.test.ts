import { createHmac, randomBytes } from "node:crypto";
import jwt from "jsonwebtoken";
import { RefreshToken, User } from "../../entities";
import { startCluster, type Cluster } from "../support/cluster";
import { Client, PASSWORD, signUp, uniqueEmail, type Reply } from "../support/http";

let cluster: Cluster;
let api: Client;

beforeAll(async () => {
	// Addresses come from X-Forwarded-For here, so each test signs in from addresses of its own.
	cluster = await startCluster({
		LOGIN_MAX_FAILURES: "3",
		LOGIN_WINDOW: "60",
		LOGIN_DELAY_AFTER: "4",
		LOGIN_DELAY_BASE: "20",
		LOGIN_DELAY_MAX: "80",
		TRUST_PROXY: "true",
	});
	api = new Client(cluster.url);
});
afterAll(() => cluster?.stop());

/** A documentation address (2001:db8::/32) no other test or earlier run has used. */
const newAddress = () => `2001:db8:${randomBytes(6).toString("hex").match(/.{4}/g)!.join(":")}::1`;
const from = (address: string) => ({ headers: { "x-forwarded-for": address } });
const login = (email: string, password: string, address: string) => api.post("/api/v1/auth/login", { email, password }, from(address));
const retryAfter = (res: Reply) => Number(res.headers.get("retry-after"));

describe("signing up and in", () => {
	it("registers with a lower-cased email and refuses a second account for it", async () => {
		const email = uniqueEmail("Mixed.Case").replace("mixed", "Mixed");
		const first = await api.post("/api/v1/auth/register", { email, password: PASSWORD });
		expect(first.status).toBe(201);
		expect(first.body.user.email).toBe(email.toLowerCase());
		const again = await api.post("/api/v1/auth/register", { email: email.toUpperCase(), password: PASSWORD });
		expect(again.status).toBe(409);
		expect(again.body.error.code).toBe("EMAIL_TAKEN");
	});

	it("explains each broken password rule", async () => {
		const email = uniqueEmail("weak");
		const res = await api.post("/api/v1/auth/register", { email, password: "aaaaaaa" });
		expect(res.status).toBe(422);
		expect(res.body.error.code).toBe("VALIDATION_FAILED");
		const types = res.body.error.details.map((d: { type: string }) => d.type);
		expect(types).toEqual(expect.arrayContaining(["passwordTooShort", "passwordRepetitive"]));
		const tooLong = await api.post("/api/v1/auth/register", { email, password: "é".repeat(40) });
		expect(tooLong.body.error.details.map((d: { type: string }) => d.type)).toContain("passwordTooLong");
		const db = await cluster.db();
		expect(await db.getRepository(User).existsBy({ email })).toBe(false);
	});

	it("never echoes the submitted password in a validation error", async () => {
		const res = await api.post("/api/v1/auth/login", { email: "not-an-email", password: "s3cret-value-xyz" });
		expect(res.status).toBe(422);
		expect(JSON.stringify(res.body)).not.toContain("s3cret-value-xyz");
	});

	it("browser flow: login sets httpOnly cookies, /me works from the cookie, refresh rotates, logout clears", async () => {
		const browser = new Client(cluster.url, true);
		const { email } = await signUp(api, "browser");
		const login = await browser.post("/api/v1/auth/login", { email, password: PASSWORD });
		expect(login.status).toBe(200);
		const setCookies = login.headers.getSetCookie();
		const access = setCookies.find((c) => c.startsWith("vigil_access="))!;
		const refresh = setCookies.find((c) => c.startsWith("vigil_refresh="))!;
		expect(access).toMatch(/HttpOnly/);
		expect(access).toMatch(/SameSite=Lax/);
		expect(access).toMatch(/Max-Age=900/);
		expect(access).not.toMatch(/Secure/); // plain http here
		expect(refresh).toMatch(/Path=\/api\/v1\/auth/);
		expect(refresh).toMatch(/Max-Age=604800/);

		const me = await browser.get("/api/v1/auth/me");
		expect(me.status).toBe(200);
		expect(me.body.email).toBe(email);

		const oldRefresh = browser.cookies.get("vigil_refresh");
		const refreshed = await browser.post("/api/v1/auth/refresh", {});
		expect(refreshed.status).toBe(200);
		expect(browser.cookies.get("vigil_refresh")).not.toBe(oldRefresh);

		const logout = await browser.post("/api/v1/auth/logout", {});
		expect(logout.status).toBe(204);
		expect(browser.cookies.has("vigil_access")).toBe(false);
		expect((await browser.get("/api/v1/auth/me")).status).toBe(401);
		// The refresh token of that session is dead too.
		const reuse = await api.post("/api/v1/auth/refresh", { refreshToken: refreshed.body.refreshToken });
		expect(reuse.status).toBe(401);
	});

	it("Secure cookies when served over https behind a trusted proxy", async () => {
		const proxied = await startCluster({ TRUST_PROXY: "true" });
		try {
			const client = new Client(proxied.url);
			const { email } = await signUp(client, "https");
			const login = await client.post("/api/v1/auth/login", { email, password: PASSWORD }, { headers: { "x-forwarded-proto": "https" } });
			expect(login.headers.getSetCookie().every((c) => /; Secure/.test(c))).toBe(true);
			expect(login.headers.get("strict-transport-security")).toMatch(/max-age/);
		} finally {
			await proxied.stop();
		}
	});

	it("API flow with Bearer tokens: refresh in the body, the old refresh token then fails", async () => {
		const { refreshToken, token } = await signUp(api, "bearer");
		expect((await api.get("/api/v1/auth/me", { token })).status).toBe(200);
		const next = await api.post("/api/v1/auth/refresh", { refreshToken });
		expect(next.status).toBe(200);
		expect((await api.get("/api/v1/auth/me", { token: next.body.accessToken })).status).toBe(200);
	});
});

describe("refresh token theft detection", () => {
	it("reusing a rotated refresh token revokes the whole session family", async () => {
		const { refreshToken } = await signUp(api, "theft");
		const legit = await api.post("/api/v1/auth/refresh", { refreshToken });
		expect(legit.status).toBe(200);

		const thief = await api.post("/api/v1/auth/refresh", { refreshToken });
		expect(thief.status).toBe(401);
		expect(thief.body.error.code).toBe("REFRESH_REUSED");

		// The legitimate holder's newer token is revoked as well: the attacker gains nothing by racing.
		const after = await api.post("/api/v1/auth/refresh", { refreshToken: legit.body.refreshToken });
		expect(after.status).toBe(401);
		expect(after.body.error.code).toBe("REFRESH_REVOKED");
		// So is every access token the stolen one could have been refreshed into.
		const me = await api.get("/api/v1/auth/me", { token: legit.body.accessToken });
		expect(me.status).toBe(401);
		expect(me.body.error.code).toBe("TOKEN_REVOKED");
	});

	it("stores only hashes of refresh tokens", async () => {
		const { refreshToken, userId } = await signUp(api, "hashes");
		const rows = await (await cluster.db()).getRepository(RefreshToken).findBy({ userId });
		expect(rows.length).toBe(1);
		expect(rows[0].tokenHash).not.toContain(refreshToken);
		expect(rows[0].tokenHash).toMatch(/^[0-9a-f]{64}$/);
	});

	it("an expired refresh token is refused", async () => {
		const { refreshToken, userId } = await signUp(api, "expired-refresh");
		await (await cluster.db()).getRepository(RefreshToken).update({ userId }, { expiresAt: new Date(Date.now() - 1000) });
		const res = await api.post("/api/v1/auth/refresh", { refreshToken });
		expect(res.status).toBe(401);
		expect(res.body.error.code).toBe("REFRESH_EXPIRED");
	});
});

describe("access tokens that must be refused", () => {
	const secret = () => cluster.config.jwtSecret;
	const claims = (userId: string) => ({ sub: userId, ver: 0, typ: "access", iss: "vigil", aud: "vigil-api" });

	it("expired", async () => {
		const { userId } = await signUp(api, "exp");
		const token = jwt.sign({ ...claims(userId), exp: Math.floor(Date.now() / 1000) - 10 }, secret(), { algorithm: "HS256" });
		const res = await api.get("/api/v1/auth/me", { token });
		expect(res.status).toBe(401);
		expect(res.body.error.code).toBe("TOKEN_EXPIRED");
	});

	it("tampered (payload changed after signing)", async () => {
		const victim = await signUp(api, "victim");
		const attacker = await signUp(api, "attacker");
		const [h, , s] = attacker.token.split(".");
		const forgedPayload = Buffer.from(JSON.stringify({ ...claims(victim.userId), exp: Math.floor(Date.now() / 1000) + 600 })).toString("base64url");
		const res = await api.get("/api/v1/auth/me", { token: `${h}.${forgedPayload}.${s}` });
		expect(res.status).toBe(401);
		expect(res.body.error.code).toBe("TOKEN_INVALID");
	});

	it("alg: none", async () => {
		const { userId } = await signUp(api, "none");
		const header = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
		const payload = Buffer.from(JSON.stringify({ ...claims(userId), exp: Math.floor(Date.now() / 1000) + 600 })).toString("base64url");
		const res = await api.get("/api/v1/auth/me", { token: `${header}.${payload}.` });
		expect(res.status).toBe(401);
	});

	it("signed with another algorithm (HS512) or another key", async () => {
		const { userId } = await signUp(api, "alg");
		const hs512 = jwt.sign({ ...claims(userId) }, secret(), { algorithm: "HS512", expiresIn: 600 });
		expect((await api.get("/api/v1/auth/me", { token: hs512 })).status).toBe(401);
		const otherKey = jwt.sign({ ...claims(userId) }, "another-secret-another-secret-another", { algorithm: "HS256", expiresIn: 600 });
		expect((await api.get("/api/v1/auth/me", { token: otherKey })).status).toBe(401);
		// Hand-made HS256 with the right key but a refresh-type claim is not an access token.
		const header = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");
		const payload = Buffer.from(JSON.stringify({ ...claims(userId), typ: "refresh", exp: Math.floor(Date.now() / 1000) + 600 })).toString("base64url");
		const sig = createHmac("sha256", secret()).update(`${header}.${payload}`).digest("base64url");
		expect((await api.get("/api/v1/auth/me", { token: `${header}.${payload}.${sig}` })).status).toBe(401);
	});

	it("changing the password ends the old access and refresh tokens but keeps the caller signed in", async () => {
		const { token, refreshToken } = await signUp(api, "chpw");
		const changed = await api.post("/api/v1/auth/password", { currentPassword: PASSWORD, newPassword: "an entirely new passphrase" }, { token });
		expect(changed.status).toBe(200);
		expect((await api.get("/api/v1/auth/me", { token })).status).toBe(401);
		expect((await api.post("/api/v1/auth/refresh", { refreshToken })).status).toBe(401);
		expect((await api.get("/api/v1/auth/me", { token: changed.body.accessToken })).status).toBe(200);
	});

	it.each(["Password1!", "Qwerty123!", "Summer2026!"])("refuses the guessable password %s with a 422 on the field", async (weak) => {
		const res = await api.post("/api/v1/auth/register", { email: uniqueEmail("guessable"), password: weak });
		expect(res.status).toBe(422);
		expect(res.body.error.details).toEqual([expect.objectContaining({ field: "password", type: "passwordCommon" })]);
		const { token } = await signUp(api, "guessable-change");
		const change = await api.post("/api/v1/auth/password", { currentPassword: PASSWORD, newPassword: weak }, { token });
		expect(change.status).toBe(422);
		expect(change.body.error.details).toEqual([expect.objectContaining({ field: "newPassword", type: "passwordCommon" })]);
	});

	it("a wrong current password is a 422 on that field", async () => {
		const { token } = await signUp(api, "chpw-wrong");
		const res = await api.post("/api/v1/auth/password", { currentPassword: "not my password!", newPassword: "an entirely new passphrase" }, { token });
		expect(res.status).toBe(422);
		expect(res.body.error.details[0].field).toBe("currentPassword");
	});
});

describe("login throttling", () => {
	it("an address that keeps failing is locked out of that account with 429 LOGIN_THROTTLED and Retry-After, even for the right password", async () => {
		const { email } = await signUp(api, "throttle");
		const attacker = newAddress();
		for (let i = 0; i < 3; i++) {
			const res = await login(email, "wrong password here", attacker);
			expect(res.status).toBe(401);
			expect(res.body.error.code).toBe("INVALID_CREDENTIALS");
		}
		const locked = await login(email, PASSWORD, attacker);
		expect(locked.status).toBe(429);
		expect(locked.body.error.code).toBe("LOGIN_THROTTLED");
		expect(retryAfter(locked)).toBeGreaterThan(0);
		expect(retryAfter(locked)).toBeLessThanOrEqual(60);
		// Another account from the same address is not locked by this one.
		const other = await signUp(api, "throttle-neighbour");
		expect((await login(other.email, PASSWORD, attacker)).status).toBe(200);
	});

	it("the owner signs in from a fresh address while others hammer the account; the guessers wait longer and longer", async () => {
		const { email } = await signUp(api, "hammered");
		const [first, second, third] = [newAddress(), newAddress(), newAddress()];
		for (let i = 0; i < 3; i++) expect((await login(email, "wrong password here", first)).status).toBe(401);
		// The fourth failure on the account (from anywhere) starts the delay: 20 s.
		expect((await login(email, "another wrong guess", second)).status).toBe(401);
		const delayed = await login(email, "a third wrong guess", second);
		expect(delayed.status).toBe(429);
		expect(delayed.body.error.code).toBe("LOGIN_THROTTLED");
		expect(retryAfter(delayed)).toBeGreaterThan(10);
		expect(retryAfter(delayed)).toBeLessThanOrEqual(20);

		const owner = await login(email, PASSWORD, newAddress());
		expect(owner.status).toBe(200);
		expect((await api.get("/api/v1/auth/me", { token: owner.body.accessToken })).body.email).toBe(email);

		// A new guessing address gets one try, then waits out a delay that has doubled...
		expect((await login(email, "yet another guess", third)).status).toBe(401);
		const longer = await login(email, "and another", third);
		expect(longer.status).toBe(429);
		expect(retryAfter(longer)).toBeGreaterThan(20);
		expect(retryAfter(longer)).toBeLessThanOrEqual(40);
		// ...up to LOGIN_DELAY_MAX, never a lock.
		for (let i = 0; i < 3; i++) expect((await login(email, "guess from a crowd", newAddress())).status).toBe(401);
		const capped = await login(email, PASSWORD, third);
		expect(capped.status).toBe(429);
		expect(retryAfter(capped)).toBeGreaterThan(40);
		expect(retryAfter(capped)).toBeLessThanOrEqual(80);
		expect((await login(email, PASSWORD, newAddress())).status).toBe(200);
	});

	it("parallel guesses from one address cannot slip past the limit", async () => {
		const { email } = await signUp(api, "parallel");
		const attacker = newAddress();
		const replies = await Promise.all(Array.from({ length: 12 }, () => login(email, "wrong password here", attacker)));
		const statuses = replies.map((r) => r.status).sort();
		expect(statuses.filter((s) => s === 401)).toHaveLength(3);
		expect(statuses.filter((s) => s === 429)).toHaveLength(9);
	});

	it("wrong current passwords on /auth/password count as failed sign-ins", async () => {
		const { email, token } = await signUp(api, "chpw-guess");
		const thief = newAddress();
		for (let i = 0; i < 3; i++) {
			const res = await api.post(
				"/api/v1/auth/password",
				{ currentPassword: `not my password ${i}`, newPassword: "an entirely new passphrase" },
				{ token, ...from(thief) },
			);
			expect(res.status).toBe(422);
		}
		const throttled = await api.post(
			"/api/v1/auth/password",
			{ currentPassword: PASSWORD, newPassword: "an entirely new passphrase" },
			{ token, ...from(thief) },
		);
		expect(throttled.status).toBe(429);
		expect(throttled.body.error.code).toBe("LOGIN_THROTTLED");
		expect(retryAfter(throttled)).toBeGreaterThan(0);
		expect((await login(email, PASSWORD, thief)).status).toBe(429);
		// The password did not change.
		expect((await login(email, PASSWORD, newAddress())).status).toBe(200);
	});

	it("an unknown email answers exactly like a wrong password", async () => {
		const res = await api.post("/api/v1/auth/login", { email: uniqueEmail("nobody"), password: PASSWORD });
		expect(res.status).toBe(401);
		expect(res.body.error.code).toBe("INVALID_CREDENTIALS");
	});
});

describe("service tokens", () => {
	it("an owner creates a store token shown once; it works, records last use, and stops working when revoked", async () => {
		const { token } = await signUp(api, "svc-owner");
		const org = await api.post("/api/v1/orgs", { name: "Svc Org" }, { token });
		const store = await api.post(`/api/v1/orgs/${org.body.id}/stores`, { name: "Depot" }, { token });
		const base = `/api/v1/orgs/${org.body.id}/stores/${store.body.id}`;
		const created = await api.post(`${base}/service-tokens`, { name: "edge box" }, { token });
		expect(created.status).toBe(201);
		expect(created.body.token).toMatch(/^vst_/);

		const listed = await api.get(`${base}/service-tokens`, { token });
		expect(listed.body.items).toHaveLength(1);
		expect(JSON.stringify(listed.body)).not.toContain(created.body.token);
		expect(listed.body.items[0].lastUsedAt).toBeNull();

		const cameras = await api.get(`${base}/cameras`, { token: created.body.token });
		expect(cameras.status).toBe(200);
		const after = await api.get(`${base}/service-tokens`, { token });
		expect(after.body.items[0].lastUsedAt).not.toBeNull();

		// A service token is not a user: it cannot act as one.
		expect((await api.get("/api/v1/auth/me", { token: created.body.token })).status).toBe(403);
		expect((await api.post(`${base}/cameras`, { name: "x" }, { token: created.body.token })).status).toBe(403);

		expect((await api.delete(`${base}/service-tokens/${created.body.id}`, { token })).status).toBe(204);
		const revoked = await api.get(`${base}/cameras`, { token: created.body.token });
		expect(revoked.status).toBe(401);
		expect(revoked.body.error.code).toBe("TOKEN_REVOKED");
	});
});
