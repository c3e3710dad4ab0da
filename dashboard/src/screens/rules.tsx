/**
 * A store's alert rules: when a tracked object becomes an alert (what it is, how sure, where, when, how often).
 * Listed in plain words; added and changed with one form that covers every field of the API; turned on or off
 * and deleted from the list.
 */
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../api/client";
import type { Camera, Page, Severity, Store } from "../api/views";
import { ConfirmAction, Empty, ErrorNote, Field, FormEnd, Loading, useSubmit } from "../ui";
import { useCameras } from "./cameras";
import "./rules.css";

interface Schedule {
	/** 0 = Sunday. */
	days: number[];
	start: string;
	end: string;
}

interface AlertRule {
	id: string;
	storeId: string;
	cameraId: string | null;
	name: string;
	classes: string[];
	minScore: number;
	zoneIds: string[];
	minDurationSec: number;
	schedule: Schedule | null;
	cooldownSec: number;
	severity: Severity;
	enabled: boolean;
}

interface Zone {
	id: string;
	cameraId: string;
	name: string;
	kind: "polygon" | "line";
}

export const SEVERITIES: Severity[] = ["low", "medium", "high", "critical"];
const COMMON_CLASSES = ["person", "car", "truck", "bicycle", "motorcycle", "bus"];
/** Monday first, as a week reads in most stores; the API counts from Sunday. */
const WEEK: [number, string][] = [
	[1, "Mon"],
	[2, "Tue"],
	[3, "Wed"],
	[4, "Thu"],
	[5, "Fri"],
	[6, "Sat"],
	[0, "Sun"],
];
/** Where tracking starts (the API refuses less). */
const LEAST_SCORE = 0.5;

/** The API names an item of a list (`classes[2]`, `config.to[0]`); the form shows it under the list's control. */
export const byList = (error: ApiError | null) =>
	error &&
	new ApiError(
		error.status,
		error.code,
		error.message,
		error.fieldErrors.map((e) => ({ ...e, field: e.field.replace(/\[\d+\]$/, "") })),
	);

/** A message of the API for a group of controls (a fieldset), which `Field` cannot hold. */
export function GroupError({ error, field }: { error: ApiError | null; field: string }) {
	const message = error?.fieldError(field);
	return message ? (
		<p class="field-error" id={`f-${field}-error`} role="alert">
			{message}
		</p>
	) : null;
}

export function AlertRules({ store }: { store: Store }) {
	const { cameras, error: camerasError } = useCameras(store);
	const zones = useZones(store, cameras);
	const [rules, setRules] = useState<AlertRule[] | null>(null);
	const [error, setError] = useState<unknown>(null);
	// One form at a time: "new", or the id of the rule being changed.
	const [editing, setEditing] = useState<string | null>(null);
	const path = { orgId: store.orgId, storeId: store.id };

	useEffect(() => {
		setRules(null);
		setError(null);
		setEditing(null);
		api<Page<AlertRule>, "get", "/api/v1/orgs/{orgId}/stores/{storeId}/alert-rules">("get", "/api/v1/orgs/{orgId}/stores/{storeId}/alert-rules", { path }).then(
			(page) => setRules(page.items),
			setError,
		);
	}, [store.id]);

	const saved = (rule: AlertRule) => {
		setRules((list) => (list?.some((r) => r.id === rule.id) ? list.map((r) => (r.id === rule.id ? rule : r)) : [...(list ?? []), rule]));
		setEditing(null);
	};
	const remove = async (rule: AlertRule) => {
		await api("delete", "/api/v1/orgs/{orgId}/stores/{storeId}/alert-rules/{ruleId}", { path: { ...path, ruleId: rule.id } });
		setRules((list) => list?.filter((r) => r.id !== rule.id) ?? null);
	};
	const switchOver = async (rule: AlertRule) =>
		saved(
			await api<AlertRule, "patch", "/api/v1/orgs/{orgId}/stores/{storeId}/alert-rules/{ruleId}">(
				"patch",
				"/api/v1/orgs/{orgId}/stores/{storeId}/alert-rules/{ruleId}",
				{ path: { ...path, ruleId: rule.id }, body: { enabled: !rule.enabled } },
			),
		);

	if (error) return <ErrorNote error={error} />;
	if (!rules) return <Loading what="alert rules" />;
	const form = (rule?: AlertRule) => (
		<RuleForm store={store} rule={rule} cameras={cameras} zones={zones} camerasError={camerasError} onSaved={saved} onCancel={() => setEditing(null)} />
	);
	return (
		<section aria-labelledby="rules-title">
			<div class="section-head">
				<h2 id="rules-title">Alert rules of {store.name}</h2>
				{editing === null && <button onClick={() => setEditing("new")}>Add rule</button>}
			</div>
			<p class="muted">An object the cameras track becomes an alert when a rule that is on matches it.</p>
			{editing === "new" && form()}
			{rules.length === 0 ? (
				<Empty>No alert rules yet, so nothing raises an alert. Add one, for example for people after closing time.</Empty>
			) : (
				<ul class="rules">
					{rules.map((rule) =>
						editing === rule.id ? (
							<li>{form(rule)}</li>
						) : (
							<RuleCard
								rule={rule}
								cameras={cameras}
								zones={zones.zones}
								canEdit={editing === null}
								onEdit={() => setEditing(rule.id)}
								onSwitch={() => switchOver(rule)}
								onDelete={() => remove(rule)}
							/>
						),
					)}
				</ul>
			)}
		</section>
	);
}

