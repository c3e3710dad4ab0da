/** Which channels an alert goes to, and whose personal mutes silence it. */
import { SEVERITIES, type Severity } from "../../entities/alert-rule.entity";

export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

export interface RoutedAlert {
	storeId: string;
	cameraId: string;
	severity: Severity;
}

export interface ChannelRoute {
	enabled: boolean;
	minSeverity: Severity;
	/** null: every store. */
	storeIds: string[] | null;
}

/** An enabled channel takes alerts of at least its severity, from its stores (all when none are listed). */
export function channelWants(channel: ChannelRoute, alert: RoutedAlert): boolean {
	return (
		channel.enabled && severityRank(alert.severity) >= severityRank(channel.minSeverity) && (!channel.storeIds || channel.storeIds.includes(alert.storeId))
	);
}

export interface MuteRule {
	storeId: string;
	/** null: the whole store. */
	cameraId: string | null;
	/** null: until removed. */
	until: Date | null;
}

/** A mute of the alert's store, or of its camera, that has not expired. */
export function muteApplies(mute: MuteRule, alert: RoutedAlert, now: Date): boolean {
	if (mute.until && mute.until.getTime() <= now.getTime()) return false;
	return mute.cameraId ? mute.cameraId === alert.cameraId : mute.storeId === alert.storeId;
}

/** Who gets an email: the listed addresses plus, with `members`, the members who can see the store; minus muted people. */
export function emailRecipients(
	listed: string[],
	members: { email: string; storeIds: string[] | null }[] | null,
	mutedEmails: Set<string>,
	storeId: string,
): string[] {
	const all = new Set(listed.map((a) => a.toLowerCase()));
	for (const m of members ?? []) if (!m.storeIds || m.storeIds.includes(storeId)) all.add(m.email.toLowerCase());
	return [...all].filter((a) => !mutedEmails.has(a)).sort();
}
