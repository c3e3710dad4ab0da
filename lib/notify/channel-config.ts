/**
 * The settings of each channel kind: what a request may give, what is stored (sealed), and what is shown.
 * Secrets (webhook signing secret, bot token, passwords in a URL) never leave in clear after creation.
 */
import type { ChannelKind } from "../../entities/notification-channel.entity";
import { maskUrl } from "../security/secrets";
import { newSigningSecret } from "./signature";

export interface WebhookConfig {
	url: string;
	secret: string;
}
export interface TelegramConfig {
	botToken: string;
	chatId: string;
}
export interface EmailConfig {
	/** Explicit addresses. */
	to: string[];
	/** Also every member of the organization who can see the alert's store. */
	members: boolean;
}
export type ChannelConfig = WebhookConfig | TelegramConfig | EmailConfig;

/** The `config` object of a request: each kind reads its own fields. */
export interface ConfigInput {
	url?: string;
	botToken?: string;
	chatId?: string | number;
	to?: string[];
	members?: boolean;
}

export interface Problem {
	field: string;
	type: string;
	message: string;
}

const TELEGRAM_TOKEN = /^\d{1,20}:[A-Za-z0-9_-]{20,200}$/;
const TELEGRAM_CHAT = /^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,63})$/;

/**
 * The config a channel will have: `given` over `previous` (a PATCH changes only what it names). A new webhook
 * channel, or `rotateSecret`, gets a fresh signing secret.
 */
export function buildConfig(
	kind: ChannelKind,
	given: ConfigInput,
	previous?: ChannelConfig,
	rotateSecret = false,
): { config?: ChannelConfig; problems: Problem[] } {
	const problems: Problem[] = [];
	const need = (field: string, message: string, type = "required") => problems.push({ field: `config.${field}`, type, message });
	switch (kind) {
		case "webhook": {
			const prev = previous as WebhookConfig | undefined;
			const url = given.url ?? prev?.url;
			if (!url) need("url", "A webhook channel needs the URL to POST to.");
			else if (!isHttpUrl(url)) need("url", "The webhook URL must be an http:// or https:// URL.", "url");
			const secret = !prev || rotateSecret ? newSigningSecret() : prev.secret;
			return problems.length ? { problems } : { config: { url: url as string, secret }, problems };
		}
		case "telegram": {
			const prev = previous as TelegramConfig | undefined;
			const botToken = given.botToken ?? prev?.botToken;
			const chatId = given.chatId !== undefined ? String(given.chatId) : prev?.chatId;
			if (!botToken) need("botToken", "A Telegram channel needs the bot token BotFather gave.");
			else if (!TELEGRAM_TOKEN.test(botToken)) need("botToken", "A bot token looks like 123456789:AA... (digits, a colon, then letters).", "pattern");
			if (!chatId) need("chatId", "A Telegram channel needs the chat id (a number, or @channelname).");
			else if (!TELEGRAM_CHAT.test(chatId)) need("chatId", "The chat id is a number (negative for groups) or @channelname.", "pattern");
			return problems.length ? { problems } : { config: { botToken: botToken as string, chatId: chatId as string }, problems };
		}
		case "email": {
			const prev = previous as EmailConfig | undefined;
			const to = [...new Set((given.to ?? prev?.to ?? []).map((a) => a.trim().toLowerCase()))];
			const members = given.members ?? prev?.members ?? false;
			if (!to.length && !members) need("to", "An email channel needs addresses in `to`, or `members: true` to write to the organization's members.");
			return problems.length ? { problems } : { config: { to, members }, problems };
		}
	}
}

/** What the API shows of a channel's config. */
export function maskConfig(kind: ChannelKind, config: ChannelConfig): Record<string, unknown> {
	switch (kind) {
		case "webhook":
			return { url: maskUrl((config as WebhookConfig).url) };
		case "telegram": {
			const { botToken, chatId } = config as TelegramConfig;
			// The part before the colon is the bot's public id; the rest is the secret.
			return { botToken: `${botToken.split(":")[0]}:****`, chatId };
		}
		case "email": {
			const { to, members } = config as EmailConfig;
			return { to, members };
		}
	}
}

function isHttpUrl(raw: string): boolean {
	try {
		const url = new URL(raw);
		return (url.protocol === "http:" || url.protocol === "https:") && Boolean(url.hostname);
	} catch {
		return false;
	}
}
