/**
 * What a notification says. Each message has a subject and a text (email, Telegram) and a JSON payload (the
 * webhook body). Times are written in the store's time zone.
 */
import type { Severity } from "../../entities/alert-rule.entity";
import { severityRank } from "./routing";

export interface Message {
	/** `alert.raised`, `alert.digest` or `test`: the webhook's X-Vigil-Event and the body's `type`. */
	event: string;
	subject: string;
	text: string;
	payload: Record<string, unknown>;
}

/** Where an alert happened, by name. */
export interface Place {
	orgId: string;
	storeId: string;
	storeName: string;
	cameraId: string;
	cameraName: string;
	timezone: string;
}

export interface AlertFacts {
	id: string;
	seq: number;
	className: string;
	score: number;
	severity: Severity;
	occurredAt: Date;
	status: string;
	hasSnapshot: boolean;
}

export function formatTime(at: Date, timezone: string): string {
	let zone = timezone;
	try {
		new Intl.DateTimeFormat("en", { timeZone: zone });
	} catch {
		zone = "UTC";
	}
	const text = new Intl.DateTimeFormat("sv-SE", {
		timeZone: zone,
		year: "numeric",
		month: "2-digit",
		day: "2-digit",
		hour: "2-digit",
		minute: "2-digit",
		second: "2-digit",
		hourCycle: "h23",
	}).format(at);
	return `${text} ${zone}`;
}

const where = (p: Place) => `${p.storeName} / ${p.cameraName}`;

export function alertMessage(alert: AlertFacts, place: Place, deliveryId: string): Message {
	const headline = `${alert.severity.toUpperCase()}: ${alert.className} at ${where(place)}`;
	return {
		event: "alert.raised",
		subject: `[Vigil] ${headline}`,
		text: [
			headline,
			`When: ${formatTime(alert.occurredAt, place.timezone)}`,
			`Confidence: ${Math.round(alert.score * 100)}%`,
			`Alert: #${alert.seq} (${alert.id})`,
		].join("\n"),
		payload: {
			type: "alert.raised",
			deliveryId,
			alert: {
				id: alert.id,
				seq: alert.seq,
				orgId: place.orgId,
				storeId: place.storeId,
				storeName: place.storeName,
				cameraId: place.cameraId,
				cameraName: place.cameraName,
				className: alert.className,
				score: alert.score,
				severity: alert.severity,
				occurredAt: alert.occurredAt.toISOString(),
				status: alert.status,
				hasSnapshot: alert.hasSnapshot,
			},
		},
	};
}

export interface DigestFacts {
	id: string;
	windowStart: Date;
	windowEnd: Date;
	/** The alerts held back in the window. */
	alerts: Pick<AlertFacts, "id" | "seq" | "className" | "severity" | "occurredAt">[];
	/** The rate limit, for the reader: why these came as a digest. */
	limit: number;
	windowSec: number;
}

/** Held alerts grouped by class and severity, most severe first, then most frequent. */
export function summarize(alerts: DigestFacts["alerts"]): { className: string; severity: Severity; count: number }[] {
	const groups = new Map<string, { className: string; severity: Severity; count: number }>();
	for (const a of alerts) {
		const key = `${a.severity}\u0000${a.className}`;
		const group = groups.get(key) ?? groups.set(key, { className: a.className, severity: a.severity, count: 0 }).get(key)!;
		group.count++;
	}
	return [...groups.values()].sort(
		(a, b) => severityRank(b.severity) - severityRank(a.severity) || b.count - a.count || a.className.localeCompare(b.className),
	);
}

export function digestMessage(digest: DigestFacts, place: Place): Message {
	const alerts = [...digest.alerts].sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
	const groups = summarize(alerts);
	const top = groups.reduce<Severity>((max, g) => (severityRank(g.severity) > severityRank(max) ? g.severity : max), "low");
	const n = alerts.length;
	const headline = `${n} more alert${n === 1 ? "" : "s"} at ${where(place)} (up to ${top})`;
	const first = alerts[0]?.occurredAt ?? digest.windowStart;
	const last = alerts[n - 1]?.occurredAt ?? digest.windowEnd;
	return {
		event: "alert.digest",
		subject: `[Vigil] ${headline}`,
		text: [
			headline,
			`Between ${formatTime(first, place.timezone)} and ${formatTime(last, place.timezone)}.`,
			...groups.map((g) => `- ${g.count} × ${g.className} (${g.severity})`),
			`More than ${digest.limit} alerts within ${digest.windowSec} s: these are summed up in one message.`,
		].join("\n"),
		payload: {
			type: "alert.digest",
			deliveryId: digest.id,
			orgId: place.orgId,
			storeId: place.storeId,
			storeName: place.storeName,
			cameraId: place.cameraId,
			cameraName: place.cameraName,
			window: { start: digest.windowStart.toISOString(), end: digest.windowEnd.toISOString() },
			count: n,
			groups,
			alerts: alerts.map((a) => ({ id: a.id, seq: a.seq, className: a.className, severity: a.severity, occurredAt: a.occurredAt.toISOString() })),
		},
	};
}

export function testMessage(channel: { id: string; name: string; orgId: string }, deliveryId: string): Message {
	const text = `Test message from Vigil for the channel "${channel.name}". If you can read this, alerts will reach you here.`;
	return {
		event: "test",
		subject: "[Vigil] Test notification",
		text,
		payload: { type: "test", deliveryId, orgId: channel.orgId, channelId: channel.id, text },
	};
}
