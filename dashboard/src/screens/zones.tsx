/**
 * A camera's zones drawn on a still frame of it: areas (polygons) that note who enters them and tripwires (lines)
 * that count crossings each way. Owners and admins draw, rename, reclass and delete them; staff see them. Points are
 * fractions of the frame (0..1 from the top-left), so a zone fits every resolution of the same view.
 */
import type { ComponentChildren, TargetedKeyboardEvent, TargetedMouseEvent } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, fillPath } from "../api/client";
import type { Camera, Page, Store } from "../api/views";
import { Empty, ErrorNote, Field, Loading, useSubmit } from "../ui";
import "./zones.css";

export type Point = [number, number];

export interface Zone {
	id: string;
	cameraId: string;
	name: string;
	kind: "polygon" | "line";
	points: Point[];
	classes: string[];
}

/** What most cameras film, and the grid drawn on when there is no picture yet. */
const DEFAULT_ASPECT = 16 / 9;
/** Length of a line's direction arrow, as a fraction of the frame's width. */
const ARROW = 0.06;
/** A click this close to an area's first point (in pixels) closes the area. */
const CLOSE_PX = 14;
/** Keyboard cursor steps, as fractions of the frame. */
const STEP = 0.01;
const BIG_STEP = 0.1;

const KIND_LABEL: Record<Zone["kind"], string> = { polygon: "Area", line: "Line" };

/** The route of a camera's recent still frame; `version` changes when newer footage may have arrived. */
export const cameraFrameUrl = (store: Store, cameraId: string, version: string) =>
	fillPath("/api/v1/orgs/{orgId}/stores/{storeId}/cameras/{cameraId}/frame", { orgId: store.orgId, storeId: store.id, cameraId }, { v: version });

type PictureOutcome = { src: string; shown: boolean } | null;
export const usePictureOutcome = () => useState<PictureOutcome>(null);

/**
 * Whether a picture is loading, shown or missing. The outcome names the address it is about, so a new address starts
 * loading again without an effect that could overwrite a load the browser already finished from its cache.
 */
export function pictureState(src: string | null, outcome: PictureOutcome): "loading" | "shown" | "missing" {
	if (src === null) return "missing";
	if (outcome?.src !== src) return "loading";
	return outcome.shown ? "shown" : "missing";
}

/**
 * A still frame with an overlay drawn in frame fractions (an SVG with viewBox 0 0 1 1 stretched over the picture).
 * Without a picture (no footage yet, or none at that time) a neutral 16:9 grid stands in, with `missing` under it.
 */
export function Still(props: { src: string | null; alt: string; missing: ComponentChildren; children: (aspect: number) => ComponentChildren }) {
	const [outcome, setOutcome] = usePictureOutcome();
	const [aspect, setAspect] = useState(DEFAULT_ASPECT);
	const state = pictureState(props.src, outcome);
	const pictured = state !== "missing";
	return (
		<figure class="still" data-state={state}>
			<div class="still-frame">
				{pictured ? (
					<img
						src={props.src ?? undefined}
						alt={props.alt}
						onLoad={(e) => {
							const img = e.currentTarget;
							setAspect(img.naturalWidth && img.naturalHeight ? img.naturalWidth / img.naturalHeight : DEFAULT_ASPECT);
							setOutcome({ src: props.src ?? "", shown: true });
						}}
						onError={() => setOutcome({ src: props.src ?? "", shown: false })}
					/>
				) : (
					<div class="still-none" />
				)}
				{props.children(pictured ? aspect : DEFAULT_ASPECT)}
			</div>
			{state === "missing" && <figcaption class="muted">{props.missing}</figcaption>}
		</figure>
	);
}

/** Points as a person writes them: "x,y x,y …". */
export const formatPoints = (points: Point[]) => points.map(([x, y]) => `${round(x)},${round(y)}`).join(" ");

