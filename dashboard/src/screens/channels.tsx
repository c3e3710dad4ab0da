/**
 * Where the organization's alerts are sent: webhook, Telegram and email channels, each for some or all stores
 * from a least severity up. The form shows the chosen kind's settings only; secrets (bot token, a webhook's URL
 * and signing secret) are write-only: the list says they are set, never what they are. "Send a test" says
 * whether the message arrived, with the receiver's refusal when it did not.
 */
import { useEffect, useState } from "preact/hooks";
import { api } from "../api/client";
import type { Organization, Page, Severity, Store } from "../api/views";
import { ConfirmAction, Empty, ErrorNote, Field, FormEnd, Loading, OnceSecret, useSubmit } from "../ui";
import { byList, GroupError, SEVERITIES } from "./rules";
import "./channels.css";

type ChannelKind = "webhook" | "telegram" | "email";

/** A channel as listed: `config` is masked by the server (lib/notify/channel-config.ts, maskConfig). */
interface Channel {
	id: string;
	kind: ChannelKind;
	name: string;
	config: { url?: string; botToken?: string; chatId?: string; to?: string[]; members?: boolean };
	minSeverity: Severity;
	storeIds: string[] | null;
	enabled: boolean;
}
/** A new webhook channel, or one whose secret was rotated, carries its signing secret this once. */
type SavedChannel = Channel & { signingSecret?: string };
type TestResult = { sent: true; recipients?: string[] } | { sent: false; error: string };

const KINDS: [ChannelKind, string][] = [
	["webhook", "Webhook (a POST to your server)"],
	["telegram", "Telegram chat"],
	["email", "Email"],
];
const KIND_LABEL: Record<ChannelKind, string> = { webhook: "Webhook", telegram: "Telegram", email: "Email" };

export function NotificationChannels({ org, stores }: { org: Organization; stores: Store[] }) {
	const [channels, setChannels] = useState<Channel[] | null>(null);
	const [error, setError] = useState<unknown>(null);
	const [editing, setEditing] = useState<string | null>(null);
	const [secret, setSecret] = useState<{ channel: string; value: string } | null>(null);

	useEffect(() => {
		setChannels(null);
		setError(null);
		setEditing(null);
		setSecret(null);
		api<Page<Channel>, "get", "/api/v1/orgs/{orgId}/notification-channels">("get", "/api/v1/orgs/{orgId}/notification-channels", {
			path: { orgId: org.id },
		}).then((page) => setChannels(page.items), setError);
	}, [org.id]);

	const saved = ({ signingSecret, ...channel }: SavedChannel) => {
		setChannels((list) => (list?.some((c) => c.id === channel.id) ? list.map((c) => (c.id === channel.id ? channel : c)) : [...(list ?? []), channel]));
		setSecret(signingSecret ? { channel: channel.name, value: signingSecret } : null);
		setEditing(null);
	};
	const remove = async (channel: Channel) => {
		await api("delete", "/api/v1/orgs/{orgId}/notification-channels/{channelId}", { path: { orgId: org.id, channelId: channel.id } });
		setChannels((list) => list?.filter((c) => c.id !== channel.id) ?? null);
	};
	const switchOver = async (channel: Channel) =>
		saved(
			await api<Channel, "patch", "/api/v1/orgs/{orgId}/notification-channels/{channelId}">("patch", "/api/v1/orgs/{orgId}/notification-channels/{channelId}", {
				path: { orgId: org.id, channelId: channel.id },
				body: { enabled: !channel.enabled },
			}),
		);

	if (error) return <ErrorNote error={error} />;
	if (!channels) return <Loading what="notification channels" />;
	const form = (channel?: Channel) => <ChannelForm org={org} stores={stores} channel={channel} onSaved={saved} onCancel={() => setEditing(null)} />;
	return (
		<section aria-labelledby="channels-title">
			<div class="section-head">
				<h2 id="channels-title">Notifications of {org.name}</h2>
				{editing === null && <button onClick={() => (setEditing("new"), setSecret(null))}>Add channel</button>}
			</div>
			<p class="muted">Every alert goes to each channel that is on and covers its store and severity.</p>
			{secret && (
				<OnceSecret title={`Signing secret of ${secret.channel}`} label="Signing secret" secret={secret.value} onDone={() => setSecret(null)}>
					<p>
						Your server checks each request with it: <code>X-Vigil-Signature</code> is <code>v1=</code> and the HMAC-SHA256 of <code>X-Vigil-Timestamp</code>, a
						dot and the body.
					</p>
				</OnceSecret>
			)}
			{editing === "new" && form()}
			{channels.length === 0 ? (
				<Empty>No channels yet: alerts show in the dashboard only. Add a webhook, a Telegram chat or email addresses to be told at once.</Empty>
			) : (
				<ul class="channels">
					{channels.map((channel) =>
						editing === channel.id ? (
							<li>{form(channel)}</li>
						) : (
							<ChannelCard
								org={org}
								stores={stores}
								channel={channel}
								canEdit={editing === null}
								onEdit={() => (setEditing(channel.id), setSecret(null))}
								onSwitch={() => switchOver(channel)}
								onDelete={() => remove(channel)}
							/>
						),
					)}
				</ul>
			)}
		</section>
	);
}

