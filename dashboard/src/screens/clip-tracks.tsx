/**
 * One clip's tracks over a still frame of it: where each object went (its ground point over time, start and end
 * marked, coloured by class), the camera's zones faintly behind, and the list of tracks beside; pointing at or
 * focusing a track in the list picks it out in the picture.
 */
import { useEffect, useState } from "preact/hooks";
import { api, fillPath } from "../api/client";
import type { Camera, Clip, Store } from "../api/views";
import { Empty, ErrorNote, Loading, timeOf } from "../ui";
import { Dot, Still, useZones, ZoneShapes, type Point } from "./zones";
import "./clip-tracks.css";

/** A confirmed track as the tracks route lists it; `path` is missing where the API does not yet send it. */
export interface Track {
	trackNo: number;
	className: string;
	firstTime: number;
	lastTime: number;
	bestTime: number;
	/** x1, y1, x2, y2 as fractions of the frame. */
	bestBox: [number, number, number, number];
	maxScore: number;
	meanScore: number;
	stationary: boolean;
	zonesEntered: string[];
	lineCrossings: Record<string, { count: number; forward: number; backward: number }>;
	/** [timeSec, x, y]: the ground point (bottom centre of the box) over time, fractions of the frame. */
	path?: [number, number, number][];
}

const CLASS_COLOUR: Record<string, string> = {
	person: "#ff6b3d",
	car: "#3da5ff",
	truck: "#b07cff",
	bus: "#20c9b8",
	bicycle: "#7ed957",
	motorcycle: "#ffd23d",
};
const OTHER_COLOURS = ["#ff7fd0", "#c9e265", "#9ad0ff", "#ffa94d"];

/** A colour per class, the same on every page: fixed for the common ones, picked from the name for the rest. */
export function colourOf(className: string): string {
	if (CLASS_COLOUR[className]) return CLASS_COLOUR[className];
	const hash = [...className].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
	return OTHER_COLOURS[hash % OTHER_COLOURS.length];
}

const seconds = (t: number) => `${t.toFixed(1)} s`;
const capitalised = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The time most tracks are in the picture: the frame that shows the most of what is drawn over it. */
export function busiestTime(tracks: Track[]): number {
	let best = 0;
	let most = 0;
	for (const t of tracks) {
		const present = tracks.filter((o) => o.firstTime <= t.firstTime && t.firstTime <= o.lastTime).length;
		if (present > most) [best, most] = [t.firstTime, present];
	}
	return Math.round(best * 10) / 10;
}

