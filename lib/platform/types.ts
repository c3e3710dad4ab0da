/** Shapes shared by the gateway, the permission middleware and the services. */
import type { Context, Service } from "moleculer";
import type { DataSource } from "typeorm";
import type { Role } from "../../entities/membership.entity";
import type { Config } from "./config";

/**
 * Who is calling, as established by the gateway from a cookie or a Bearer token; or an operator at `vigil repl`
 * (never from HTTP: the gateway sets only the first two), who may do what a super-admin may and is audited by name.
 */
export type Caller =
	| { kind: "user"; userId: string; email: string; superAdmin: boolean }
	| { kind: "service"; tokenId: string; orgId: string; storeId: string; name: string }
	| { kind: "operator"; name: string; superAdmin: true };

/** A cookie the gateway should set (or clear, with maxAge 0) on the HTTP response. */
export interface CookieToSet {
	name: string;
	value: string;
	maxAge: number;
	path: string;
}

export interface Meta {
	caller?: Caller;
	/** Why a presented token was refused (TOKEN_EXPIRED, TOKEN_INVALID...), reported if the action needs auth. */
	authError?: string;
	requestId?: string;
	ip?: string;
	userAgent?: string;
	/** Refresh token read from the cookie by the gateway (auth.refresh and auth.logout). */
	refreshCookie?: string;
	$cookies?: CookieToSet[];
	$statusCode?: number;
	$responseHeaders?: Record<string, string>;
}

/** `service`: only a store's service token (an edge box); the store comes from the token, not the path. */
export type Scope = "public" | "user" | "superadmin" | "org" | "store" | "service";

/**
 * Declared on every action reachable over HTTP and enforced by middlewares/permission.middleware.ts.
 * `roles` are organization roles (a super-admin always passes); `serviceToken` lets a store's service token in.
 */
export interface Permission {
	scope: Scope;
	roles?: Role[];
	serviceToken?: boolean;
}

/** What the permission middleware established for the current call (in `ctx.locals.access`). */
export interface Access {
	orgId: string;
	storeId?: string;
	role: Role | "superadmin" | "service";
	/** Stores this caller may see in the organization; null = all. */
	storeIds: string[] | null;
}

export type VigilContext<P = Record<string, unknown>> = Context<P, Meta> & { locals: { access?: Access } };

/** `this` inside a Vigil service: the Moleculer service plus what the db mixin adds. */
export type VigilService = Service & { db: DataSource; config: Config };
