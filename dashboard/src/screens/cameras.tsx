/**
 * The store's cameras at a glance (a recent picture, liveness; owners rename, switch off and delete them), adding
 * one, and a camera's page: its clips with upload, status and counts, its zones and each clip's tracks.
 */
import { useEffect, useState } from "preact/hooks";
import { api, fillPath, uploadClip } from "../api/client";
import type { Camera, Clip, Page, Store } from "../api/views";
import { Empty, ErrorNote, Field, FormEnd, Loading, timeOf, useSubmit } from "../ui";
import { ClipTracks } from "./clip-tracks";
import { cameraFrameUrl, pictureState, usePictureOutcome, ZoneEditor } from "./zones";
import "./cameras.css";

const LIVENESS_LABEL: Record<Camera["liveness"]["status"], string> = {
	online: "Online",
	stale: "Stale",
	offline: "Offline",
	unknown: "Never seen",
};

export const useCameras = (store: Store) => {
	const [cameras, setCameras] = useState<Camera[] | null>(null);
	const [error, setError] = useState<unknown>(null);
	const load = () =>
		api<Page<Camera>, "get", "/api/v1/orgs/{orgId}/stores/{storeId}/cameras">("get", "/api/v1/orgs/{orgId}/stores/{storeId}/cameras", {
			path: { orgId: store.orgId, storeId: store.id },
		}).then((page) => setCameras(page.items), setError);
	useEffect(() => {
		setCameras(null);
		load();
	}, [store.id]);
	return { cameras, error, reload: load, setCameras };
};

export const LivenessBadge = ({ camera }: { camera: Camera }) => (
	<span class={`badge liveness-${camera.liveness.status}`} title={camera.liveness.lastSeenAt ? `Last seen ${timeOf(camera.liveness.lastSeenAt)}` : undefined}>
		{LIVENESS_LABEL[camera.liveness.status]}
	</span>
);

export function Cameras({ store, canManage }: { store: Store; canManage: boolean }) {
	const { cameras, error, setCameras } = useCameras(store);
	const [adding, setAdding] = useState(false);
	if (error) return <ErrorNote error={error} />;
	if (!cameras) return <Loading what="cameras" />;
	return (
		<section aria-labelledby="cameras-title">
			<div class="section-head">
				<h1 id="cameras-title">Cameras of {store.name}</h1>
				{canManage && !adding && <button onClick={() => setAdding(true)}>Add camera</button>}
			</div>
			{adding && <AddCamera store={store} onCancel={() => setAdding(false)} onAdded={(c) => (setCameras([...cameras, c]), setAdding(false))} />}
			{cameras.length === 0 ? (
				<Empty>
					No cameras yet. {canManage ? "Add one to upload clips from it, or to connect an edge box." : "An owner or admin of this store can add them."}
				</Empty>
			) : (
				<ul class="grid">
					{cameras.map((camera) => (
						<CameraCard
							store={store}
							camera={camera}
							canManage={canManage}
							onChanged={(changed) => setCameras(cameras.map((c) => (c.id === changed.id ? changed : c)))}
							onRemoved={() => setCameras(cameras.filter((c) => c.id !== camera.id))}
						/>
					))}
				</ul>
			)}
		</section>
	);
}

/** A recent frame of the camera; a placeholder until it has footage (the frame route answers 404 then). */
function Thumbnail({ store, camera }: { store: Store; camera: Camera }) {
	const seen = camera.liveness.lastSeenAt;
	// The last time it was seen names the picture: a new clip gives a new address, so the browser fetches it again.
	const src = seen && cameraFrameUrl(store, camera.id, seen);
	const [outcome, setOutcome] = usePictureOutcome();
	const state = pictureState(src, outcome);
	if (!src || state === "missing") return <div class="thumb none">No picture yet</div>;
	return (
		<img
			class="thumb"
			data-state={state}
			src={src}
			alt={`A recent picture from ${camera.name}`}
			loading="lazy"
			onLoad={() => setOutcome({ src, shown: true })}
			onError={() => setOutcome({ src, shown: false })}
		/>
	);
}

type CardMode = "view" | "rename" | "delete";

