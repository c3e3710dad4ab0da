/**
 * A store's service tokens: the credentials its edge boxes and camera uploaders send instead of a person's
 * session. A new token's secret is in the create answer only (the server keeps a hash), so the page shows it
 * once, with a copy button, and forgets it when the person leaves the screen. Revoking asks first, in the page.
 */
import { useEffect, useState } from "preact/hooks";
import { api } from "../api/client";
import type { Page, Store } from "../api/views";
import { ConfirmAction, Empty, ErrorNote, Field, FormEnd, Loading, OnceSecret, timeOf, useSubmit } from "../ui";
import "./tokens.css";

interface ServiceToken {
	id: string;
	name: string;
	storeId: string;
	createdAt: string;
	lastUsedAt: string | null;
	revokedAt: string | null;
}
type CreatedToken = ServiceToken & { token: string };

export function ServiceTokens({ store }: { store: Store }) {
	const [tokens, setTokens] = useState<ServiceToken[] | null>(null);
	const [error, setError] = useState<unknown>(null);
	const [adding, setAdding] = useState(false);
	const [created, setCreated] = useState<CreatedToken | null>(null);
	const path = { orgId: store.orgId, storeId: store.id };

	const load = () =>
		api<Page<ServiceToken>, "get", "/api/v1/orgs/{orgId}/stores/{storeId}/service-tokens">("get", "/api/v1/orgs/{orgId}/stores/{storeId}/service-tokens", {
			path,
		}).then((page) => setTokens(page.items), setError);
	useEffect(() => {
		setTokens(null);
		setError(null);
		setCreated(null);
		load();
	}, [store.id]);

	const revoke = async (token: ServiceToken) => {
		await api("delete", "/api/v1/orgs/{orgId}/stores/{storeId}/service-tokens/{tokenId}", { path: { ...path, tokenId: token.id } });
		// The secret on screen is of no use once its token is revoked.
		if (created?.id === token.id) setCreated(null);
		await load();
	};

	if (error) return <ErrorNote error={error} />;
	if (!tokens) return <Loading what="service tokens" />;
	return (
		<section aria-labelledby="tokens-title">
			<div class="section-head">
				<h2 id="tokens-title">Service tokens of {store.name}</h2>
				{!adding && <button onClick={() => (setAdding(true), setCreated(null))}>Create token</button>}
			</div>
			<p class="muted">An edge box or a camera uploader sends its token instead of signing in. A token acts for this store only.</p>
			{adding && (
				<CreateToken
					store={store}
					onCancel={() => setAdding(false)}
					onCreated={(token) => {
						const { token: _secret, ...listed } = token;
						setTokens([listed, ...tokens]);
						setCreated(token);
						setAdding(false);
					}}
				/>
			)}
			{created && (
				<OnceSecret title={`Token for ${created.name}`} label="The token" secret={created.token} onDone={() => setCreated(null)}>
					<p>
						Put it in the box's settings; it sends it as <code>Authorization: Bearer …</code>.
					</p>
				</OnceSecret>
			)}
			{tokens.length === 0 ? (
				<Empty>No service tokens yet. Create one for each edge box or uploader, so that each can be revoked on its own.</Empty>
			) : (
				<ul class="tokens">
					{tokens.map((token) => (
						<li class="card token" data-token-id={token.id}>
							<div class="token-head">
								<strong>{token.name}</strong>
								<span class={`badge ${token.revokedAt ? "revoked" : "active"}`}>{token.revokedAt ? "Revoked" : "Active"}</span>
							</div>
							<p class="muted">
								Created {timeOf(token.createdAt)} · {token.lastUsedAt ? `last used ${timeOf(token.lastUsedAt)}` : "never used"}
								{token.revokedAt && ` · revoked ${timeOf(token.revokedAt)}`}
							</p>
							{!token.revokedAt && (
								<ConfirmAction
									label="Revoke"
									name={token.name}
									question={`Revoke “${token.name}”? Whatever uses it is refused from the next request on; this cannot be undone.`}
									confirm="Revoke token"
									onConfirm={() => revoke(token)}
								/>
							)}
						</li>
					))}
				</ul>
			)}
		</section>
	);
}

function CreateToken(props: { store: Store; onCreated: (token: CreatedToken) => void; onCancel: () => void }) {
	const [name, setName] = useState("");
	const { submit, pending, error, failure } = useSubmit(
		() =>
			api<CreatedToken, "post", "/api/v1/orgs/{orgId}/stores/{storeId}/service-tokens">("post", "/api/v1/orgs/{orgId}/stores/{storeId}/service-tokens", {
				path: { orgId: props.store.orgId, storeId: props.store.id },
				body: { name },
			}),
		props.onCreated,
	);
	return (
		<form class="card" onSubmit={submit} aria-label="Create a service token">
			<h3>Create a service token</h3>
			<Field label="What will use it (e.g. back-door edge box)" name="name" error={error}>
				<input id="f-name" required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
			</Field>
			<FormEnd failure={failure} pending={pending} submit="Create token" onCancel={props.onCancel} />
		</form>
	);
}
