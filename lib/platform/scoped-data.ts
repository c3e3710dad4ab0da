/**
 * Tenant-scoped data access: every read and write through a `ScopedData` carries the caller's organization and
 * the stores they may see, taken from the permission check, so a handler that forgets a filter still cannot
 * reach another organization's rows. An entity is scoped by its own `orgId`/`storeId` columns (a store by its
 * id, an organization by its id), or through the parent it belongs to (a zone through its camera, a track
 * through its clip). Data that belongs to no organization (users, sessions) is not reachable here at all.
 * No broker in here; services get one per call from the repository mixin.
 */
import {
	And,
	DataSource,
	In,
	IsNull,
	type DeepPartial,
	type EntityManager,
	type EntityTarget,
	type FindManyOptions,
	type FindOneOptions,
	type FindOptionsWhere,
	type ObjectLiteral,
} from "typeorm";
import type { EntityMetadata } from "typeorm/metadata/EntityMetadata";
import { notFound } from "./errors";

/** What the caller may reach: one organization, and within it every store (null) or these. */
export interface TenantScope {
	orgId: string;
	storeIds: string[] | null;
}

type Where<E> = FindOptionsWhere<E> | FindOptionsWhere<E>[];
type Row = Record<string, unknown>;

/** How an entity is tied to a tenant. */
interface TenantPath {
	/** The property holding the organization id (`orgId`, or `id` for an organization). */
	org?: string;
	/** The property holding the store id (`storeId`, or `id` for a store). */
	store?: string;
	/** Otherwise the relation to a parent that is tied, and the column that names it. */
	parent?: { relation: string; column: string; target: EntityTarget<ObjectLiteral> };
}

/** Raised when a write names another tenant: a bug in the caller, never a user's doing. */
export class TenantMismatchError extends Error {
	override name = "TenantMismatchError";
}

const paths = new WeakMap<EntityMetadata, TenantPath | null>();
/** Rows per insert, update or delete statement: far below PostgreSQL's 65,535 parameters per statement. */
const WRITE_CHUNK = 2000;

function tenantPath(meta: EntityMetadata): TenantPath | null {
	if (paths.has(meta)) return paths.get(meta) ?? null;
	const has = (name: string) => meta.columns.some((c) => c.propertyName === name);
	let path: TenantPath | null = null;
	if (meta.tableName === "organizations") path = { org: "id" };
	else if (meta.tableName === "stores") path = { org: "orgId", store: "id" };
	else if (has("orgId")) path = { org: "orgId", ...(has("storeId") && { store: "storeId" }) };
	else {
		// The first parent (many-to-one or one-to-one owner) that is itself tied to a tenant.
		for (const relation of meta.relations) {
			if (!relation.isManyToOne && !relation.isOneToOneOwner) continue;
			const parent = relation.inverseEntityMetadata;
			if (parent === meta || !tenantPath(parent)) continue;
			const column = relation.joinColumns[0]?.propertyName;
			if (column) path = { parent: { relation: relation.propertyName, column, target: parent.target } };
			break;
		}
	}
	paths.set(meta, path);
	return path;
}

/** What lib helpers accept: the tenant's data (inside its transaction, if any) or, for system work, a raw handle. */
export type AnyData = ScopedData | DataSource | EntityManager;

/**
 * The entity manager behind a handle, for lib helpers that write beside a service's own writes in the same
 * transaction (the audit entry of a change, a camera's liveness). Services never call this (lint).
 */
export function managerOf(data: AnyData): EntityManager {
	if (data instanceof ScopedData) return data["manager"];
	return data instanceof DataSource ? data.manager : data;
}

/** The data of one tenant, over a data source or a transaction's entity manager. */
export class ScopedData {
	constructor(
		private readonly manager: EntityManager,
		readonly scope: TenantScope,
	) {}

	repo<E extends ObjectLiteral>(entity: EntityTarget<E>): ScopedRepository<E> {
		return new ScopedRepository<E>(this.manager, entity, this.scope);
	}

	/** One transaction; the data inside it is scoped alike. */
	transaction<T>(work: (data: ScopedData) => Promise<T>): Promise<T> {
		return this.manager.transaction((tx) => work(new ScopedData(tx, this.scope)));
	}
}

