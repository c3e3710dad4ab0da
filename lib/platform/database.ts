/**
 * Opens the node's database: real PostgreSQL when DATABASE_URL is set, otherwise embedded PGlite under
 * DATA_DIR. Migrations run on start, under an advisory lock so nodes starting together take turns.
 * Schema changes only ever come from `migrations/` (never `synchronize`).
 */
import "reflect-metadata";
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import { DataSource } from "typeorm";
import type { Config } from "./config";
import { ENTITIES } from "../../entities";
import { MIGRATIONS } from "../../migrations";
import { pgliteDriver } from "./pglite-pool";

/** Any fixed number: it names the lock that serialises migrations across nodes. */
const MIGRATION_LOCK = 74_221_001;

export function createDataSource(config: Pick<Config, "databaseUrl" | "dataDir">): DataSource {
	const common = {
		type: "postgres" as const,
		entities: ENTITIES,
		migrations: MIGRATIONS,
		migrationsTableName: "migrations",
		synchronize: false,
		logging: false as const,
	};
	if (config.databaseUrl && config.databaseUrl.startsWith("postgres")) {
		return new DataSource({ ...common, url: config.databaseUrl, poolSize: 10, applicationName: "vigil" });
	}
	const inMemory = config.databaseUrl === "pglite://memory";
	const dir = join(config.dataDir, "pgdata");
	if (!inMemory) mkdirSync(dir, { recursive: true });
	// The entities use gen_random_uuid() (core since PostgreSQL 13): no extension to install.
	return new DataSource({ ...common, driver: pgliteDriver(inMemory ? undefined : dir), uuidExtension: "pgcrypto", installExtensions: false });
}

export async function openDatabase(config: Pick<Config, "databaseUrl" | "dataDir">): Promise<DataSource> {
	const dataSource = createDataSource(config);
	await dataSource.initialize();
	try {
		await migrate(dataSource);
	} catch (err) {
		await dataSource.destroy();
		throw err;
	}
	return dataSource;
}

/** Runs pending migrations; returns the names of those applied. */
export async function migrate(dataSource: DataSource): Promise<string[]> {
	// PGlite is one process and one session, already serialised by its pool (a lock runner would deadlock it).
	if (dataSource.options.driver !== undefined) return applyMigrations(dataSource);
	const lock = dataSource.createQueryRunner();
	await lock.connect();
	try {
		await lock.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
		return await applyMigrations(dataSource);
	} finally {
		await lock.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => undefined);
		await lock.release();
	}
}

/**
 * Runs `work` holding a cluster-wide PostgreSQL advisory lock, or returns null at once when another session
 * holds it. PGlite is one process and one session: there it just runs `work` (callers serialise in process).
 */
export async function tryWithAdvisoryLock<T>(dataSource: DataSource, key: number, work: () => Promise<T>): Promise<T | null> {
	if (dataSource.options.driver !== undefined) return work();
	const runner = dataSource.createQueryRunner();
	await runner.connect();
	try {
		const [{ locked }] = (await runner.query("SELECT pg_try_advisory_lock($1) AS locked", [key])) as { locked: boolean }[];
		if (!locked) return null;
		try {
			return await work();
		} finally {
			await runner.query("SELECT pg_advisory_unlock($1)", [key]).catch(() => undefined);
		}
	} finally {
		await runner.release();
	}
}

async function applyMigrations(dataSource: DataSource): Promise<string[]> {
	const applied = await dataSource.runMigrations({ transaction: "each" });
	return applied.map((m) => m.name);
}