/** The zones of every camera of the store: a rule may name any of them. */
function useZones(store: Store, cameras: Camera[] | null) {
	const [zones, setZones] = useState<Zone[] | null>(null);
	const [error, setError] = useState<unknown>(null);
	useEffect(() => {
		if (!cameras) return;
		setZones(null);
		setError(null);
		Promise.all(
			cameras.map((camera) =>
				api<Page<Zone>, "get", "/api/v1/orgs/{orgId}/stores/{storeId}/cameras/{cameraId}/zones">(
					"get",
					"/api/v1/orgs/{orgId}/stores/{storeId}/cameras/{cameraId}/zones",
					{ path: { orgId: store.orgId, storeId: store.id, cameraId: camera.id } },
				).then((page) => page.items),
			),
		).then((lists) => setZones(lists.flat()), setError);
	}, [cameras]);
	return { zones, error };
}

const daysText = (days: number[]) => {
	const set = new Set(days);
	if (set.size === 7) return "every day";
	if (set.size === 5 && [1, 2, 3, 4, 5].every((d) => set.has(d))) return "weekdays";
	if (set.size === 2 && set.has(0) && set.has(6)) return "weekends";
	return WEEK.filter(([d]) => set.has(d))
		.map(([, name]) => name)
		.join(", ");
};

