/**
 * The dashboard's API types are generated from the document the gateway serves, not hand-copied: the checked-in
 * dashboard/src/api/schema.d.ts must be exactly what `npm run dashboard:types` writes today.
 */
import { readFileSync } from "node:fs";
import { generateDashboardTypes, SCHEMA_FILE } from "../../app/dashboard-types";

describe("dashboard API types", () => {
	it("match the OpenAPI document the gateway serves (run `npm run dashboard:types` after an API change)", async () => {
		const generated = await generateDashboardTypes();
		expect(generated.length).toBeGreaterThan(1000);
		// A plain equality: jest's diff of a 100 kB file would drown the hint above.
		const current = readFileSync(SCHEMA_FILE, "utf8");
		if (generated !== current) throw new Error("dashboard/src/api/schema.d.ts is out of date: run `npm run dashboard:types` and commit the result");
	}, 60_000);
});
