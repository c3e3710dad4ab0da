/**
 * The operator socket: how `vigil repl` reaches an embedded server (one process, no TRANSPORTER). A Moleculer
 * transporter over a Unix domain socket in DATA_DIR: the server is the hub, listening, and relays packets between
 * itself and the REPL nodes attached to it; a REPL node is a client. Only the same OS user can attach (the socket's
 * folder is 0700, the socket 0600). The server's own calls and events never touch it: they are local (preferLocal),
 * and a REPL node runs no services, so nothing is ever balanced onto it.
 *
 * A frame on the socket: length (u32, of what follows), kind (u8: subscribe or publish), topic length (u16), topic,
 * and for a publish the packet as the serializer wrote it.
 */
import { chmodSync, existsSync, mkdirSync, unlinkSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { dirname, join } from "node:path";
import { Transporters, type LoggerInstance, type ServiceBroker } from "moleculer";

const SUBSCRIBE = 1;
const PUBLISH = 2;
/** Unix socket paths longer than this do not fit in sockaddr_un on Linux (108 bytes with the terminating zero). */
const PATH_MAX = 107;

/** Where a server on this DATA_DIR listens for `vigil repl`. */
export const operatorSocketPath = (dataDir: string): string => join(dataDir, "run", "operator.sock");

/** Raised when no server listens on the socket (the REPL's one line), or another one already does (the server's). */
export class OperatorSocketError extends Error {
	override name = "OperatorSocketError";
}

/** The one line `vigil repl` says when there is nothing to attach to. */
export const noServer = (path: string): string =>
	`No Vigil server is running on DATA_DIR ${dirname(dirname(path))} (nothing listens on ${path}): start one with \`vigil start\`, or set TRANSPORTER to reach a cluster`;

function frame(kind: number, topic: string, data?: Buffer): Buffer<ArrayBufferLike> {
	const name = Buffer.from(topic, "utf8");
	const head = Buffer.alloc(7);
	head.writeUInt32BE(3 + name.length + (data?.length ?? 0), 0);
	head.writeUInt8(kind, 4);
	head.writeUInt16BE(name.length, 5);
	return Buffer.concat(data ? [head, name, data] : [head, name]);
}

/** Splits a socket's byte stream into frames, calling `onFrame` for each whole one. */
function frameReader(onFrame: (kind: number, topic: string, data: Buffer) => void): (chunk: Buffer) => void {
	let pending: Buffer<ArrayBufferLike> = Buffer.alloc(0);
	return (chunk) => {
		pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
		while (pending.length >= 4) {
			const length = pending.readUInt32BE(0);
			if (pending.length < 4 + length) break;
			const body = pending.subarray(4, 4 + length);
			pending = pending.subarray(4 + length);
			const topicLength = body.readUInt16BE(1);
			onFrame(body.readUInt8(0), body.subarray(3, 3 + topicLength).toString("utf8"), body.subarray(3 + topicLength));
		}
	};
}

/** Whether something answers on the socket (a running server), as opposed to no file or one a killed server left behind. */
export function answers(path: string): Promise<boolean> {
	return new Promise((resolve) => {
		const probe = createConnection(path);
		probe.once("connect", () => {
			probe.destroy();
			resolve(true);
		});
		probe.once("error", () => resolve(false));
	});
}

interface Peer {
	socket: Socket;
	topics: Set<string>;
}

export interface OperatorSocketOptions {
	path: string;
	/** `hub`: the server, listening; `client`: a REPL node attaching to it. */
	role: "hub" | "client";
	/** Client only: called when the server goes away while attached. */
	onServerGone?: () => void;
}

export class OperatorSocketTransporter extends Transporters.Base {
	/** Set by Moleculer's base transporter (its typings leave them out). */
	declare connected: boolean;
	declare logger: LoggerInstance;
	declare broker: ServiceBroker;
	private readonly path: string;
	private readonly role: "hub" | "client";
	private readonly onServerGone?: () => void;
	/** This node's own subscriptions: topic to packet type. */
	private readonly subscriptions = new Map<string, string>();
	private server?: Server;
	private readonly peers = new Set<Peer>();
	private socket?: Socket;
	private closing = false;

	constructor(options: OperatorSocketOptions) {
		super(options);
		this.path = options.path;
		this.role = options.role;
		this.onServerGone = options.onServerGone;
	}

	override async connect(): Promise<void> {
		if (this.role === "hub") {
			// Moleculer retries a failed connect for ever: a second server on one DATA_DIR must stop instead.
			await this.listen().catch((err: Error) => this.broker.fatal(err.message, err, true));
		} else await this.attach();
		await this.onConnected();
	}

	override async disconnect(): Promise<void> {
		this.closing = true;
		this.connected = false;
		if (this.socket) {
			const socket = this.socket;
			this.socket = undefined;
			await new Promise<void>((resolve) => socket.end(resolve));
		}
		if (this.server) {
			const server = this.server;
			this.server = undefined;
			for (const peer of this.peers) peer.socket.destroy();
			this.peers.clear();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		}
	}

	override async subscribe(cmd: string, nodeID?: string): Promise<void> {
		const topic = this.getTopicName(cmd, nodeID);
		this.subscriptions.set(topic, cmd);
		this.socket?.write(frame(SUBSCRIBE, topic));
	}

	override async send(topic: string, data: Buffer): Promise<void> {
		if (this.socket) this.socket.write(frame(PUBLISH, topic, data));
		else this.relay(topic, data, undefined);
	}

	/** A packet on `topic` from `from` (a peer, or this hub itself) goes to every other subscriber of it. */
	private relay(topic: string, data: Buffer, from: Peer | undefined): void {
		if (from) {
			const cmd = this.subscriptions.get(topic);
			if (cmd) this.receive(cmd, data);
		}
		let encoded: Buffer | undefined;
		for (const peer of this.peers) {
			if (peer === from || !peer.topics.has(topic)) continue;
			peer.socket.write((encoded ??= frame(PUBLISH, topic, data)));
		}
	}

	private async listen(): Promise<void> {
		if (this.path.length > PATH_MAX)
			throw new OperatorSocketError(`The operator socket path is too long for a Unix socket (${this.path.length} bytes): use a shorter DATA_DIR`);
		const dir = dirname(this.path);
		mkdirSync(dir, { recursive: true, mode: 0o700 });
		// The folder keeps other users out even in the moment between listen() and the socket's chmod.
		chmodSync(dir, 0o700);
		if (existsSync(this.path)) {
			if (await answers(this.path))
				throw new OperatorSocketError(`Another Vigil server is running on this DATA_DIR (its operator socket ${this.path} answers)`);
			unlinkSync(this.path);
		}
		const server = createServer((socket) => this.accept(socket));
		await new Promise<void>((resolve, reject) => {
			server.once("error", reject);
			server.listen(this.path, () => {
				server.off("error", reject);
				resolve();
			});
		});
		chmodSync(this.path, 0o600);
		server.on("error", (err) => this.logger.warn("Operator socket error:", err.message));
		this.server = server;
	}

	private accept(socket: Socket): void {
		const peer: Peer = { socket, topics: new Set() };
		this.peers.add(peer);
		socket.on(
			"data",
			frameReader((kind, topic, data) => {
				if (kind === SUBSCRIBE) peer.topics.add(topic);
				else if (kind === PUBLISH) this.relay(topic, data, peer);
			}),
		);
		socket.on("error", () => socket.destroy());
		socket.on("close", () => this.peers.delete(peer));
	}

	private async attach(): Promise<void> {
		const socket = await new Promise<Socket>((resolve, reject) => {
			const s = createConnection(this.path);
			s.once("connect", () => resolve(s));
			s.once("error", (err: NodeJS.ErrnoException) =>
				reject(err.code === "ENOENT" || err.code === "ECONNREFUSED" ? new OperatorSocketError(noServer(this.path)) : err),
			);
		});
		socket.on(
			"data",
			frameReader((kind, topic, data) => {
				const cmd = this.subscriptions.get(topic);
				if (kind === PUBLISH && cmd) this.receive(cmd, data);
			}),
		);
		socket.on("error", () => socket.destroy());
		socket.on("close", () => {
			this.connected = false;
			if (!this.closing) this.onServerGone?.();
		});
		this.socket = socket;
	}
}
