/**
 * What the operator commands of `vigil repl` print: plain text from the actions' answers, no broker in here (so
 * each shape is tested on its own). Columns are padded with spaces; no colours, so the output reads the same in a
 * terminal, a log or a test.
 */

export interface QueueRow {
	queue: string;
	pending: number;
	oldestAgeMs: number | null;
	deadLetters: number;
}

export interface NodeRow {
	nodeId: string;
	hostname: string | null;
	available: boolean;
	local: boolean;
	services: string[];
	cpu: number | null;
	detector: { backend: string; model: string; inFlight: number } | null;
}

export interface CameraHealthRow {
	cameraId: string;
	name: string;
	storeName: string | null;
	enabled: boolean;
	status: string;
	lastSeenAt: Date | string | null;
}

export interface ClipView {
	id: string;
	orgId: string;
	storeId: string;
	cameraId: string;
	source: string;
	status: string;
	failureReason: string | null;
	progress: { framesDone: number; framesTotal: number | null; ratio: number };
	createdAt: Date | string;
	startedAt: Date | string | null;
	finishedAt: Date | string | null;
	expiredAt: Date | string | null;
}

export interface ThresholdRow {
	className: string;
	threshold: number | null;
	learned: number | null;
	pinned: number | null;
	verdicts: number;
	precision: number | null;
	suppressedShare: number | null;
}

export interface LetterView {
	queue: string;
	letterId: string;
	jobId: string;
	orgId: string | null;
	error: string;
	attempts: number;
	failedAt: Date | string;
	node: string;
	job?: unknown;
}

export interface RetentionRunView {
	id: string;
	trigger: string;
	node: string;
	startedAt: Date | string;
	finishedAt: Date | string | null;
	removed: Record<string, number>;
	errors?: unknown[] | null;
}

/** Rows as a text table: a header, then one line per row, columns as wide as their widest cell. */
export function table(header: string[], rows: (string | number)[][]): string {
	const cells = [header, ...rows.map((r) => r.map(String))];
	const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
	return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ")).join("\n");
}

/** 3723000 ms: "1h 2m"; 65000: "1m 5s"; 900: "0s". */
export function age(ms: number | null): string {
	if (ms === null) return "-";
	const s = Math.floor(ms / 1000);
	if (s < 60) return `${s}s`;
	if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
	if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
	return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

const time = (at: Date | string | null | undefined): string => (at ? new Date(at).toISOString().replace(/\.\d{3}Z$/, "Z") : "-");
const ratio = (value: number | null): string => (value === null || value === undefined ? "-" : value.toFixed(2));

/** Queues with the nodes that work each one (`consumers`: the available nodes running its worker service). */
export function formatQueues(queues: QueueRow[], consumers: Record<string, string[]>): string {
	return table(
		["QUEUE", "PENDING", "CONSUMERS", "OLDEST", "DEAD LETTERS"],
		queues.map((q) => {
			const nodes = consumers[q.queue] ?? [];
			return [q.queue, q.pending, nodes.length ? `${nodes.length} (${nodes.join(", ")})` : "0", age(q.oldestAgeMs), q.deadLetters];
		}),
	);
}

/** The cluster's nodes; one with no services that has left (a closed REPL) is left out. `self`: this REPL's node. */
export function formatNodes(nodes: NodeRow[], self?: string): string {
	return table(
		["NODE", "STATE", "CPU", "DETECTOR", "SERVICES"],
		nodes
			.filter((n) => n.available || n.services.length)
			.map((n) => [
				n.nodeId + (n.nodeId === self ? " (this REPL)" : ""),
				n.available ? "up" : "down",
				n.cpu === null ? "-" : `${Math.round(n.cpu)}%`,
				n.detector ? `${n.detector.backend} ${n.detector.model} (${n.detector.inFlight} in hand)` : "-",
				n.services.join(",") || "(none)",
			]),
	);
}

/** Per organization: its cameras' counts by liveness, then (with --stale) the stale and offline ones. */
export function formatCameras(orgs: { name: string; counts: Record<string, number>; items: CameraHealthRow[] }[], staleOnly: boolean): string {
	if (!orgs.length) return "No organizations.";
	if (!staleOnly)
		return table(
			["ORGANIZATION", "ONLINE", "STALE", "OFFLINE", "UNKNOWN"],
			orgs.map((o) => [o.name, o.counts.online ?? 0, o.counts.stale ?? 0, o.counts.offline ?? 0, o.counts.unknown ?? 0]),
		);
	const rows = orgs.flatMap((o) => o.items.map((c) => [o.name, c.storeName ?? "-", c.name, c.cameraId, c.status, time(c.lastSeenAt)]));
	if (!rows.length) return "No stale or offline cameras.";
	return table(["ORGANIZATION", "STORE", "CAMERA", "ID", "STATUS", "LAST SEEN"], rows);
}

export function formatClip(clip: ClipView): string {
	const { framesDone, framesTotal, ratio: done } = clip.progress;
	return [
		`clip      ${clip.id} (${clip.source}) camera ${clip.cameraId}, store ${clip.storeId}, organization ${clip.orgId}`,
		`status    ${clip.status}`,
		`progress  ${framesDone}/${framesTotal ?? "?"} frames (${Math.round(done * 100)}%)`,
		`failure   ${clip.failureReason ?? "-"}`,
		`times     created ${time(clip.createdAt)}, started ${time(clip.startedAt)}, finished ${time(clip.finishedAt)}${clip.expiredAt ? `, video removed ${time(clip.expiredAt)}` : ""}`,
	].join("\n");
}

export function formatThresholds(camera: { cameraId: string; name: string }, items: ThresholdRow[]): string {
	if (!items.length) return `Camera ${camera.name} (${camera.cameraId}): no thresholds learned or pinned yet; the detector's defaults apply.`;
	return [
		`Camera ${camera.name} (${camera.cameraId})`,
		table(
			["CLASS", "THRESHOLD", "LEARNED", "PINNED", "VERDICTS", "PRECISION", "SUPPRESSED"],
			items.map((t) => [t.className, ratio(t.threshold), ratio(t.learned), ratio(t.pinned), t.verdicts, ratio(t.precision), ratio(t.suppressedShare)]),
		),
	].join("\n");
}

export function formatLetters(letters: LetterView[]): string {
	if (!letters.length) return "No dead letters.";
	return table(
		["QUEUE", "LETTER", "FAILED", "ATTEMPTS", "NODE", "ERROR"],
		letters.map((l) => [l.queue, l.letterId, time(l.failedAt), l.attempts, l.node, l.error.length > 80 ? `${l.error.slice(0, 77)}...` : l.error]),
	);
}

export function formatLetter(letter: LetterView): string {
	return [
		`letter    ${letter.queue}/${letter.letterId} (job ${letter.jobId})`,
		`org       ${letter.orgId ?? "-"}`,
		`failed    ${time(letter.failedAt)} on ${letter.node}, after ${letter.attempts} attempt(s)`,
		`error     ${letter.error}`,
		`job       ${JSON.stringify(letter.job)}`,
	].join("\n");
}

export function formatRetentionRun(run: RetentionRunView): string {
	const removed = Object.entries(run.removed)
		.map(([kind, n]) => `${kind} ${n}`)
		.join(", ");
	const errors = run.errors?.length ? `; ${run.errors.length} error(s)` : "";
	return `Retention run ${run.id} (${run.trigger}) on ${run.node}: removed ${removed || "nothing"}${errors}; finished ${time(run.finishedAt)}`;
}