/** The usual repository reads and writes, each narrowed to the tenant. */
export class ScopedRepository<E extends ObjectLiteral> {
	private readonly meta: EntityMetadata;
	private readonly path: TenantPath;

	constructor(
		private readonly manager: EntityManager,
		private readonly entity: EntityTarget<E>,
		private readonly scope: TenantScope,
	) {
		this.meta = manager.connection.getMetadata(entity);
		const path = tenantPath(this.meta);
		if (!path) throw new Error(`${this.meta.name} belongs to no organization: reach it with an unscoped handle that says why`);
		this.path = path;
	}

	find(options: FindManyOptions<E> = {}): Promise<E[]> {
		return this.manager.find(this.entity, { ...options, where: this.narrow(options.where) });
	}

	findBy(where: Where<E>): Promise<E[]> {
		return this.manager.findBy(this.entity, this.narrow(where));
	}

	findOne(options: FindOneOptions<E>): Promise<E | null> {
		return this.manager.findOne(this.entity, { ...options, where: this.narrow(options.where) });
	}

	findOneBy(where: Where<E>): Promise<E | null> {
		return this.manager.findOneBy(this.entity, this.narrow(where));
	}

	count(options: FindManyOptions<E> = {}): Promise<number> {
		return this.manager.count(this.entity, { ...options, where: this.narrow(options.where) });
	}

	countBy(where: Where<E>): Promise<number> {
		return this.manager.countBy(this.entity, this.narrow(where));
	}

	existsBy(where: Where<E>): Promise<boolean> {
		return this.manager.existsBy(this.entity, this.narrow(where));
	}

	/** Inserts rows of this tenant: a missing `orgId` is the tenant's; another tenant's or store's is refused. */
	async insert(values: DeepPartial<E> | DeepPartial<E>[]): Promise<void> {
		const rows = Array.isArray(values) ? values : [values];
		const parents = new Set<string>();
		for (const row of rows) await this.claim(row as Row, parents);
		for (let i = 0; i < rows.length; i += WRITE_CHUNK) await this.manager.insert(this.entity, rows.slice(i, i + WRITE_CHUNK) as never);
	}

	/** Saves a new or loaded entity of this tenant (the same checks as insert). */
	async save<T extends DeepPartial<E>>(entity: T): Promise<T & E> {
		await this.claim(entity as Row, new Set());
		return this.manager.save(this.entity, entity) as Promise<T & E>;
	}

	/** Updates the tenant's rows matching `where`; returns how many changed. */
	async update(where: Where<E>, patch: DeepPartial<E>): Promise<number> {
		for (const key of [this.path.org, this.path.store, this.path.parent?.column]) {
			if (key && key in (patch as Row)) throw new TenantMismatchError(`${this.meta.name}: ${key} cannot be changed through a tenant's data`);
		}
		let changed = 0;
		for (const criteria of await this.matching(where)) changed += (await this.manager.update(this.entity, criteria, patch as never)).affected ?? 0;
		return changed;
	}

	/** Deletes the tenant's rows matching `where`; returns how many went. */
	async delete(where: Where<E>): Promise<number> {
		let deleted = 0;
		for (const criteria of await this.matching(where)) deleted += (await this.manager.delete(this.entity, criteria)).affected ?? 0;
		return deleted;
	}

	/** `where` narrowed to the tenant: its own columns, or its parent's through the relation. */
	private narrow(where: FindOptionsWhere<E> | FindOptionsWhere<E>[] | undefined): Where<E> {
		if (Array.isArray(where)) return where.length ? where.map((w) => this.narrowOne(w)) : [this.narrowOne({})];
		return this.narrowOne(where ?? {});
	}

	private narrowOne(where: FindOptionsWhere<E>): FindOptionsWhere<E> {
		return narrowBy(this.path, this.meta, { ...(where as Row) }, this.scope) as FindOptionsWhere<E>;
	}