function RuleCard(props: {
	rule: AlertRule;
	cameras: Camera[] | null;
	zones: Zone[] | null;
	canEdit: boolean;
	onEdit: () => void;
	onSwitch: () => Promise<unknown>;
	onDelete: () => Promise<unknown>;
}) {
	const { rule } = props;
	const [pending, setPending] = useState(false);
	const [error, setError] = useState<unknown>(null);
	const switchOver = async () => {
		setPending(true);
		setError(null);
		try {
			await props.onSwitch();
		} catch (err) {
			setError(err);
		} finally {
			setPending(false);
		}
	};
	const camera = rule.cameraId ? (props.cameras?.find((c) => c.id === rule.cameraId)?.name ?? "One camera") : "All cameras";
	const zoneNames = rule.zoneIds.map((id) => props.zones?.find((z) => z.id === id)?.name).filter(Boolean);
	const where = !rule.zoneIds.length
		? "Anywhere in the picture"
		: zoneNames.length === rule.zoneIds.length
			? zoneNames.join(", ")
			: `${rule.zoneIds.length} zone${rule.zoneIds.length > 1 ? "s" : ""}`;
	const when = rule.schedule ? `${rule.schedule.start}–${rule.schedule.end}, ${daysText(rule.schedule.days)}` : "Always";
	return (
		<li class={`card rule${rule.enabled ? "" : " off"}`} data-rule-id={rule.id}>
			<div class="rule-head">
				<h3>{rule.name}</h3>
				<span class={`badge severity ${rule.severity}`}>{rule.severity}</span>
				<span class={`badge ${rule.enabled ? "active" : "paused"}`}>{rule.enabled ? "On" : "Off"}</span>
			</div>
			<dl class="rule-facts">
				<div>
					<dt>Looks for</dt>
					<dd>{rule.classes.length ? rule.classes.join(", ") : "Any object"}</dd>
				</div>
				<div>
					<dt>Cameras</dt>
					<dd>{camera}</dd>
				</div>
				<div>
					<dt>Where</dt>
					<dd>{where}</dd>
				</div>
				<div>
					<dt>When</dt>
					<dd>{when}</dd>
				</div>
				<div>
					<dt>Least confidence</dt>
					<dd>{rule.minScore.toFixed(2)}</dd>
				</div>
				<div>
					<dt>Seen for at least</dt>
					<dd>{rule.minDurationSec ? `${rule.minDurationSec} s` : "Any time"}</dd>
				</div>
				<div>
					<dt>Quiet after an alert</dt>
					<dd>{rule.cooldownSec} s</dd>
				</div>
			</dl>
			<div class="actions">
				<button type="button" disabled={!props.canEdit} aria-label={`Edit ${rule.name}`} onClick={props.onEdit}>
					Edit
				</button>
				<button type="button" class="secondary" disabled={pending} aria-label={`${rule.enabled ? "Turn off" : "Turn on"} ${rule.name}`} onClick={switchOver}>
					{rule.enabled ? "Turn off" : "Turn on"}
				</button>
				<ConfirmAction
					label="Delete"
					name={rule.name}
					question={`Delete the rule “${rule.name}”? The alerts it raised stay.`}
					confirm="Delete rule"
					onConfirm={props.onDelete}
				/>
			</div>
			<ErrorNote error={error} />
		</li>
	);
}

/** What the form holds: numbers as typed (the API judges them), classes split into the common ones and the rest. */
interface Draft {
	name: string;
	cameraId: string;
	classes: string[];
	otherClasses: string;
	severity: Severity;
	minScore: string;
	zoneIds: string[];
	minDurationSec: string;
	scheduled: boolean;
	days: number[];
	start: string;
	end: string;
	cooldownSec: string;
	enabled: boolean;
}

const draftOf = (rule?: AlertRule): Draft => ({
	name: rule?.name ?? "",
	cameraId: rule?.cameraId ?? "",
	classes: rule ? rule.classes.filter((c) => COMMON_CLASSES.includes(c)) : ["person"],
	otherClasses: (rule?.classes ?? []).filter((c) => !COMMON_CLASSES.includes(c)).join(", "),
	severity: rule?.severity ?? "medium",
	// Stored as a 4-byte float: 0.6 comes back as 0.60000002.
	minScore: String(rule ? Number(rule.minScore.toFixed(2)) : LEAST_SCORE),
	zoneIds: rule?.zoneIds ?? [],
	minDurationSec: String(rule?.minDurationSec ?? 0),
	scheduled: Boolean(rule?.schedule),
	days: rule?.schedule?.days ?? [1, 2, 3, 4, 5, 6, 0],
	start: rule?.schedule?.start ?? "22:00",
	end: rule?.schedule?.end ?? "06:00",
	cooldownSec: String(rule?.cooldownSec ?? 60),
	enabled: rule?.enabled ?? true,
});

/** An emptied number box is left out: the API keeps its default (new rule) or the stored value (change). */
const numberOf = (typed: string) => (typed.trim() === "" ? undefined : Number(typed));

const bodyOf = (d: Draft) => ({
	name: d.name,
	cameraId: d.cameraId || null,
	classes: [
		...d.classes,
		...d.otherClasses
			.split(",")
			.map((c) => c.trim().toLowerCase())
			.filter((c) => c && !d.classes.includes(c)),
	],
	severity: d.severity,
	minScore: numberOf(d.minScore),
	zoneIds: d.zoneIds,
	minDurationSec: numberOf(d.minDurationSec),
	schedule: d.scheduled ? { days: d.days, start: d.start, end: d.end } : null,
	cooldownSec: numberOf(d.cooldownSec),
	enabled: d.enabled,
});

