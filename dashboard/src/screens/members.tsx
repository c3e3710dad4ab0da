/**
 * People of an organization, for its owners and admins: members with their role and the stores they see,
 * changing or removing one, and invitations: a one-time link to send, the pending ones, withdrawing one.
 */
import { useEffect, useState } from "preact/hooks";
import { api, type ApiError } from "../api/client";
import type { Me, Organization, Page, Role, Store } from "../api/views";
import { ConfirmAction, Empty, ErrorNote, Field, FormEnd, Loading, OnceSecret, timeOf, useSubmit } from "../ui";
import "./members.css";

type OrgRole = Exclude<Role, "superadmin">;

/** A member as the API lists them (tenancy.listMembers); storeIds null = every store of the organization. */
interface Member {
	userId: string;
	email: string;
	displayName: string | null;
	role: OrgRole;
	storeIds: string[] | null;
	since: string;
}

/** A pending invitation (tenancy.listInvitations); the token comes only in the answer that created it. */
interface Invitation {
	id: string;
	email: string;
	role: OrgRole;
	storeIds: string[] | null;
	expiresAt: string;
	createdAt: string;
}
type InvitationCreated = Invitation & { token: string };

const ROLES: { role: OrgRole; label: string; what: string }[] = [
	{ role: "owner", label: "Owner", what: "Everything, including other owners and deleting the organization." },
	{ role: "admin", label: "Admin", what: "Stores, cameras, rules and people, except owners." },
	{ role: "staff", label: "Staff", what: "The cameras and alerts of the stores chosen below." },
];
const ROLE_LABEL = Object.fromEntries(ROLES.map((r) => [r.role, r.label])) as Record<OrgRole, string>;

const storeNames = (storeIds: string[] | null, stores: Store[]) =>
	storeIds === null
		? "All stores"
		: storeIds.length === 0
			? "No store"
			: storeIds.map((id) => stores.find((s) => s.id === id)?.name ?? "a removed store").join(", ");

export function Members({ me, org, stores }: { me: Me; org: Organization; stores: Store[] }) {
	// Only an owner may grant, change or remove the owner role (an admin gets 403): an admin is not offered it.
	const ownerPowers = me.superAdmin || org.role === "owner" || org.role === "superadmin";
	const roles = ROLES.filter((r) => ownerPowers || r.role !== "owner");
	return (
		<>
			<MemberList me={me} org={org} stores={stores} roles={roles} ownerPowers={ownerPowers} />
			<Invitations org={org} stores={stores} roles={roles} />
		</>
	);
}

interface Choices {
	org: Organization;
	stores: Store[];
	roles: typeof ROLES;
}

function MemberList({ me, ownerPowers, ...choices }: Choices & { me: Me; ownerPowers: boolean }) {
	const { org } = choices;
	const [members, setMembers] = useState<Member[] | null>(null);
	const [error, setError] = useState<unknown>(null);
	const [notice, setNotice] = useState("");
	const load = () =>
		api<Page<Member>, "get", "/api/v1/orgs/{orgId}/members">("get", "/api/v1/orgs/{orgId}/members", { path: { orgId: org.id } }).then(
			(page) => (setMembers(page.items), setError(null)),
			setError,
		);
	useEffect(() => {
		setMembers(null);
		setNotice("");
		load();
	}, [org.id]);

	// Your own role or access changed: the whole page (menus, what you may manage) must follow.
	const changed = (member: Member, change: Partial<Member>, message: string) => {
		if (member.userId === me.id) return location.reload();
		setMembers((list) => list && list.map((m) => (m.userId === member.userId ? { ...m, ...change } : m)));
		setNotice(message);
	};
	const removed = (member: Member) => {
		if (member.userId === me.id) return location.reload();
		setMembers((list) => list && list.filter((m) => m.userId !== member.userId));
		setNotice(`${member.email} was removed from ${org.name}.`);
	};

	return (
		<section aria-labelledby="members-title">
			<h2 id="members-title">Members of {org.name}</h2>
			<p class="muted" role="status">
				{notice}
			</p>
			{error ? (
				<ErrorNote error={error} />
			) : !members ? (
				<Loading what="members" />
			) : members.length === 0 ? (
				<Empty>No members yet. Invite someone below.</Empty>
			) : (
				<ul class="members">
					{members.map((member) => (
						<MemberRow
							key={member.userId}
							{...choices}
							member={member}
							you={member.userId === me.id}
							mayChange={ownerPowers || member.role !== "owner"}
							onChanged={(change) => changed(member, change, `Saved the changes to ${member.email}.`)}
							onRemoved={() => removed(member)}
						/>
					))}
				</ul>
			)}
		</section>
	);
}

