/** The first steps of a new owner (an organization, then a store), and changing or deleting them later. */
import { useState } from "preact/hooks";
import { api } from "../api/client";
import type { Organization, Store } from "../api/views";
import { ConfirmAction, Field, FormEnd, useSubmit } from "../ui";

export function CreateOrganization({ onCreated }: { onCreated: (org: Organization) => void }) {
	const [name, setName] = useState("");
	const { submit, pending, error, failure } = useSubmit(() => api<Organization, "post", "/api/v1/orgs">("post", "/api/v1/orgs", { body: { name } }), onCreated);
	return (
		<form class="card" onSubmit={submit} aria-label="Create your organization">
			<h2>Create your organization</h2>
			<p>Your business: its stores, cameras and staff belong to it.</p>
			<Field label="Organization name" name="name" error={error}>
				<input id="f-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
			</Field>
			<FormEnd failure={failure} pending={pending} submit="Create organization" />
		</form>
	);
}

const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

export function CreateStore(props: { orgId: string; first: boolean; onCreated: (store: Store) => void; onCancel?: () => void }) {
	const [name, setName] = useState("");
	const [address, setAddress] = useState("");
	const [timezone, setTimezone] = useState(browserZone);
	const { submit, pending, error, failure } = useSubmit(
		() =>
			api<Store, "post", "/api/v1/orgs/{orgId}/stores">("post", "/api/v1/orgs/{orgId}/stores", {
				path: { orgId: props.orgId },
				body: { name, timezone, ...(address && { address }) },
			}),
		props.onCreated,
	);
	return (
		<form class="card" onSubmit={submit} aria-label="Add a store">
			<h2>{props.first ? "Add your first store" : "Add a store"}</h2>
			<Field label="Store name" name="name" error={error}>
				<input id="f-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
			</Field>
			<Field label="Address (optional)" name="address" error={error}>
				<input id="f-address" value={address} onInput={(e) => setAddress(e.currentTarget.value)} />
			</Field>
			<Field label="Time zone" name="timezone" error={error}>
				<input id="f-timezone" required value={timezone} onInput={(e) => setTimezone(e.currentTarget.value)} />
			</Field>
			<FormEnd failure={failure} pending={pending} submit="Create store" onCancel={props.onCancel} />
		</form>
	);
}

/** The store's name, address and time zone, the organization's name, and deleting the store (owners and admins). */
export function StoreSettings(props: {
	org: Organization;
	store: Store;
	onStoreChanged: (store: Store | null) => void;
	onOrgChanged: (org: Organization) => void;
}) {
	return (
		<>
			<EditStore key={props.store.id} store={props.store} onSaved={props.onStoreChanged} />
			<RenameOrganization key={props.org.id} org={props.org} onSaved={props.onOrgChanged} />
			<div class="card">
				<h2>Delete this store</h2>
				<p>Its cameras, clips, recordings and alerts go with it, for good.</p>
				<ConfirmAction
					label="Delete store"
					name={props.store.name}
					question={`Delete ${props.store.name} and everything recorded in it? This cannot be undone.`}
					confirm="Delete for good"
					onConfirm={async () => {
						await api("delete", "/api/v1/orgs/{orgId}/stores/{storeId}", { path: { orgId: props.store.orgId, storeId: props.store.id } });
						props.onStoreChanged(null);
					}}
				/>
			</div>
		</>
	);
}

function EditStore({ store, onSaved }: { store: Store; onSaved: (store: Store) => void }) {
	const [name, setName] = useState(store.name);
	const [address, setAddress] = useState(store.address ?? "");
	const [timezone, setTimezone] = useState(store.timezone);
	const [saved, setSaved] = useState(false);
	const { submit, pending, error, failure } = useSubmit(
		() =>
			api<Store, "patch", "/api/v1/orgs/{orgId}/stores/{storeId}">("patch", "/api/v1/orgs/{orgId}/stores/{storeId}", {
				path: { orgId: store.orgId, storeId: store.id },
				body: { name, timezone, address: address || null },
			}),
		(updated) => (setSaved(true), onSaved(updated)),
	);
	const edit = (set: (value: string) => void) => (e: Event) => (set((e.currentTarget as HTMLInputElement).value), setSaved(false));
	return (
		<form class="card" onSubmit={submit} aria-label="Store details">
			<h2>Store details</h2>
			<Field label="Store name" name="name" error={error}>
				<input id="f-name" required value={name} onInput={edit(setName)} />
			</Field>
			<Field label="Address (optional)" name="address" error={error}>
				<input id="f-address" value={address} onInput={edit(setAddress)} />
			</Field>
			<Field label="Time zone" name="timezone" error={error}>
				<input id="f-timezone" required value={timezone} onInput={edit(setTimezone)} />
			</Field>
			<p class="muted">Alert rules' hours and the charts' days follow this time zone.</p>
			<FormEnd failure={failure} pending={pending} submit="Save store">
				{saved && <span role="status">Saved.</span>}
			</FormEnd>
		</form>
	);
}

function RenameOrganization({ org, onSaved }: { org: Organization; onSaved: (org: Organization) => void }) {
	const [name, setName] = useState(org.name);
	const [saved, setSaved] = useState(false);
	const { submit, pending, error, failure } = useSubmit(
		() => api<Organization, "patch", "/api/v1/orgs/{orgId}">("patch", "/api/v1/orgs/{orgId}", { path: { orgId: org.id }, body: { name } }),
		(updated) => (setSaved(true), onSaved({ ...org, name: updated.name })),
	);
	return (
		<form class="card" onSubmit={submit} aria-label="Organization">
			<h2>Organization</h2>
			<Field label="Organization name" name="org-name" error={error}>
				<input id="f-org-name" required value={name} onInput={(e) => (setName(e.currentTarget.value), setSaved(false))} />
			</Field>
			<FormEnd failure={failure} pending={pending} submit="Save organization">
				{saved && <span role="status">Saved.</span>}
			</FormEnd>
		</form>
	);
}
