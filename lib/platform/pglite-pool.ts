/**
 * A `pg`-shaped pool over one embedded PGlite database, for TypeORM's postgres driver.
 *
 * PGlite is one session. A pool that hands that session to several query runners at once lets a transaction
 * of one request swallow the queries of another (and roll them back with it). So each runner holds the
 * session exclusively from connect to release; PGlite runs one query at a time anyway, so nothing is lost.
 * It also reports `rowCount` and `command`, which TypeORM reads for `affected` on update and delete.
 */
import { EventEmitter } from "node:events";
import { PGlite, types } from "@electric-sql/pglite";
import { lockDatabaseDir } from "./data-dir-lock";

type Callback = (err: Error | null, result?: unknown) => void;

const boolSerializer = (value: unknown) =>
	value === true || value === "true" || value === 1 ? "TRUE" : value === false || value === "false" || value === 0 ? "FALSE" : String(value);

/** A `pg` module stand-in for TypeORM's `driver` option, bound to one database (a directory, or memory). */
export function pgliteDriver(dataDir: string | undefined): { Pool: new () => PGlitePool } {
	let db: Promise<PGlite> | undefined;
	let unlock: (() => void) | undefined;
	const create = async () => {
		// A folder is one process's at a time (lib/platform/data-dir-lock.ts); memory is this process's anyway.
		if (dataDir) unlock = lockDatabaseDir(dataDir);
		try {
			return await PGlite.create({ dataDir, serializers: { [types.BOOL]: boolSerializer } });
		} catch (err) {
			unlock?.();
			throw err;
		}
	};
	const open = () => (db ??= create());
	const close = async () => {
		const pending = db;
		db = undefined;
		try {
			if (pending) await (await pending).close();
		} finally {
			unlock?.();
			unlock = undefined;
		}
	};
	return {
		Pool: class extends PGlitePool {
			constructor() {
				super(open, close);
			}
		},
	};
}

export class PGlitePool extends EventEmitter {
	private queue: (() => void)[] = [];
	private busy = false;

	constructor(
		private readonly instance: () => Promise<PGlite>,
		private readonly close: () => Promise<void>,
	) {
		super();
	}

	/** Exclusive use of the session until `release` is called. */
	connect(callback: (err: Error | null, client?: PGliteClient, release?: () => void) => void): void {
		const grant = () => {
			this.instance().then(
				(db) => {
					let released = false;
					callback(null, new PGliteClient(db), () => {
						if (released) return;
						released = true;
						this.next();
					});
				},
				(err: Error) => {
					this.next();
					callback(err);
				},
			);
		};
		if (this.busy) this.queue.push(grant);
		else {
			this.busy = true;
			grant();
		}
	}

	query(sql: string, params?: unknown[] | Callback, callback?: Callback): Promise<unknown> {
		return new Promise((resolve, reject) => {
			this.connect((err, client, release) => {
				if (err || !client || !release) return reject(err);
				client.query(sql, params, callback).then(resolve, reject).finally(release);
			});
		});
	}

	end(callback?: (err: Error | null) => void): void {
		this.close().then(
			() => callback?.(null),
			(err: Error) => callback?.(err),
		);
	}

	private next(): void {
		const grant = this.queue.shift();
		if (grant) grant();
		else this.busy = false;
	}
}

/** The `pg` client shape TypeORM uses: `query` plus the event-emitter it hangs error listeners on. */
class PGliteClient extends EventEmitter {
	constructor(private readonly db: PGlite) {
		super();
	}

	async query(sql: string, params?: unknown[] | Callback, callback?: Callback): Promise<unknown> {
		if (typeof params === "function") {
			callback = params;
			params = undefined;
		}
		try {
			const command = sql.trimStart().split(/\s/, 1)[0].toUpperCase();
			const result =
				Array.isArray(params) && params.length > 0 ? await this.db.query(sql, params) : ((await this.db.exec(sql)).at(-1) ?? { rows: [], fields: [] });
			const shaped = { ...result, command, rowCount: result.affectedRows ?? result.rows.length };
			callback?.(null, shaped);
			return shaped;
		} catch (err) {
			callback?.(err as Error);
			throw err;
		}
	}

	release(): void {
		/* TypeORM releases through the connect callback */
	}
}
