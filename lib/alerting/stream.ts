/**
 * The live alert stream (GET /api/v1/alerts/stream, Server-Sent Events), without a broker: the gateway hands
 * it the alerts it hears, the access changes broadcast by tenancy and auth, and a few calls to make.
 *
 * - Alerts reach each gateway in one global order: a higher sequence number is held until the lower ones arrive
 *   or a short wait passes (then the database fills the gap), so a client resuming from Last-Event-ID misses none.
 * - Each stream follows its caller's access: a change of membership or stores re-reads what the caller may see
 *   at once, a session-ending change (password, sign-out everywhere, stolen refresh token) ends the stream, and
 *   no stream outlives the access token that opened it. An ended stream says `event: reauthenticate`.
 */
import jwt from "jsonwebtoken";
import { VigilError } from "../platform/errors";
import { parseCookies } from "../platform/http";
import { ACCESS_COOKIE } from "../security/tokens";

export interface AlertEvent {
	seq: number;
	storeId: string;
	[key: string]: unknown;
}

/** What one user may see: every store (super-admins) or these stores, in these organizations. */
export interface Visibility {
	all: boolean;
	storeIds: string[];
	orgIds?: string[];
}

/** Broadcast as `access.changed` by the service that changed who may see what. */
export interface AccessChange {
	userIds?: string[];
	/** Every member of this organization may see other stores now (a store created or deleted, the org deleted). */
	orgId?: string;
	reason: string;
}

/** Reasons after which a user's open streams end whatever their token says: the client signs in again. */
export const SESSION_ENDING_REASONS = new Set(["password_changed", "logout_all", "refresh_reused", "user_disabled", "user_deleted"]);

/** Comment lines that keep proxies and load balancers from closing an idle stream. */
export const SSE_HEARTBEAT_MS = 15_000;
/** Reconnect delay suggested to clients at the start of a stream. */
export const SSE_RETRY_MS = 3000;
/** Reconnect delay suggested when a stream ends for its access: soon, with a fresh token. */
export const SSE_REAUTH_RETRY_MS = 1000;
/** Sequence numbers a stream (and the gateway) remembers having sent, so an alert arriving twice is sent once. */
const SENT_MEMORY = 10_000;
/** Alerts read from the database per call when replaying or filling a gap (alert.since allows up to 1000). */
export const SINCE_BATCH = 500;

/** Sequence numbers are PostgreSQL bigints read as JS numbers: beyond this they cannot name an alert. */
const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/**
 * The resume point of a reconnecting client (Last-Event-ID header or ?lastEventId=). Absent or empty: from now.
 * Anything else that is not a sequence number is refused with 400, before the stream opens.
 */
export function parseResumePoint(raw: string | string[] | null | undefined): number | undefined {
	const value = Array.isArray(raw) ? raw[0] : raw;
	if (value === undefined || value === null || value.trim() === "") return undefined;
	const text = value.trim();
	if (!/^\d{1,20}$/.test(text) || Number(text) > MAX_SEQ) {
		throw new VigilError(`Last-Event-ID must be an alert sequence number from 0 to ${MAX_SEQ}`, 400, "INVALID_LAST_EVENT_ID");
	}
	return Number(text);
}

/** The access token a request presented, as the gateway reads it: Bearer header first, else the access cookie. */
export function presentedAccessToken(headers: { authorization?: string; cookie?: string }): string | undefined {
	const header = headers.authorization;
	if (typeof header === "string" && /^Bearer\s/i.test(header)) return header.slice(7).trim() || undefined;
	return parseCookies(headers.cookie)[ACCESS_COOKIE] || undefined;
}

/** When an access token (already verified by auth) stops being valid, in ms since the epoch. */
export function tokenExpiry(token: string | undefined): number | undefined {
	if (!token) return undefined;
	const payload = jwt.decode(token);
	return payload && typeof payload === "object" && typeof payload.exp === "number" ? payload.exp * 1000 : undefined;
}

/** A set that forgets its oldest members past a size. */
class RecentSet {
	private readonly items = new Set<number>();
	constructor(private readonly max: number) {}
	has(value: number) {
		return this.items.has(value);
	}
	add(value: number) {
		this.items.add(value);
		if (this.items.size > this.max) this.items.delete(this.items.values().next().value as number);
	}
}