function ChannelCard(props: {
	org: Organization;
	stores: Store[];
	channel: Channel;
	canEdit: boolean;
	onEdit: () => void;
	onSwitch: () => Promise<unknown>;
	onDelete: () => Promise<unknown>;
}) {
	const { channel } = props;
	const [pending, setPending] = useState<"test" | "switch" | null>(null);
	const [result, setResult] = useState<TestResult | null>(null);
	const [error, setError] = useState<unknown>(null);
	const run = async (what: "test" | "switch", action: () => Promise<unknown>) => {
		setPending(what);
		setError(null);
		try {
			await action();
		} catch (err) {
			setError(err);
		} finally {
			setPending(null);
		}
	};
	const test = () =>
		run("test", async () => {
			setResult(null);
			setResult(
				await api<TestResult, "post", "/api/v1/orgs/{orgId}/notification-channels/{channelId}/test">(
					"post",
					"/api/v1/orgs/{orgId}/notification-channels/{channelId}/test",
					{ path: { orgId: props.org.id, channelId: channel.id } },
				),
			);
		});
	const storeNames = channel.storeIds?.map((id) => props.stores.find((s) => s.id === id)?.name ?? "a store you cannot see");
	return (
		<li class={`card channel${channel.enabled ? "" : " off"}`} data-channel-id={channel.id}>
			<div class="channel-head">
				<h3>{channel.name}</h3>
				<span class="badge">{KIND_LABEL[channel.kind]}</span>
				<span class={`badge ${channel.enabled ? "active" : "paused"}`}>{channel.enabled ? "On" : "Off"}</span>
			</div>
			<dl class="channel-facts">
				<Settings channel={channel} />
				<div>
					<dt>Alerts</dt>
					<dd>{channel.minSeverity === "critical" ? "Critical only" : `${channel.minSeverity[0].toUpperCase()}${channel.minSeverity.slice(1)} and above`}</dd>
				</div>
				<div>
					<dt>Stores</dt>
					<dd>{storeNames ? storeNames.join(", ") : "All stores"}</dd>
				</div>
			</dl>
			<div class="actions">
				<button type="button" disabled={pending !== null} aria-label={`Send a test to ${channel.name}`} onClick={test}>
					{pending === "test" ? "Sending…" : "Send a test"}
				</button>
				<button type="button" class="secondary" disabled={!props.canEdit} aria-label={`Edit ${channel.name}`} onClick={props.onEdit}>
					Edit
				</button>
				<button
					type="button"
					class="secondary"
					disabled={pending !== null}
					aria-label={`${channel.enabled ? "Turn off" : "Turn on"} ${channel.name}`}
					onClick={() => run("switch", props.onSwitch)}
				>
					{channel.enabled ? "Turn off" : "Turn on"}
				</button>
				<ConfirmAction
					label="Delete"
					name={channel.name}
					question={`Delete the channel “${channel.name}” and its delivery history? Alerts stop going there at once.`}
					confirm="Delete channel"
					onConfirm={props.onDelete}
				/>
			</div>
			<p role="status" class={result ? (result.sent ? "test-result sent" : "test-result failed") : "test-result"}>
				{result &&
					(result.sent ? `Test delivered${result.recipients?.length ? ` to ${result.recipients.join(", ")}` : ""}.` : `Test not delivered: ${result.error}`)}
			</p>
			<ErrorNote error={error} />
		</li>
	);
}

