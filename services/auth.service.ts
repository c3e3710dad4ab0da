/**
 * auth — identity: users, passwords, login sessions (access JWT + rotating refresh token), login throttling,
 * and service tokens for machines. HTTP-agnostic: cookies to set are handed to the gateway in `ctx.meta.$cookies`.
 */
import { randomUUID } from "node:crypto";
import type { ServiceSchema } from "moleculer";
import { IsNull, type EntityManager } from "typeorm";
import { LoginThrottle, Membership, RefreshToken, ServiceToken, User } from "../entities";
import { audit } from "../lib/operations/audit";
import { conflict, invalid, notFound, tooManyRequests, unauthorized, VigilError } from "../lib/platform/errors";
import { nodeAccessCache } from "../lib/security/access-cache";
import { lockThrottleRows } from "../lib/security/login-throttle";
import { dummyHash, hashPassword, passwordProblems, verifyPassword } from "../lib/security/passwords";
import { loginFailures } from "../lib/platform/metrics";
import { hashToken, newToken } from "../lib/security/secrets";
import {
	ACCESS_COOKIE,
	REFRESH_COOKIE,
	REFRESH_COOKIE_PATH,
	REFRESH_PREFIX,
	SERVICE_TOKEN_PREFIX,
	signAccessToken,
	verifyAccessToken,
} from "../lib/security/tokens";
import type { Caller, Meta, VigilContext } from "../lib/platform/types";
import { RepositoryMixin, type RepositoryService } from "../mixins/repository.mixin";
import { id, storePath } from "./schemas";

const email = { type: "email", normalize: true, max: 254, $$t: "Email address (case-insensitive)" } as const;
const password = { type: "string", min: 1, max: 1024, $$t: "Password" } as const;
const optionalRefresh = { type: "string", optional: true, max: 200, $$t: "Refresh token; API clients only (browsers send the cookie)" } as const;

/** Only a service-token touch older than this is written back, so busy edge boxes do not write on every call. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Throttle rows a sign-in attempt touches: the account from this address (locked after LOGIN_MAX_FAILURES),
 * the address (locked after LOGIN_MAX_FAILURES_PER_IP) and the account from everywhere (slowed, never locked).
 */
interface LoginKeys {
	pair: string;
	ip?: string;
	account: string;
}
const loginKeys = (address: string, ip: string | undefined): LoginKeys => ({
	pair: `pair:${address}|${ip ?? "unknown"}`,
	...(ip && { ip: `ip:${ip}` }),
	account: `account:${address}`,
});
const REGISTER_PREFIX = "register:";

const loginThrottled = (retryAfterSeconds: number) =>
	new VigilError("Too many failed sign-in attempts; try again later", 429, "LOGIN_THROTTLED", { retryAfter: Math.max(1, Math.ceil(retryAfterSeconds)) });

