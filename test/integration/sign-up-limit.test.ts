/** Sign-ups are limited per source address: each costs a bcrypt hash, and a burst of them must not starve sign-ins. */
import { randomBytes } from "node:crypto";
import { startCluster, type Cluster } from "../support/cluster";
import { Client, PASSWORD, uniqueEmail } from "../support/http";

let cluster: Cluster;
let api: Client;

beforeAll(async () => {
	// Addresses come from X-Forwarded-For, fresh per test, so earlier runs on the same database do not count.
	cluster = await startCluster({ REGISTER_MAX_PER_IP: "5", REGISTER_WINDOW: "600", TRUST_PROXY: "true" });
	api = new Client(cluster.url);
});
afterAll(() => cluster?.stop());

const newAddress = () => `2001:db8:${randomBytes(6).toString("hex").match(/.{4}/g)!.join(":")}::2`;
const register = (address: string, email = uniqueEmail("burst")) =>
	api.post("/api/v1/auth/register", { email, password: PASSWORD }, { headers: { "x-forwarded-for": address } });

describe("sign-up limit per address", () => {
	it("30 parallel sign-ups from one address: 5 accounts, the rest 429 with Retry-After, and another address still signs up", async () => {
		const address = newAddress();
		const replies = await Promise.all(Array.from({ length: 30 }, () => register(address)));
		const created = replies.filter((r) => r.status === 201);
		const refused = replies.filter((r) => r.status === 429);
		expect(created).toHaveLength(5);
		expect(refused).toHaveLength(25);
		for (const res of refused) {
			expect(res.body.error.code).toBe("RATE_LIMITED");
			expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
			expect(Number(res.headers.get("retry-after"))).toBeLessThanOrEqual(600);
		}
		expect((await register(newAddress())).status).toBe(201);
	});

	it("refused sign-ups create no account", async () => {
		const address = newAddress();
		for (let i = 0; i < 5; i++) expect((await register(address)).status).toBe(201);
		const email = uniqueEmail("over-limit");
		expect((await register(address, email)).status).toBe(429);
		// The account would exist if the refused sign-up had gone through: signing in tells.
		expect((await api.post("/api/v1/auth/login", { email, password: PASSWORD })).status).toBe(401);
	});
});
