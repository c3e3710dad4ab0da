/**
 * Sending one message over each kind of channel. Every failure becomes a SendError whose message is safe to
 * store and show (no bot token, no password), and which the job queue retries.
 */
import nodemailer, { type Transporter } from "nodemailer";
import type { Message } from "./messages";
import { webhookHeaders } from "./signature";

export class SendError extends Error {
	override name = "SendError";
}

/** Why a request did not get an answer, without the URL (a Telegram URL carries the bot token). */
function unreachable(what: string, err: unknown, timeoutMs: number): SendError {
	const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
	if (e?.name === "TimeoutError" || e?.name === "AbortError") return new SendError(`${what} did not answer within ${timeoutMs} ms`);
	return new SendError(`Could not reach ${what}: ${e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err)}`);
}

async function bodyExcerpt(res: Response): Promise<string> {
	const text = await res.text().catch(() => "");
	return text.replace(/\s+/g, " ").trim().slice(0, 200);
}

/** POSTs the message's JSON, signed; any 2xx is success. Redirects are not followed (the signature is for this URL). */
export async function postWebhook(url: string, secret: string, message: Message, timeoutMs: number): Promise<void> {
	const body = JSON.stringify(message.payload);
	const headers = webhookHeaders(secret, body, String(message.payload.deliveryId), message.event);
	let res: Response;
	try {
		res = await fetch(url, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
	} catch (err) {
		throw unreachable("the webhook receiver", err, timeoutMs);
	}
	if (res.status >= 200 && res.status < 300) {
		await res.body?.cancel().catch(() => undefined);
		return;
	}
	const excerpt = await bodyExcerpt(res);
	throw new SendError(`The webhook receiver answered ${res.status}${excerpt ? `: ${excerpt}` : ""}`);
}

/** Bot API sendMessage; Telegram answers `{ ok, description }`. */
export async function sendTelegram(apiUrl: string, botToken: string, chatId: string, text: string, timeoutMs: number): Promise<void> {
	let res: Response;
	try {
		res = await fetch(`${apiUrl}/bot${botToken}/sendMessage`, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ chat_id: chatId, text, disable_web_page_preview: true }),
			signal: AbortSignal.timeout(timeoutMs),
		});
	} catch (err) {
		throw unreachable("Telegram", err, timeoutMs);
	}
	const answer = (await res.json().catch(() => null)) as { ok?: boolean; description?: string } | null;
	if (res.ok && answer?.ok) return;
	throw new SendError(`Telegram answered ${res.status}${answer?.description ? `: ${answer.description.slice(0, 200)}` : ""}`);
}

/** A mail transport from SMTP_URL (`smtp://user:pass@host:port`, `smtps://` for TLS from the start). */
export function smtpTransport(smtpUrl: string, timeoutMs: number): Transporter {
	const url = new URL(smtpUrl);
	const secure = url.protocol === "smtps:";
	return nodemailer.createTransport({
		host: url.hostname,
		port: url.port ? Number(url.port) : secure ? 465 : 587,
		secure,
		auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
		connectionTimeout: timeoutMs,
		greetingTimeout: timeoutMs,
		socketTimeout: timeoutMs,
	});
}

export async function sendEmail(transport: Transporter, from: string, to: string, message: Message): Promise<void> {
	let info: { rejected?: unknown[] };
	try {
		info = await transport.sendMail({ from, to, subject: message.subject, text: message.text });
	} catch (err) {
		const e = err as { code?: string; responseCode?: number; response?: string; message?: string };
		const detail = e.response ?? e.message ?? String(err);
		throw new SendError(
			`The SMTP server refused the message${e.responseCode ? ` (${e.responseCode})` : e.code ? ` (${e.code})` : ""}: ${detail.slice(0, 200)}`,
		);
	}
	if (info.rejected?.length) throw new SendError(`The SMTP server rejected the recipient ${to}`);
}
