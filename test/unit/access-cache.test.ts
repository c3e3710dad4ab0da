/** The per-node access cache: kept for its TTL, dropped whole on a clear, and never refilled by a stale read. */
import { AccessCache } from "../../lib/security/access-cache";

const reader = (values: string[]) => {
	let reads = 0;
	return { load: async () => values[Math.min(reads++, values.length - 1)], reads: () => reads };
};

test("a value is read once and kept for the TTL", async () => {
	const cache = new AccessCache(60_000);
	const db = reader(["staff"]);
	expect(await cache.get("member:o:u", db.load)).toBe("staff");
	expect(await cache.get("member:o:u", db.load)).toBe("staff");
	expect(db.reads()).toBe(1);
});

test("a clear makes the next request read the database again", async () => {
	const cache = new AccessCache(60_000);
	const db = reader(["admin", "staff"]);
	expect(await cache.get("member:o:u", db.load)).toBe("admin");
	cache.clear();
	expect(await cache.get("member:o:u", db.load)).toBe("staff");
});

test("a read that began before a clear is answered but not kept", async () => {
	const cache = new AccessCache(60_000);
	let finish!: (role: string | null) => void;
	const slow = cache.get("member:o:u", () => new Promise<string | null>((resolve) => (finish = resolve)));
	cache.clear(); // the member was removed while the read was on its way
	finish("staff");
	expect(await slow).toBe("staff");
	expect(await cache.get("member:o:u", async () => null)).toBeNull();
});

test("an expired value is read again", async () => {
	const cache = new AccessCache(20);
	const db = reader(["admin", "staff"]);
	await cache.get("member:o:u", db.load);
	await new Promise((r) => setTimeout(r, 40));
	expect(await cache.get("member:o:u", db.load)).toBe("staff");
});

test("a TTL of 0 reads on every request", async () => {
	const cache = new AccessCache(0);
	const db = reader(["admin", "staff"]);
	await cache.get("member:o:u", db.load);
	expect(await cache.get("member:o:u", db.load)).toBe("staff");
});
