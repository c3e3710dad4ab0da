/**
 * What a store's alerts add up to, and what Vigil learned from the verdicts on them: alerts per camera over the
 * last day or week, and per camera the score threshold per class (owners and admins pin one, or unpin it) with
 * the camera's daily alerts and precision over the last 30 days. Hours and days are the store's time zone's.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../api/client";
import type { Camera, Organization, Page, Store } from "../api/views";
import { BAR_LINE_COLORS, BarsAndLine, colorOf, DataTable, Legend, StackedBars } from "../charts";
import { Empty, ErrorNote, Field, FormEnd, Loading, useSubmit } from "../ui";
import { useCameras } from "./cameras";
import "../tables.css";
import "./insights.css";

/** Alerts per camera per bucket (the last one holds now); only cameras that had alerts have a series. */
interface AlertVolume {
	bucket: "hour" | "day";
	/** The store's: day buckets start at its midnight. */
	timezone: string;
	/** Start of each bucket, oldest first. */
	starts: string[];
	series: { cameraId: string; counts: number[] }[];
}

/** A camera's alerts and their verdicts per day of the store's time zone. */
interface DailyPrecision {
	days: { day: string; alerts: number; judged: number; truePositives: number; falsePositives: number; precision: number | null }[];
}

/** One class of a camera: the threshold in force (pinned, else learned, else none) and how it does on the judged alerts. */
interface Threshold {
	className: string;
	threshold: number | null;
	learned: number | null;
	pinned: number | null;
	verdicts: number;
	truePositives: number;
	falsePositives: number;
	precision: number | null;
	suppressedShare: number;
}

interface ThresholdList {
	items: Threshold[];
	learning: { targetPrecision: number; minVerdicts: number; minThreshold: number; maxThreshold: number };
}

const PERIODS = {
	day: { bucket: "hour", buckets: 24, title: "Alerts per hour, last 24 hours", choice: "Last 24 hours", noun: "hour" },
	week: { bucket: "day", buckets: 7, title: "Alerts per day, last 7 days", choice: "Last 7 days", noun: "day" },
} as const;
type Period = keyof typeof PERIODS;
const HOUR_MS = 3_600_000;
const PRECISION_DAYS = 30;

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;
const percent = (share: number | null) => (share === null ? "—" : `${Math.round(share * 100)} %`);
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** The signed-in user's role in the organization, from their organization list; null until known, or if it cannot be read. */
function useRole(orgId: string) {
	const [role, setRole] = useState<Organization["role"] | null>(null);
	useEffect(() => {
		api<Page<Organization>, "get", "/api/v1/orgs">("get", "/api/v1/orgs").then(
			(page) => setRole(page.items.find((o) => o.id === orgId)?.role ?? null),
			() => setRole(null),
		);
	}, [orgId]);
	return role;
}

export function Insights({ store }: { store: Store }) {
	const { cameras, error } = useCameras(store);
	const role = useRole(store.orgId);
	const canManage = role === "owner" || role === "admin" || role === "superadmin";
	const [cameraId, setCameraId] = useState("");
	const camera = cameras?.find((c) => c.id === cameraId) ?? cameras?.[0];

	return (
		<section aria-labelledby="insights-title" class="insights">
			<h1 id="insights-title">Insights for {store.name}</h1>
			<VolumeCard store={store} cameras={cameras} />
			<section class="card" aria-labelledby="camera-insights-title">
				<div class="section-head">
					<h2 id="camera-insights-title">Per camera</h2>
					{cameras && cameras.length > 1 && (
						<div class="field">
							<label for="insights-camera">Camera</label>
							<select id="insights-camera" value={camera?.id} onChange={(e) => setCameraId(e.currentTarget.value)}>
								{cameras.map((c) => (
									<option value={c.id}>{c.name}</option>
								))}
							</select>
						</div>
					)}
				</div>
				{error ? (
					<ErrorNote error={error} />
				) : !cameras ? (
					<Loading what="cameras" />
				) : !camera ? (
					<Empty>No cameras in {store.name} yet. What Vigil learns about each camera appears here once it has alerts.</Empty>
				) : (
					<>
						<Thresholds store={store} camera={camera} canManage={canManage} />
						<PrecisionChart store={store} camera={camera} />
					</>
				)}
			</section>
		</section>
	);
}

