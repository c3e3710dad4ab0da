/**
 * Who may do what, decided once for every action from its declared `permission`. A resource outside the
 * caller's tenant answers 404 (as if it did not exist), never 403: no one learns what other tenants have.
 */
import type { DataSource } from "typeorm";
import { Membership, Organization, Store } from "../../entities";
import { forbidden, notFound, unauthorized } from "../platform/errors";
import type { Access, Caller, Permission } from "../platform/types";
import type { AccessCache } from "./access-cache";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: unknown): value is string => typeof value === "string" && UUID.test(value);

export async function authorize(
	/** Opened only for organization and store scopes. */
	database: () => Promise<DataSource>,
	caller: Caller | undefined,
	permission: Permission,
	params: Record<string, unknown>,
	authError?: string,
	/** This node's access cache (the permission middleware's); without one, every check reads the database. */
	cache?: AccessCache,
): Promise<Access | undefined> {
	if (permission.scope === "public") return undefined;
	if (!caller) throw authError ? unauthorized(authErrorMessage(authError), authError) : unauthorized();

	if (caller.kind === "service") return authorizeServiceToken(caller, permission, params);

	if (permission.scope === "service") throw forbidden("Only a store's service token (an edge box) can do this; users cannot");
	if (permission.scope === "user") return undefined;
	if (permission.scope === "superadmin") {
		if (!caller.superAdmin) throw forbidden("Only a platform super-admin can do this");
		return undefined;
	}

	const orgId = params.orgId;
	if (!isUuid(orgId)) throw notFound("Organization");
	const read = <T>(key: string, load: (db: DataSource) => Promise<T>): Promise<T> =>
		cache ? cache.get(key, async () => load(await database())) : database().then(load);
	let role: Access["role"];
	let storeIds: string[] | null = null;
	if (caller.superAdmin) {
		if (!(await read(`org:${orgId}`, (db) => db.getRepository(Organization).existsBy({ id: orgId })))) throw notFound("Organization");
		role = "superadmin";
	} else {
		const membership = await read(`member:${orgId}:${caller.userId}`, async (db) => {
			const found = await db.getRepository(Membership).findOneBy({ orgId, userId: caller.userId });
			return found && { role: found.role, storeIds: found.storeIds ? Object.freeze([...found.storeIds]) : null };
		});
		if (!membership) throw notFound("Organization");
		role = membership.role;
		storeIds = membership.storeIds && [...membership.storeIds];
	}

	let storeId: string | undefined;
	if (permission.scope === "store") {
		const wanted = params.storeId;
		if (!isUuid(wanted)) throw notFound("Store");
		if (storeIds && !storeIds.includes(wanted)) throw notFound("Store");
		if (!(await read(`store:${orgId}:${wanted}`, (db) => db.getRepository(Store).existsBy({ id: wanted, orgId })))) throw notFound("Store");
		storeId = wanted;
	}
	if (role !== "superadmin" && permission.roles && !permission.roles.includes(role)) {
		throw forbidden(`Your role (${role}) cannot do this; it needs ${permission.roles.join(" or ")}`);
	}
	return { orgId, storeId, role, storeIds };
}

function authorizeServiceToken(caller: Extract<Caller, { kind: "service" }>, permission: Permission, params: Record<string, unknown>): Access {
	const sameStore = params.orgId === caller.orgId && params.storeId === caller.storeId;
	if (permission.scope === "store" && params.storeId !== undefined && !sameStore) throw notFound("Store");
	if (permission.scope === "org" && params.orgId !== caller.orgId) throw notFound("Organization");
	if (!permission.serviceToken && permission.scope !== "service") throw forbidden("A service token cannot do this; sign in as a user");
	return { orgId: caller.orgId, storeId: caller.storeId, role: "service", storeIds: [caller.storeId] };
}

function authErrorMessage(code: string): string {
	switch (code) {
		case "TOKEN_EXPIRED":
			return "Your session has expired; refresh it or sign in again";
		case "TOKEN_REVOKED":
			return "This token has been revoked";
		default:
			return "The presented credentials are not valid";
	}
}