/** "x,y x,y …" back to points; null when any pair is not two numbers (the API checks the range and the shape). */
export function parsePoints(text: string): Point[] | null {
	const pairs = text.trim().split(/\s+/).filter(Boolean);
	const points = pairs.map((pair) => pair.split(",").map(Number));
	return points.every((p) => p.length === 2 && p.every((v) => Number.isFinite(v))) ? (points as Point[]) : null;
}

const round = (v: number) => Math.round(v * 1000) / 1000;
const svgPoints = (points: Point[]) => points.map(([x, y]) => `${x},${y}`).join(" ");
const mean = (points: Point[]): Point => [points.reduce((s, p) => s + p[0], 0) / points.length, points.reduce((s, p) => s + p[1], 0) / points.length];

/**
 * An arrow across each segment of a line towards its forward side: the tracker counts a crossing as forward when
 * the object ends up right of the line as drawn from its first point to its next (y grows downwards). Worked out
 * in units of the frame's width so the arrow stays square on a stretched picture, then turned back into fractions.
 */
export function forwardArrows(points: Point[], aspect: number): string[] {
	const arrows: string[] = [];
	const out = ([x, y]: Point) => `${x.toFixed(4)} ${(y * aspect).toFixed(4)}`;
	for (let i = 0; i + 1 < points.length; i++) {
		const [ax, ay] = points[i];
		const [bx, by] = points[i + 1];
		const length = Math.hypot(bx - ax, (by - ay) / aspect);
		if (!length) continue;
		const along: Point = [(bx - ax) / length, (by - ay) / aspect / length];
		const right: Point = [-along[1], along[0]];
		const middle: Point = [(ax + bx) / 2, (ay + by) / 2 / aspect];
		const tip: Point = [middle[0] + right[0] * ARROW, middle[1] + right[1] * ARROW];
		const head = ARROW * 0.4;
		const wing = (side: number): Point => [tip[0] - right[0] * head + side * along[0] * head, tip[1] - right[1] * head + side * along[1] * head];
		arrows.push(`M ${out(middle)} L ${out(tip)} M ${out(wing(1))} L ${out(tip)} L ${out(wing(-1))}`);
	}
	return arrows;
}

/** A dot of the given class at a point: a zero-length round-capped stroke, so it stays round on a stretched picture. */
export const Dot = ({ at, class: className }: { at: Point; class: string }) => <path class={className} d={`M ${at[0]} ${at[1]} h 0`} />;

/** The zones as drawn on a frame: areas translucent, lines with an arrow to their forward side. */
export function ZoneShapes(props: { zones: Zone[]; aspect: number; chosenId?: string | null; faint?: boolean; onChoose?: (zone: Zone) => void }) {
	return (
		<g class={props.faint ? "zones faint" : "zones"}>
			{props.zones.map((zone) => {
				const chosen = zone.id === props.chosenId;
				const choose = props.onChoose && (() => props.onChoose?.(zone));
				return zone.kind === "polygon" ? (
					<polygon class={chosen ? "zone-area chosen" : "zone-area"} points={svgPoints(zone.points)} onClick={choose} />
				) : (
					<g class={chosen ? "zone-line chosen" : "zone-line"} onClick={choose}>
						<polyline class="zone-line-hit" points={svgPoints(zone.points)} />
						<polyline points={svgPoints(zone.points)} />
						{forwardArrows(zone.points, props.aspect).map((d) => (
							<path class="zone-arrow" d={d} />
						))}
					</g>
				);
			})}
		</g>
	);
}

/** Zone names over the picture (HTML, not SVG text, which the stretched overlay would distort). */
export const ZoneLabels = ({ zones }: { zones: Zone[] }) => (
	<>
		{zones.map((zone) => {
			const [x, y] = zone.kind === "polygon" ? mean(zone.points) : mean(zone.points.slice(0, 2));
			return (
				<span class={`zone-label ${zone.kind}`} aria-hidden="true" style={{ left: `${x * 100}%`, top: `${y * 100}%` }}>
					{zone.name}
				</span>
			);
		})}
	</>
);

