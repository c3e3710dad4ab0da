/** Owners' and admins' settings: the store, members and invitations, service tokens, alert rules, notification channels. */
import type { Me, Organization, Store } from "../api/views";
import { Members } from "./members";
import { NotificationChannels } from "./channels";
import { AlertRules } from "./rules";
import { ServiceTokens } from "./tokens";
import { StoreSettings } from "./workspace";

export const SETTINGS_SECTIONS = [
	["store", "Store"],
	["members", "Members"],
	["tokens", "Service tokens"],
	["rules", "Alert rules"],
	["channels", "Notifications"],
] as const;
export type SettingsSection = (typeof SETTINGS_SECTIONS)[number][0];

export function Settings(props: {
	me: Me;
	org: Organization;
	store: Store;
	stores: Store[];
	section: string;
	onStoreChanged: (store: Store | null) => void;
	onOrgChanged: (org: Organization) => void;
}) {
	const section = (SETTINGS_SECTIONS.some(([s]) => s === props.section) ? props.section : "store") as SettingsSection;
	return (
		<section aria-labelledby="settings-title">
			<h1 id="settings-title">Settings</h1>
			<nav class="tabs sub" aria-label="Settings">
				{SETTINGS_SECTIONS.map(([key, label]) => (
					<a href={`#/settings/${key}`} aria-current={key === section ? "page" : undefined}>
						{label}
					</a>
				))}
			</nav>
			{section === "store" && <StoreSettings org={props.org} store={props.store} onStoreChanged={props.onStoreChanged} onOrgChanged={props.onOrgChanged} />}
			{section === "members" && <Members me={props.me} org={props.org} stores={props.stores} />}
			{section === "tokens" && <ServiceTokens store={props.store} />}
			{section === "rules" && <AlertRules store={props.store} />}
			{section === "channels" && <NotificationChannels org={props.org} stores={props.stores} />}
		</section>
	);
}
