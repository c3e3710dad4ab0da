/**
 * The page: who is signed in, which organization and store they look at, and which screen. The screen lives in
 * the URL's hash (#/cameras, #/cameras/<id>/…, #/alerts, #/insights, #/settings/<section>, #/account,
 * #/operations, #/invitations/<token>) so the back button and reloads keep the place.
 */
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, whenSignedOut } from "./api/client";
import type { Me, Organization, Page, Store } from "./api/views";
import { Account } from "./screens/account";
import { Alerts } from "./screens/alerts";
import { CameraPage, Cameras } from "./screens/cameras";
import { Insights } from "./screens/insights";
import { AcceptInvitation } from "./screens/invitation";
import { Operations } from "./screens/operations";
import { Settings } from "./screens/settings";
import { SignIn } from "./screens/sign-in";
import { CreateOrganization, CreateStore } from "./screens/workspace";
import { Empty, ErrorNote, Loading } from "./ui";

type Session = { state: "loading" } | { state: "signed-out" } | { state: "signed-in"; me: Me } | { state: "failed"; error: unknown };

export function App() {
	const [session, setSession] = useState<Session>({ state: "loading" });
	const load = () =>
		api<Me, "get", "/api/v1/auth/me">("get", "/api/v1/auth/me").then(
			(me) => setSession({ state: "signed-in", me }),
			(error) => setSession(error instanceof ApiError && error.status === 401 ? { state: "signed-out" } : { state: "failed", error }),
		);
	useEffect(() => {
		whenSignedOut(() => setSession({ state: "signed-out" }));
		load();
	}, []);
	if (session.state === "loading") return <Loading what="your session" />;
	if (session.state === "signed-out") return <SignIn onSignedIn={load} invited={location.hash.startsWith("#/invitations/")} />;
	if (session.state === "failed")
		return (
			<main>
				<ErrorNote error={session.error} />
				<button onClick={load}>Try again</button>
			</main>
		);
	return <Workspace me={session.me} onSignedOut={() => setSession({ state: "signed-out" })} />;
}

const useHash = () => {
	const [hash, setHash] = useState(location.hash);
	useEffect(() => {
		const changed = () => setHash(location.hash);
		addEventListener("hashchange", changed);
		return () => removeEventListener("hashchange", changed);
	}, []);
	return hash;
};

/** Remembered per browser, so a reload opens the same store. */
const remembered = (key: string) => localStorage.getItem(`vigil.${key}`) ?? "";
const remember = (key: string, value: string) => localStorage.setItem(`vigil.${key}`, value);