export interface SequencerOptions {
	/** How long a higher sequence number waits for a lower one before the gap is filled from the database. */
	waitMs: number;
	/** Alerts after this sequence number, oldest first (the gateway asks alert.since for every store). */
	fetchAfter(seq: number): Promise<AlertEvent[]>;
	deliver(alert: AlertEvent): void;
	onError?(err: unknown): void;
}

/**
 * Puts the alerts one gateway hears back into sequence order. Alerts are numbered when inserted but committed
 * and broadcast in any order (11 may arrive before 10), and some numbers are never used (an insert that found
 * its alert already there). A gap is waited for `waitMs`; then alerts after the last delivered one are read from
 * the database (which also recovers a lost broadcast) and delivery goes on past what is still missing. An alert
 * that arrives after its gap was given up on is still delivered, late, rather than lost.
 */
export class AlertSequencer {
	/** Highest sequence number delivered in order; undefined until the first alerts have been put in order. */
	private cursor: number | undefined;
	private readonly held = new Map<number, AlertEvent>();
	private readonly delivered = new RecentSet(SENT_MEMORY);
	private timer: NodeJS.Timeout | undefined;
	private filling = false;

	constructor(private readonly options: SequencerOptions) {}

	push(alert: AlertEvent): void {
		if (this.delivered.has(alert.seq)) return;
		if (this.cursor !== undefined && alert.seq <= this.cursor) return this.emit(alert);
		this.held.set(alert.seq, alert);
		if (!this.filling) this.drain();
	}

	close(): void {
		clearTimeout(this.timer);
		this.timer = undefined;
	}

	private emit(alert: AlertEvent) {
		this.delivered.add(alert.seq);
		this.options.deliver(alert);
	}

	/** Delivers the held alerts that follow the cursor without a gap; waits for the rest. */
	private drain() {
		if (this.cursor !== undefined) {
			for (let next = this.held.get(this.cursor + 1); next; next = this.held.get(this.cursor + 1)) {
				this.held.delete(next.seq);
				this.cursor = next.seq;
				this.emit(next);
			}
		}
		if (!this.held.size) {
			clearTimeout(this.timer);
			this.timer = undefined;
		} else {
			this.timer ??= setTimeout(() => void this.fillGap(), this.options.waitMs);
		}
	}

	private async fillGap() {
		this.timer = undefined;
		this.filling = true;
		try {
			// The first alerts a gateway hears have no known predecessor: they were only put in order.
			if (this.cursor !== undefined) {
				const missed = await this.options.fetchAfter(this.cursor).catch((err: unknown) => {
					this.options.onError?.(err);
					return [];
				});
				for (const alert of missed) if (!this.delivered.has(alert.seq) && alert.seq > this.cursor) this.held.set(alert.seq, alert);
			}
			const lowest = Math.min(...this.held.keys());
			if (Number.isFinite(lowest)) this.cursor = lowest - 1;
		} finally {
			this.filling = false;
		}
		this.drain();
	}
}

/** Where a stream writes: an HTTP response. */
export interface StreamSink {
	write(chunk: string): unknown;
	end(): unknown;
	readonly writableEnded?: boolean;
}

/** The signed-in user a stream belongs to. */
export interface StreamCaller {
	userId: string;
	email: string;
	superAdmin: boolean;
}

export interface AlertStreamOptions {
	caller: StreamCaller;
	token?: string;
	visibility: Visibility;
	/** Last-Event-ID: alerts up to it are not sent again. Until `replayed`, live alerts are held. */
	resumeFrom?: number;
	/** ms since the epoch: the stream ends then, as its token would. */
	expiresAt?: number;
	onEnd(stream: AlertStream): void;
}

/** One open stream: what its user may see, what it already sent, and how it ends. */
export class AlertStream {
	readonly caller: StreamCaller;
	readonly token: string | undefined;
	private stores: Set<string>;
	private all: boolean;
	private orgs: Set<string>;
	private readonly resumeFrom: number | undefined;
	private readonly sent = new RecentSet(SENT_MEMORY);
	/** Live alerts held while the stream replays or re-reads its access; delivered (or dropped) afterwards. */
	private held: AlertEvent[] = [];
	private holds = 0;
	private ended = false;
	private readonly heartbeat: NodeJS.Timeout;
	private readonly expiry: NodeJS.Timeout | undefined;
	/** Only the latest access re-check applies: an older answer arriving late must not undo a newer one. */
	private checks = 0;

