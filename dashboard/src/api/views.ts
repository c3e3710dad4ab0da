/**
 * What the dashboard reads from responses. The OpenAPI document describes most response bodies as plain
 * objects, so these small view types name the fields the screens use (see the services' presenters).
 */
export type Role = "owner" | "admin" | "staff" | "superadmin";
export type Severity = "low" | "medium" | "high" | "critical";
export type AlertStatus = "open" | "acknowledged" | "resolved";
export type ClipStatus = "received" | "queued" | "processing" | "done" | "failed";
export type Verdict = "true_positive" | "false_positive" | "wrong_class";

export interface Me {
	id: string;
	email: string;
	displayName: string | null;
	superAdmin: boolean;
}

export interface Organization {
	id: string;
	name: string;
	role: Role;
}

export interface Store {
	id: string;
	orgId: string;
	name: string;
	address: string | null;
	timezone: string;
}

export interface Camera {
	id: string;
	storeId: string;
	name: string;
	kind: string;
	enabled: boolean;
	liveness: { status: "online" | "stale" | "offline" | "unknown"; lastSeenAt: string | null };
	/** A live camera's stream as its stream node pulls it; null for cameras that send to Vigil. */
	stream?: { status: "idle" | "connecting" | "streaming" | "error"; error: string | null; message: string | null } | null;
}

export interface Clip {
	id: string;
	cameraId: string;
	status: ClipStatus;
	failureReason: string | null;
	durationSec: number | null;
	progress: { framesDone: number; framesTotal: number; ratio: number };
	summary: { counts: Record<string, number>; tracks: number } | null;
	createdAt: string;
}

export interface Alert {
	id: string;
	seq: number;
	orgId: string;
	storeId: string;
	cameraId: string;
	className: string;
	score: number;
	severity: Severity;
	occurredAt: string;
	hasSnapshot: boolean;
	status: AlertStatus;
	acknowledgedAt: string | null;
	resolvedAt: string | null;
}

export interface Page<T> {
	items: T[];
	nextCursor?: string | null;
}
