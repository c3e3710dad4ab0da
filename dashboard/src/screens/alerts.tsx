/**
 * Live alerts of one store: the latest page from the API, then every new alert and every acknowledgement or
 * resolution (by anyone) from the Server-Sent Events stream, without reloading. Newest first.
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, ensureSession, fillPath } from "../api/client";
import type { Alert, AlertStatus, Page, Severity, Store, Verdict } from "../api/views";
import { Empty, ErrorNote, Loading, timeOf } from "../ui";
import { useCameras } from "./cameras";

const SEVERITIES: Severity[] = ["critical", "high", "medium", "low"];
const STATUSES: AlertStatus[] = ["open", "acknowledged", "resolved"];
const VERDICT_LABEL: Record<Verdict, string> = { true_positive: "True positive", false_positive: "False positive", wrong_class: "Wrong class" };
/** What a wrong class can be corrected to; anything else is typed. */
const COMMON_CLASSES = ["person", "car", "truck", "bicycle", "motorcycle", "bus", "dog", "cat"];
const PAGE = 50;

interface Filters {
	status: AlertStatus | "";
	severity: Severity | "";
	cameraId: string;
}

const matches = (alert: Alert, store: Store, f: Filters) =>
	alert.storeId === store.id &&
	(!f.status || alert.status === f.status) &&
	(!f.severity || alert.severity === f.severity) &&
	(!f.cameraId || alert.cameraId === f.cameraId);

type Connection = "connecting" | "live" | "reconnecting";

/** The alert stream, reopened after `event: reauthenticate` (or a refused open) once the session is good again. */
function useAlertStream(onAlert: (alert: Alert) => void): Connection {
	const [connection, setConnection] = useState<Connection>("connecting");
	useEffect(() => {
		let source: EventSource | undefined;
		let closed = false;
		let lastId = "";
		const open = () => {
			if (closed) return;
			source = new EventSource(lastId ? `/api/v1/alerts/stream?lastEventId=${lastId}` : "/api/v1/alerts/stream");
			source.onopen = () => setConnection("live");
			const take = (e: MessageEvent) => {
				if (e.lastEventId) lastId = e.lastEventId;
				onAlert(JSON.parse(e.data) as Alert);
			};
			source.addEventListener("alert", take);
			source.addEventListener("alert.updated", (e) => onAlert(JSON.parse((e as MessageEvent).data) as Alert));
			source.addEventListener("reauthenticate", () => reopen());
			// The browser retries a dropped stream by itself; a refused one (401) it closes: refresh, then reopen.
			source.onerror = () => {
				setConnection("reconnecting");
				if (source?.readyState === EventSource.CLOSED) reopen();
			};
		};
		const reopen = async () => {
			source?.close();
			if (closed) return;
			setConnection("reconnecting");
			// Signed out for good: the page shows the sign-in form and this screen goes away.
			if (await ensureSession()) setTimeout(open, 1000);
		};
		// Leaving the page cuts the stream too; that is no reason to touch the session.
		const leave = () => {
			closed = true;
			source?.close();
		};
		addEventListener("pagehide", leave);
		open();
		return () => {
			removeEventListener("pagehide", leave);
			leave();
		};
	}, []);
	return connection;
}

