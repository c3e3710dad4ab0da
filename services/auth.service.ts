/**
 * auth — identity: users, passwords, login sessions (access JWT + rotating refresh token), login throttling,
 * and service tokens for machines. HTTP-agnostic: cookies to set are handed to the gateway in `ctx.meta.$cookies`.
 */
import { randomUUID } from "node:crypto";
import type { ServiceSchema } from "moleculer";
import { IsNull, LessThan, type EntityManager } from "typeorm";
import { LoginThrottle, Membership, RefreshToken, ServiceToken, User } from "../entities";
import { audit } from "../lib/audit";
import { conflict, invalid, notFound, tooManyRequests, unauthorized } from "../lib/errors";
import { dummyHash, hashPassword, passwordProblems, verifyPassword } from "../lib/passwords";
import { loginFailures } from "../lib/metrics";
import { hashToken, newToken } from "../lib/secrets";
import {
	ACCESS_COOKIE, REFRESH_COOKIE, REFRESH_COOKIE_PATH, REFRESH_PREFIX, SERVICE_TOKEN_PREFIX, signAccessToken, verifyAccessToken,
} from "../lib/tokens";
import type { Caller, Meta, VigilContext, VigilService } from "../lib/types";
import { DbMixin } from "../mixins/db.mixin";
import { id, storePath } from "./schemas";

const email = { type: "email", normalize: true, max: 254, $$t: "Email address (case-insensitive)" } as const;
const password = { type: "string", min: 1, max: 1024, $$t: "Password" } as const;
const optionalRefresh = { type: "string", optional: true, max: 200, $$t: "Refresh token; API clients only (browsers send the cookie)" } as const;

/** Only a service-token touch older than this is written back, so busy edge boxes do not write on every call. */
const LAST_USED_RESOLUTION_MS = 60_000;

type AuthService = VigilService;

export const presentUser = (user: User) => ({
	id: user.id,
	email: user.email,
	displayName: user.displayName,
	superAdmin: user.isSuperAdmin,
	createdAt: user.createdAt,
});

const presentServiceToken = (token: ServiceToken) => ({
	id: token.id,
	name: token.name,
	orgId: token.orgId,
	storeId: token.storeId,
	createdAt: token.createdAt,
	lastUsedAt: token.lastUsedAt,
	revokedAt: token.revokedAt,
});