/** The store's alerts per camera: per hour over the last 24 hours, or per day over the last 7 days. */
function VolumeCard({ store, cameras }: { store: Store; cameras: Camera[] | null }) {
	const [period, setPeriod] = useState<Period>("day");
	const [volume, setVolume] = useState<AlertVolume | null>(null);
	const [error, setError] = useState<unknown>(null);
	const { bucket, buckets, title, noun } = PERIODS[period];

	useEffect(() => {
		setVolume(null);
		setError(null);
		api<AlertVolume, "get", "/api/v1/orgs/{orgId}/stores/{storeId}/alerts/volume">("get", "/api/v1/orgs/{orgId}/stores/{storeId}/alerts/volume", {
			path: { orgId: store.orgId, storeId: store.id },
			query: { bucket, buckets },
		}).then(setVolume, setError);
	}, [store.id, period]);

	const timeZone = volume?.timezone ?? store.timezone;
	const start = (i: number) => new Date(volume?.starts[i] ?? 0);
	// Noon of a day bucket: well inside that day of the store, whatever the clocks did that night.
	const day = (i: number) => new Date(start(i).getTime() + 12 * HOUR_MS);
	const short = (i: number) =>
		bucket === "hour"
			? start(i).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone })
			: day(i).toLocaleDateString(undefined, { weekday: "short", timeZone });
	const long = (i: number) =>
		bucket === "hour"
			? start(i).toLocaleString(undefined, { weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone })
			: day(i).toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short", timeZone });

	const nameOf = (cameraId: string) => cameras?.find((c) => c.id === cameraId)?.name ?? "Removed camera";
	// Colours and order follow the store's camera list: a camera keeps its colour in both periods, with or without alerts.
	const place = (cameraId: string) => (cameras ?? []).findIndex((c) => c.id === cameraId) + 1 || Infinity;
	const series = [...(volume?.series ?? [])]
		.sort((a, b) => place(a.cameraId) - place(b.cameraId))
		.map((s, k) => ({ name: nameOf(s.cameraId), values: s.counts, color: colorOf(Number.isFinite(place(s.cameraId)) ? place(s.cameraId) - 1 : k) }));
	const indices = (volume?.starts ?? []).map((_, i) => i);
	const totals = indices.map((i) => sum(series.map((s) => s.values[i] ?? 0)));
	const total = sum(totals);
	const busiest = totals.indexOf(Math.max(...totals));
	const summary =
		`${title}: ${plural(total, "alert")} in all` +
		(total ? `; ${series.map((s) => `${s.name} ${sum(s.values)}`).join(", ")}; most in the ${noun} of ${long(busiest)}, ${totals[busiest]}.` : ".");

	return (
		<section class="card" aria-labelledby="volume-title">
			<div class="section-head">
				<h2 id="volume-title">{title}</h2>
				<div class="actions period" role="group" aria-label="Period">
					{(Object.keys(PERIODS) as Period[]).map((p) => (
						<button class={p === period ? "chosen" : "secondary"} aria-pressed={p === period} onClick={() => setPeriod(p)}>
							{PERIODS[p].choice}
						</button>
					))}
				</div>
			</div>
			{error ? (
				<ErrorNote error={error} />
			) : !volume || !cameras ? (
				<Loading what="alert counts" />
			) : total === 0 ? (
				<Empty>No alerts in {PERIODS[period].choice.toLowerCase()}. Every alert a rule raises on this store's cameras is counted here.</Empty>
			) : (
				<figure>
					<StackedBars label={summary} buckets={indices.map(short)} series={series} unit="alerts" />
					<Legend items={series.map((s) => ({ name: s.name, color: s.color, note: String(sum(s.values)) }))} />
					<figcaption class="muted">Times in {timeZone}, the store's time zone.</figcaption>
					<DataTable
						caption={`${title} (${timeZone})`}
						columns={["Camera", ...indices.map(long), "Total"]}
						rows={[...series.map((s) => ({ head: s.name, cells: [...s.values, sum(s.values)] })), { head: "All cameras", cells: [...totals, total] }]}
					/>
				</figure>
			)}
		</section>
	);
}