	constructor(
		private readonly sink: StreamSink,
		private readonly options: AlertStreamOptions,
	) {
		this.caller = options.caller;
		this.token = options.token;
		this.all = options.visibility.all;
		this.stores = new Set(options.visibility.storeIds);
		this.orgs = new Set(options.visibility.orgIds ?? []);
		this.resumeFrom = options.resumeFrom;
		if (this.resumeFrom !== undefined) this.holds++;
		this.write(`retry: ${SSE_RETRY_MS}\n\n`);
		this.heartbeat = setInterval(() => this.write(": ping\n\n"), SSE_HEARTBEAT_MS);
		if (options.expiresAt !== undefined) {
			// setTimeout fires at once beyond 2^31-1 ms; tokens live far less (ACCESS_TOKEN_TTL ≤ 1 day).
			const remaining = Math.min(Math.max(0, options.expiresAt - Date.now()), 2 ** 31 - 1);
			this.expiry = setTimeout(() => this.end("token_expired"), remaining);
		}
	}

	get isEnded() {
		return this.ended;
	}

	get visibility(): Visibility {
		return { all: this.all, storeIds: [...this.stores], orgIds: [...this.orgs] };
	}

	/** Whether a change in this organization may change what this stream sees. */
	concerns(change: AccessChange): boolean {
		if (change.userIds?.includes(this.caller.userId)) return true;
		return !this.all && change.orgId !== undefined && this.orgs.has(change.orgId);
	}

	canSee(storeId: string): boolean {
		return this.all || this.stores.has(storeId);
	}

	push(alert: AlertEvent): void {
		if (this.ended) return;
		if (this.holds) this.held.push(alert);
		else this.send(alert);
	}

	/** `alert.updated` (acknowledged, resolved): no id, so the client's resume point stays its last alert. */
	update(alert: AlertEvent): void {
		if (this.ended || !this.canSee(alert.storeId)) return;
		this.write(`event: alert.updated\ndata: ${JSON.stringify(alert)}\n\n`);
	}

	/** The alerts missed since Last-Event-ID were read: send them, then what arrived live meanwhile. */
	replayed(missed: AlertEvent[]): void {
		for (const alert of missed) this.send(alert);
		this.release();
	}

	/** Starts an access re-check: live alerts wait for its answer. Returns its ticket for `checked`. */
	checking(): number {
		this.holds++;
		return ++this.checks;
	}

	/**
	 * The answer of a re-check: the caller's current visibility, or why the stream must end. A stream that lost
	 * a store ends (its client reconnects and sees what it may); one that gained stores carries on with them.
	 */
	checked(ticket: number, answer: Visibility | { end: string }): void {
		if (ticket === this.checks && !this.ended) {
			if ("end" in answer) {
				this.end(answer.end);
			} else {
				const lost = (this.all && !answer.all) || (!answer.all && [...this.stores].some((id) => !answer.storeIds.includes(id)));
				if (lost) {
					this.end("access_changed");
				} else {
					this.all = answer.all;
					this.stores = new Set(answer.storeIds);
					this.orgs = new Set(answer.orgIds ?? []);
				}
			}
		}
		this.release();
	}

	/** Ends the stream telling the client why and to reconnect with a fresh token; `reason` is machine-readable. */
	end(reason: string): void {
		if (this.ended) return;
		this.write(`event: reauthenticate\nretry: ${SSE_REAUTH_RETRY_MS}\ndata: ${JSON.stringify({ reason })}\n\n`);
		this.dispose();
		this.sink.end();
	}

	/** The client went away (or the gateway stops): forget the stream without writing. */
	dispose(): void {
		if (this.ended) return;
		this.ended = true;
		this.held = [];
		clearInterval(this.heartbeat);
		clearTimeout(this.expiry);
		this.options.onEnd(this);
	}

	private release() {
		if (this.holds > 0) this.holds--;
		if (this.holds || this.ended) return;
		const held = this.held.sort((a, b) => a.seq - b.seq);
		this.held = [];
		for (const alert of held) this.send(alert);
	}