function CameraCard(props: { store: Store; camera: Camera; canManage: boolean; onChanged: (camera: Camera) => void; onRemoved: () => void }) {
	const { store, camera } = props;
	const [mode, setMode] = useState<CardMode>("view");
	const [name, setName] = useState(camera.name);
	const path = { orgId: store.orgId, storeId: store.id, cameraId: camera.id };
	const update = (body: { name?: string; enabled?: boolean }) =>
		api<Camera, "patch", "/api/v1/orgs/{orgId}/stores/{storeId}/cameras/{cameraId}">("patch", "/api/v1/orgs/{orgId}/stores/{storeId}/cameras/{cameraId}", {
			path,
			body,
		});
	const rename = useSubmit(
		() => update({ name }),
		(c) => (props.onChanged(c), setMode("view")),
	);
	const toggle = useSubmit(() => update({ enabled: !camera.enabled }), props.onChanged);
	const removal = useSubmit(() => api("delete", "/api/v1/orgs/{orgId}/stores/{storeId}/cameras/{cameraId}", { path }), props.onRemoved);
	const nameId = `rename-${camera.id}`;
	const nameError = rename.error?.fieldError("name");

	return (
		<li class={camera.enabled ? "card camera" : "card camera disabled"} data-camera-id={camera.id}>
			<a href={`#/cameras/${camera.id}`} class="thumb-link" tabIndex={-1} aria-hidden="true">
				<Thumbnail store={store} camera={camera} />
			</a>
			<a href={`#/cameras/${camera.id}`}>
				<strong>{camera.name}</strong>
			</a>
			<div class="camera-badges">
				<LivenessBadge camera={camera} />
				{!camera.enabled && <span class="badge">Switched off</span>}
				<span class="muted">{camera.kind}</span>
			</div>
			<StreamNote camera={camera} />
			{props.canManage && mode === "view" && (
				<div class="actions camera-actions">
					<button class="secondary" onClick={() => (setName(camera.name), setMode("rename"))} aria-label={`Rename ${camera.name}`}>
						Rename
					</button>
					<form onSubmit={toggle.submit}>
						<button type="submit" class="secondary" disabled={toggle.pending} aria-label={`${camera.enabled ? "Switch off" : "Switch on"} ${camera.name}`}>
							{camera.enabled ? "Switch off" : "Switch on"}
						</button>
					</form>
					<button class="secondary" onClick={() => setMode("delete")} aria-label={`Delete ${camera.name}`}>
						Delete
					</button>
				</div>
			)}
			{mode === "view" && <ErrorNote error={toggle.failure} />}
			{mode === "rename" && (
				<form onSubmit={rename.submit} aria-label={`Rename ${camera.name}`}>
					<div class="field">
						<label for={nameId}>New name</label>
						<input
							id={nameId}
							required
							value={name}
							onInput={(e) => setName(e.currentTarget.value)}
							aria-invalid={nameError ? true : undefined}
							aria-describedby={nameError ? `${nameId}-error` : undefined}
						/>
						{nameError && (
							<p class="field-error" id={`${nameId}-error`} role="alert">
								{nameError}
							</p>
						)}
					</div>
					<ErrorNote error={rename.failure} />
					<div class="actions">
						<button type="submit" disabled={rename.pending}>
							Save name
						</button>
						<button type="button" class="secondary" onClick={() => setMode("view")}>
							Cancel
						</button>
					</div>
				</form>
			)}
			{mode === "delete" && (
				<form class="confirm" onSubmit={removal.submit} aria-label={`Delete ${camera.name}`}>
					<p>Delete {camera.name}? Its clips, zones and pictures go with it; alerts already raised stay.</p>
					<ErrorNote error={removal.failure} />
					<div class="actions">
						<button type="submit" class="danger" disabled={removal.pending}>
							Delete camera
						</button>
						<button type="button" class="secondary" onClick={() => setMode("view")}>
							Keep it
						</button>
					</div>
				</form>
			)}
		</li>
	);
}

/** How a live camera's stream goes, in words, when it is not simply flowing. */
function StreamNote({ camera }: { camera: Camera }) {
	const stream = camera.stream;
	if (!stream || !camera.enabled || stream.status === "streaming") return null;
	if (stream.status === "error")
		return (
			<p class="error stream-error" role="status">
				{stream.message ?? "The stream cannot be read."}
			</p>
		);
	return <p class="muted">{stream.status === "connecting" ? "Connecting to the stream…" : "Waiting for a stream node to pull it."}</p>;
}