export function Alerts({ store }: { store: Store }) {
	const { cameras } = useCameras(store);
	const [filters, setFilters] = useState<Filters>({ status: "", severity: "", cameraId: "" });
	const [alerts, setAlerts] = useState<Alert[] | null>(null);
	const [error, setError] = useState<unknown>(null);
	const path = { orgId: store.orgId, storeId: store.id };

	useEffect(() => {
		setAlerts(null);
		setError(null);
		api<Page<Alert>, "get", "/api/v1/orgs/{orgId}/stores/{storeId}/alerts">("get", "/api/v1/orgs/{orgId}/stores/{storeId}/alerts", {
			path,
			query: {
				limit: PAGE,
				...(filters.status && { status: filters.status }),
				...(filters.severity && { severity: filters.severity }),
				...(filters.cameraId && { cameraId: filters.cameraId }),
			},
		}).then(
			// A live alert may have arrived while the page loaded: keep both, once each.
			(page) => setAlerts((live) => merge(live ?? [], page.items)),
			setError,
		);
	}, [store.id, filters.status, filters.severity, filters.cameraId]);

	const connection = useAlertStream((alert) => setAlerts((list) => merge(list ?? [], [alert])));
	const shown = useMemo(() => (alerts ?? []).filter((a) => matches(a, store, filters)), [alerts, filters, store.id]);
	const cameraName = (id: string) => cameras?.find((c) => c.id === id)?.name ?? "Camera";
	const replace = (alert: Alert) => setAlerts((list) => merge(list ?? [], [alert]));

	const select = <K extends keyof Filters>(key: K, label: string, options: [string, string][]) => (
		<div class="field">
			<label for={`filter-${key}`}>{label}</label>
			<select id={`filter-${key}`} value={filters[key]} onChange={(e) => setFilters({ ...filters, [key]: e.currentTarget.value })}>
				<option value="">All</option>
				{options.map(([value, text]) => (
					<option value={value}>{text}</option>
				))}
			</select>
		</div>
	);

	return (
		<section aria-labelledby="alerts-title">
			<div class="section-head">
				<h1 id="alerts-title">Alerts of {store.name}</h1>
				<span class={`badge stream-${connection}`} role="status">
					{connection === "live" ? "Live" : connection === "connecting" ? "Connecting…" : "Reconnecting…"}
				</span>
			</div>
			<form class="filters" aria-label="Filter alerts" onSubmit={(e) => e.preventDefault()}>
				{select(
					"status",
					"Status",
					STATUSES.map((s) => [s, s]),
				)}
				{select(
					"severity",
					"Severity",
					SEVERITIES.map((s) => [s, s]),
				)}
				{select(
					"cameraId",
					"Camera",
					(cameras ?? []).map((c) => [c.id, c.name]),
				)}
			</form>
			{error ? (
				<ErrorNote error={error} />
			) : !alerts ? (
				<Loading what="alerts" />
			) : shown.length === 0 ? (
				<Empty>{alerts.length ? "No alert matches these filters." : "No alerts yet. New ones appear here the moment a rule matches, without reloading."}</Empty>
			) : (
				<ul class="alerts" aria-live="polite">
					{shown.map((alert) => (
						<AlertCard alert={alert} camera={cameraName(alert.cameraId)} store={store} onChanged={replace} />
					))}
				</ul>
			)}
		</section>
	);
}

/** Newest first (by sequence number), each alert once, the latest version of it kept. */
function merge(list: Alert[], incoming: Alert[]): Alert[] {
	const byId = new Map(list.map((a) => [a.id, a]));
	for (const alert of incoming) byId.set(alert.id, { ...byId.get(alert.id), ...alert });
	return [...byId.values()].sort((a, b) => b.seq - a.seq);
}