function MemberRow(props: Choices & { member: Member; you: boolean; mayChange: boolean; onChanged: (change: Partial<Member>) => void; onRemoved: () => void }) {
	const { member, org } = props;
	const [editing, setEditing] = useState(false);
	return (
		<li class="card member" data-user-id={member.userId}>
			<div class="member-head">
				<strong class="member-email">{member.email}</strong>
				{props.you && <span class="badge you">you</span>}
				{member.displayName && <span class="muted">{member.displayName}</span>}
			</div>
			<dl class="member-access">
				<div>
					<dt>Role</dt>
					<dd>{ROLE_LABEL[member.role]}</dd>
				</div>
				<div>
					<dt>Stores</dt>
					<dd>{storeNames(member.storeIds, props.stores)}</dd>
				</div>
			</dl>
			{editing ? (
				<EditMember {...props} onCancel={() => setEditing(false)} onSaved={(change) => (setEditing(false), props.onChanged(change))} />
			) : props.mayChange ? (
				<div class="actions member-actions">
					<button class="secondary" aria-label={`Edit ${member.email}`} onClick={() => setEditing(true)}>
						Edit
					</button>
					<ConfirmAction
						label="Remove"
						name={member.email}
						question={
							props.you
								? `Leave ${org.name}? You lose access to its stores at once.`
								: `Remove ${member.email} from ${org.name}? They lose access to its stores and alerts at once.`
						}
						confirm={props.you ? "Yes, leave" : "Yes, remove"}
						onConfirm={() => api("delete", "/api/v1/orgs/{orgId}/members/{userId}", { path: { orgId: org.id, userId: member.userId } }).then(props.onRemoved)}
					/>
				</div>
			) : (
				<p class="muted">Only an owner can change or remove an owner.</p>
			)}
		</li>
	);
}

function EditMember(props: Choices & { member: Member; onSaved: (change: Partial<Member>) => void; onCancel: () => void }) {
	const { member, org } = props;
	const [role, setRole] = useState(member.role);
	const [storeIds, setStoreIds] = useState(member.storeIds);
	const { submit, pending, error, failure } = useSubmit(
		() =>
			api<Pick<Member, "userId" | "role" | "storeIds">, "patch", "/api/v1/orgs/{orgId}/members/{userId}">("patch", "/api/v1/orgs/{orgId}/members/{userId}", {
				path: { orgId: org.id, userId: member.userId },
				// The role goes only when it changes: the API checks who may assign the role it is sent.
				body: { ...(role !== member.role && { role }), storeIds: role === "staff" ? storeIds : null },
			}),
		props.onSaved,
	);
	const id = `member-${member.userId}`;
	const roleError = error?.fieldError("role");
	return (
		<form class="member-edit" onSubmit={submit} aria-label={`Change ${member.email}`}>
			<div class="field">
				<label for={`${id}-role`}>Role</label>
				<select
					id={`${id}-role`}
					value={role}
					aria-describedby={`${id}-role-what`}
					aria-invalid={roleError ? true : undefined}
					onChange={(e) => setRole(e.currentTarget.value as OrgRole)}
				>
					{props.roles.map((r) => (
						<option value={r.role}>{r.label}</option>
					))}
				</select>
				<p class="muted" id={`${id}-role-what`}>
					{ROLES.find((r) => r.role === role)?.what}
				</p>
				{roleError && (
					<p class="field-error" role="alert">
						{roleError}
					</p>
				)}
			</div>
			{role === "staff" && <StoreAccess id={id} stores={props.stores} value={storeIds} onChange={setStoreIds} error={error} />}
			<FormEnd
				failure={failure}
				pending={pending}
				submit={pending ? "Saving…" : "Save"}
				disabled={role === "staff" && storeIds?.length === 0}
				onCancel={props.onCancel}
			/>
		</form>
	);
}

/** Which stores a staff member sees: every store (null; stores added later too) or only the checked ones. */
function StoreAccess(props: { id: string; stores: Store[]; value: string[] | null; onChange: (storeIds: string[] | null) => void; error: ApiError | null }) {
	const { id, value } = props;
	const message = value?.length === 0 ? "Choose at least one store, or all stores." : props.error?.fieldError("storeIds");
	const toggle = (storeId: string, on: boolean) => props.onChange(on ? [...(value ?? []), storeId] : (value ?? []).filter((s) => s !== storeId));
	return (
		<fieldset class="store-access" aria-describedby={message ? `${id}-stores-error` : undefined}>
			<legend>Store access</legend>
			<label class="choice">
				<input type="radio" name={`${id}-stores`} checked={value === null} onChange={() => props.onChange(null)} />
				All stores, and stores added later
			</label>
			<label class="choice">
				<input type="radio" name={`${id}-stores`} checked={value !== null} onChange={() => props.onChange(value ?? [])} />
				Only some stores
			</label>
			{value !== null && (
				<ul class="store-choices">
					{props.stores.map((store) => (
						<li>
							<label class="choice">
								<input type="checkbox" checked={value.includes(store.id)} onChange={(e) => toggle(store.id, e.currentTarget.checked)} />
								{store.name}
							</label>
						</li>
					))}
				</ul>
			)}
			{message && (
				<p class="field-error" id={`${id}-stores-error`}>
					{message}
				</p>
			)}
		</fieldset>
	);
}

