/**
 * tenancy — organizations, their stores and people: memberships with roles (owner, admin, staff, with staff
 * optionally limited to some stores) and single-use, expiring invitations.
 */
import type { ServiceSchema } from "moleculer";
import { In, IsNull, MoreThan } from "typeorm";
import { Invitation, Membership, Organization, Store, User } from "../entities";
import type { Role } from "../entities/membership.entity";
import { audit } from "../lib/operations/audit";
import { deleteMedia, mediaKeysOf } from "../lib/media/cleanup";
import { conflict, forbidden, invalid, notFound, VigilError } from "../lib/platform/errors";
import type { ScopedData } from "../lib/platform/scoped-data";
import { hashToken, newToken } from "../lib/security/secrets";
import type { Access, Caller, VigilContext } from "../lib/platform/types";
import { RepositoryMixin, type RepositoryService } from "../mixins/repository.mixin";
import { id, orgPath, role, storePath, timezone } from "./schemas";

type TenancyService = RepositoryService;
type UserCaller = Extract<Caller, { kind: "user" }>;

const storeIds = {
	type: "array",
	items: "uuid",
	optional: true,
	nullable: true,
	max: 1000,
	$$t: "Stores a staff member is limited to; null or absent = all stores",
} as const;
const name = { type: "string", trim: true, min: 1, max: 200 } as const;

const presentStore = (s: Store) => ({
	id: s.id,
	orgId: s.orgId,
	name: s.name,
	address: s.address,
	timezone: s.timezone,
	createdAt: s.createdAt,
	updatedAt: s.updatedAt,
});
const presentInvitation = (i: Invitation) => ({
	id: i.id,
	orgId: i.orgId,
	email: i.email,
	role: i.role,
	storeIds: i.storeIds,
	expiresAt: i.expiresAt,
	createdAt: i.createdAt,
	acceptedAt: i.acceptedAt,
	revokedAt: i.revokedAt,
});

const access = (ctx: VigilContext) => ctx.locals.access as Access;

/** An admin manages staff and admins; only an owner can grant, change or remove the owner role. */
function assertCanAssign(actor: Access, currentRole: Role | undefined, newRole: Role | undefined) {
	if (actor.role === "owner" || actor.role === "superadmin") return;
	if (currentRole === "owner" || newRole === "owner") throw forbidden("Only an owner can grant, change or remove the owner role");
}

