/**
 * The platform's operators (super-admins): the job queues (jobs waiting, the oldest one's age, dead letters), the
 * nodes (their services, detector, load) and the dead letters themselves, each replayed or discarded after a
 * confirmation in the page. Everything is read again every few seconds while the screen is open.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../api/client";
import type { Me } from "../api/views";
import { Empty, ErrorNote, Loading, timeOf } from "../ui";
import "../tables.css";
import "./operations.css";

interface QueueStats {
	queue: string;
	pending: number;
	/** Age of the oldest unfinished job; null when none. */
	oldestAgeMs: number | null;
	deadLetters: number;
}

interface NodeInfo {
	nodeId: string;
	hostname: string | null;
	available: boolean;
	/** The node that answered this request. */
	local: boolean;
	services: string[];
	/** In percent, as the node last reported it. */
	cpu: number | null;
	detector: { backend: string; model: string; inFlight: number } | null;
}

interface DeadLetter {
	queue: string;
	letterId: string;
	jobId: string;
	orgId: string | null;
	error: string;
	attempts: number;
	failedAt: string;
	node: string | null;
	job: unknown;
}

const REFRESH_MS = 5000;
const LETTERS_SHOWN = 50;

/** Reads `load` now, then again REFRESH_MS after each answer, until the screen is left; `refresh` reads at once. */
function useLive<T>(load: () => Promise<T>) {
	const [state, setState] = useState<{ value: T | null; error: unknown; at: Date | null }>({ value: null, error: null, at: null });
	const [round, setRound] = useState(0);
	useEffect(() => {
		let left = false;
		let timer: ReturnType<typeof setTimeout> | undefined;
		const poll = () =>
			load()
				.then(
					(value) => !left && setState({ value, error: null, at: new Date() }),
					// A failed read keeps the last numbers on screen, with the error above them.
					(error) => !left && setState((s) => ({ ...s, error })),
				)
				.finally(() => {
					if (!left) timer = setTimeout(poll, REFRESH_MS);
				});
		poll();
		return () => {
			left = true;
			clearTimeout(timer);
		};
	}, [round]);
	return { ...state, refresh: () => setRound((r) => r + 1) };
}

/** 95 s -> "1 min 35 s": how long the oldest job has waited. */
function age(ms: number | null | undefined): string {
	if (ms === null || ms === undefined) return "—";
	const s = Math.floor(ms / 1000);
	if (s < 1) return "under 1 s";
	if (s < 60) return `${s} s`;
	const min = Math.floor(s / 60);
	if (min < 60) return `${min} min${s % 60 ? ` ${s % 60} s` : ""}`;
	return `${Math.floor(min / 60)} h${min % 60 ? ` ${min % 60} min` : ""}`;
}

export function Operations(_props: { me: Me }) {
	const queues = useLive(() => api<{ items: QueueStats[] }, "get", "/api/v1/admin/queues">("get", "/api/v1/admin/queues").then((r) => r.items));
	const nodes = useLive(() => api<{ items: NodeInfo[] }, "get", "/api/v1/admin/nodes">("get", "/api/v1/admin/nodes").then((r) => r.items));
	const letters = useLive(() =>
		api<{ items: DeadLetter[] }, "get", "/api/v1/admin/dead-letters">("get", "/api/v1/admin/dead-letters", { query: { limit: LETTERS_SHOWN } }).then(
			(r) => r.items,
		),
	);
	const at = [queues.at, nodes.at, letters.at].filter((d): d is Date => d !== null).sort((a, b) => b.getTime() - a.getTime())[0];

	return (
		<section aria-labelledby="operations-title" class="operations">
			<div class="section-head">
				<h1 id="operations-title">Operations</h1>
				<span class="muted">
					Refreshed every {REFRESH_MS / 1000} s{at && `, last at ${at.toLocaleTimeString()}`}
				</span>
			</div>

			<section class="card" aria-labelledby="queues-title">
				<h2 id="queues-title">Queues</h2>
				<ErrorNote error={queues.error} />
				{!queues.value ? (
					!queues.error && <Loading what="queues" />
				) : queues.value.length === 0 ? (
					<Empty>No job queues are in use yet.</Empty>
				) : (
					<div class="table-scroll" role="region" aria-label="Queue table" tabIndex={0}>
						<table class="data">
							<thead>
								<tr>
									<th scope="col">Queue</th>
									<th scope="col">Waiting</th>
									<th scope="col">Oldest waiting</th>
									<th scope="col">Dead letters</th>
								</tr>
							</thead>
							<tbody>
								{queues.value.map((q) => (
									<tr data-queue={q.queue}>
										<th scope="row">{q.queue}</th>
										<td>{q.pending}</td>
										<td>{q.pending ? age(q.oldestAgeMs) : "—"}</td>
										<td>{q.deadLetters ? <span class="badge failing">{q.deadLetters}</span> : 0}</td>
									</tr>
								))}
							</tbody>
						</table>
					</div>
				)}
			</section>

			<section class="card" aria-labelledby="nodes-title">
				<h2 id="nodes-title">Nodes</h2>
				<ErrorNote error={nodes.error} />
				{!nodes.value ? (
					!nodes.error && <Loading what="nodes" />
				) : nodes.value.length === 0 ? (
					<Empty>No node answered.</Empty>
				) : (
					<div class="table-scroll" role="region" aria-label="Node table" tabIndex={0}>
						<table class="data">
							<thead>
								<tr>
									<th scope="col">Node</th>
									<th scope="col">State</th>
									<th scope="col">Services</th>
									<th scope="col">CPU</th>
									<th scope="col">Detector</th>
									<th scope="col">In flight</th>
								</tr>
							</thead>
							<tbody>
								{nodes.value.map((n) => (
									<tr data-node={n.nodeId}>
										<th scope="row">
											<span class="node-id">{n.nodeId}</span>
											{n.hostname && <span class="muted">{n.hostname}</span>}
											{n.local && <span class="badge">This node</span>}
										</th>
										<td>
											<span class={`badge ${n.available ? "available" : "unavailable"}`}>{n.available ? "Available" : "Unavailable"}</span>
										</td>
										<td class="services">{n.services.length ? n.services.join(", ") : <span class="muted">None</span>}</td>
										<td>{n.cpu === null ? "—" : `${Math.round(n.cpu)} %`}</td>
										<td>
											{n.detector ? (
												<>
													<span class="detector-backend">{n.detector.backend}</span> <span class="muted">{n.detector.model}</span>
												</>
											) : (
												<span class="muted">{n.services.includes("detector") ? "Not answering" : "None"}</span>
											)}
										</td>
										<td>{n.detector ? n.detector.inFlight : "—"}</td>
									</tr>
								))}
							</tbody>
						</table>
					</div>
				)}
			</section>

			<section class="card" aria-labelledby="letters-title">
				<h2 id="letters-title">Dead letters</h2>
				<p class="muted">Jobs that failed on every attempt. Replay one to run it again as a new job, or discard it for good.</p>
				<ErrorNote error={letters.error} />
				{!letters.value ? (
					!letters.error && <Loading what="dead letters" />
				) : letters.value.length === 0 ? (
					<Empty>No dead letters: every job so far has run, or is still being tried.</Empty>
				) : (
					<>
						{letters.value.length === LETTERS_SHOWN && <p class="muted">The newest {LETTERS_SHOWN} are shown.</p>}
						<ul class="letters">
							{letters.value.map((letter) => (
								<Letter
									key={`${letter.queue}/${letter.letterId}`}
									letter={letter}
									onDone={() => {
										letters.refresh();
										queues.refresh();
									}}
								/>
							))}
						</ul>
					</>
				)}
			</section>
		</section>
	);
}

