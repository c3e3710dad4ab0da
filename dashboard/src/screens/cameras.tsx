/** The store's cameras with their liveness, adding one, and a camera's clips: upload with progress, status, counts. */
import { useEffect, useState } from "preact/hooks";
import { api, fillPath, uploadClip } from "../api/client";
import type { Camera, Clip, Page, Store } from "../api/views";
import { Empty, ErrorNote, Field, Loading, timeOf, useSubmit } from "../ui";

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
						<li class="card camera">
							<a href={`#/cameras/${camera.id}`}>
								<strong>{camera.name}</strong>
							</a>
							<LivenessBadge camera={camera} />
							<span class="muted">{camera.kind}</span>
						</li>
					))}
				</ul>
			)}
		</section>
	);
}

function AddCamera(props: { store: Store; onAdded: (camera: Camera) => void; onCancel: () => void }) {
	const [name, setName] = useState("");
	const [kind, setKind] = useState<"upload" | "rtsp" | "edge">("upload");
	const { submit, pending, error, failure } = useSubmit(
		() =>
			api<Camera, "post", "/api/v1/orgs/{orgId}/stores/{storeId}/cameras">("post", "/api/v1/orgs/{orgId}/stores/{storeId}/cameras", {
				path: { orgId: props.store.orgId, storeId: props.store.id },
				body: { name, kind },
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
					<option value="edge">Edge box</option>
				</select>
			</Field>
			<ErrorNote error={failure} />
			<div class="actions">
				<button type="submit" disabled={pending}>
					Add camera
				</button>
				<button type="button" class="secondary" onClick={props.onCancel}>
					Cancel
				</button>
			</div>
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

/** A camera: its clips and upload; `view` is the rest of the route (owners' zone editor, a clip's tracks), for what comes next. */
export function CameraPage({ store, cameraId }: { store: Store; cameraId: string; canManage: boolean; view: string[] }) {
	const { cameras, error: cameraError, reload: reloadCameras } = useCameras(store);
	const [clips, setClips] = useState<Clip[] | null>(null);
	const [error, setError] = useState<unknown>(null);
	const camera = cameras?.find((c) => c.id === cameraId);
	const path = { orgId: store.orgId, storeId: store.id };
	const loadClips = () =>
		api<Page<Clip>, "get", "/api/v1/orgs/{orgId}/stores/{storeId}/clips">("get", "/api/v1/orgs/{orgId}/stores/{storeId}/clips", {
			path,
			query: { cameraId, limit: 20 },
		}).then((page) => (setClips(page.items), setError(null)), setError);

	useEffect(() => {
		setClips(null);
		loadClips();
	}, [store.id, cameraId]);
	// Poll only while a clip is still on its way through the pipeline.
	const busy = clips?.some((c) => c.status !== "done" && c.status !== "failed");
	useEffect(() => {
		if (!busy) return;
		const timer = setInterval(loadClips, POLL_MS);
		return () => clearInterval(timer);
	}, [busy, store.id, cameraId]);

	// A clip counts as the camera being seen: its liveness changes once the clip is through.
	useEffect(() => {
		if (busy === false) reloadCameras();
	}, [busy]);

	if (cameraError) return <ErrorNote error={cameraError} />;
	if (!cameras) return <Loading what="the camera" />;
	if (!camera) return <Empty>This camera does not exist in {store.name}, or was removed.</Empty>;
	return (
		<section aria-labelledby="camera-title">
			<p>
				<a href="#/cameras">← All cameras</a>
			</p>
			<div class="section-head">
				<h1 id="camera-title">{camera.name}</h1>
				<LivenessBadge camera={camera} />
			</div>
			<Upload url={fillPath("/api/v1/orgs/{orgId}/stores/{storeId}/cameras/{cameraId}/clips", { ...path, cameraId })} onUploaded={loadClips} />
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
