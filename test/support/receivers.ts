/** Real local receivers for notifications: an HTTP webhook endpoint, a fake Telegram Bot API, an SMTP server. */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface Received {
	path: string;
	headers: IncomingHttpHeaders;
	/** The body exactly as it arrived (signatures are over these bytes). */
	raw: string;
	json: any;
}

export interface HttpReceiver {
	url: string;
	/** Requests answered 2xx, in order. */
	received: Received[];
	/** Every request, including the ones answered with a failure. */
	requests: number;
	/** The next `n` requests are answered 500 (a receiver that is down, then recovers). */
	failNext(n: number): void;
	close(): Promise<void>;
}

async function listen(server: Server, port = 0): Promise<string> {
	await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
	return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** An HTTP server that records JSON POSTs; `answer` builds the reply of an accepted request. Port 0: any free one. */
export async function httpReceiver(answer: (r: Received) => unknown = () => ({ ok: true }), port = 0): Promise<HttpReceiver> {
	let failures = 0;
	const receiver: HttpReceiver = {
		url: "",
		received: [],
		requests: 0,
		failNext(n) {
			failures = n;
		},
		close: () => new Promise((resolve) => server.close(() => resolve())),
	};
	const server = createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on("data", (c: Buffer) => chunks.push(c));
		req.on("end", () => {
			receiver.requests++;
			if (failures > 0) {
				failures--;
				res.writeHead(500, { "content-type": "text/plain" }).end("down for maintenance");
				return;
			}
			const raw = Buffer.concat(chunks).toString("utf8");
			let json: unknown = null;
			try {
				json = JSON.parse(raw);
			} catch {
				/* kept raw */
			}
			const received = { path: req.url ?? "", headers: req.headers, raw, json };
			receiver.received.push(received);
			res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer(received)));
		});
	});
	receiver.url = await listen(server, port);
	server.keepAliveTimeout = 100;
	return receiver;
}

/** Telegram answers `{ ok: true, result }` to sendMessage. */
export const fakeTelegram = () => httpReceiver((r) => ({ ok: true, result: { message_id: 1, chat: { id: r.json?.chat_id }, text: r.json?.text } }));

export interface Mail {
	from: string;
	to: string[];
	/** The message as sent (headers and body). */
	raw: string;
	/** Who signed in to send it. */
	user: string | undefined;
}

export interface SmtpReceiver {
	port: number;
	mails: Mail[];
	close(): Promise<void>;
}

/** A real SMTP server (no TLS) that accepts one account and keeps every message. */
export async function smtpReceiver(account: { user: string; pass: string }): Promise<SmtpReceiver> {
	const mails: Mail[] = [];
	const server = new SMTPServer({
		disabledCommands: ["STARTTLS"],
		allowInsecureAuth: true,
		authOptional: false,
		logger: false,
		onAuth(auth, _session, callback) {
			if (auth.username === account.user && auth.password === account.pass) callback(null, { user: auth.username });
			else callback(new Error("Invalid username or password"));
		},
		onData(stream, session, callback) {
			const chunks: Buffer[] = [];
			stream.on("data", (c: Buffer) => chunks.push(c));
			stream.on("end", () => {
				const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
				mails.push({
					from,
					to: session.envelope.rcptTo.map((r) => r.address),
					raw: Buffer.concat(chunks).toString("utf8"),
					user: session.user as string | undefined,
				});
				callback();
			});
		},
	});
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const port = (server.server.address() as AddressInfo).port;
	return { port, mails, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A port nothing listens on (connections are refused). */
export async function closedPort(): Promise<number> {
	const server = createServer();
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const port = (server.address() as AddressInfo).port;
	await new Promise((resolve) => server.close(resolve));
	return port;
}