function AddCamera(props: { store: Store; onAdded: (camera: Camera) => void; onCancel: () => void }) {
	const [name, setName] = useState("");
	const [kind, setKind] = useState<"upload" | "rtsp" | "http" | "edge">("upload");
	const [streamUrl, setStreamUrl] = useState("");
	const live = kind === "rtsp" || kind === "http";
	const { submit, pending, error, failure } = useSubmit(
		() =>
			api<Camera, "post", "/api/v1/orgs/{orgId}/stores/{storeId}/cameras">("post", "/api/v1/orgs/{orgId}/stores/{storeId}/cameras", {
				path: { orgId: props.store.orgId, storeId: props.store.id },
				body: { name, kind, ...(live && { streamUrl }) },
			}),
		props.onAdded,
	);
	return (
		<form class="card" onSubmit={submit} aria-label="Add a camera">
			<h2>Add a camera</h2>
			<Field label="Camera name" name="name" error={error}>
				<input id="f-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
			</Field>
			<Field label="How it sends video" name="kind" error={error}>
				<select id="f-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value as typeof kind)}>
					<option value="upload">Clips uploaded here</option>
					<option value="rtsp">RTSP stream</option>
					<option value="http">HTTP stream (HLS, MJPEG)</option>
					<option value="edge">Edge box</option>
				</select>
			</Field>
			{live && (
				<Field label="Stream URL" name="streamUrl" error={error}>
					<input
						id="f-streamUrl"
						required
						type="url"
						spellcheck={false}
						autoComplete="off"
						placeholder={kind === "rtsp" ? "rtsp://user:password@camera.local:554/stream1" : "https://camera.local/stream.m3u8"}
						value={streamUrl}
						onInput={(e) => setStreamUrl(e.currentTarget.value)}
					/>
				</Field>
			)}
			{live && <p class="muted">Stored encrypted and shown with its password masked. Vigil pulls the stream and analyses it as it comes.</p>}
			<FormEnd failure={failure} pending={pending} submit="Add camera" onCancel={props.onCancel} />
		</form>
	);
}

const STATUS_LABEL: Record<Clip["status"], string> = {
	received: "Received",
	queued: "Waiting for a detector",
	processing: "Detecting",
	done: "Done",
	failed: "Failed",
};
const POLL_MS = 1500;

/** A camera: its clips and upload, or what `view` (the rest of the route) names: `zones`, or `clips/<id>` for a clip's tracks. */
export function CameraPage({ store, cameraId, canManage, view }: { store: Store; cameraId: string; canManage: boolean; view: string[] }) {
	const { cameras, error, reload } = useCameras(store);
	const camera = cameras?.find((c) => c.id === cameraId);
	if (error) return <ErrorNote error={error} />;
	if (!cameras) return <Loading what="the camera" />;
	if (!camera) return <Empty>This camera does not exist in {store.name}, or was removed.</Empty>;
	if (view[0] === "zones") return <ZoneEditor store={store} camera={camera} canManage={canManage} />;
	if (view[0] === "clips" && view[1]) return <ClipTracks store={store} camera={camera} clipId={view[1]} />;
	return <CameraClips store={store} camera={camera} canManage={canManage} onSeen={reload} />;
}