	/**
	 * Criteria for update and delete, which take no relations: the tenant's own columns where it has them. A
	 * child row named by its parent (`{ clipId }`) is matched as asked once that parent is shown to be the
	 * tenant's; otherwise by the primary keys the narrowed read finds, a chunk per statement (a statement holds
	 * at most 65,535 parameters, and a long clip has more detections).
	 */
	private async matching(where: Where<E>): Promise<Where<E>[]> {
		const parent = this.path.parent;
		if (!parent) return [this.narrow(where)];
		const plain = (w: FindOptionsWhere<E>) => typeof (w as Row)[parent.column] === "string" && !(parent.relation in (w as Row));
		const wheres = Array.isArray(where) ? where : [where];
		if (wheres.length && wheres.every(plain)) {
			const owner = new ScopedRepository(this.manager, parent.target, this.scope);
			const owned = await Promise.all(wheres.map((w) => owner.existsBy({ id: (w as Row)[parent.column] as string })));
			const kept = wheres.filter((_, i) => owned[i]);
			return kept.length ? [kept] : [];
		}
		const keys = this.meta.primaryColumns.map((c) => c.propertyName);
		const rows = await this.manager.find(this.entity, { where: this.narrow(where), select: Object.fromEntries(keys.map((k) => [k, true])) as never });
		const chunks: Where<E>[] = [];
		for (let i = 0; i < rows.length; i += WRITE_CHUNK) {
			const chunk = rows.slice(i, i + WRITE_CHUNK);
			chunks.push(
				keys.length === 1
					? ({ [keys[0]]: In(chunk.map((r) => r[keys[0]])) } as FindOptionsWhere<E>)
					: chunk.map((r) => Object.fromEntries(keys.map((k) => [k, r[k]])) as FindOptionsWhere<E>),
			);
		}
		return chunks;
	}

	/**
	 * A row about to be written must belong to the tenant: its organization and store, or its parent (each
	 * parent checked once per call, in `checked`).
	 */
	private async claim(row: Row, checked: Set<string>): Promise<void> {
		const { org, store, parent } = this.path;
		if (org && org !== "id") {
			if (row[org] === undefined) row[org] = this.scope.orgId;
			else if (row[org] !== this.scope.orgId) throw new TenantMismatchError(`${this.meta.name} of another organization`);
		}
		if (org === "id" && row.id !== undefined && row.id !== this.scope.orgId) throw new TenantMismatchError("another organization");
		if (store && store !== "id" && this.scope.storeIds && row[store] != null && !this.scope.storeIds.includes(row[store] as string))
			throw new TenantMismatchError(`${this.meta.name} of a store outside the caller's`);
		if (parent) {
			const parentId = row[parent.column];
			if (typeof parentId !== "string") throw new TenantMismatchError(`${this.meta.name} without its ${parent.relation}`);
			if (checked.has(parentId)) return;
			checked.add(parentId);
			const owner = new ScopedRepository(this.manager, parent.target, this.scope);
			if (!(await owner.existsBy({ id: parentId }))) throw notFound(parent.relation.charAt(0).toUpperCase() + parent.relation.slice(1));
		}
	}
}

/** Adds the tenant's conditions to one `where` object (recursing into the parent for child entities). */
function narrowBy(path: TenantPath, meta: EntityMetadata, where: Row, scope: TenantScope): Row {
	const nothing = () => ({ [meta.primaryColumns[0].propertyName]: IsNull() });
	if (path.parent) {
		const parentMeta = meta.relations.find((r) => r.propertyName === path.parent?.relation)?.inverseEntityMetadata as EntityMetadata;
		const parentWhere = narrowBy(tenantPath(parentMeta) as TenantPath, parentMeta, { ...((where[path.parent.relation] as Row | undefined) ?? {}) }, scope);
		return { ...where, [path.parent.relation]: parentWhere };
	}
	if (path.org) {
		const asked = where[path.org];
		if (asked === undefined) where[path.org] = scope.orgId;
		else if (typeof asked !== "object") {
			if (asked !== scope.orgId) return nothing();
		} else where[path.org] = And(asked as never, In([scope.orgId]));
	}
	if (path.store && scope.storeIds) {
		if (!scope.storeIds.length) return nothing();
		const asked = where[path.store];
		if (asked === undefined) where[path.store] = In(scope.storeIds);
		else if (typeof asked !== "object") {
			if (!scope.storeIds.includes(asked as string)) return nothing();
		} else where[path.store] = And(asked as never, In(scope.storeIds));
	}
	return where;
}