function AlertCard(props: { alert: Alert & { myVerdict?: Verdict | null }; camera: string; store: Store; onChanged: (alert: Alert) => void }) {
	const { alert, store } = props;
	const [verdict, setVerdict] = useState<Verdict | null>(alert.myVerdict ?? null);
	const [correcting, setCorrecting] = useState(false);
	// A reloaded list brings the verdict back; live updates carry nobody's own verdict, so they never clear it.
	useEffect(() => {
		if (alert.myVerdict) setVerdict(alert.myVerdict);
	}, [alert.myVerdict]);
	const [pending, setPending] = useState(false);
	const [error, setError] = useState<unknown>(null);
	const path = { orgId: store.orgId, storeId: store.id, alertId: alert.id };
	const run = async (action: () => Promise<unknown>) => {
		setPending(true);
		setError(null);
		try {
			await action();
		} catch (err) {
			setError(err);
		} finally {
			setPending(false);
		}
	};
	const acknowledge = () =>
		run(async () =>
			props.onChanged(
				await api<Alert, "post", "/api/v1/orgs/{orgId}/stores/{storeId}/alerts/{alertId}/acknowledge">(
					"post",
					"/api/v1/orgs/{orgId}/stores/{storeId}/alerts/{alertId}/acknowledge",
					{ path },
				),
			),
		);
	const resolve = () =>
		run(async () =>
			props.onChanged(
				await api<Alert, "post", "/api/v1/orgs/{orgId}/stores/{storeId}/alerts/{alertId}/resolve">(
					"post",
					"/api/v1/orgs/{orgId}/stores/{storeId}/alerts/{alertId}/resolve",
					{ path },
				),
			),
		);
	const judge = (value: Verdict, correctClass?: string) =>
		run(async () => {
			await api("post", "/api/v1/orgs/{orgId}/stores/{storeId}/alerts/{alertId}/feedback", { path, body: { verdict: value, correctClass } });
			setVerdict(value);
			setCorrecting(false);
		});
	const title = `${alert.className} on ${props.camera}`;
	return (
		<li class={`card alert severity-${alert.severity}`} data-alert-id={alert.id} data-status={alert.status}>
			{alert.hasSnapshot ? (
				<img
					class="snapshot"
					src={fillPath("/api/v1/orgs/{orgId}/stores/{storeId}/alerts/{alertId}/snapshot", path)}
					alt={`Snapshot: ${title}, with its box`}
					loading="lazy"
				/>
			) : (
				<div class="snapshot none">No snapshot</div>
			)}
			<div class="alert-body">
				<h3>
					<span class={`badge severity ${alert.severity}`}>{alert.severity}</span> <span class="what">{title}</span>
				</h3>
				<p class="muted">
					<time dateTime={alert.occurredAt}>{timeOf(alert.occurredAt)}</time> · score {alert.score.toFixed(2)} · <span class="status">{alert.status}</span>
				</p>
				<div class="actions">
					{alert.status === "open" && (
						<button disabled={pending} onClick={acknowledge}>
							Acknowledge
						</button>
					)}
					{alert.status !== "resolved" && (
						<button disabled={pending} onClick={resolve}>
							Resolve
						</button>
					)}
				</div>
				<div class="actions verdict" role="group" aria-label={`Was this alert right? ${title}`}>
					{(Object.keys(VERDICT_LABEL) as Verdict[]).map((v) => (
						<button
							class={verdict === v ? "chosen" : "secondary"}
							aria-pressed={verdict === v}
							aria-expanded={v === "wrong_class" ? correcting : undefined}
							disabled={pending}
							onClick={() => (v === "wrong_class" ? setCorrecting(!correcting) : judge(v))}
						>
							{VERDICT_LABEL[v]}
						</button>
					))}
				</div>
				{correcting && <CorrectClass alert={alert} pending={pending} onSave={(correctClass) => judge("wrong_class", correctClass)} />}
				{verdict && (
					<p class="muted" role="status">
						Marked {VERDICT_LABEL[verdict].toLowerCase()}. Thanks: this camera learns from it.
					</p>
				)}
				<ErrorNote error={error} />
			</div>
		</li>
	);
}

/** A wrong class is a verdict with the class the object really was: picked from the usual ones, or typed. */
function CorrectClass(props: { alert: Alert; pending: boolean; onSave: (correctClass: string) => void }) {
	const choices = COMMON_CLASSES.filter((c) => c !== props.alert.className);
	const [choice, setChoice] = useState(choices[0]);
	const [typed, setTyped] = useState("");
	const id = `correct-${props.alert.id}`;
	const save = (e: Event) => {
		e.preventDefault();
		props.onSave(choice === "other" ? typed.trim() : choice);
	};
	return (
		<form class="correct-class" onSubmit={save} aria-label={`The right class for this ${props.alert.className}`}>
			<label for={id}>It was a</label>
			<select id={id} value={choice} onChange={(e) => setChoice(e.currentTarget.value)}>
				{choices.map((c) => (
					<option value={c}>{c}</option>
				))}
				<option value="other">something else…</option>
			</select>
			{choice === "other" && <input aria-label="The object's class" required maxLength={50} value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />}
			<button type="submit" disabled={props.pending}>
				Save
			</button>
		</form>
	);
}