function Invitations(choices: Choices) {
	const { org } = choices;
	const [invitations, setInvitations] = useState<Invitation[] | null>(null);
	const [error, setError] = useState<unknown>(null);
	const [inviting, setInviting] = useState(false);
	const [created, setCreated] = useState<InvitationCreated | null>(null);
	const load = () =>
		api<Page<Invitation>, "get", "/api/v1/orgs/{orgId}/invitations">("get", "/api/v1/orgs/{orgId}/invitations", { path: { orgId: org.id } }).then(
			(page) => (setInvitations(page.items), setError(null)),
			setError,
		);
	useEffect(() => {
		setInvitations(null);
		setCreated(null);
		load();
	}, [org.id]);

	return (
		<section aria-labelledby="invitations-title">
			<div class="section-head">
				<h2 id="invitations-title">Invitations</h2>
				{!inviting && <button onClick={() => (setInviting(true), setCreated(null))}>Invite someone</button>}
			</div>
			{created && (
				<OnceSecret
					title={`Invitation link for ${created.email}`}
					label="Invitation link"
					secret={`${location.origin}/#/invitations/${created.token}`}
					onDone={() => setCreated(null)}
				>
					<p>
						Send it to {created.email}. This link is shown only once; it works once, for an account with that email, until {timeOf(created.expiresAt)}.
					</p>
				</OnceSecret>
			)}
			{inviting && (
				<InviteForm
					{...choices}
					onCancel={() => setInviting(false)}
					onInvited={(invitation) => {
						const { token: _token, ...listed } = invitation;
						setCreated(invitation);
						setInviting(false);
						setInvitations((list) => list && [listed, ...list]);
					}}
				/>
			)}
			<h3>Pending</h3>
			{error ? (
				<ErrorNote error={error} />
			) : !invitations ? (
				<Loading what="invitations" />
			) : invitations.length === 0 ? (
				<Empty>No pending invitations. Invite someone to give them access to {org.name}.</Empty>
			) : (
				<ul class="invitations">
					{invitations.map((invitation) => (
						<InvitationRow
							key={invitation.id}
							{...choices}
							invitation={invitation}
							onRevoked={() => setInvitations((list) => list && list.filter((i) => i.id !== invitation.id))}
						/>
					))}
				</ul>
			)}
		</section>
	);
}

function InviteForm(props: Choices & { onInvited: (invitation: InvitationCreated) => void; onCancel: () => void }) {
	const [email, setEmail] = useState("");
	const [role, setRole] = useState<OrgRole>("staff");
	const [storeIds, setStoreIds] = useState<string[] | null>(null);
	const { submit, pending, error, failure } = useSubmit(
		() =>
			api<InvitationCreated, "post", "/api/v1/orgs/{orgId}/invitations">("post", "/api/v1/orgs/{orgId}/invitations", {
				path: { orgId: props.org.id },
				body: { email, role, storeIds: role === "staff" ? storeIds : null },
			}),
		props.onInvited,
	);
	return (
		<form class="card invite" onSubmit={submit} aria-label="Invite someone">
			<h3>Invite someone</h3>
			<p class="muted">You get a link to send them; they sign in or create an account with this email to accept it.</p>
			<Field label="Email" name="email" error={error}>
				<input id="f-email" type="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
			</Field>
			<Field label="Role" name="role" error={error}>
				<select id="f-role" value={role} aria-describedby="f-role-what" onChange={(e) => setRole(e.currentTarget.value as OrgRole)}>
					{props.roles.map((r) => (
						<option value={r.role}>{r.label}</option>
					))}
				</select>
			</Field>
			<p class="muted role-what" id="f-role-what">
				{ROLES.find((r) => r.role === role)?.what}
			</p>
			{role === "staff" && <StoreAccess id="invite" stores={props.stores} value={storeIds} onChange={setStoreIds} error={error} />}
			<FormEnd
				failure={failure}
				pending={pending}
				submit={pending ? "Creating…" : "Create invitation link"}
				disabled={role === "staff" && storeIds?.length === 0}
				onCancel={props.onCancel}
			/>
		</form>
	);
}

function InvitationRow(props: Choices & { invitation: Invitation; onRevoked: () => void }) {
	const { invitation, org } = props;
	return (
		<li class="card invitation" data-invitation-id={invitation.id}>
			<strong class="member-email">{invitation.email}</strong>
			<dl class="member-access">
				<div>
					<dt>Role</dt>
					<dd>{ROLE_LABEL[invitation.role]}</dd>
				</div>
				<div>
					<dt>Stores</dt>
					<dd>{storeNames(invitation.storeIds, props.stores)}</dd>
				</div>
				<div>
					<dt>Expires</dt>
					<dd>{timeOf(invitation.expiresAt)}</dd>
				</div>
			</dl>
			<ConfirmAction
				label="Revoke"
				name={`the invitation of ${invitation.email}`}
				question={`Withdraw the invitation of ${invitation.email}? Its link stops working.`}
				confirm="Revoke invitation"
				onConfirm={() =>
					api("delete", "/api/v1/orgs/{orgId}/invitations/{invitationId}", { path: { orgId: org.id, invitationId: invitation.id } }).then(props.onRevoked)
				}
			/>
		</li>
	);
}