const toggled = <T,>(list: T[], item: T, on: boolean) => (on ? [...list.filter((x) => x !== item), item] : list.filter((x) => x !== item));

function RuleForm(props: {
	store: Store;
	rule?: AlertRule;
	cameras: Camera[] | null;
	zones: { zones: Zone[] | null; error: unknown };
	camerasError: unknown;
	onSaved: (rule: AlertRule) => void;
	onCancel: () => void;
}) {
	const [draft, setDraft] = useState(() => draftOf(props.rule));
	const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));
	const path = { orgId: props.store.orgId, storeId: props.store.id };
	const {
		submit,
		pending,
		error: apiError,
		failure,
	} = useSubmit(
		() =>
			props.rule
				? api<AlertRule, "patch", "/api/v1/orgs/{orgId}/stores/{storeId}/alert-rules/{ruleId}">(
						"patch",
						"/api/v1/orgs/{orgId}/stores/{storeId}/alert-rules/{ruleId}",
						{ path: { ...path, ruleId: props.rule.id }, body: bodyOf(draft) },
					)
				: api<AlertRule, "post", "/api/v1/orgs/{orgId}/stores/{storeId}/alert-rules">("post", "/api/v1/orgs/{orgId}/stores/{storeId}/alert-rules", {
						path,
						body: bodyOf(draft),
					}),
		props.onSaved,
	);
	const error = byList(apiError);
	const title = props.rule ? `Change “${props.rule.name}”` : "Add an alert rule";
	// A rule for one camera can only use that camera's zones.
	const zones = (props.zones.zones ?? []).filter((z) => !draft.cameraId || z.cameraId === draft.cameraId);
	const cameraName = (id: string) => props.cameras?.find((c) => c.id === id)?.name ?? "Camera";
	const chooseCamera = (cameraId: string) =>
		setDraft((d) => ({
			...d,
			cameraId,
			zoneIds: d.zoneIds.filter((id) => !cameraId || props.zones.zones?.find((z) => z.id === id)?.cameraId === cameraId),
		}));

	return (
		<form class="card rule-form" onSubmit={submit} aria-label={title}>
			<h3>{title}</h3>
			<Field label="Rule name" name="name" error={error}>
				<input id="f-name" required maxLength={100} value={draft.name} onInput={(e) => set("name", e.currentTarget.value)} />
			</Field>

			<fieldset class="group">
				<legend>What to alert on</legend>
				<div class="checks">
					{COMMON_CLASSES.map((cls) => (
						<label class="check">
							<input
								type="checkbox"
								checked={draft.classes.includes(cls)}
								onChange={(e) => set("classes", toggled(draft.classes, cls, e.currentTarget.checked))}
							/>
							{cls}
						</label>
					))}
				</div>
				<Field label="Other objects, separated by commas (e.g. dog, backpack)" name="classes" error={error}>
					<input id="f-classes" value={draft.otherClasses} onInput={(e) => set("otherClasses", e.currentTarget.value)} />
				</Field>
				<p class="muted">Nothing chosen: any object the detector knows.</p>
			</fieldset>

			<div class="form-row">
				<Field label="Severity" name="severity" error={error}>
					<select id="f-severity" value={draft.severity} onChange={(e) => set("severity", e.currentTarget.value as Severity)}>
						{SEVERITIES.map((s) => (
							<option value={s}>{s[0].toUpperCase() + s.slice(1)}</option>
						))}
					</select>
				</Field>
				<Field label={`Least confidence (${LEAST_SCORE} to 1)`} name="minScore" error={error}>
					<input id="f-minScore" type="number" step="0.01" inputMode="decimal" value={draft.minScore} onInput={(e) => set("minScore", e.currentTarget.value)} />
				</Field>
			</div>

			{props.camerasError ? (
				<ErrorNote error={props.camerasError} />
			) : (
				<Field label="Cameras" name="cameraId" error={error}>
					<select id="f-cameraId" value={draft.cameraId} disabled={!props.cameras} onChange={(e) => chooseCamera(e.currentTarget.value)}>
						<option value="">All cameras of the store</option>
						{(props.cameras ?? []).map((c) => (
							<option value={c.id}>{c.name}</option>
						))}
					</select>
				</Field>
			)}

			<fieldset class="group" aria-describedby={error?.fieldError("zoneIds") ? "f-zoneIds-error" : undefined}>
				<legend>Where in the picture</legend>
				{props.zones.error ? (
					<ErrorNote error={props.zones.error} />
				) : !props.zones.zones ? (
					<Loading what="zones" />
				) : zones.length === 0 ? (
					<p class="muted">No zones are drawn on {draft.cameraId ? "this camera" : "this store's cameras"}: the rule covers the whole picture.</p>
				) : (
					<>
						<div class="checks">
							{zones.map((zone) => (
								<label class="check">
									<input
										type="checkbox"
										checked={draft.zoneIds.includes(zone.id)}
										onChange={(e) => set("zoneIds", toggled(draft.zoneIds, zone.id, e.currentTarget.checked))}
									/>
									{draft.cameraId ? zone.name : `${zone.name} (${cameraName(zone.cameraId)})`}
								</label>
							))}
						</div>
						<p class="muted">None chosen: anywhere in the picture. Several: any of them.</p>
					</>
				)}
				<GroupError error={error} field="zoneIds" />
			</fieldset>

			<fieldset class="group">
				<legend>When</legend>
				<label class="check">
					<input id="f-schedule" type="checkbox" checked={draft.scheduled} onChange={(e) => set("scheduled", e.currentTarget.checked)} />
					Only on some days and hours
				</label>
				<GroupError error={error} field="schedule" />
				{draft.scheduled && (
					<>
						<div class="checks" role="group" aria-label="Days">
							{WEEK.map(([day, name]) => (
								<label class="check">
									<input type="checkbox" checked={draft.days.includes(day)} onChange={(e) => set("days", toggled(draft.days, day, e.currentTarget.checked))} />
									{name}
								</label>
							))}
						</div>
						<GroupError error={error} field="schedule.days" />
						<div class="form-row">
							<Field label="From" name="schedule.start" error={error}>
								<input id="f-schedule.start" type="time" required value={draft.start} onInput={(e) => set("start", e.currentTarget.value)} />
							</Field>
							<Field label="Until" name="schedule.end" error={error}>
								<input id="f-schedule.end" type="time" required value={draft.end} onInput={(e) => set("end", e.currentTarget.value)} />
							</Field>
						</div>
						<p class="muted">
							In each camera's local time ({props.store.timezone} unless set on the camera). Hours past midnight, as 22:00 until 06:00, belong to the day they
							start.
						</p>
					</>
				)}
			</fieldset>

			<div class="form-row">
				<Field label="Seen for at least (seconds)" name="minDurationSec" error={error}>
					<input
						id="f-minDurationSec"
						type="number"
						step="any"
						inputMode="decimal"
						value={draft.minDurationSec}
						onInput={(e) => set("minDurationSec", e.currentTarget.value)}
					/>
				</Field>
				<Field label="Quiet after an alert (seconds)" name="cooldownSec" error={error}>
					<input
						id="f-cooldownSec"
						type="number"
						step="1"
						inputMode="numeric"
						value={draft.cooldownSec}
						onInput={(e) => set("cooldownSec", e.currentTarget.value)}
					/>
				</Field>
			</div>
			<p class="muted">No second alert for the same camera and object kind within the quiet time.</p>

			<label class="check">
				<input id="f-enabled" type="checkbox" checked={draft.enabled} onChange={(e) => set("enabled", e.currentTarget.checked)} />
				Rule is on
			</label>

			<FormEnd failure={failure} pending={pending} submit={props.rule ? "Save changes" : "Add rule"} onCancel={props.onCancel} />
		</form>
	);
}