export function useZones(store: Store, cameraId: string) {
	const [zones, setZones] = useState<Zone[] | null>(null);
	const [error, setError] = useState<unknown>(null);
	useEffect(() => {
		setZones(null);
		api<Page<Zone>, "get", "/api/v1/orgs/{orgId}/stores/{storeId}/cameras/{cameraId}/zones">(
			"get",
			"/api/v1/orgs/{orgId}/stores/{storeId}/cameras/{cameraId}/zones",
			{
				path: { orgId: store.orgId, storeId: store.id, cameraId },
			},
		).then((page) => setZones(page.items), setError);
	}, [store.id, cameraId]);
	return { zones, error, setZones };
}

/** The zone being drawn or changed. */
interface Editing {
	/** null for a new zone. */
	zoneId: string | null;
	kind: Zone["kind"];
	points: Point[];
	/** Clicks add no more points: the area is closed, the line has both ends, or an existing zone keeps its shape. */
	closed: boolean;
	name: string;
	classes: string;
	/** The points as typed; they replace `points` whenever they read as points. */
	pointsText: string;
}

const newZone = (kind: Zone["kind"]): Editing => ({ zoneId: null, kind, points: [], closed: false, name: "", classes: "", pointsText: "" });
const editZone = (zone: Zone): Editing => ({
	zoneId: zone.id,
	kind: zone.kind,
	points: zone.points,
	closed: true,
	name: zone.name,
	classes: zone.classes.join(", "),
	pointsText: formatPoints(zone.points),
});
const classList = (text: string) =>
	text
		.split(",")
		.map((c) => c.trim())
		.filter(Boolean);