/** The kind's settings as the server shows them: secrets only as "set". */
function Settings({ channel }: { channel: Channel }) {
	const { config } = channel;
	if (channel.kind === "webhook")
		return (
			<>
				<div class="wide">
					<dt>Sends to</dt>
					<dd class="address">{config.url}</dd>
				</div>
				<div>
					<dt>Signing secret</dt>
					<dd>Set</dd>
				</div>
			</>
		);
	if (channel.kind === "telegram")
		return (
			<>
				<div>
					<dt>Chat</dt>
					<dd>{config.chatId}</dd>
				</div>
				<div>
					<dt>Bot token</dt>
					<dd>Set</dd>
				</div>
			</>
		);
	const to = config.to ?? [];
	return (
		<div class="wide">
			<dt>Writes to</dt>
			<dd class="address">{[...to, ...(config.members ? ["the members who can see the alert's store"] : [])].join(", ") || "Nobody"}</dd>
		</div>
	);
}

interface Draft {
	name: string;
	kind: ChannelKind;
	url: string;
	botToken: string;
	chatId: string;
	to: string;
	members: boolean;
	minSeverity: Severity;
	allStores: boolean;
	storeIds: string[];
	enabled: boolean;
	rotateSecret: boolean;
}

/** Secrets start empty: on a change, an empty box keeps what is stored. */
const draftOf = (channel?: Channel): Draft => ({
	name: channel?.name ?? "",
	kind: channel?.kind ?? "webhook",
	url: "",
	botToken: "",
	chatId: channel?.config.chatId ?? "",
	to: (channel?.config.to ?? []).join(", "),
	members: channel?.config.members ?? false,
	minSeverity: channel?.minSeverity ?? "low",
	allStores: !channel?.storeIds,
	storeIds: channel?.storeIds ?? [],
	enabled: channel?.enabled ?? true,
	rotateSecret: false,
});

const addresses = (typed: string) =>
	typed
		.split(/[\s,;]+/)
		.map((a) => a.trim())
		.filter(Boolean);

/** Only the chosen kind's settings. */
function configOf(d: Draft) {
	if (d.kind === "webhook") return { url: d.url };
	if (d.kind === "telegram") return { botToken: d.botToken, chatId: d.chatId };
	return { to: addresses(d.to), members: d.members };
}

/** On a change, only the settings typed: an empty secret box keeps what the server has. */
function changedConfig(d: Draft) {
	if (d.kind === "webhook") return d.url ? { url: d.url } : undefined;
	if (d.kind === "telegram") {
		const config = { ...(d.botToken && { botToken: d.botToken }), ...(d.chatId && { chatId: d.chatId }) };
		return Object.keys(config).length ? config : undefined;
	}
	return configOf(d);
}

