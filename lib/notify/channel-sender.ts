/**
 * Sending one message to one channel (and, for email, one recipient), with the channel's sealed settings opened
 * here. Used by the notify jobs and by a channel's test button alike.
 */
import type { Transporter } from "nodemailer";
import type { NotificationChannel } from "../../entities";
import type { Config } from "../platform/config";
import { seal, unseal } from "../security/secrets";
import { nonPublicTarget } from "./address-guard";
import type { ChannelConfig, EmailConfig, TelegramConfig, WebhookConfig } from "./channel-config";
import type { Message } from "./messages";
import { postWebhook, SendError, sendEmail, sendTelegram, smtpTransport } from "./senders";

export type SenderSettings = Pick<Config, "encryptionKey" | "notifyTimeout" | "notifyAllowPrivateUrls" | "telegramApiUrl" | "smtpUrl" | "smtpFrom">;

/** A channel's settings as stored: sealed, since they hold a signing secret, a bot token or a URL with a password. */
export function sealChannelConfig(key: Buffer, config: ChannelConfig): string {
	return seal(key, JSON.stringify(config));
}

export function openChannelConfig(key: Buffer, channel: Pick<NotificationChannel, "configEnc">): ChannelConfig {
	return JSON.parse(unseal(key, channel.configEnc)) as ChannelConfig;
}

/** Who a test message of an email channel goes to: its addresses, and the caller when it writes to members. */
export function testRecipients({ to, members }: EmailConfig, callerEmail: string): string[] {
	return [...new Set([...to, ...(members ? [callerEmail] : [])])];
}

export class ChannelSender {
	/** Opened at the first email and kept: one SMTP pool per node. */
	private mailer?: Transporter;

	constructor(private readonly settings: SenderSettings) {}

	open(channel: Pick<NotificationChannel, "configEnc">): ChannelConfig {
		return openChannelConfig(this.settings.encryptionKey, channel);
	}

	/** Resolves when the message was accepted; a SendError says why not. */
	async send(channel: Pick<NotificationChannel, "kind" | "configEnc">, recipient: string, message: Message): Promise<void> {
		const { notifyTimeout: timeout, notifyAllowPrivateUrls, telegramApiUrl, smtpUrl, smtpFrom } = this.settings;
		const config = this.open(channel);
		switch (channel.kind) {
			case "webhook": {
				const { url, secret } = config as WebhookConfig;
				// Checked again at each send: what a name resolves to can change after the channel was made.
				const refused = notifyAllowPrivateUrls ? null : await nonPublicTarget(url);
				if (refused) throw new SendError(`The webhook URL points to a non-public address (${refused}); NOTIFY_ALLOW_PRIVATE_URLS allows that`);
				return postWebhook(url, secret, message, timeout);
			}
			case "telegram": {
				const { botToken, chatId } = config as TelegramConfig;
				return sendTelegram(telegramApiUrl, botToken, chatId, message.text, timeout);
			}
			case "email":
				if (!smtpUrl) throw new SendError("SMTP_URL is not set on this notifier node");
				this.mailer ??= smtpTransport(smtpUrl, timeout);
				return sendEmail(this.mailer, smtpFrom, recipient, message);
		}
	}

	close(): void {
		this.mailer?.close();
	}
}