/** The API's field names with their indexes dropped (points[2] -> points), so each shows next to its one field. */
const byField = (error: ApiError | null) =>
	error &&
	new ApiError(
		error.status,
		error.code,
		error.message,
		error.fieldErrors.map((e) => ({ ...e, field: e.field.replace(/\[.*$/, "") })),
	);

const clamp = (v: number) => Math.min(1, Math.max(0, v));

export function ZoneEditor({ store, camera, canManage }: { store: Store; camera: Camera; canManage: boolean }) {
	const { zones, error, setZones } = useZones(store, camera.id);
	const [editing, setEditing] = useState<Editing | null>(null);
	const [cursor, setCursor] = useState<Point | null>(null);
	const [saved, setSaved] = useState("");
	const drawing = editing !== null && !editing.closed;
	const src = camera.liveness.lastSeenAt ? cameraFrameUrl(store, camera.id, camera.liveness.lastSeenAt) : null;
	const surface = useRef<SVGSVGElement>(null);
	// Keyboard users land where the next step is: on the picture while drawing, then on the zone's name.
	useEffect(() => {
		if (drawing) surface.current?.focus();
		else if (editing) document.getElementById("f-name")?.focus();
	}, [drawing, editing?.zoneId]);

	const change = (next: Partial<Editing>) => setEditing((e) => e && { ...e, ...next });
	const reshape = (points: Point[], closed: boolean) => change({ points, closed, pointsText: formatPoints(points) });
	const start = (kind: Zone["kind"]) => (setEditing(newZone(kind)), setSaved(""), setCursor(null));
	const addPoint = (point: Point, closesArea: boolean) => {
		if (!editing || editing.closed) return;
		if (editing.kind === "polygon" && editing.points.length >= 3 && closesArea) return reshape(editing.points, true);
		const points = [...editing.points, [round(point[0]), round(point[1])] as Point];
		reshape(points, editing.kind === "line" && points.length === 2);
	};
	const undo = () => editing && reshape(editing.points.slice(0, -1), false);

	const click = (e: TargetedMouseEvent<SVGSVGElement>) => {
		if (!drawing) return;
		const box = e.currentTarget.getBoundingClientRect();
		const at: Point = [clamp((e.clientX - box.left) / box.width), clamp((e.clientY - box.top) / box.height)];
		const first = editing.points[0];
		const nearFirst = !!first && Math.hypot((at[0] - first[0]) * box.width, (at[1] - first[1]) * box.height) <= CLOSE_PX;
		addPoint(at, nearFirst);
	};
	const key = (e: TargetedKeyboardEvent<SVGSVGElement>) => {
		if (!drawing) return;
		const step = e.shiftKey ? BIG_STEP : STEP;
		const here = cursor ?? editing.points[editing.points.length - 1] ?? [0.5, 0.5];
		const moves: Record<string, Point> = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
		if (moves[e.key]) setCursor([clamp(round(here[0] + moves[e.key][0])), clamp(round(here[1] + moves[e.key][1]))]);
		else if (e.key === "Enter" || e.key === " ") {
			// The first press shows the cursor; a point goes where it stands, never twice on the same spot.
			const previous = editing.points[editing.points.length - 1];
			if (!cursor) setCursor(here);
			else if (!previous || previous[0] !== cursor[0] || previous[1] !== cursor[1]) addPoint(cursor, false);
		} else if (e.key === "Backspace") undo();
		else return;
		e.preventDefault();
	};

	if (error) return <ErrorNote error={error} />;
	if (!zones) return <Loading what="zones" />;
	const shown = editing?.zoneId ? zones.filter((z) => z.id !== editing.zoneId) : zones;
	const last = editing?.points[editing.points.length - 1];
	return (
		<section aria-labelledby="zones-title" class="zones-page">
			<p>
				<a href={`#/cameras/${camera.id}`}>← {camera.name}</a>
			</p>
			<h1 id="zones-title">Zones of {camera.name}</h1>
			<p class="muted">Areas note who enters them; lines count who crosses them, and which way. Alert rules can watch a zone instead of the whole picture.</p>
			<div class="zones-layout">
				<div>
					<Still
						src={src}
						alt={`A recent picture from ${camera.name}`}
						missing={
							<>
								No picture from this camera yet: <a href={`#/cameras/${camera.id}`}>upload a clip</a> and its frame appears here.
								{canManage && " Meanwhile you can draw on the grid."}
							</>
						}
					>
						{(aspect) => (
							<>
								<svg
									ref={surface}
									class={drawing ? "still-overlay drawing" : "still-overlay"}
									viewBox="0 0 1 1"
									preserveAspectRatio="none"
									role={drawing ? "application" : "img"}
									aria-label={drawing ? "Zone drawing surface" : `Zones drawn on the picture: ${zones.map((z) => z.name).join(", ") || "none yet"}`}
									aria-describedby={drawing ? "zone-instructions" : undefined}
									tabIndex={drawing ? 0 : undefined}
									onClick={click}
									onKeyDown={key}
									onPointerMove={(e) => {
										if (!drawing) return;
										const box = e.currentTarget.getBoundingClientRect();
										setCursor([clamp((e.clientX - box.left) / box.width), clamp((e.clientY - box.top) / box.height)]);
									}}
								>
									<ZoneShapes
										zones={shown}
										aspect={aspect}
										onChoose={drawing || !canManage ? undefined : (zone) => (setEditing(editZone(zone)), setSaved(""))}
									/>
									{editing && <Draft editing={editing} aspect={aspect} />}
									{drawing && last && cursor && <line class="draft-next" x1={last[0]} y1={last[1]} x2={cursor[0]} y2={cursor[1]} />}
									{drawing && cursor && <Dot at={cursor} class="draft-cursor" />}
								</svg>
								<ZoneLabels zones={shown} />
							</>
						)}
					</Still>
					{drawing && (
						<div class="draw-help">
							<p id="zone-instructions">
								{editing.kind === "polygon"
									? "Click the picture at each corner of the area; click the first corner again or press Finish to close it."
									: "Click the picture at the line's two ends. Crossing it from its left to its right (facing from the first end to the second) counts as forward."}{" "}
								With the keyboard: arrow keys move the cursor (Shift for bigger steps), Enter adds a point, Backspace removes the last one. Or type the points
								below.
							</p>
							<p class="muted" role="status">
								{editing.points.length} {editing.points.length === 1 ? "point" : "points"}
							</p>
							<div class="actions">
								{editing.kind === "polygon" && (
									<button type="button" onClick={() => reshape(editing.points, true)} disabled={editing.points.length < 3}>
										Finish area
									</button>
								)}
								<button type="button" class="secondary" onClick={undo} disabled={!editing.points.length}>
									Undo last point
								</button>
							</div>
						</div>
					)}
				</div>
				<div>
					{canManage && !editing && (
						<div class="actions">
							<button onClick={() => start("polygon")}>Draw an area</button>
							<button class="secondary" onClick={() => start("line")}>
								Draw a line
							</button>
						</div>
					)}
					{saved && !editing && (
						<p class="muted" role="status">
							{saved}
						</p>
					)}
					{editing && canManage && (
						<ZoneForm
							key={editing.zoneId ?? "new"}
							store={store}
							camera={camera}
							editing={editing}
							onChange={change}
							onCancel={() => (setEditing(null), setCursor(null))}
							onSaved={(zone) => {
								setZones(editing.zoneId ? zones.map((z) => (z.id === zone.id ? zone : z)) : [...zones, zone].sort((a, b) => a.name.localeCompare(b.name)));
								setEditing(null);
								setCursor(null);
								setSaved(`Saved ${zone.name}.`);
							}}
							onRemoved={(zone) => {
								setZones(zones.filter((z) => z.id !== zone.id));
								setEditing(null);
								setSaved(`Deleted ${zone.name}.`);
							}}
						/>
					)}
					<h2>Zones</h2>
					{zones.length === 0 ? (
						<Empty>No zones yet. {canManage ? "Draw an area or a line on the picture." : "An owner or admin of this store can draw them."}</Empty>
					) : (
						<ul class="zone-list">
							{zones.map((zone) => (
								<li class={zone.id === editing?.zoneId ? "card zone chosen" : "card zone"}>
									{canManage ? (
										<button class="link" onClick={() => (setEditing(editZone(zone)), setSaved(""))} aria-label={`Change ${zone.name}`}>
											{zone.name}
										</button>
									) : (
										<strong>{zone.name}</strong>
									)}
									<span class={`badge zone-kind-${zone.kind}`}>{KIND_LABEL[zone.kind]}</span>
									<span class="muted">{zone.classes.length ? zone.classes.join(", ") : "All classes"}</span>
								</li>
							))}
						</ul>
					)}
				</div>
			</div>
		</section>
	);
}

/** The shape being drawn: its edges so far, its corners, and its first corner larger (click it to close). */
function Draft({ editing, aspect }: { editing: Editing; aspect: number }) {
	const { points, kind, closed } = editing;
	return (
		<g class="draft">
			{kind === "polygon" && closed ? <polygon points={svgPoints(points)} /> : <polyline points={svgPoints(points)} />}
			{kind === "line" && closed && forwardArrows(points, aspect).map((d) => <path class="zone-arrow" d={d} />)}
			{points.map((p) => (
				<Dot at={p} class="draft-point" />
			))}
			{kind === "polygon" && !closed && points.length > 0 && (
				<>
					<Dot at={points[0]} class="draft-point first" />
					<Dot at={points[0]} class="draft-point-hole" />
				</>
			)}
		</g>
	);
}

function ZoneForm(props: {
	store: Store;
	camera: Camera;
	editing: Editing;
	onChange: (change: Partial<Editing>) => void;
	onCancel: () => void;
	onSaved: (zone: Zone) => void;
	onRemoved: (zone: Zone) => void;
}) {
	const { editing, onChange } = props;
	const [confirming, setConfirming] = useState(false);
	const path = { orgId: props.store.orgId, storeId: props.store.id, cameraId: props.camera.id };
	const { submit, pending, error, failure } = useSubmit(() => {
		const points = parsePoints(editing.pointsText);
		if (!points)
			throw new ApiError(422, "INVALID_POINTS", "The points could not be read.", [
				{ field: "points", message: "Write each point as x,y with numbers between 0 and 1, the points separated by spaces." },
			]);
		const fields = { name: editing.name, points, classes: classList(editing.classes) };
		return editing.zoneId
			? api<Zone, "patch", "/api/v1/orgs/{orgId}/stores/{storeId}/cameras/{cameraId}/zones/{zoneId}">(
					"patch",
					"/api/v1/orgs/{orgId}/stores/{storeId}/cameras/{cameraId}/zones/{zoneId}",
					{ path: { ...path, zoneId: editing.zoneId }, body: fields },
				)
			: api<Zone, "post", "/api/v1/orgs/{orgId}/stores/{storeId}/cameras/{cameraId}/zones">(
					"post",
					"/api/v1/orgs/{orgId}/stores/{storeId}/cameras/{cameraId}/zones",
					{
						path,
						body: { ...fields, kind: editing.kind },
					},
				);
	}, props.onSaved);
	const removal = useSubmit(async () => {
		const zoneId = editing.zoneId ?? "";
		await api("delete", "/api/v1/orgs/{orgId}/stores/{storeId}/cameras/{cameraId}/zones/{zoneId}", { path: { ...path, zoneId } });
		return { id: zoneId, name: editing.name } as Zone;
	}, props.onRemoved);
	const fieldError = byField(error);
	const what = editing.kind === "polygon" ? "area" : "line";
	const title = editing.zoneId ? `Change ${what}` : `New ${what}`;

	if (confirming)
		return (
			<div class="card" role="group" aria-label="Delete the zone">
				<p>Delete {editing.name || "this zone"}? Alert rules that watch it no longer match anything there.</p>
				<ErrorNote error={removal.failure} />
				<form class="actions" onSubmit={removal.submit}>
					<button type="submit" class="danger" disabled={removal.pending}>
						Delete zone
					</button>
					<button type="button" class="secondary" onClick={() => setConfirming(false)}>
						Keep it
					</button>
				</form>
			</div>
		);
	return (
		<form class="card zone-form" onSubmit={submit} aria-label={title}>
			<h2>{title}</h2>
			<Field label="Zone name" name="name" error={fieldError}>
				<input id="f-name" required value={editing.name} onInput={(e) => onChange({ name: e.currentTarget.value })} />
			</Field>
			<Field label="Classes that count (comma-separated; empty for all)" name="classes" error={fieldError}>
				<input id="f-classes" value={editing.classes} placeholder="person, car" onInput={(e) => onChange({ classes: e.currentTarget.value })} />
			</Field>
			<Field label="Points (x,y between 0 and 1, separated by spaces)" name="points" error={fieldError}>
				<input
					id="f-points"
					value={editing.pointsText}
					placeholder={editing.kind === "polygon" ? "0.1,0.5 0.9,0.5 0.9,0.95 0.1,0.95" : "0.2,0.6 0.8,0.6"}
					spellcheck={false}
					onInput={(e) => {
						const pointsText = e.currentTarget.value;
						const points = parsePoints(pointsText);
						onChange(points ? { pointsText, points } : { pointsText });
					}}
				/>
			</Field>
			<ErrorNote error={failure} />
			<div class="actions">
				<button type="submit" disabled={pending}>
					{editing.zoneId ? "Save changes" : "Save zone"}
				</button>
				{editing.zoneId && (
					<>
						<button type="button" class="secondary" onClick={() => onChange({ points: [], pointsText: "", closed: false })}>
							Redraw
						</button>
						<button type="button" class="secondary" onClick={() => setConfirming(true)}>
							Delete
						</button>
					</>
				)}
				<button type="button" class="secondary" onClick={props.onCancel}>
					Cancel
				</button>
			</div>
		</form>
	);
}