export function ClipTracks({ store, camera, clipId }: { store: Store; camera: Camera; clipId: string }) {
	const [clip, setClip] = useState<Clip | null>(null);
	const [tracks, setTracks] = useState<Track[] | null>(null);
	const [error, setError] = useState<unknown>(null);
	const [at, setAt] = useState<number | null>(null);
	const [picked, setPicked] = useState<number | null>(null);
	const { zones } = useZones(store, camera.id);
	const path = { orgId: store.orgId, storeId: store.id, clipId };

	useEffect(() => {
		setClip(null);
		setTracks(null);
		setAt(null);
		Promise.all([
			api<Clip, "get", "/api/v1/orgs/{orgId}/stores/{storeId}/clips/{clipId}">("get", "/api/v1/orgs/{orgId}/stores/{storeId}/clips/{clipId}", { path }),
			api<{ items: Track[] }, "get", "/api/v1/orgs/{orgId}/stores/{storeId}/clips/{clipId}/tracks">(
				"get",
				"/api/v1/orgs/{orgId}/stores/{storeId}/clips/{clipId}/tracks",
				{
					path,
				},
			),
		]).then(([c, t]) => {
			setClip(c);
			setTracks(t.items);
			setAt(busiestTime(t.items));
			setError(null);
		}, setError);
	}, [store.id, clipId]);

	const back = (
		<p>
			<a href={`#/cameras/${camera.id}`}>← {camera.name}</a>
		</p>
	);
	if (error)
		return (
			<>
				{back}
				<ErrorNote error={error} />
			</>
		);
	if (!clip || !tracks || at === null) return <Loading what="the clip's tracks" />;
	if (clip.cameraId !== camera.id)
		return (
			<>
				{back}
				<Empty>This clip is from another camera.</Empty>
			</>
		);
	const src = fillPath("/api/v1/orgs/{orgId}/stores/{storeId}/clips/{clipId}/frame", path, { at });
	const counts = Object.entries(clip.summary?.counts ?? {}).filter(([, n]) => n > 0);
	const zoneName = (id: string) => zones?.find((z) => z.id === id)?.name ?? "a removed zone";
	// The picked track is drawn last, on top of the others.
	const drawn = [...tracks.filter((t) => t.trackNo !== picked), ...tracks.filter((t) => t.trackNo === picked)];

	return (
		<section aria-labelledby="clip-title" class="clip-tracks">
			{back}
			<h1 id="clip-title">Tracks of the clip of {timeOf(clip.createdAt)}</h1>
			{clip.status !== "done" && (
				<p class="muted" role="status">
					This clip is not done yet: tracks appear here as their objects leave the picture.
				</p>
			)}
			<div class="tracks-layout">
				<div>
					<Still
						src={src}
						alt={`The clip at ${seconds(at)}`}
						missing="No picture of this clip (its video may have been removed); the tracks are drawn on a grid."
					>
						{(aspect) => (
							<svg class="still-overlay" viewBox="0 0 1 1" preserveAspectRatio="none" role="img" aria-label={`Paths of the ${tracks.length} tracks`}>
								{zones && <ZoneShapes zones={zones} aspect={aspect} faint />}
								{drawn.map((track) => (
									<TrackShape track={track} picked={picked === track.trackNo} dimmed={picked !== null && picked !== track.trackNo} onPick={setPicked} />
								))}
							</svg>
						)}
					</Still>
					{clip.durationSec !== null && clip.durationSec > 0 && (
						<div class="field">
							<label for="clip-at">Picture at {seconds(at)}</label>
							<input id="clip-at" type="range" min={0} max={clip.durationSec} step={0.5} value={at} onChange={(e) => setAt(Number(e.currentTarget.value))} />
						</div>
					)}
					<div class="legend" aria-label="Legend">
						{counts.length ? (
							<dl class="counts" aria-label="Objects found">
								{counts.map(([cls, n]) => (
									<div>
										<dt>
											<span class="swatch" style={{ background: colourOf(cls) }} /> {cls}
										</dt>
										<dd>{n}</dd>
									</div>
								))}
							</dl>
						) : null}
						<p class="muted">
							<span class="mark start" /> where a track starts, <span class="mark end" /> where it ends; the line between is its ground point (the bottom of its
							box) over time.
						</p>
					</div>
				</div>
				<div>
					<h2>Tracks</h2>
					{tracks.length === 0 ? (
						<Empty>No tracks in this clip: nothing was seen in enough frames to count.</Empty>
					) : (
						<ol class="track-list">
							{tracks.map((track) => (
								<li
									class={picked === track.trackNo ? "card track picked" : "card track"}
									data-track-no={track.trackNo}
									tabIndex={0}
									onMouseEnter={() => setPicked(track.trackNo)}
									onMouseLeave={() => setPicked(null)}
									onFocus={() => setPicked(track.trackNo)}
									onBlur={() => setPicked(null)}
								>
									<div class="track-head">
										<span class="swatch" style={{ background: colourOf(track.className) }} />
										<strong>{capitalised(track.className)}</strong>
										<span class="muted">#{track.trackNo}</span>
										{track.stationary && <span class="badge">Stood still</span>}
									</div>
									<div>
										{seconds(track.firstTime)} – {seconds(track.lastTime)} · best score {Math.round(track.maxScore * 100)} %
									</div>
									{track.zonesEntered.length > 0 && <div>Entered {track.zonesEntered.map(zoneName).join(", ")}</div>}
									{Object.entries(track.lineCrossings ?? {}).map(([zoneId, c]) => (
										<div>
											Crossed {zoneName(zoneId)}: {c.forward} forward, {c.backward} back
										</div>
									))}
								</li>
							))}
						</ol>
					)}
				</div>
			</div>
		</section>
	);
}

/** A track's path with its start and end; only its best box where the API sends no path. */
function TrackShape({ track, picked, dimmed, onPick }: { track: Track; picked: boolean; dimmed: boolean; onPick: (trackNo: number | null) => void }) {
	const colour = colourOf(track.className);
	const points: Point[] = (track.path ?? []).map(([, x, y]) => [x, y]);
	const classes = ["track-shape", picked && "picked", dimmed && "dimmed"].filter(Boolean).join(" ");
	const [x1, y1, x2, y2] = track.bestBox;
	return (
		<g class={classes} stroke={colour} onMouseEnter={() => onPick(track.trackNo)} onMouseLeave={() => onPick(null)}>
			{points.length ? (
				<>
					<polyline class="track-path" points={points.map(([x, y]) => `${x},${y}`).join(" ")} />
					<Dot at={points[0]} class="track-start" />
					<Dot at={points[0]} class="track-start-hole" />
					<Dot at={points[points.length - 1]} class="track-end" />
				</>
			) : (
				<rect class="track-box" x={x1} y={y1} width={x2 - x1} height={y2 - y1} />
			)}
		</g>
	);
}