function CameraClips({ store, camera, canManage, onSeen }: { store: Store; camera: Camera; canManage: boolean; onSeen: () => void }) {
	const [clips, setClips] = useState<Clip[] | null>(null);
	const [error, setError] = useState<unknown>(null);
	const path = { orgId: store.orgId, storeId: store.id };
	const loadClips = () =>
		api<Page<Clip>, "get", "/api/v1/orgs/{orgId}/stores/{storeId}/clips">("get", "/api/v1/orgs/{orgId}/stores/{storeId}/clips", {
			path,
			query: { cameraId: camera.id, limit: 20 },
		}).then((page) => (setClips(page.items), setError(null)), setError);

	useEffect(() => {
		setClips(null);
		loadClips();
	}, [store.id, camera.id]);
	// Poll only while a clip is still on its way through the pipeline.
	const busy = clips?.some((c) => c.status !== "done" && c.status !== "failed");
	useEffect(() => {
		if (!busy) return;
		const timer = setInterval(loadClips, POLL_MS);
		return () => clearInterval(timer);
	}, [busy, store.id, camera.id]);

	// A clip counts as the camera being seen: its liveness changes once the clip is through.
	useEffect(() => {
		if (busy === false) onSeen();
	}, [busy]);

	return (
		<section aria-labelledby="camera-title">
			<p>
				<a href="#/cameras">← All cameras</a>
			</p>
			<div class="section-head">
				<h1 id="camera-title">{camera.name}</h1>
				<LivenessBadge camera={camera} />
				<a href={`#/cameras/${camera.id}/zones`}>{canManage ? "Draw zones" : "See zones"}</a>
			</div>
			<Upload url={fillPath("/api/v1/orgs/{orgId}/stores/{storeId}/cameras/{cameraId}/clips", { ...path, cameraId: camera.id })} onUploaded={loadClips} />
			<h2>Clips</h2>
			{error ? <ErrorNote error={error} /> : null}
			{!clips ? (
				<Loading what="clips" />
			) : clips.length === 0 ? (
				<Empty>No clips from this camera yet. Upload an MP4 above to find the people and vehicles in it.</Empty>
			) : (
				<ul class="clips">
					{clips.map((clip) => (
						<ClipRow clip={clip} />
					))}
				</ul>
			)}
		</section>
	);
}

function ClipRow({ clip }: { clip: Clip }) {
	const counts = Object.entries(clip.summary?.counts ?? {}).filter(([, n]) => n > 0);
	return (
		<li class="card clip" data-status={clip.status}>
			<div class="clip-head">
				<span class={`badge clip-${clip.status}`}>{STATUS_LABEL[clip.status]}</span>
				<span class="muted">{timeOf(clip.createdAt)}</span>
				{clip.durationSec !== null && <span class="muted">{clip.durationSec.toFixed(1)} s</span>}
			</div>
			{(clip.status === "processing" || clip.status === "queued") && (
				<label class="progress">
					Frames analysed: {clip.progress.framesDone} of {clip.progress.framesTotal || "?"}
					<progress max={1} value={clip.progress.ratio} />
				</label>
			)}
			{clip.status === "failed" && <p class="error">{clip.failureReason ?? "Processing failed"}</p>}
			{clip.status === "done" &&
				(counts.length ? (
					<dl class="counts" aria-label="Objects found">
						{counts.map(([cls, n]) => (
							<div>
								<dt>{cls}</dt>
								<dd>{n}</dd>
							</div>
						))}
					</dl>
				) : (
					<p class="muted">Nothing found in this clip.</p>
				))}
			{clip.status === "done" && (
				<p class="clip-links">
					<a href={`#/cameras/${clip.cameraId}/clips/${clip.id}`}>See tracks</a>
				</p>
			)}
		</li>
	);
}

function Upload({ url, onUploaded }: { url: string; onUploaded: () => void }) {
	const [file, setFile] = useState<File | null>(null);
	const [progress, setProgress] = useState<number | null>(null);
	const [error, setError] = useState<unknown>(null);
	const upload = async (e: Event) => {
		e.preventDefault();
		if (!file) return;
		setError(null);
		setProgress(0);
		try {
			await uploadClip(url, file, setProgress);
			setFile(null);
			(e.target as HTMLFormElement).reset();
			onUploaded();
		} catch (err) {
			setError(err);
		} finally {
			setProgress(null);
		}
	};
	return (
		<form class="card upload" onSubmit={upload} aria-label="Upload a clip">
			<h2>Upload a clip</h2>
			<div class="field">
				<label for="f-clip">MP4 video</label>
				<input id="f-clip" type="file" accept="video/mp4" required onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
			</div>
			{progress !== null && (
				<label class="progress">
					Uploading: {Math.round(progress * 100)} %
					<progress max={1} value={progress} />
				</label>
			)}
			<ErrorNote error={error} />
			<button type="submit" disabled={!file || progress !== null}>
				Upload
			</button>
		</form>
	);
}