const AuthServiceSchema: ServiceSchema = {
	name: "auth",
	mixins: [DbMixin],
	// Action `rest` paths are written in full under /api/v1 (not prefixed with the service name).
	settings: { rest: "/" },

	actions: {
		register: {
			rest: "POST /auth/register",
			permission: { scope: "public" },
			params: { $$strict: "remove", email, password, displayName: { type: "string", optional: true, trim: true, min: 1, max: 100 } },
			openapi: { summary: "Create an account and sign in", responses: { 201: "Session" } },
			async handler(this: AuthService, ctx: VigilContext<{ email: string; password: string; displayName?: string }>) {
				const { email: address, password: secret, displayName } = ctx.params;
				const problems = passwordProblems(secret, address);
				if (problems.length) throw invalid("The password does not meet the rules", problems);
				if (await this.db.getRepository(User).existsBy({ email: address })) throw conflict("An account with this email already exists", "EMAIL_TAKEN");
				const user = await this.createUser(address, secret, { displayName });
				ctx.meta.$statusCode = 201;
				return this.startSession(ctx, user);
			},
		},

		login: {
			rest: "POST /auth/login",
			permission: { scope: "public" },
			params: { $$strict: "remove", email, password },
			openapi: { summary: "Sign in with email and password", description: "Sets httpOnly cookies and also returns the tokens for API clients. Repeated failures answer 429 with Retry-After.", responses: { 200: "Session" } },
			async handler(this: AuthService, ctx: VigilContext<{ email: string; password: string }>) {
				const keys = [`account:${ctx.params.email}`, ...(ctx.meta.ip ? [`ip:${ctx.meta.ip}`] : [])];
				await this.assertNotLocked(keys).catch((err: unknown) => {
					loginFailures.inc({ reason: "locked" });
					throw err;
				});
				const user = await this.db.getRepository(User).findOneBy({ email: ctx.params.email });
				const matches = await verifyPassword(ctx.params.password, user?.passwordHash ?? dummyHash(this.config.bcryptCost));
				if (!user || !matches || user.disabledAt) {
					const locked: string[] = await this.recordLoginFailure(keys);
					loginFailures.inc({ reason: "credentials" });
					this.logger.warn("Failed login", { email: ctx.params.email, ip: ctx.meta.ip });
					const reason = !user ? "unknown_email" : !matches ? "wrong_password" : "disabled";
					await audit(ctx, this.db, "auth.login_failed", user ? { type: "user", id: user.id } : null,
						{ email: ctx.params.email, reason, ...(locked.length && { lockedOut: locked.map((k) => k.split(":")[0]) }) },
						{ orgId: null, actor: { kind: "user", id: user?.id ?? null, email: ctx.params.email } });
					throw unauthorized("Email or password is incorrect", "INVALID_CREDENTIALS");
				}
				await this.db.getRepository(LoginThrottle).delete({ key: keys[0] });
				const session = await this.startSession(ctx, user);
				await audit(ctx, this.db, "auth.login", { type: "user", id: user.id }, {}, { orgId: null, actor: { kind: "user", id: user.id, email: user.email } });
				return session;
			},
		},

		refresh: {
			rest: "POST /auth/refresh",
			permission: { scope: "public" },
			params: { $$strict: "remove", refreshToken: optionalRefresh },
			openapi: { summary: "Exchange a refresh token for a new session (the old refresh token stops working)", responses: { 200: "Session" } },
			async handler(this: AuthService, ctx: VigilContext<{ refreshToken?: string }>) {
				const presented = ctx.params.refreshToken ?? ctx.meta.refreshCookie;
				if (!presented) throw unauthorized("No refresh token presented", "REFRESH_INVALID");
				const user = await this.rotateRefreshToken(ctx, presented);
				return user;
			},
		},

		logout: {
			rest: "POST /auth/logout",
			permission: { scope: "public" },
			params: { $$strict: "remove", refreshToken: optionalRefresh },
			openapi: { summary: "Sign out: revokes the refresh token's session and clears the cookies", responses: { 204: null } },
			async handler(this: AuthService, ctx: VigilContext<{ refreshToken?: string }>) {
				const presented = ctx.params.refreshToken ?? ctx.meta.refreshCookie;
				if (presented) {
					const token = await this.db.getRepository(RefreshToken).findOneBy({ tokenHash: hashToken(presented) });
					if (token) {
						await this.revokeFamily(token.familyId);
						await audit(ctx, this.db, "auth.logout", { type: "user", id: token.userId }, {}, { orgId: null, actor: { kind: "user", id: token.userId } });
					}
				}
				ctx.meta.$cookies = [
					{ name: ACCESS_COOKIE, value: "", maxAge: 0, path: "/" },
					{ name: REFRESH_COOKIE, value: "", maxAge: 0, path: REFRESH_COOKIE_PATH },
				];
				ctx.meta.$statusCode = 204;
				return null;
			},
		},

		me: {
			rest: "GET /auth/me",
			permission: { scope: "user" },
			openapi: { summary: "The signed-in user and their organizations", responses: { 200: "Me" } },
			async handler(this: AuthService, ctx: VigilContext) {
				const caller = ctx.meta.caller as Extract<Caller, { kind: "user" }>;
				const user = await this.db.getRepository(User).findOneByOrFail({ id: caller.userId });
				const memberships = await this.db.getRepository(Membership).find({ where: { userId: user.id }, relations: { organization: true }, order: { createdAt: "ASC" } });
				return {
					...presentUser(user),
					memberships: memberships.map((m) => ({ orgId: m.orgId, orgName: m.organization?.name, role: m.role, storeIds: m.storeIds })),
				};
			},
		},

		changePassword: {
			rest: "POST /auth/password",
			permission: { scope: "user" },
			params: { $$strict: "remove", currentPassword: password, newPassword: password },
			openapi: { summary: "Change your password; every other session is signed out", responses: { 200: "Session" } },
			async handler(this: AuthService, ctx: VigilContext<{ currentPassword: string; newPassword: string }>) {
				const caller = ctx.meta.caller as Extract<Caller, { kind: "user" }>;
				const user = await this.db.getRepository(User).findOneByOrFail({ id: caller.userId });
				if (!(await verifyPassword(ctx.params.currentPassword, user.passwordHash)))
					throw invalid("The current password is incorrect", [{ field: "currentPassword", type: "passwordIncorrect", message: "The current password is incorrect." }]);
				const problems = passwordProblems(ctx.params.newPassword, user.email, "newPassword");
				if (ctx.params.newPassword === ctx.params.currentPassword) problems.push({ field: "newPassword", type: "passwordUnchanged", message: "The new password must differ from the current one." });
				if (problems.length) throw invalid("The new password does not meet the rules", problems);
				user.passwordHash = await hashPassword(ctx.params.newPassword, this.config.bcryptCost);
				user.tokenVersion += 1;
				await this.db.transaction(async (tx) => {
					await tx.save(user);
					await tx.update(RefreshToken, { userId: user.id, revokedAt: IsNull() }, { revokedAt: new Date() });
					await audit(ctx, tx, "auth.password_changed", { type: "user", id: user.id }, {}, { orgId: null });
				});
				return this.startSession(ctx, user);
			},
		},

		createServiceToken: {
			rest: "POST /orgs/:orgId/stores/:storeId/service-tokens",
			permission: { scope: "store", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...storePath, name: { type: "string", trim: true, min: 1, max: 100, $$t: "What uses it, e.g. 'back-door edge box'" } },
			openapi: { summary: "Create a service token for a store's edge box or uploader (the token is shown once)", responses: { 201: "ServiceTokenCreated" } },
			async handler(this: AuthService, ctx: VigilContext<{ orgId: string; storeId: string; name: string }>) {
				const secret = newToken(SERVICE_TOKEN_PREFIX);
				const caller = ctx.meta.caller as Extract<Caller, { kind: "user" }>;
				const token = await this.db.transaction(async (tx) => {
					const created = await tx.getRepository(ServiceToken).save({
						orgId: ctx.params.orgId, storeId: ctx.params.storeId, name: ctx.params.name, tokenHash: hashToken(secret), createdBy: caller.userId,
					});
					await audit(ctx, tx, "service_token.created", { type: "service_token", id: created.id }, { name: created.name, storeId: created.storeId });
					return created;
				});
				ctx.meta.$statusCode = 201;
				return { ...presentServiceToken(token), token: secret };
			},
		},

		listServiceTokens: {
			rest: "GET /orgs/:orgId/stores/:storeId/service-tokens",
			permission: { scope: "store", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...storePath },
			openapi: { summary: "List a store's service tokens (never their secrets)", responses: { 200: "ServiceTokenList" } },
			async handler(this: AuthService, ctx: VigilContext<{ orgId: string; storeId: string }>) {
				const tokens = await this.db.getRepository(ServiceToken).find({ where: { storeId: ctx.params.storeId, orgId: ctx.params.orgId }, order: { createdAt: "DESC" } });
				return { items: tokens.map(presentServiceToken) };
			},
		},

		revokeServiceToken: {
			rest: "DELETE /orgs/:orgId/stores/:storeId/service-tokens/:tokenId",
			permission: { scope: "store", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...storePath, tokenId: id },
			openapi: { summary: "Revoke a service token; it stops working at once", responses: { 204: null } },
			async handler(this: AuthService, ctx: VigilContext<{ orgId: string; storeId: string; tokenId: string }>) {
				const token = await this.db.getRepository(ServiceToken).findOneBy({ id: ctx.params.tokenId, storeId: ctx.params.storeId, orgId: ctx.params.orgId });
				if (!token) throw notFound("Service token");
				if (!token.revokedAt) {
					await this.db.transaction(async (tx) => {
						const revoked = await tx.update(ServiceToken, { id: token.id, revokedAt: IsNull() }, { revokedAt: new Date() });
						if (revoked.affected) await audit(ctx, tx, "service_token.revoked", { type: "service_token", id: token.id }, { name: token.name, storeId: token.storeId });
					});
				}
				ctx.meta.$statusCode = 204;
				return null;
			},
		},

		/** Gateway: who does this access token or service token belong to? Throws 401 with a reason code. */
		resolveToken: {
			visibility: "public",
			params: { token: { type: "string", min: 1, max: 4096 } },
			async handler(this: AuthService, ctx: VigilContext<{ token: string }>): Promise<Caller> {
				const { token } = ctx.params;
				if (token.startsWith(`${SERVICE_TOKEN_PREFIX}_`)) return this.resolveServiceToken(token);
				const check = verifyAccessToken(this.config.jwtSecret, token);
				if (!check.ok) throw unauthorized("Invalid token", check.reason);
				const user = await this.db.getRepository(User).findOneBy({ id: check.claims.sub });
				if (!user || user.disabledAt || user.tokenVersion !== check.claims.ver) throw unauthorized("Token revoked", "TOKEN_REVOKED");
				return { kind: "user", userId: user.id, email: user.email, superAdmin: user.isSuperAdmin };
			},
		},

		/** CLI and first start: create a user (optionally a super-admin) without the HTTP rules on who may. */
		createUser: {
			visibility: "public",
			params: { email, password, superAdmin: { type: "boolean", default: false }, displayName: { type: "string", optional: true } },
			async handler(this: AuthService, ctx: VigilContext<{ email: string; password: string; superAdmin: boolean; displayName?: string }>) {
				const problems = passwordProblems(ctx.params.password, ctx.params.email);
				if (problems.length) throw invalid("The password does not meet the rules", problems);
				if (await this.db.getRepository(User).existsBy({ email: ctx.params.email })) throw conflict("An account with this email already exists", "EMAIL_TAKEN");
				return presentUser(await this.createUser(ctx.params.email, ctx.params.password, ctx.params));
			},
		},

		/** Used on first start in embedded mode: is there anyone at all yet? */
		countUsers: {
			visibility: "public",
			async handler(this: AuthService) {
				return this.db.getRepository(User).count();
			},
		},
	},

	methods: {
		async createUser(this: AuthService, address: string, secret: string, extra: { superAdmin?: boolean; displayName?: string }) {
			return this.db.getRepository(User).save({
				email: address,
				passwordHash: await hashPassword(secret, this.config.bcryptCost),
				isSuperAdmin: extra.superAdmin ?? false,
				displayName: extra.displayName ?? null,
			});
		},

		/** Issues an access token and a new refresh-token family; hands both to the gateway as cookies too. */
		async startSession(this: AuthService, ctx: VigilContext, user: User, familyId: string = randomUUID(), tx?: EntityManager) {
			const refreshToken = newToken(REFRESH_PREFIX);
			await (tx ?? this.db.manager).getRepository(RefreshToken).save({
				userId: user.id,
				familyId,
				tokenHash: hashToken(refreshToken),
				expiresAt: new Date(Date.now() + this.config.refreshTokenTtl * 1000),
				userAgent: (ctx.meta as Meta).userAgent?.slice(0, 300) ?? null,
				ip: (ctx.meta as Meta).ip ?? null,
			});
			const accessToken = signAccessToken(this.config.jwtSecret, { sub: user.id, ver: user.tokenVersion }, this.config.accessTokenTtl);
			ctx.meta.$cookies = [
				{ name: ACCESS_COOKIE, value: accessToken, maxAge: this.config.accessTokenTtl, path: "/" },
				{ name: REFRESH_COOKIE, value: refreshToken, maxAge: this.config.refreshTokenTtl, path: REFRESH_COOKIE_PATH },
			];
			return {
				user: presentUser(user),
				tokenType: "Bearer",
				accessToken,
				expiresIn: this.config.accessTokenTtl,
				refreshToken,
				refreshExpiresIn: this.config.refreshTokenTtl,
			};
		},

		/**
		 * One use per refresh token. The rotation is a conditional update, so two concurrent uses cannot both win;
		 * a token used again after rotation is treated as stolen and its whole family (that login) is revoked.
		 */
		async rotateRefreshToken(this: AuthService, ctx: VigilContext, presented: string) {
			const tokens = this.db.getRepository(RefreshToken);
			const token = await tokens.findOneBy({ tokenHash: hashToken(presented) });
			if (!token) throw unauthorized("Unknown refresh token", "REFRESH_INVALID");
			if (token.revokedAt) throw unauthorized("This session was revoked; sign in again", "REFRESH_REVOKED");
			if (token.rotatedAt) {
				await this.revokeFamily(token.familyId);
				await audit(ctx, this.db, "auth.refresh_reused", { type: "user", id: token.userId }, { familyId: token.familyId }, { orgId: null, actor: { kind: "user", id: token.userId } });
				this.logger.warn("Refresh token reused: session revoked", { userId: token.userId, familyId: token.familyId, ip: ctx.meta.ip });
				throw unauthorized("This refresh token was already used; the session has been revoked", "REFRESH_REUSED");
			}
			if (token.expiresAt.getTime() <= Date.now()) throw unauthorized("The session has expired; sign in again", "REFRESH_EXPIRED");
			const user = await this.db.getRepository(User).findOneBy({ id: token.userId });
			if (!user || user.disabledAt) throw unauthorized("This account is disabled", "REFRESH_REVOKED");
			return this.db.transaction(async (tx) => {
				const won = await tx.update(RefreshToken, { id: token.id, rotatedAt: IsNull(), revokedAt: IsNull() }, { rotatedAt: new Date() });
				if (!won.affected) throw unauthorized("This refresh token was already used", "REFRESH_REUSED");
				return this.startSession(ctx, user, token.familyId, tx);
			});
		},

		async revokeFamily(this: AuthService, familyId: string) {
			await this.db.getRepository(RefreshToken).update({ familyId, revokedAt: IsNull() }, { revokedAt: new Date() });
		},

		async resolveServiceToken(this: AuthService, secret: string): Promise<Caller> {
			const repo = this.db.getRepository(ServiceToken);
			const token = await repo.findOneBy({ tokenHash: hashToken(secret) });
			if (!token) throw unauthorized("Invalid token", "TOKEN_INVALID");
			if (token.revokedAt) throw unauthorized("Token revoked", "TOKEN_REVOKED");
			const now = new Date();
			if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
				await repo.update({ id: token.id }, { lastUsedAt: now });
			}
			return { kind: "service", tokenId: token.id, orgId: token.orgId, storeId: token.storeId, name: token.name };
		},

		/** 429 with Retry-After while an account or address is locked out. */
		async assertNotLocked(this: AuthService, keys: string[]) {
			const now = Date.now();
			for (const key of keys) {
				const row = await this.db.getRepository(LoginThrottle).findOneBy({ key });
				if (row?.lockedUntil && row.lockedUntil.getTime() > now) {
					throw tooManyRequests("Too many failed sign-in attempts; try again later", (row.lockedUntil.getTime() - now) / 1000);
				}
			}
		},

		/** Counts a failure against each key in a fixed window; reaching the limit locks the key for a window. Returns the keys this failure locked. */
		async recordLoginFailure(this: AuthService, keys: string[]): Promise<string[]> {
			const locked: string[] = [];
			const windowMs = this.config.loginWindow * 1000;
			const now = new Date();
			for (const key of keys) {
				const limit = key.startsWith("ip:") ? this.config.loginMaxFailuresPerIp : this.config.loginMaxFailures;
				await this.db.transaction(async (tx) => {
					const row = await tx.findOne(LoginThrottle, { where: { key }, lock: { mode: "pessimistic_write" } });
					const fresh = !row || now.getTime() - row.windowStartedAt.getTime() > windowMs;
					const failures = fresh ? 1 : row.failures + 1;
					if (failures === limit) locked.push(key);
					await tx.upsert(LoginThrottle, {
						key,
						failures,
						windowStartedAt: fresh ? now : row.windowStartedAt,
						lockedUntil: failures >= limit ? new Date(now.getTime() + windowMs) : null,
					}, ["key"]);
				});
			}
			// Old rows are useless once their window and lock are over; prune a few on the way.
			await this.db.getRepository(LoginThrottle).delete({ windowStartedAt: LessThan(new Date(now.getTime() - 2 * windowMs)), lockedUntil: IsNull() });
			return locked;
		},
	},
};

export default AuthServiceSchema;