type AuthService = RepositoryService;

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
	mixins: [RepositoryMixin],
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
				const problems = passwordProblems(secret, address, "password", this.config.passwordMinStrength);
				if (problems.length) throw invalid("The password does not meet the rules", problems);
				// Counted before the email is looked up: each sign-up costs a hash, and EMAIL_TAKEN tells who has an account.
				await this.reserveRegistration(ctx.meta.ip);
				if (await this.unscoped("sign-up: accounts belong to no organization").getRepository(User).existsBy({ email: address }))
					throw conflict("An account with this email already exists", "EMAIL_TAKEN");
				const user = await this.createUser(address, secret, { displayName });
				ctx.meta.$statusCode = 201;
				return this.startSession(ctx, user);
			},
		},

		login: {
			rest: "POST /auth/login",
			permission: { scope: "public" },
			params: { $$strict: "remove", email, password },
			openapi: {
				summary: "Sign in with email and password",
				description: "Sets httpOnly cookies and also returns the tokens for API clients. Repeated failures answer 429 with Retry-After.",
				responses: { 200: "Session" },
			},
			async handler(this: AuthService, ctx: VigilContext<{ email: string; password: string }>) {
				const keys = loginKeys(ctx.params.email, ctx.meta.ip);
				const locked: string[] = await this.reserveLoginAttempt(keys).catch((err: unknown) => {
					loginFailures.inc({ reason: "locked" });
					throw err;
				});
				const system = this.unscoped("sign-in: an account and its audit trail, in no organization");
				const user = await system.getRepository(User).findOneBy({ email: ctx.params.email });
				const matches = await verifyPassword(ctx.params.password, user?.passwordHash ?? (await dummyHash(this.config.bcryptCost)));
				if (!user || !matches || user.disabledAt) {
					loginFailures.inc({ reason: "credentials" });
					this.logger.warn("Failed login", { email: ctx.params.email, ip: ctx.meta.ip });
					const reason = !user ? "unknown_email" : !matches ? "wrong_password" : "disabled";
					await audit(
						ctx,
						system,
						"auth.login_failed",
						user ? { type: "user", id: user.id } : null,
						{ email: ctx.params.email, reason, ...(locked.length && { lockedOut: locked.map((k) => k.split(":")[0]) }) },
						{ orgId: null, actor: { kind: "user", id: user?.id ?? null, email: ctx.params.email } },
					);
					throw unauthorized("Email or password is incorrect", "INVALID_CREDENTIALS");
				}
				await this.settleLoginSuccess(keys);
				const session = await this.startSession(ctx, user);
				await audit(ctx, system, "auth.login", { type: "user", id: user.id }, {}, { orgId: null, actor: { kind: "user", id: user.id, email: user.email } });
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
					const system = this.unscoped("sign-out: an account's session, in no organization");
					const token = await system.getRepository(RefreshToken).findOneBy({ tokenHash: hashToken(presented) });
					if (token) {
						await this.revokeFamily(token.familyId);
						await audit(ctx, system, "auth.logout", { type: "user", id: token.userId }, {}, { orgId: null, actor: { kind: "user", id: token.userId } });
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

		logoutAll: {
			rest: "POST /auth/logout-all",
			permission: { scope: "user" },
			openapi: { summary: "Sign out everywhere: every session and access token of yours ends, live streams included", responses: { 204: null } },
			async handler(this: AuthService, ctx: VigilContext) {
				const caller = ctx.meta.caller as Extract<Caller, { kind: "user" }>;
				await this.unscoped("signing out everywhere: an account's sessions").transaction(async (tx) => {
					// A new token version refuses every access token issued before; the refresh tokens go too.
					await tx.increment(User, { id: caller.userId }, "tokenVersion", 1);
					await tx.update(RefreshToken, { userId: caller.userId, revokedAt: IsNull() }, { revokedAt: new Date() });
					await audit(ctx, tx, "auth.logout_all", { type: "user", id: caller.userId }, {}, { orgId: null });
				});
				ctx.broadcast("access.changed", { userIds: [caller.userId], reason: "logout_all" });
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
				const system = this.unscoped("the signed-in user and their memberships across organizations");
				const user = await system.getRepository(User).findOneByOrFail({ id: caller.userId });
				const memberships = await system
					.getRepository(Membership)
					.find({ where: { userId: user.id }, relations: { organization: true }, order: { createdAt: "ASC" } });
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
				const system = this.unscoped("a password change: an account and its sessions");
				const user = await system.getRepository(User).findOneByOrFail({ id: caller.userId });
				// A stolen session must not become unlimited password guesses: same throttle as signing in.
				const keys = loginKeys(user.email, ctx.meta.ip);
				await this.reserveLoginAttempt(keys);
				if (!(await verifyPassword(ctx.params.currentPassword, user.passwordHash))) {
					this.logger.warn("Wrong current password", { userId: user.id, ip: ctx.meta.ip });
					throw invalid("The current password is incorrect", [
						{ field: "currentPassword", type: "passwordIncorrect", message: "The current password is incorrect." },
					]);
				}
				await this.settleLoginSuccess(keys);
				const problems = passwordProblems(ctx.params.newPassword, user.email, "newPassword", this.config.passwordMinStrength);
				if (ctx.params.newPassword === ctx.params.currentPassword)
					problems.push({ field: "newPassword", type: "passwordUnchanged", message: "The new password must differ from the current one." });
				if (problems.length) throw invalid("The new password does not meet the rules", problems);
				user.passwordHash = await hashPassword(ctx.params.newPassword, this.config.bcryptCost);
				user.tokenVersion += 1;
				await system.transaction(async (tx) => {
					await tx.save(user);
					await tx.update(RefreshToken, { userId: user.id, revokedAt: IsNull() }, { revokedAt: new Date() });
					await audit(ctx, tx, "auth.password_changed", { type: "user", id: user.id }, {}, { orgId: null });
				});
				ctx.broadcast("access.changed", { userIds: [user.id], reason: "password_changed" });
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
				const token = await this.data(ctx).transaction(async (tx) => {
					const created = await tx.repo(ServiceToken).save({
						storeId: ctx.params.storeId,
						name: ctx.params.name,
						tokenHash: hashToken(secret),
						createdBy: caller.userId,
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
				const tokens = await this.data(ctx)
					.repo(ServiceToken)
					.find({ where: { storeId: ctx.params.storeId }, order: { createdAt: "DESC" } });
				return { items: tokens.map(presentServiceToken) };
			},
		},

		revokeServiceToken: {
			rest: "DELETE /orgs/:orgId/stores/:storeId/service-tokens/:tokenId",
			permission: { scope: "store", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...storePath, tokenId: id },
			openapi: { summary: "Revoke a service token; it stops working at once", responses: { 204: null } },
			async handler(this: AuthService, ctx: VigilContext<{ orgId: string; storeId: string; tokenId: string }>) {
				const token = await this.data(ctx).repo(ServiceToken).findOneBy({ id: ctx.params.tokenId, storeId: ctx.params.storeId });
				if (!token) throw notFound("Service token");
				if (!token.revokedAt) {
					await this.data(ctx).transaction(async (tx) => {
						const revoked = await tx.repo(ServiceToken).update({ id: token.id, revokedAt: IsNull() }, { revokedAt: new Date() });
						if (revoked) await audit(ctx, tx, "service_token.revoked", { type: "service_token", id: token.id }, { name: token.name, storeId: token.storeId });
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
				// Kept briefly per node: a password change or sign-out everywhere broadcasts access.changed, which clears it.
				const user = await nodeAccessCache(this.broker).get(`user:${check.claims.sub}`, async () => {
					const found = await this.unscoped("resolving an access token: the account behind it").getRepository(User).findOneBy({ id: check.claims.sub });
					return (
						found && {
							id: found.id,
							email: found.email,
							isSuperAdmin: found.isSuperAdmin,
							disabled: Boolean(found.disabledAt),
							tokenVersion: found.tokenVersion,
						}
					);
				});
				if (!user || user.disabled || user.tokenVersion !== check.claims.ver) throw unauthorized("Token revoked", "TOKEN_REVOKED");
				return { kind: "user", userId: user.id, email: user.email, superAdmin: user.isSuperAdmin };
			},
		},

		/** CLI and first start: create a user (optionally a super-admin) without the HTTP rules on who may. */
		createUser: {
			visibility: "public",
			params: { email, password, superAdmin: { type: "boolean", default: false }, displayName: { type: "string", optional: true } },
			async handler(this: AuthService, ctx: VigilContext<{ email: string; password: string; superAdmin: boolean; displayName?: string }>) {
				const problems = passwordProblems(ctx.params.password, ctx.params.email, "password", this.config.passwordMinStrength);
				if (problems.length) throw invalid("The password does not meet the rules", problems);
				if (await this.unscoped("creating an account: accounts belong to no organization").getRepository(User).existsBy({ email: ctx.params.email }))
					throw conflict("An account with this email already exists", "EMAIL_TAKEN");
				return presentUser(await this.createUser(ctx.params.email, ctx.params.password, ctx.params));
			},
		},

		/** Used on first start in embedded mode: is there anyone at all yet? */
		countUsers: {
			visibility: "public",
			async handler(this: AuthService) {
				return this.unscoped("counting accounts: every account, in no organization").getRepository(User).count();
			},
		},
	},

	methods: {
		async createUser(this: AuthService, address: string, secret: string, extra: { superAdmin?: boolean; displayName?: string }) {
			return this.unscoped("creating an account: accounts belong to no organization")
				.getRepository(User)
				.save({
					email: address,
					passwordHash: await hashPassword(secret, this.config.bcryptCost),
					isSuperAdmin: extra.superAdmin ?? false,
					displayName: extra.displayName ?? null,
				});
		},

		/** Issues an access token and a new refresh-token family; hands both to the gateway as cookies too. */
		async startSession(this: AuthService, ctx: VigilContext, user: User, familyId: string = randomUUID(), tx?: EntityManager) {
			const refreshToken = newToken(REFRESH_PREFIX);
			// A rotation passes its transaction, so the new token commits with the old one's use.
			const sessions = tx ?? this.unscoped("a login session belongs to an account, not an organization").manager;
			await sessions.save(RefreshToken, {
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
			const system = this.unscoped("refreshing a session: an account's tokens, in no organization");
			const token = await system.getRepository(RefreshToken).findOneBy({ tokenHash: hashToken(presented) });
			if (!token) throw unauthorized("Unknown refresh token", "REFRESH_INVALID");
			if (token.revokedAt) throw unauthorized("This session was revoked; sign in again", "REFRESH_REVOKED");
			if (token.rotatedAt) {
				await this.revokeFamily(token.familyId);
				// A stolen token may have been refreshed into access tokens: every one issued so far stops working.
				await system.getRepository(User).increment({ id: token.userId }, "tokenVersion", 1);
				await audit(
					ctx,
					system,
					"auth.refresh_reused",
					{ type: "user", id: token.userId },
					{ familyId: token.familyId },
					{ orgId: null, actor: { kind: "user", id: token.userId } },
				);
				this.logger.warn("Refresh token reused: session revoked", { userId: token.userId, familyId: token.familyId, ip: ctx.meta.ip });
				ctx.broadcast("access.changed", { userIds: [token.userId], reason: "refresh_reused" });
				throw unauthorized("This refresh token was already used; the session has been revoked", "REFRESH_REUSED");
			}
			if (token.expiresAt.getTime() <= Date.now()) throw unauthorized("The session has expired; sign in again", "REFRESH_EXPIRED");
			const user = await system.getRepository(User).findOneBy({ id: token.userId });
			if (!user || user.disabledAt) throw unauthorized("This account is disabled", "REFRESH_REVOKED");
			return system.transaction(async (tx) => {
				const won = await tx.update(RefreshToken, { id: token.id, rotatedAt: IsNull(), revokedAt: IsNull() }, { rotatedAt: new Date() });
				if (!won.affected) throw unauthorized("This refresh token was already used", "REFRESH_REUSED");
				return this.startSession(ctx, user, token.familyId, tx);
			});
		},

		async revokeFamily(this: AuthService, familyId: string) {
			await this.unscoped("revoking a login session: an account's tokens")
				.getRepository(RefreshToken)
				.update({ familyId, revokedAt: IsNull() }, { revokedAt: new Date() });
		},

		async resolveServiceToken(this: AuthService, secret: string): Promise<Caller> {
			const repo = this.unscoped("a service token is found by its secret, before its organization is known").getRepository(ServiceToken);
			const token = await repo.findOneBy({ tokenHash: hashToken(secret) });
			if (!token) throw unauthorized("Invalid token", "TOKEN_INVALID");
			if (token.revokedAt) throw unauthorized("Token revoked", "TOKEN_REVOKED");
			const now = new Date();
			if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
				await repo.update({ id: token.id }, { lastUsedAt: now });
			}
			return { kind: "service", tokenId: token.id, orgId: token.orgId, storeId: token.storeId, name: token.name };
		},

		/**
		 * Counts a sign-in attempt as a failure before the password is checked, under row locks, so parallel guesses
		 * queue here instead of all passing a check that none has failed yet; a correct password undoes it
		 * (settleLoginSuccess). Answers 429 LOGIN_THROTTLED while this address is locked out of the account or out
		 * of everything, or while the account's growing delay runs for an address that already failed on it: an
		 * address with no failures on the account is never delayed, so the owner signs in while others guess.
		 * Returns the rows this attempt locked (for the audit log).
		 */
		async reserveLoginAttempt(this: AuthService, keys: LoginKeys): Promise<string[]> {
			const { loginWindow, loginMaxFailures, loginMaxFailuresPerIp, loginDelayAfter, loginDelayBase, loginDelayMax } = this.config;
			const windowMs = loginWindow * 1000;
			const now = new Date();
			const locked: string[] = [];
			const system = this.unscoped("login throttle: an account and an address, not a tenant");
			await system.transaction(async (tx) => {
				const rows = await lockThrottleRows(tx, [keys.pair, keys.account, ...(keys.ip ? [keys.ip] : [])], now, windowMs);
				const pair = rows.get(keys.pair)!;
				const account = rows.get(keys.account)!;
				const ip = keys.ip ? rows.get(keys.ip) : undefined;
				const waits = [pair.lockedUntil, ip?.lockedUntil, pair.failures > 0 ? account.lockedUntil : null].map((until) =>
					until ? until.getTime() - now.getTime() : 0,
				);
				const wait = Math.max(...waits);
				if (wait > 0) throw loginThrottled(wait / 1000);
				const lockAt = (row: LoginThrottle, limit: number) => {
					row.failures += 1;
					if (row.failures >= limit) {
						row.lockedUntil = new Date(now.getTime() + windowMs);
						locked.push(row.key);
					}
				};
				lockAt(pair, loginMaxFailures);
				if (ip) lockAt(ip, loginMaxFailuresPerIp);
				account.failures += 1;
				if (account.failures >= loginDelayAfter) {
					const delay = Math.min(loginDelayMax, loginDelayBase * 2 ** Math.min(account.failures - loginDelayAfter, 30));
					account.lockedUntil = new Date(now.getTime() + delay * 1000);
				}
				await tx.save([...rows.values()]);
			});
			// Old rows are useless once their window and lock are over; prune a few on the way.
			await system
				.createQueryBuilder()
				.delete()
				.from(LoginThrottle)
				.where("key NOT LIKE :register AND window_started_at < :old AND (locked_until IS NULL OR locked_until < :now)", {
					register: `${REGISTER_PREFIX}%`,
					old: new Date(now.getTime() - 2 * windowMs),
					now,
				})
				.orWhere("key LIKE :register AND window_started_at < :oldRegister", { oldRegister: new Date(now.getTime() - 2 * this.config.registerWindow * 1000) })
				.execute();
			return locked;
		},

		/** The password was right: this address starts afresh on this account; the other counts take back this attempt. */
		async settleLoginSuccess(this: AuthService, keys: LoginKeys) {
			await this.unscoped("login throttle: an account and an address, not a tenant").transaction(async (tx) => {
				await tx.delete(LoginThrottle, { key: keys.pair });
				await tx.update(LoginThrottle, { key: keys.account }, { failures: () => "GREATEST(failures - 1, 0)" });
				// An address that reached its limit with this very attempt is not locked for having signed in.
				if (keys.ip)
					await tx.update(
						LoginThrottle,
						{ key: keys.ip },
						{
							failures: () => "GREATEST(failures - 1, 0)",
							lockedUntil: () => `CASE WHEN failures - 1 < ${Number(this.config.loginMaxFailuresPerIp)} THEN NULL ELSE locked_until END`,
						},
					);
			});
		},

		/** Sign-ups per source address in a fixed window (REGISTER_MAX_PER_IP per REGISTER_WINDOW): 429 with Retry-After beyond. */
		async reserveRegistration(this: AuthService, ip: string | undefined) {
			if (!ip) return;
			const windowMs = this.config.registerWindow * 1000;
			const now = new Date();
			await this.unscoped("sign-up limit: an address, not a tenant").transaction(async (tx) => {
				const key = `${REGISTER_PREFIX}${ip}`;
				const row = (await lockThrottleRows(tx, [key], now, windowMs)).get(key)!;
				if (row.failures >= this.config.registerMaxPerIp) {
					throw tooManyRequests("Too many sign-ups from this address; try again later", (row.windowStartedAt.getTime() + windowMs - now.getTime()) / 1000);
				}
				row.failures += 1;
				await tx.save(row);
			});
		},
	},
};

export default AuthServiceSchema;