function ChannelForm(props: { org: Organization; stores: Store[]; channel?: Channel; onSaved: (channel: SavedChannel) => void; onCancel: () => void }) {
	const { channel } = props;
	const [draft, setDraft] = useState(() => draftOf(channel));
	const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));
	const common = {
		name: draft.name,
		minSeverity: draft.minSeverity,
		storeIds: draft.allStores ? null : draft.storeIds,
		enabled: draft.enabled,
	};
	const {
		submit,
		pending,
		error: apiError,
		failure,
	} = useSubmit(() => {
		if (!channel)
			return api<SavedChannel, "post", "/api/v1/orgs/{orgId}/notification-channels">("post", "/api/v1/orgs/{orgId}/notification-channels", {
				path: { orgId: props.org.id },
				body: { ...common, kind: draft.kind, config: configOf(draft) },
			});
		const config = changedConfig(draft);
		return api<SavedChannel, "patch", "/api/v1/orgs/{orgId}/notification-channels/{channelId}">(
			"patch",
			"/api/v1/orgs/{orgId}/notification-channels/{channelId}",
			{
				path: { orgId: props.org.id, channelId: channel.id },
				body: { ...common, ...(config && { config }), ...(draft.rotateSecret && { rotateSecret: true }) },
			},
		);
	}, props.onSaved);
	const error = byList(apiError);
	const title = channel ? `Change “${channel.name}”` : "Add a notification channel";
	const keep = channel ? " (leave empty to keep it)" : "";

	return (
		<form class="card channel-form" onSubmit={submit} aria-label={title}>
			<h3>{title}</h3>
			<Field label="Channel name" name="name" error={error}>
				<input id="f-name" required maxLength={100} value={draft.name} onInput={(e) => set("name", e.currentTarget.value)} />
			</Field>
			{channel ? (
				<p>
					<strong>Kind:</strong> {KIND_LABEL[channel.kind]}
				</p>
			) : (
				<Field label="Kind" name="kind" error={error}>
					<select id="f-kind" value={draft.kind} onChange={(e) => set("kind", e.currentTarget.value as ChannelKind)}>
						{KINDS.map(([kind, label]) => (
							<option value={kind}>{label}</option>
						))}
					</select>
				</Field>
			)}

			{draft.kind === "webhook" && (
				<>
					{channel && (
						<p class="muted">
							Now sends to <span class="address">{channel.config.url}</span>.
						</p>
					)}
					<Field label={`URL to send alerts to${keep}`} name="config.url" error={error}>
						<input
							id="f-config.url"
							type="url"
							required={!channel}
							placeholder="https://…"
							autoComplete="off"
							value={draft.url}
							onInput={(e) => set("url", e.currentTarget.value)}
						/>
					</Field>
					{channel ? (
						<label class="check">
							<input type="checkbox" checked={draft.rotateSecret} onChange={(e) => set("rotateSecret", e.currentTarget.checked)} />
							Make a new signing secret (the old one stops working)
						</label>
					) : (
						<p class="muted">Vigil makes a signing secret for it and shows it once, after you add the channel.</p>
					)}
				</>
			)}

			{draft.kind === "telegram" && (
				<>
					<Field label={`Bot token from BotFather${channel ? " (set; leave empty to keep it)" : ""}`} name="config.botToken" error={error}>
						<input
							id="f-config.botToken"
							type="password"
							required={!channel}
							autoComplete="off"
							placeholder={channel ? "••••••••" : "123456789:AA…"}
							value={draft.botToken}
							onInput={(e) => set("botToken", e.currentTarget.value)}
						/>
					</Field>
					<Field label="Chat id (a number, negative for groups, or @channelname)" name="config.chatId" error={error}>
						<input id="f-config.chatId" required={!channel} autoComplete="off" value={draft.chatId} onInput={(e) => set("chatId", e.currentTarget.value)} />
					</Field>
				</>
			)}

			{draft.kind === "email" && (
				<>
					<Field label="Email addresses, separated by commas" name="config.to" error={error}>
						<textarea id="f-config.to" rows={2} value={draft.to} onInput={(e) => set("to", e.currentTarget.value)} />
					</Field>
					<label class="check">
						<input id="f-config.members" type="checkbox" checked={draft.members} onChange={(e) => set("members", e.currentTarget.checked)} />
						Also every member who can see the alert's store (each can mute it for themselves)
					</label>
					<GroupError error={error} field="config.members" />
				</>
			)}

			<Field label="Send alerts from this severity up" name="minSeverity" error={error}>
				<select id="f-minSeverity" value={draft.minSeverity} onChange={(e) => set("minSeverity", e.currentTarget.value as Severity)}>
					{SEVERITIES.map((s) => (
						<option value={s}>{s[0].toUpperCase() + s.slice(1)}</option>
					))}
				</select>
			</Field>

			<fieldset class="group" aria-describedby={error?.fieldError("storeIds") ? "f-storeIds-error" : undefined}>
				<legend>Stores</legend>
				<label class="check">
					<input type="radio" name="channel-stores" checked={draft.allStores} onChange={() => set("allStores", true)} />
					All stores, also those added later
				</label>
				<label class="check">
					<input type="radio" name="channel-stores" checked={!draft.allStores} onChange={() => set("allStores", false)} />
					Only these stores:
				</label>
				{!draft.allStores && (
					<div class="checks indented">
						{props.stores.map((store) => (
							<label class="check">
								<input
									type="checkbox"
									checked={draft.storeIds.includes(store.id)}
									onChange={(e) => set("storeIds", e.currentTarget.checked ? [...draft.storeIds, store.id] : draft.storeIds.filter((id) => id !== store.id))}
								/>
								{store.name}
							</label>
						))}
						{!draft.storeIds.length && <p class="muted">None chosen yet: no alert would go here.</p>}
					</div>
				)}
				<GroupError error={error} field="storeIds" />
			</fieldset>

			<label class="check">
				<input id="f-enabled" type="checkbox" checked={draft.enabled} onChange={(e) => set("enabled", e.currentTarget.checked)} />
				Channel is on
			</label>

			<FormEnd failure={failure} pending={pending} submit={channel ? "Save changes" : "Add channel"} onCancel={props.onCancel} />
		</form>
	);
}