function Workspace({ me, onSignedOut }: { me: Me; onSignedOut: () => void }) {
	const [orgs, setOrgs] = useState<Organization[] | null>(null);
	const [stores, setStores] = useState<Store[] | null>(null);
	const [orgId, setOrgId] = useState(remembered("org"));
	const [storeId, setStoreId] = useState(remembered("store"));
	const [error, setError] = useState<unknown>(null);
	const [addingStore, setAddingStore] = useState(false);
	const hash = useHash();

	const loadOrgs = () =>
		api<Page<Organization>, "get", "/api/v1/orgs">("get", "/api/v1/orgs").then((page) => {
			setOrgs(page.items);
			setOrgId((current) => (page.items.some((o) => o.id === current) ? current : (page.items[0]?.id ?? "")));
		}, setError);
	const loadStores = (id: string) =>
		api<Page<Store>, "get", "/api/v1/orgs/{orgId}/stores">("get", "/api/v1/orgs/{orgId}/stores", { path: { orgId: id } }).then((page) => {
			setStores(page.items);
			setStoreId((current) => (page.items.some((s) => s.id === current) ? current : (page.items[0]?.id ?? "")));
		}, setError);

	useEffect(() => void loadOrgs(), []);
	// Stores are read once the organization is known to be the caller's: one remembered from an earlier
	// membership (since removed) would only answer 404.
	const orgKnown = Boolean(orgs?.some((o) => o.id === orgId));
	useEffect(() => {
		setStores(null);
		if (!orgKnown) return;
		remember("org", orgId);
		loadStores(orgId);
	}, [orgId, orgKnown]);
	useEffect(() => remember("store", storeId), [storeId]);

	/** A deleted store leaves the list; the next one is shown, or the form for a first store when none is left. */
	const forgetStore = (id: string) => {
		const left = (stores ?? []).filter((s) => s.id !== id);
		setStores(left);
		setStoreId(left[0]?.id ?? "");
		location.hash = "#/cameras";
	};
	const signOut = async () => {
		await api("post", "/api/v1/auth/logout").catch(() => undefined);
		onSignedOut();
	};
	const org = orgs?.find((o) => o.id === orgId);
	const canManage = me.superAdmin || org?.role === "owner" || org?.role === "admin";
	const store = stores?.find((s) => s.id === storeId);
	const [, screen = "cameras", ...rest] = hash.replace(/^#/, "").split("/");

	let body;
	if (screen === "invitations" && rest[0])
		body = <AcceptInvitation token={rest[0]} onAccepted={(joined) => (setOrgId(joined.id), (location.hash = "#/cameras"), setOrgs(null), loadOrgs())} />;
	else if (screen === "account") body = <Account me={me} />;
	else if (screen === "operations" && me.superAdmin) body = <Operations me={me} />;
	else if (error) body = <ErrorNote error={error} />;
	else if (!orgs) body = <Loading what="your organizations" />;
	else if (!orgs.length) body = <CreateOrganization onCreated={(o) => (setOrgs([o]), setOrgId(o.id))} />;
	else if (!stores) body = <Loading what="stores" />;
	else if (!stores.length || addingStore)
		body = canManage ? (
			<CreateStore
				orgId={orgId}
				first={!stores.length}
				onCancel={stores.length ? () => setAddingStore(false) : undefined}
				onCreated={(s) => (setStores([...stores, s]), setStoreId(s.id), setAddingStore(false))}
			/>
		) : (
			<Empty>You have no store in this organization yet. Ask an owner to give you access.</Empty>
		);
	else if (!store) body = <Loading what="the store" />;
	else if (screen === "alerts") body = <Alerts store={store} />;
	else if (screen === "insights") body = <Insights store={store} />;
	else if (screen === "settings" && canManage && org)
		body = (
			<Settings
				me={me}
				org={org}
				store={store}
				stores={stores}
				section={rest[0] ?? ""}
				onStoreChanged={(changed) => (changed ? setStores(stores.map((s) => (s.id === changed.id ? changed : s))) : forgetStore(store.id))}
				onOrgChanged={(changed) => setOrgs((list) => list?.map((o) => (o.id === changed.id ? changed : o)) ?? null)}
			/>
		);
	else if (screen === "cameras" && rest[0]) body = <CameraPage store={store} cameraId={rest[0]} canManage={canManage} view={rest.slice(1)} />;
	else body = <Cameras store={store} canManage={canManage} />;

	return (
		<>
			<header class="top">
				<a class="brand" href="#/cameras">
					Vigil
				</a>
				{orgs && orgs.length > 0 && (
					<div class="picker">
						<label for="pick-org">Organization</label>
						<select id="pick-org" value={orgId} onChange={(e) => setOrgId(e.currentTarget.value)}>
							{orgs.map((o) => (
								<option value={o.id}>{o.name}</option>
							))}
						</select>
					</div>
				)}
				{stores && stores.length > 0 && (
					<div class="picker">
						<label for="pick-store">Store</label>
						<select id="pick-store" value={storeId} onChange={(e) => setStoreId(e.currentTarget.value)}>
							{stores.map((s) => (
								<option value={s.id}>{s.name}</option>
							))}
						</select>
						{canManage && !addingStore && (
							<button class="link" onClick={() => setAddingStore(true)}>
								Add store
							</button>
						)}
					</div>
				)}
				<div class="who">
					<a href="#/account" aria-current={screen === "account" ? "page" : undefined}>
						{me.displayName ?? me.email}
					</a>
					<button onClick={signOut}>Sign out</button>
				</div>
			</header>
			{store && !addingStore && (
				<nav class="tabs" aria-label="Screens">
					<a href="#/cameras" aria-current={screen === "cameras" ? "page" : undefined}>
						Cameras
					</a>
					<a href="#/alerts" aria-current={screen === "alerts" ? "page" : undefined}>
						Alerts
					</a>
					<a href="#/insights" aria-current={screen === "insights" ? "page" : undefined}>
						Insights
					</a>
					{canManage && (
						<a href="#/settings" aria-current={screen === "settings" ? "page" : undefined}>
							Settings
						</a>
					)}
					{me.superAdmin && (
						<a href="#/operations" aria-current={screen === "operations" ? "page" : undefined}>
							Operations
						</a>
					)}
				</nav>
			)}
			<main>{body}</main>
		</>
	);
}