const TenancyServiceSchema: ServiceSchema = {
	name: "tenancy",
	mixins: [RepositoryMixin],
	// Action `rest` paths are written in full under /api/v1 (not prefixed with the service name).
	settings: { rest: "/" },

	actions: {
		createOrg: {
			rest: "POST /orgs",
			permission: { scope: "user" },
			params: { $$strict: "remove", name },
			openapi: { summary: "Create an organization; you become its owner", responses: { 201: "Organization" } },
			async handler(this: TenancyService, ctx: VigilContext<{ name: string }>) {
				const caller = ctx.meta.caller as UserCaller;
				const org = await this.unscoped("a new organization: no tenant exists before it").transaction(async (tx) => {
					const created = await tx.save(Organization, tx.create(Organization, { name: ctx.params.name }));
					await tx.save(Membership, tx.create(Membership, { orgId: created.id, userId: caller.userId, role: "owner", storeIds: null }));
					await audit(ctx, tx, "org.created", { type: "organization", id: created.id }, { name: created.name }, { orgId: created.id });
					return created;
				});
				ctx.meta.$statusCode = 201;
				return { id: org.id, name: org.name, role: "owner", createdAt: org.createdAt };
			},
		},

		listOrgs: {
			rest: "GET /orgs",
			permission: { scope: "user" },
			openapi: { summary: "Organizations you belong to (a super-admin sees all)", responses: { 200: "OrganizationList" } },
			async handler(this: TenancyService, ctx: VigilContext) {
				const caller = ctx.meta.caller as UserCaller;
				if (caller.superAdmin) {
					const orgs = await this.unscoped("a super-admin lists every organization")
						.getRepository(Organization)
						.find({ order: { createdAt: "ASC" } });
					return { items: orgs.map((o) => ({ id: o.id, name: o.name, role: "superadmin", createdAt: o.createdAt })) };
				}
				const memberships = await this.unscoped("a user's memberships across their organizations")
					.getRepository(Membership)
					.find({ where: { userId: caller.userId }, relations: { organization: true }, order: { createdAt: "ASC" } });
				return { items: memberships.map((m) => ({ id: m.orgId, name: m.organization?.name, role: m.role, createdAt: m.organization?.createdAt })) };
			},
		},

		getOrg: {
			rest: "GET /orgs/:orgId",
			permission: { scope: "org", roles: ["owner", "admin", "staff"] },
			params: { $$strict: "remove", ...orgPath },
			openapi: { summary: "An organization", responses: { 200: "Organization" } },
			async handler(this: TenancyService, ctx: VigilContext<{ orgId: string }>) {
				const org = await this.findOrg(ctx);
				return { id: org.id, name: org.name, role: access(ctx).role, createdAt: org.createdAt };
			},
		},

		updateOrg: {
			rest: "PATCH /orgs/:orgId",
			permission: { scope: "org", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...orgPath, name },
			openapi: { summary: "Rename an organization", responses: { 200: "Organization" } },
			async handler(this: TenancyService, ctx: VigilContext<{ orgId: string; name: string }>) {
				await this.data(ctx).repo(Organization).update({ id: ctx.params.orgId }, { name: ctx.params.name });
				const org = await this.findOrg(ctx);
				return { id: org.id, name: org.name, role: access(ctx).role, createdAt: org.createdAt };
			},
		},

		deleteOrg: {
			rest: "DELETE /orgs/:orgId",
			permission: { scope: "org", roles: ["owner"] },
			params: { $$strict: "remove", ...orgPath },
			openapi: { summary: "Delete an organization with all its stores, cameras and memberships", responses: { 204: null } },
			async handler(this: TenancyService, ctx: VigilContext<{ orgId: string }>) {
				const media = await this.data(ctx).transaction(async (tx) => {
					const org = await tx.repo(Organization).findOneBy({ id: ctx.params.orgId });
					const keys = await mediaKeysOf(tx, { orgId: ctx.params.orgId });
					const deleted = await tx.repo(Organization).delete({ id: ctx.params.orgId });
					// The entry keeps the organization's id and name: the trail outlives the organization.
					if (deleted) await audit(ctx, tx, "org.deleted", { type: "organization", id: ctx.params.orgId }, { name: org?.name, files: keys.length });
					return keys;
				});
				await deleteMedia(this.config.dataDir, media, this.logger, { orgId: ctx.params.orgId });
				ctx.emit("org.deleted", { orgId: ctx.params.orgId });
				ctx.broadcast("access.changed", { orgId: ctx.params.orgId, reason: "org_deleted" });
				ctx.meta.$statusCode = 204;
				return null;
			},
		},

		createStore: {
			rest: "POST /orgs/:orgId/stores",
			permission: { scope: "org", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...orgPath, name, address: { type: "string", optional: true, max: 500 }, timezone: { ...timezone, default: "UTC" } },
			openapi: { summary: "Add a store (a site) to an organization", responses: { 201: "Store" } },
			async handler(this: TenancyService, ctx: VigilContext<{ orgId: string; name: string; address?: string; timezone: string }>) {
				const { orgId, name: storeName, address, timezone: tz } = ctx.params;
				const store = await this.data(ctx)
					.repo(Store)
					.save({ name: storeName, address: address ?? null, timezone: tz });
				// Members who see the whole organization see the new store's alerts on their open streams too.
				ctx.broadcast("access.changed", { orgId, reason: "store_created" });
				ctx.meta.$statusCode = 201;
				return presentStore(store);
			},
		},

		listStores: {
			rest: "GET /orgs/:orgId/stores",
			permission: { scope: "org", roles: ["owner", "admin", "staff"] },
			params: { $$strict: "remove", ...orgPath },
			openapi: { summary: "Stores of an organization you can see", responses: { 200: "StoreList" } },
			async handler(this: TenancyService, ctx: VigilContext<{ orgId: string }>) {
				// The caller's data holds only the stores they may see (a staff member's limit).
				const stores = await this.data(ctx)
					.repo(Store)
					.find({ order: { name: "ASC" } });
				return { items: stores.map(presentStore) };
			},
		},

		getStore: {
			rest: "GET /orgs/:orgId/stores/:storeId",
			permission: { scope: "store", roles: ["owner", "admin", "staff"] },
			params: { $$strict: "remove", ...storePath },
			openapi: { summary: "A store", responses: { 200: "Store" } },
			async handler(this: TenancyService, ctx: VigilContext<{ orgId: string; storeId: string }>) {
				return presentStore(await this.findStore(ctx));
			},
		},

		updateStore: {
			rest: "PATCH /orgs/:orgId/stores/:storeId",
			permission: { scope: "store", roles: ["owner", "admin"] },
			params: {
				$$strict: "remove",
				...storePath,
				name: { ...name, optional: true },
				address: { type: "string", optional: true, nullable: true, max: 500 },
				timezone: { ...timezone, optional: true },
			},
			openapi: { summary: "Change a store", responses: { 200: "Store" } },
			async handler(this: TenancyService, ctx: VigilContext<{ orgId: string; storeId: string; name?: string; address?: string | null; timezone?: string }>) {
				const { orgId: _o, storeId, ...changes } = ctx.params;
				if (Object.keys(changes).length) await this.data(ctx).repo(Store).update({ id: storeId }, changes);
				return presentStore(await this.findStore(ctx));
			},
		},

		deleteStore: {
			rest: "DELETE /orgs/:orgId/stores/:storeId",
			permission: { scope: "store", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...storePath },
			openapi: { summary: "Delete a store with its cameras and service tokens", responses: { 204: null } },
			async handler(this: TenancyService, ctx: VigilContext<{ orgId: string; storeId: string }>) {
				const media = await this.data(ctx).transaction(async (tx) => {
					const store = await tx.repo(Store).findOneBy({ id: ctx.params.storeId });
					const keys = await mediaKeysOf(tx, { storeId: ctx.params.storeId });
					const deleted = await tx.repo(Store).delete({ id: ctx.params.storeId });
					if (deleted) await audit(ctx, tx, "store.deleted", { type: "store", id: ctx.params.storeId }, { name: store?.name, files: keys.length });
					return keys;
				});
				await deleteMedia(this.config.dataDir, media, this.logger, { storeId: ctx.params.storeId });
				ctx.emit("store.deleted", { orgId: ctx.params.orgId, storeId: ctx.params.storeId });
				ctx.broadcast("access.changed", { orgId: ctx.params.orgId, reason: "store_deleted" });
				ctx.meta.$statusCode = 204;
				return null;
			},
		},

		listMembers: {
			rest: "GET /orgs/:orgId/members",
			permission: { scope: "org", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...orgPath },
			openapi: { summary: "People of an organization with their roles", responses: { 200: "MemberList" } },
			async handler(this: TenancyService, ctx: VigilContext<{ orgId: string }>) {
				const members = await this.data(ctx)
					.repo(Membership)
					.find({ relations: { user: true }, order: { createdAt: "ASC" } });
				return {
					items: members.map((m) => ({
						userId: m.userId,
						email: m.user?.email,
						displayName: m.user?.displayName,
						role: m.role,
						storeIds: m.storeIds,
						since: m.createdAt,
					})),
				};
			},
		},

		updateMember: {
			rest: "PATCH /orgs/:orgId/members/:userId",
			permission: { scope: "org", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...orgPath, userId: id, role: { ...role, optional: true }, storeIds },
			openapi: { summary: "Change a member's role or the stores a staff member may see", responses: { 200: "Member" } },
			async handler(this: TenancyService, ctx: VigilContext<{ orgId: string; userId: string; role?: Role; storeIds?: string[] | null }>) {
				const { orgId, userId } = ctx.params;
				const updated = await this.data(ctx).transaction(async (tx) => {
					const member = await tx.repo(Membership).findOne({ where: { userId }, lock: { mode: "pessimistic_write" } });
					if (!member) throw notFound("Member");
					assertCanAssign(access(ctx), member.role, ctx.params.role);
					if (member.role === "owner" && ctx.params.role && ctx.params.role !== "owner") await this.assertAnotherOwner(tx, userId);
					const before = { role: member.role, storeIds: member.storeIds };
					if (ctx.params.role) member.role = ctx.params.role;
					if (ctx.params.storeIds !== undefined) member.storeIds = await this.checkedStoreIds(tx, ctx.params.storeIds);
					if (member.role !== "staff") member.storeIds = null;
					await tx.repo(Membership).save(member);
					const changes = {
						...(before.role !== member.role && { role: { from: before.role, to: member.role } }),
						...(JSON.stringify(before.storeIds) !== JSON.stringify(member.storeIds) && { storeIds: { from: before.storeIds, to: member.storeIds } }),
					};
					if (Object.keys(changes).length) await audit(ctx, tx, "member.updated", { type: "user", id: userId }, changes);
					return { member: { userId: member.userId, role: member.role, storeIds: member.storeIds }, changed: Object.keys(changes).length > 0 };
				});
				// After the commit, so every gateway re-reads what the member may see from the new state.
				if (updated.changed) ctx.broadcast("access.changed", { userIds: [userId], orgId, reason: "member_updated" });
				return updated.member;
			},
		},

		removeMember: {
			rest: "DELETE /orgs/:orgId/members/:userId",
			permission: { scope: "org", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...orgPath, userId: id },
			openapi: { summary: "Remove someone from an organization", responses: { 204: null } },
			async handler(this: TenancyService, ctx: VigilContext<{ orgId: string; userId: string }>) {
				const { orgId, userId } = ctx.params;
				await this.data(ctx).transaction(async (tx) => {
					const member = await tx.repo(Membership).findOne({ where: { userId }, lock: { mode: "pessimistic_write" } });
					if (!member) throw notFound("Member");
					assertCanAssign(access(ctx), member.role, undefined);
					if (member.role === "owner") await this.assertAnotherOwner(tx, userId);
					await tx.repo(Membership).delete({ id: member.id });
					await audit(ctx, tx, "member.removed", { type: "user", id: userId }, { role: member.role });
				});
				ctx.broadcast("access.changed", { userIds: [userId], orgId, reason: "member_removed" });
				ctx.meta.$statusCode = 204;
				return null;
			},
		},

		createInvitation: {
			rest: "POST /orgs/:orgId/invitations",
			permission: { scope: "org", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...orgPath, email: { type: "email", normalize: true, max: 254 }, role, storeIds },
			openapi: { summary: "Invite someone by email with a role; the token in the answer is shown once", responses: { 201: "InvitationCreated" } },
			async handler(this: TenancyService, ctx: VigilContext<{ orgId: string; email: string; role: Role; storeIds?: string[] | null }>) {
				const { orgId, email, role: invitedRole } = ctx.params;
				assertCanAssign(access(ctx), undefined, invitedRole);
				const existing = await this.unscoped("an invitee's account, found by email: accounts belong to no organization")
					.getRepository(User)
					.findOneBy({ email });
				if (existing && (await this.data(ctx).repo(Membership).existsBy({ userId: existing.id })))
					throw conflict("This person is already a member", "ALREADY_MEMBER");
				const token = newToken("vin");
				const storeLimit = invitedRole === "staff" ? await this.checkedStoreIds(this.data(ctx), ctx.params.storeIds ?? null) : null;
				const invitation = await this.data(ctx).transaction(async (tx) => {
					const created = await tx.repo(Invitation).save({
						email,
						role: invitedRole,
						storeIds: storeLimit,
						tokenHash: hashToken(token),
						invitedBy: (ctx.meta.caller as UserCaller).userId,
						expiresAt: new Date(Date.now() + this.config.inviteTtl * 1000),
					});
					await audit(ctx, tx, "invitation.created", { type: "invitation", id: created.id }, { email, role: invitedRole, storeIds: storeLimit });
					return created;
				});
				ctx.emit("invitation.created", { orgId, invitationId: invitation.id, email });
				ctx.meta.$statusCode = 201;
				return { ...presentInvitation(invitation), token };
			},
		},

		listInvitations: {
			rest: "GET /orgs/:orgId/invitations",
			permission: { scope: "org", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...orgPath },
			openapi: { summary: "Invitations not yet accepted, revoked or expired", responses: { 200: "InvitationList" } },
			async handler(this: TenancyService, ctx: VigilContext<{ orgId: string }>) {
				const pending = await this.data(ctx)
					.repo(Invitation)
					.find({
						where: { acceptedAt: IsNull(), revokedAt: IsNull(), expiresAt: MoreThan(new Date()) },
						order: { createdAt: "DESC" },
					});
				return { items: pending.map(presentInvitation) };
			},
		},

		revokeInvitation: {
			rest: "DELETE /orgs/:orgId/invitations/:invitationId",
			permission: { scope: "org", roles: ["owner", "admin"] },
			params: { $$strict: "remove", ...orgPath, invitationId: id },
			openapi: { summary: "Withdraw an invitation", responses: { 204: null } },
			async handler(this: TenancyService, ctx: VigilContext<{ orgId: string; invitationId: string }>) {
				await this.data(ctx).transaction(async (tx) => {
					const revoked = await tx.repo(Invitation).update({ id: ctx.params.invitationId, acceptedAt: IsNull() }, { revokedAt: new Date() });
					if (!revoked) throw notFound("Invitation");
					await audit(ctx, tx, "invitation.revoked", { type: "invitation", id: ctx.params.invitationId });
				});
				ctx.meta.$statusCode = 204;
				return null;
			},
		},

		/** Live push: which stores may the caller see, and in which organizations? A super-admin sees all. */
		visibleStores: {
			visibility: "public",
			async handler(this: TenancyService, ctx: VigilContext): Promise<{ all: boolean; storeIds: string[]; orgIds: string[] }> {
				const caller = ctx.meta.caller;
				if (!caller || caller.kind !== "user")
					return caller?.kind === "service" ? { all: false, storeIds: [caller.storeId], orgIds: [caller.orgId] } : { all: false, storeIds: [], orgIds: [] };
				if (caller.superAdmin) return { all: true, storeIds: [], orgIds: [] };
				const system = this.unscoped("live push: a user's stores across their organizations");
				const memberships = await system.getRepository(Membership).findBy({ userId: caller.userId });
				const whole = memberships.filter((m) => !m.storeIds).map((m) => m.orgId);
				const stores = whole.length ? await system.getRepository(Store).findBy({ orgId: In(whole) }) : [];
				return {
					all: false,
					storeIds: [...new Set([...stores.map((s) => s.id), ...memberships.flatMap((m) => m.storeIds ?? [])])],
					orgIds: memberships.map((m) => m.orgId),
				};
			},
		},

		acceptInvitation: {
			rest: "POST /invitations/accept",
			permission: { scope: "user" },
			params: { $$strict: "remove", token: { type: "string", min: 10, max: 200, $$t: "The invitation token" } },
			openapi: { summary: "Accept an invitation sent to your email", responses: { 200: "Organization" } },
			async handler(this: TenancyService, ctx: VigilContext<{ token: string }>) {
				const caller = ctx.meta.caller as UserCaller;
				const joined = await this.unscoped("accepting an invitation: its organization is known only from the token").transaction(async (tx) => {
					const invitation = await tx.findOne(Invitation, { where: { tokenHash: hashToken(ctx.params.token) }, lock: { mode: "pessimistic_write" } });
					if (!invitation || invitation.revokedAt) throw notFound("Invitation");
					if (invitation.email !== caller.email) throw forbidden("This invitation was sent to another email address");
					if (invitation.acceptedAt) throw new VigilError("This invitation has already been used", 410, "INVITATION_USED");
					if (invitation.expiresAt.getTime() <= Date.now()) throw new VigilError("This invitation has expired; ask for a new one", 410, "INVITATION_EXPIRED");
					if (await tx.existsBy(Membership, { orgId: invitation.orgId, userId: caller.userId })) throw conflict("You are already a member", "ALREADY_MEMBER");
					await tx.save(
						Membership,
						tx.create(Membership, { orgId: invitation.orgId, userId: caller.userId, role: invitation.role, storeIds: invitation.storeIds }),
					);
					await tx.update(Invitation, { id: invitation.id }, { acceptedAt: new Date(), acceptedBy: caller.userId });
					await audit(
						ctx,
						tx,
						"invitation.accepted",
						{ type: "invitation", id: invitation.id },
						{ role: invitation.role, storeIds: invitation.storeIds },
						{ orgId: invitation.orgId },
					);
					const org = await tx.findOneByOrFail(Organization, { id: invitation.orgId });
					return { id: org.id, name: org.name, role: invitation.role, createdAt: org.createdAt };
				});
				ctx.broadcast("access.changed", { userIds: [caller.userId], orgId: joined.id, reason: "member_added" });
				return joined;
			},
		},
	},

	methods: {
		/** The organization of the call; one deleted meanwhile is not found. */
		async findOrg(this: TenancyService, ctx: VigilContext<{ orgId: string }>) {
			const org = await this.data(ctx).repo(Organization).findOneBy({ id: ctx.params.orgId });
			if (!org) throw notFound("Organization");
			return org;
		},

		/** The path's store; one deleted meanwhile is not found. */
		async findStore(this: TenancyService, ctx: VigilContext<{ storeId: string }>) {
			const store = await this.data(ctx).repo(Store).findOneBy({ id: ctx.params.storeId });
			if (!store) throw notFound("Store");
			return store;
		},

		async assertAnotherOwner(this: TenancyService, tx: ScopedData, userId: string) {
			const owners = await tx.repo(Membership).find({ where: { role: "owner" }, lock: { mode: "pessimistic_write" } });
			if (!owners.some((o) => o.userId !== userId)) throw conflict("An organization must keep at least one owner", "LAST_OWNER");
		},

		/** Store limits may only name stores of this organization. */
		async checkedStoreIds(this: TenancyService, data: ScopedData, ids: string[] | null): Promise<string[] | null> {
			if (!ids) return null;
			const unique = [...new Set(ids)];
			const found = await data.repo(Store).countBy({ id: In(unique) });
			if (found !== unique.length)
				throw invalid("Some stores do not belong to this organization", [
					{ field: "storeIds", type: "unknownStore", message: "Every store id must be a store of this organization." },
				]);
			return unique;
		},
	},
};

export default TenancyServiceSchema;
