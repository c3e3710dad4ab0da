import { And, LessThan, Like, MoreThanOrEqual } from "typeorm";
import { auditWhere } from "../../lib/operations/audit-filter";

describe("audit log filters", () => {
	it("no filter reads every entry", () => {
		expect(auditWhere({})).toEqual({});
	});

	it("an action matches exactly; one ending in a dot is every action of that subject", () => {
		expect(auditWhere({ action: "member.updated" })).toEqual({ action: "member.updated" });
		expect(auditWhere({ action: "auth." })).toEqual({ action: Like("auth.%") });
	});

	it("an underscore in a subject is a character, not a LIKE wildcard", () => {
		expect(auditWhere({ action: "dead_letter." })).toEqual({ action: Like("dead\\_letter.%") });
	});

	it("who did it: by actor id and by the email the actor had", () => {
		expect(auditWhere({ actorId: "a", actorEmail: "x@example.com" })).toEqual({ actorId: "a", actorEmail: "x@example.com" });
	});

	it("a time range is from (inclusive) to (exclusive), either end optional", () => {
		const from = new Date("2025-01-01T00:00:00Z");
		const to = new Date("2025-02-01T00:00:00Z");
		expect(auditWhere({ from })).toEqual({ createdAt: MoreThanOrEqual(from) });
		expect(auditWhere({ to })).toEqual({ createdAt: LessThan(to) });
		expect(auditWhere({ from, to })).toEqual({ createdAt: And(MoreThanOrEqual(from), LessThan(to)) });
	});

	it("the next page starts below the cursor's entry; a cursor that is not ours is refused", () => {
		expect(auditWhere({ cursor: "42" })).toEqual({ seq: LessThan(42) });
		expect(() => auditWhere({ cursor: "99999999999999999" })).toThrow();
	});
});