/** The score threshold per class of one camera, and how it does on the judged alerts; owners and admins pin or unpin it. */
function Thresholds({ store, camera, canManage }: { store: Store; camera: Camera; canManage: boolean }) {
	const [list, setList] = useState<ThresholdList | null>(null);
	const [error, setError] = useState<unknown>(null);
	const [pinning, setPinning] = useState<{ className: string; threshold: string } | null>(null);
	const [unpinError, setUnpinError] = useState<unknown>(null);
	const path = { orgId: store.orgId, storeId: store.id, cameraId: camera.id };
	const load = () =>
		api<ThresholdList, "get", "/api/v1/orgs/{orgId}/stores/{storeId}/cameras/{cameraId}/thresholds">(
			"get",
			"/api/v1/orgs/{orgId}/stores/{storeId}/cameras/{cameraId}/thresholds",
			{ path },
		).then((l) => (setList(l), setError(null)), setError);

	useEffect(() => {
		setList(null);
		setPinning(null);
		load();
	}, [camera.id]);

	const unpin = async (className: string) => {
		setUnpinError(null);
		try {
			await api("delete", "/api/v1/orgs/{orgId}/stores/{storeId}/cameras/{cameraId}/thresholds/{className}", { path: { ...path, className } });
			await load();
		} catch (err) {
			setUnpinError(err);
		}
	};

	if (error) return <ErrorNote error={error} />;
	if (!list) return <Loading what="thresholds" />;
	const { targetPrecision, minVerdicts } = list.learning;
	const how = (t: Threshold) =>
		t.pinned !== null
			? `Pinned${t.learned !== null ? ` (learned ${t.learned.toFixed(2)})` : ""}`
			: t.learned !== null
				? "Learned"
				: t.verdicts < minVerdicts
					? `Learning: ${t.verdicts} of ${minVerdicts} verdicts`
					: `None reaches ${percent(targetPrecision)} precision`;

	return (
		<div class="thresholds">
			<div class="section-head">
				<h3 id="thresholds-title">Learned thresholds of {camera.name}</h3>
				{canManage && !pinning && (
					<button class="secondary" onClick={() => setPinning({ className: "", threshold: "" })}>
						Pin a threshold
					</button>
				)}
			</div>
			<p class="muted">
				From the verdicts on its alerts, each class on this camera learns the lowest score an alert needs so that at least {percent(targetPrecision)} of them
				are right, once it has {minVerdicts} verdicts. Suppressed: the share of judged alerts that score below the threshold in force.
			</p>
			{list.items.length === 0 ? (
				<Empty>
					No verdicts on {camera.name}'s alerts yet. Mark alerts true or false on the <a href="#/alerts">Alerts</a> screen and Vigil learns which scores to
					trust on this camera.
				</Empty>
			) : (
				<div class="table-scroll" role="region" aria-labelledby="thresholds-title" tabIndex={0}>
					<table class="data">
						<thead>
							<tr>
								<th scope="col">Class</th>
								<th scope="col">Threshold in force</th>
								<th scope="col">Source</th>
								<th scope="col">Verdicts</th>
								<th scope="col">Precision</th>
								<th scope="col">Suppressed</th>
								{canManage && <th scope="col">Change</th>}
							</tr>
						</thead>
						<tbody>
							{list.items.map((t) => (
								<tr>
									<th scope="row" class="class-name">
										{t.className}
									</th>
									<td>{t.threshold === null ? <span class="muted">None: the rules' minimum</span> : t.threshold.toFixed(2)}</td>
									<td>{how(t)}</td>
									<td>
										{t.verdicts}{" "}
										<span class="muted">
											({t.truePositives} true, {t.falsePositives} false)
										</span>
									</td>
									<td>{percent(t.precision)}</td>
									<td>{percent(t.suppressedShare)}</td>
									{canManage && (
										<td>
											<div class="row-actions">
												<button
													class="secondary"
													aria-label={`Pin the ${t.className} threshold`}
													onClick={() => setPinning({ className: t.className, threshold: (t.pinned ?? t.learned ?? 0.5).toFixed(2) })}
												>
													Pin
												</button>
												{t.pinned !== null && (
													<button class="secondary" aria-label={`Unpin the ${t.className} threshold`} onClick={() => unpin(t.className)}>
														Unpin
													</button>
												)}
											</div>
										</td>
									)}
								</tr>
							))}
						</tbody>
					</table>
				</div>
			)}
			<ErrorNote error={unpinError} />
			{pinning && (
				<PinForm
					store={store}
					camera={camera}
					initial={pinning}
					classes={list.items.map((t) => t.className)}
					onCancel={() => setPinning(null)}
					onPinned={() => (setPinning(null), load())}
				/>
			)}
		</div>
	);
}

function PinForm(props: {
	store: Store;
	camera: Camera;
	initial: { className: string; threshold: string };
	classes: string[];
	onPinned: () => void;
	onCancel: () => void;
}) {
	const [className, setClassName] = useState(props.initial.className);
	const [threshold, setThreshold] = useState(props.initial.threshold);
	const first = useRef<HTMLInputElement>(null);
	const { submit, pending, error, failure } = useSubmit(
		() =>
			api("put", "/api/v1/orgs/{orgId}/stores/{storeId}/cameras/{cameraId}/thresholds/{className}", {
				path: { orgId: props.store.orgId, storeId: props.store.id, cameraId: props.camera.id, className: className.trim() },
				body: { threshold: Number(threshold) },
			}),
		props.onPinned,
	);
	// Opened from a class's row: straight to its threshold.
	useEffect(() => first.current?.focus(), [props.initial]);
	return (
		<form class="card pin" onSubmit={submit} aria-label="Pin a threshold">
			<Field label="Class" name="className" error={error}>
				<input
					id="f-className"
					required
					list="known-classes"
					value={className}
					ref={props.initial.className ? undefined : first}
					onInput={(e) => setClassName(e.currentTarget.value)}
				/>
			</Field>
			<datalist id="known-classes">
				{props.classes.map((c) => (
					<option value={c} />
				))}
			</datalist>
			<Field label="Minimum score (0 to 1)" name="threshold" error={error}>
				<input
					id="f-threshold"
					type="number"
					required
					min={0}
					max={1}
					step={0.01}
					value={threshold}
					ref={props.initial.className ? first : undefined}
					onInput={(e) => setThreshold(e.currentTarget.value)}
				/>
			</Field>
			<p class="muted">A pinned threshold wins over the learned one until you unpin it; the rules' own minimum scores still apply.</p>
			<FormEnd failure={failure} pending={pending} submit="Pin threshold" onCancel={props.onCancel} />
		</form>
	);
}

/** A camera's alerts (bars) and the precision of the judged ones (line) per day, over the last 30 days. */
function PrecisionChart({ store, camera }: { store: Store; camera: Camera }) {
	const [data, setData] = useState<DailyPrecision | null>(null);
	const [error, setError] = useState<unknown>(null);
	useEffect(() => {
		setData(null);
		setError(null);
		api<DailyPrecision, "get", "/api/v1/orgs/{orgId}/stores/{storeId}/cameras/{cameraId}/precision">(
			"get",
			"/api/v1/orgs/{orgId}/stores/{storeId}/cameras/{cameraId}/precision",
			{ path: { orgId: store.orgId, storeId: store.id, cameraId: camera.id }, query: { days: PRECISION_DAYS } },
		).then(setData, setError);
	}, [camera.id]);

	const title = `Alerts and precision per day, last ${PRECISION_DAYS} days`;
	if (error)
		return (
			<>
				<h3>{title}</h3>
				<ErrorNote error={error} />
			</>
		);
	if (!data) return <Loading what="daily precision" />;
	const days = data.days;
	// "YYYY-MM-DD" is a day of the store: read it as a calendar date, not as a moment.
	const label = (day: string, options: Intl.DateTimeFormatOptions) =>
		new Date(`${day}T12:00:00Z`).toLocaleDateString(undefined, { ...options, timeZone: "UTC" });
	const alerts = sum(days.map((d) => d.alerts));
	const judged = sum(days.map((d) => d.judged));
	const truePositives = sum(days.map((d) => d.truePositives));
	const falsePositives = sum(days.map((d) => d.falsePositives));
	const overall = truePositives + falsePositives ? truePositives / (truePositives + falsePositives) : null;
	const summary =
		`${title} on ${camera.name}: ${plural(alerts, "alert")}, ${judged} judged` + (overall === null ? "." : `, ${percent(overall)} of them right overall.`);

	return (
		<div class="precision">
			<h3>{title}</h3>
			{alerts === 0 ? (
				<Empty>
					No alerts from {camera.name} in the last {PRECISION_DAYS} days.
				</Empty>
			) : (
				<figure>
					<BarsAndLine
						label={summary}
						buckets={days.map((d) => label(d.day, { month: "short", day: "numeric" }))}
						bars={{ name: "Alerts", values: days.map((d) => d.alerts) }}
						line={{ name: "Precision", values: days.map((d) => d.precision) }}
					/>
					<Legend
						items={[
							{ name: "Alerts", color: BAR_LINE_COLORS.bars, note: String(alerts) },
							{ name: "Precision", color: BAR_LINE_COLORS.line, mark: "line", note: overall === null ? undefined : `${percent(overall)} overall` },
						]}
					/>
					<DataTable
						caption={`${title}, ${camera.name}`}
						columns={["Day", "Alerts", "Judged", "True positives", "False positives", "Precision"]}
						rows={days.map((d) => ({
							head: label(d.day, { dateStyle: "medium" }),
							cells: [d.alerts, d.judged, d.truePositives, d.falsePositives, percent(d.precision)],
						}))}
					/>
				</figure>
			)}
			{alerts > 0 && judged === 0 && (
				<Empty>No verdicts yet. Mark alerts true or false on the Alerts screen and Vigil learns, day by day, how often this camera's alerts are right.</Empty>
			)}
		</div>
	);
}
