/** The first steps of a new owner: an organization, then a store. */
import { useState } from "preact/hooks";
import { api } from "../api/client";
import type { Organization, Store } from "../api/views";
import { ErrorNote, Field, useSubmit } from "../ui";

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
			<ErrorNote error={failure} />
			<button type="submit" disabled={pending}>
				Create organization
			</button>
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
			<ErrorNote error={failure} />
			<div class="actions">
				<button type="submit" disabled={pending}>
					Create store
				</button>
				{props.onCancel && (
					<button type="button" class="secondary" onClick={props.onCancel}>
						Cancel
					</button>
				)}
			</div>
		</form>
	);
}