type Asking = "replay" | "discard" | null;

/** One dead letter, with Replay and Discard each asking once more in the page before it acts. */
function Letter({ letter, onDone }: { letter: DeadLetter; onDone: () => void }) {
	const [asking, setAsking] = useState<Asking>(null);
	const [pending, setPending] = useState(false);
	const [error, setError] = useState<unknown>(null);
	const confirm = useRef<HTMLButtonElement>(null);
	const asked = useRef<Asking>(null);
	const replay = useRef<HTMLButtonElement>(null);
	const discard = useRef<HTMLButtonElement>(null);
	// The button pressed goes away: focus moves to the question's answer, and back to that button on Cancel.
	useEffect(() => {
		if (asking) confirm.current?.focus();
		else if (asked.current) (asked.current === "replay" ? replay : discard).current?.focus();
		asked.current = asking;
	}, [asking]);
	const path = { queue: letter.queue, letterId: letter.letterId };
	const title = `${letter.queue} job ${letter.jobId}`;
	const act = async () => {
		setPending(true);
		setError(null);
		try {
			if (asking === "replay") await api("post", "/api/v1/admin/dead-letters/{queue}/{letterId}/replay", { path });
			else await api("delete", "/api/v1/admin/dead-letters/{queue}/{letterId}", { path });
			onDone();
		} catch (err) {
			setError(err);
			setPending(false);
		}
	};
	return (
		<li class="card letter" data-letter={`${letter.queue}/${letter.letterId}`}>
			<h3>
				<span class="badge">{letter.queue}</span> Job {letter.jobId}
			</h3>
			<p class="letter-error">{letter.error}</p>
			<dl class="facts">
				<div>
					<dt>Attempts</dt>
					<dd>{letter.attempts}</dd>
				</div>
				<div>
					<dt>Failed at</dt>
					<dd>
						<time dateTime={letter.failedAt}>{timeOf(letter.failedAt)}</time>
					</dd>
				</div>
				<div>
					<dt>Node</dt>
					<dd>{letter.node ?? "—"}</dd>
				</div>
				<div>
					<dt>Organization</dt>
					<dd>{letter.orgId ?? "None"}</dd>
				</div>
			</dl>
			<details>
				<summary>The job</summary>
				<pre>{JSON.stringify(letter.job, null, 2)}</pre>
			</details>
			{asking ? (
				<div class="confirm" role="group" aria-label={`Confirm: ${asking} ${title}`}>
					<p>{asking === "replay" ? "Run this job again, as a new job? The letter leaves this list." : "Discard this job for good? It will not run again."}</p>
					<div class="actions">
						<button ref={confirm} class={asking === "discard" ? "danger" : undefined} disabled={pending} onClick={act}>
							{asking === "replay" ? "Yes, replay it" : "Yes, discard it"}
						</button>
						<button class="secondary" disabled={pending} onClick={() => setAsking(null)}>
							Cancel
						</button>
					</div>
				</div>
			) : (
				<div class="actions">
					<button ref={replay} aria-label={`Replay ${title}`} onClick={() => setAsking("replay")}>
						Replay
					</button>
					<button ref={discard} class="secondary" aria-label={`Discard ${title}`} onClick={() => setAsking("discard")}>
						Discard
					</button>
				</div>
			)}
			<ErrorNote error={error} />
		</li>
	);
}