	private send(alert: AlertEvent) {
		if (this.ended || !this.canSee(alert.storeId) || this.sent.has(alert.seq)) return;
		if (this.resumeFrom !== undefined && alert.seq <= this.resumeFrom) return;
		this.sent.add(alert.seq);
		this.write(`id: ${alert.seq}\nevent: alert\ndata: ${JSON.stringify(alert)}\n\n`);
	}

	private write(chunk: string) {
		if (!this.sink.writableEnded) this.sink.write(chunk);
	}
}

/** What the gateway does for the streams: the calls behind visibility, replay and token checks. */
export interface AlertStreamBackend {
	visibleStores(caller: StreamCaller): Promise<Visibility>;
	/** Alerts after `afterSeq` in these stores (or every store), oldest first, at most `limit`. */
	since(afterSeq: number, visibility: Visibility, limit: number): Promise<AlertEvent[]>;
	/** Resolves when the token is still good; rejects with `{ code: 401, type }` when auth refuses it. */
	checkToken(token: string): Promise<unknown>;
	log: { warn(message: string, ...args: unknown[]): void };
}

export interface OpenRequest {
	caller: StreamCaller;
	token?: string;
	resumeFrom?: number;
}

/** Every open stream of one gateway, fed by its events. */
export class AlertStreamHub {
	private readonly streams = new Set<AlertStream>();
	private readonly sequencer: AlertSequencer;

	constructor(
		private readonly backend: AlertStreamBackend,
		private readonly options: { reorderWaitMs: number; replayMax: number },
	) {
		this.sequencer = new AlertSequencer({
			waitMs: options.reorderWaitMs,
			fetchAfter: (seq) => backend.since(seq, { all: true, storeIds: [] }, SINCE_BATCH),
			deliver: (alert) => {
				for (const stream of this.streams) stream.push(alert);
			},
			onError: (err) => backend.log.warn("Could not read missed alerts; delivering without them", err),
		});
	}

	get size() {
		return this.streams.size;
	}

	/** Opens a stream on `sink` (headers already sent); replays from `resumeFrom` first. */
	async open(sink: StreamSink, request: OpenRequest): Promise<AlertStream> {
		const visibility = await this.backend.visibleStores(request.caller);
		const stream = new AlertStream(sink, {
			caller: request.caller,
			token: request.token,
			visibility,
			resumeFrom: request.resumeFrom,
			expiresAt: tokenExpiry(request.token),
			onEnd: (s) => this.streams.delete(s),
		});
		this.streams.add(stream);
		if (request.resumeFrom !== undefined) {
			const missed: AlertEvent[] = [];
			let after = request.resumeFrom;
			while (missed.length < this.options.replayMax && !stream.isEnded) {
				const batch = await this.backend.since(after, visibility, Math.min(SINCE_BATCH, this.options.replayMax - missed.length));
				missed.push(...batch);
				if (batch.length < SINCE_BATCH) break;
				after = batch[batch.length - 1].seq;
			}
			stream.replayed(missed);
		}
		return stream;
	}

	raised(alert: AlertEvent): void {
		this.sequencer.push(alert);
	}

	updated(alert: AlertEvent): void {
		for (const stream of this.streams) stream.update(alert);
	}

	/** Re-checks at once every stream the change may concern; resolves when all have their answer. */
	async accessChanged(change: AccessChange): Promise<void> {
		const affected = [...this.streams].filter((s) => s.concerns(change));
		await Promise.all(
			affected.map(async (stream) => {
				const ticket = stream.checking();
				stream.checked(ticket, await this.recheck(stream, change));
			}),
		);
	}

	close(): void {
		this.sequencer.close();
		for (const stream of this.streams) stream.end("server_stopping");
	}

	private async recheck(stream: AlertStream, change: AccessChange): Promise<Visibility | { end: string }> {
		if (change.userIds?.includes(stream.caller.userId) && SESSION_ENDING_REASONS.has(change.reason)) return { end: "session_ended" };
		try {
			if (stream.token) await this.backend.checkToken(stream.token);
			return await this.backend.visibleStores(stream.caller);
		} catch (err) {
			const e = err as { code?: number; type?: string };
			if (e.code === 401) return { end: e.type === "TOKEN_EXPIRED" ? "token_expired" : "session_ended" };
			// Access could not be confirmed: end rather than keep sending what may no longer be allowed.
			this.backend.log.warn("Could not re-check a live stream's access; ending it", err);
			return { end: "access_changed" };
		}
	}
}
