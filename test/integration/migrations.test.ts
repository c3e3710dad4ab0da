import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDataSource, migrate } from "../../lib/platform/database";

const databaseUrl = process.env.DATABASE_URL ?? "pglite://memory";

describe("database migrations", () => {
	it("migrations produce exactly the schema the entities describe (on the database under test)", async () => {
		const dataSource = createDataSource({ databaseUrl, dataDir: mkdtempSync(join(tmpdir(), "vigil-mig-")) });
		await dataSource.initialize();
		try {
			await migrate(dataSource);
			const pending = await dataSource.driver.createSchemaBuilder().log();
			expect(pending.upQueries.map((q) => q.query)).toEqual([]);
			expect(await dataSource.showMigrations()).toBe(false);
		} finally {
			await dataSource.destroy();
		}
	});

	it("every migration can be rolled back and applied again", async () => {
		const dataSource = createDataSource({ databaseUrl: "pglite://memory", dataDir: mkdtempSync(join(tmpdir(), "vigil-mig-")) });
		await dataSource.initialize();
		try {
			const applied = await migrate(dataSource);
			expect(applied.length).toBeGreaterThan(0);
			for (let i = 0; i < applied.length; i++) await dataSource.undoLastMigration({ transaction: "each" });
			const tables = await dataSource.query(
				"SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'migrations'",
			);
			expect(tables[0].n).toBe(0);
			expect(await migrate(dataSource)).toEqual(applied);
		} finally {
			await dataSource.destroy();
		}
	});

	it("a data directory keeps the embedded database across restarts", async () => {
		const dataDir = mkdtempSync(join(tmpdir(), "vigil-disk-"));
		const first = createDataSource({ databaseUrl: undefined, dataDir });
		await first.initialize();
		await migrate(first);
		await first.query("INSERT INTO organizations (name) VALUES ('Persisted')");
		await first.destroy();
		const second = createDataSource({ databaseUrl: undefined, dataDir });
		await second.initialize();
		expect(await migrate(second)).toEqual([]);
		expect((await second.query("SELECT name FROM organizations"))[0].name).toBe("Persisted");
		await second.destroy();
	});
});
