/**
 * The one configuration module. Every setting has a default, a unit and a reason, and the table below
 * is also what the README documents. `loadConfig` fails at start with a message naming the bad variable.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { projectDashboardDir } from "./static-files";

export const ALL_SERVICES = [
	"api",
	"auth",
	"tenancy",
	"camera",
	"clip",
	"detector",
	"alert",
	"notifier",
	"feedback",
	"audit",
	"retention",
	"jobs",
	"ingest",
	"stream",
] as const;
export type ServiceName = (typeof ALL_SERVICES)[number];

export class ConfigError extends Error {
	constructor(
		readonly variable: string,
		problem: string,
	) {
		super(`Invalid configuration: ${variable} ${problem}`);
		this.name = "ConfigError";
	}
}

type Env = Record<string, string | undefined>;

interface Setting<T> {
	env: string;
	default: string | undefined;
	unit?: string;
	doc: string;
	parse: (raw: string, env: string) => T;
}

const int =
	(min: number, max: number) =>
	(raw: string, env: string): number => {
		const n = Number(raw);
		if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(env, `must be an integer from ${min} to ${max}, got "${raw}"`);
		return n;
	};
const oneOf =
	<T extends string>(...values: T[]) =>
	(raw: string, env: string): T => {
		if (!values.includes(raw as T)) throw new ConfigError(env, `must be one of ${values.join(", ")}, got "${raw}"`);
		return raw as T;
	};
const num =
	(min: number, max: number) =>
	(raw: string, env: string): number => {
		const n = Number(raw);
		if (!Number.isFinite(n) || n < min || n > max) throw new ConfigError(env, `must be a number from ${min} to ${max}, got "${raw}"`);
		return n;
	};
const text = (raw: string) => raw;
/** Days of retention, or null (empty) for "keep for ever". */
const optionalDays = (raw: string, env: string): number | null => (raw === "" ? null : int(1, 3650)(raw, env));
const list = (raw: string) =>
	raw
		.split(",")
		.map((s) => s.trim())
		.filter(Boolean);
const bool = (raw: string, env: string): boolean => {
	if (/^(1|true|yes|on)$/i.test(raw)) return true;
	if (/^(0|false|no|off)$/i.test(raw)) return false;
	throw new ConfigError(env, `must be true or false, got "${raw}"`);
};

/** Every setting Vigil reads. Order here is the order of the README table. */
export const SETTINGS = {
	nodeEnv: {
		env: "NODE_ENV",
		default: "development",
		doc: "`production` makes JWT_SECRET and ENCRYPTION_KEY mandatory on the nodes whose SERVICES use them (JWT_SECRET: auth; ENCRYPTION_KEY: camera, notifier); `vigil migrate` and `vigil repl` need neither.",
		parse: text,
	},
	transporter: {
		env: "TRANSPORTER",
		default: undefined,
		doc: "Moleculer transporter URL (`nats://host:4222`). Unset: every service runs in this one process.",
		parse: (raw: string, env: string) => {
			if (!/^nats:\/\/[^\s]+$/.test(raw)) throw new ConfigError(env, `must be a nats:// URL, got "${raw}"`);
			return raw;
		},
	},
	namespace: { env: "NAMESPACE", default: "vigil", doc: "Moleculer namespace: nodes only see nodes of the same namespace on one NATS.", parse: text },
	databaseUrl: {
		env: "DATABASE_URL",
		default: undefined,
		doc: "PostgreSQL URL. Unset: embedded PostgreSQL (PGlite) under DATA_DIR; `pglite://memory` keeps it in memory (tests).",
		parse: (raw: string, env: string) => {
			if (!/^(postgres(ql)?:\/\/\S+|pglite:\/\/memory)$/.test(raw))
				throw new ConfigError(env, `must be a postgres:// URL, got "${raw.replace(/\/\/[^@]*@/, "//***@")}"`);
			return raw;
		},
	},
	dataDir: {
		env: "DATA_DIR",
		default: "./data",
		doc: "Where the embedded database, generated secrets and stored media live.",
		parse: (raw: string) => resolve(raw),
	},
	operatorSocket: {
		env: "OPERATOR_SOCKET",
		default: "true",
		doc: "Embedded mode (no TRANSPORTER): `vigil start` listens on `DATA_DIR/run/operator.sock` (this OS user only) so `vigil repl` can attach to it. Off: no REPL can reach the server.",
		parse: bool,
	},
	dashboardDir: {
		env: "DASHBOARD_DIR",
		default: "",
		doc: "Folder of the built dashboard the gateway serves at `/` (`npm run build` makes it). Empty: the project's `dashboard/dist`.",
		parse: (raw: string) => (raw ? resolve(raw) : projectDashboardDir()),
	},
	services: {
		env: "SERVICES",
		default: ALL_SERVICES.join(","),
		doc: "Comma-separated services this node runs (`api,auth,...`): a node can run one service alone, e.g. `api`.",
		parse: (raw: string, env: string) => {
			const names = list(raw);
			const unknown = names.filter((n) => !(ALL_SERVICES as readonly string[]).includes(n));
			if (unknown.length || names.length === 0)
				throw new ConfigError(env, `lists unknown services: ${unknown.join(", ") || "(none given)"}; known: ${ALL_SERVICES.join(", ")}`);
			return names as ServiceName[];
		},
	},
	port: { env: "PORT", default: "3000", unit: "TCP port", doc: "HTTP port of the gateway (0 picks a free one).", parse: int(0, 65535) },
	host: { env: "HOST", default: "0.0.0.0", doc: "Address the gateway listens on.", parse: text },
	logLevel: {
		env: "LOG_LEVEL",
		default: "info",
		doc: "fatal, error, warn, info, debug or trace.",
		parse: oneOf("fatal", "error", "warn", "info", "debug", "trace"),
	},
	logFormat: {
		env: "LOG_FORMAT",
		default: "pretty",
		doc: "`json` (one object a line, with request ids) or `pretty` for a terminal.",
		parse: oneOf("json", "pretty"),
	},
	jwtSecret: {
		env: "JWT_SECRET",
		default: undefined,
		unit: "≥ 32 chars",
		doc: "HMAC key for access tokens, read by the auth service. Generated into DATA_DIR outside production; required in production where auth runs.",
		parse: (raw: string, env: string) => {
			if (raw.length < 32) throw new ConfigError(env, "must be at least 32 characters");
			return raw;
		},
	},
	encryptionKey: {
		env: "ENCRYPTION_KEY",
		default: undefined,
		unit: "32 bytes, hex or base64",
		doc: "AES-256-GCM key for secrets at rest (camera credentials, notification channels), read by the camera and notifier services. Generated outside production; required in production where they run.",
		parse: parseKey,
	},
	bcryptCost: {
		env: "BCRYPT_COST",
		default: "12",
		unit: "log2 rounds",
		doc: "bcrypt work factor: 12 costs about 250 ms on one core, slow enough for stolen hashes.",
		parse: int(4, 15),
	},
	accessTokenTtl: {
		env: "ACCESS_TOKEN_TTL",
		default: "900",
		unit: "seconds",
		doc: "Access JWT lifetime (15 min): short, so a leaked token is worth little.",
		parse: int(30, 86400),
	},
	refreshTokenTtl: {
		env: "REFRESH_TOKEN_TTL",
		default: "604800",
		unit: "seconds",
		doc: "Refresh token lifetime (7 days); rotated on every use.",
		parse: int(300, 90 * 86400),
	},
	loginMaxFailures: {
		env: "LOGIN_MAX_FAILURES",
		default: "5",
		unit: "failures",
		doc: "Failed logins for one account from one address within LOGIN_WINDOW before that address is locked out of that account (the owner elsewhere is not).",
		parse: int(1, 1000),
	},
	loginMaxFailuresPerIp: {
		env: "LOGIN_MAX_FAILURES_PER_IP",
		default: "20",
		unit: "failures",
		doc: "Failed logins from one address within LOGIN_WINDOW before it is locked (password spraying).",
		parse: int(1, 100000),
	},
	loginWindow: {
		env: "LOGIN_WINDOW",
		default: "900",
		unit: "seconds",
		doc: "Window over which failures count, and how long a lock lasts.",
		parse: int(1, 86400),
	},
	loginDelayAfter: {
		env: "LOGIN_DELAY_AFTER",
		default: "10",
		unit: "failures",
		doc: "Failed logins for one account from all addresses within LOGIN_WINDOW before each further attempt waits LOGIN_DELAY_BASE, doubling: a slow-down, never a lock.",
		parse: int(1, 100000),
	},
	loginDelayBase: {
		env: "LOGIN_DELAY_BASE",
		default: "1",
		unit: "seconds",
		doc: "First wait once LOGIN_DELAY_AFTER is reached; it doubles with every further failure.",
		parse: int(1, 3600),
	},
	loginDelayMax: {
		env: "LOGIN_DELAY_MAX",
		default: "300",
		unit: "seconds",
		doc: "Cap on the per-account wait (5 min): distributed guessing stays slow, the owner never waits longer.",
		parse: int(1, 86400),
	},
	registerMaxPerIp: {
		env: "REGISTER_MAX_PER_IP",
		default: "10",
		unit: "sign-ups",
		doc: "Sign-ups from one address within REGISTER_WINDOW; more answer 429 with Retry-After (each one costs a bcrypt hash).",
		parse: int(1, 1_000_000),
	},
	registerWindow: { env: "REGISTER_WINDOW", default: "3600", unit: "seconds", doc: "Window of the sign-up limit (1 h).", parse: int(1, 7 * 86400) },
	passwordMinStrength: {
		env: "PASSWORD_MIN_STRENGTH",
		default: "3",
		unit: "zxcvbn score 0..4",
		doc: "Least estimated strength of a new password: 3 means about 10^8 guesses, past common passwords with a digit and symbol appended.",
		parse: int(0, 4),
	},
	inviteTtl: { env: "INVITE_TTL", default: "604800", unit: "seconds", doc: "How long an invitation can be accepted (7 days).", parse: int(60, 90 * 86400) },
	maxJsonBody: {
		env: "MAX_JSON_BODY",
		default: "1048576",
		unit: "bytes",
		doc: "Largest JSON request body; larger answers 413.",
		parse: int(1024, 64 * 1024 * 1024),
	},
	maxDecompressedBody: {
		env: "MAX_DECOMPRESSED_BODY",
		default: "4194304",
		unit: "bytes",
		doc: "Largest edge ingest body once gzip/br-decompressed (4 MB); larger answers 413, so a small zip bomb cannot fill memory.",
		parse: int(1024, 256 * 1024 * 1024),
	},
	edgeBatchMax: {
		env: "EDGE_BATCH_MAX",
		default: "100",
		unit: "events",
		doc: "Most detection events in one edge ingest batch; more answers 413 (a box sends the rest in the next batch).",
		parse: int(1, 10_000),
	},
	edgeMaxClockSkew: {
		env: "EDGE_MAX_CLOCK_SKEW",
		default: "300",
		unit: "seconds",
		doc: "How far in the future an edge event's time may be (a box's clock running ahead); later events are rejected.",
		parse: int(0, 86400),
	},
	edgeTrackWindow: {
		env: "EDGE_TRACK_WINDOW",
		default: "120",
		unit: "seconds",
		doc: "Edge events of a camera replayed through the tracker after each batch: this long before its newest event (a track broken for longer starts anew).",
		parse: int(5, 3600),
	},
	cameraStaleAfter: {
		env: "CAMERA_STALE_AFTER",
		default: "120",
		unit: "seconds",
		doc: "A camera without an event, heartbeat or clip for this long is stale (a box that reports every 30 s missed a few); edge boxes by their heartbeats alike.",
		parse: int(1, 7 * 86400),
	},
	cameraOfflineAfter: {
		env: "CAMERA_OFFLINE_AFTER",
		default: "600",
		unit: "seconds",
		doc: "A camera (or an edge box, by its heartbeats) silent for this long is offline.",
		parse: int(1, 30 * 86400),
	},
	streamReorderWait: {
		env: "STREAM_REORDER_WAIT",
		default: "500",
		unit: "ms",
		doc: "How long the live alert stream holds an alert whose predecessor has not arrived (alerts commit out of order), before reading the gap from the database and going on.",
		parse: int(0, 60_000),
	},
	streamReplayMax: {
		env: "STREAM_REPLAY_MAX",
		default: "5000",
		unit: "alerts",
		doc: "Most missed alerts replayed to a live stream that reconnects with Last-Event-ID; an older backlog is read with GET .../alerts.",
		parse: int(1, 1_000_000),
	},
	accessCacheTtl: {
		env: "ACCESS_CACHE_TTL",
		default: "5000",
		unit: "ms",
		doc: "How long a node keeps a caller's account, memberships and store ownership for the permission check. Every change through the API clears it on every node at once; this bounds only changes made directly in the database. 0: read them on every request.",
		parse: int(0, 60_000),
	},
	corsOrigins: {
		env: "CORS_ORIGINS",
		default: "",
		doc: "Comma-separated origins allowed, besides the gateway's own (its dashboard), to call the API from a browser with credentials. Empty: none (same origin only).",
		parse: list,
	},
	trustProxy: { env: "TRUST_PROXY", default: "false", doc: "Trust X-Forwarded-For / X-Forwarded-Proto (only behind a proxy you run).", parse: bool },
	maxUploadBytes: {
		env: "MAX_UPLOAD_BYTES",
		default: String(500 * 1024 * 1024),
		unit: "bytes",
		doc: "Largest clip upload (500 MB); larger answers 413 and nothing is kept.",
		parse: int(1024, 64 * 1024 ** 3),
	},
	uploadTimeout: {
		env: "UPLOAD_TIMEOUT",
		default: "1800000",
		unit: "ms",
		doc: "Longest an upload may take end to end (30 min): a 500 MB clip over a slow uplink needs minutes.",
		parse: int(10_000, 24 * 3_600_000),
	},
	maxClipSeconds: {
		env: "MAX_CLIP_SECONDS",
		default: "900",
		unit: "seconds",
		doc: "Longest clip accepted (15 min): clips are short recordings, not whole days.",
		parse: int(1, 24 * 3600),
	},
	streamLeaseSeconds: {
		env: "STREAM_LEASE_SECONDS",
		default: "15",
		unit: "seconds",
		doc: "A stream node's hold on a live camera: renewed every third of it; when its node dies another node takes the camera within it.",
		parse: int(3, 600),
	},
	streamMaxCameras: {
		env: "STREAM_MAX_CAMERAS",
		default: "16",
		doc: "Live cameras one stream node pulls at most; the rest wait for another stream node.",
		parse: int(1, 1000),
	},
	streamPendingSegments: {
		env: "STREAM_PENDING_SEGMENTS",
		default: "150",
		unit: "segments",
		doc: "Live segments a camera keeps on disk while the pipeline cannot take them (5 min of 2 s segments); beyond, the oldest is dropped and counted.",
		parse: int(1, 100_000),
	},
	streamStallSeconds: {
		env: "STREAM_STALL_SECONDS",
		default: "10",
		unit: "seconds",
		doc: "A live stream that delivers no frame for this long is restarted.",
		parse: int(2, 3600),
	},
	streamReconnectMaxMs: {
		env: "STREAM_RECONNECT_MAX_MS",
		default: "30000",
		unit: "ms",
		doc: "Longest wait before reconnecting to a camera that keeps failing (the wait doubles from one second, with jitter).",
		parse: int(1000, 3_600_000),
	},
	dropDir: {
		env: "DROP_DIR",
		default: "",
		doc: "Folder where cameras that can only send files (FTP, SMB) drop their clips: one sub-folder per camera, named by its id (`<DROP_DIR>/<cameraId>/`); stream nodes take the files. Empty: off.",
		parse: (raw: string) => (raw ? resolve(raw) : ""),
	},
	dropSettleSeconds: {
		env: "DROP_SETTLE_SECONDS",
		default: "5",
		unit: "seconds",
		doc: "A dropped file is taken once its size and modification time have not changed for this long: one a camera is still writing is left alone.",
		parse: int(1, 3600),
	},
	dropMaxAttempts: {
		env: "DROP_MAX_ATTEMPTS",
		default: "8",
		unit: "attempts",
		doc: "Tries of a dropped file that fails for a passing reason (database or clip service down) before it is rejected with its last error; the waits double from DROP_SETTLE_SECONDS (about 10 min with the defaults).",
		parse: int(1, 100),
	},
	dropClaimTimeout: {
		env: "DROP_CLAIM_TIMEOUT",
		default: "600",
		unit: "seconds",
		doc: "A dropped file a node claimed this long ago and has not finished (the node died) is put back for another try.",
		parse: int(10, 86400),
	},
	stillWidth: {
		env: "STILL_WIDTH",
		default: "960",
		unit: "pixels",
		doc: "Widest still frame served for a camera or clip (thumbnails, zone drawing, tracks); taller frames keep their aspect.",
		parse: int(160, 3840),
	},
	stillCacheBytes: {
		env: "STILL_CACHE_BYTES",
		default: String(32 * 1024 * 1024),
		unit: "bytes",
		doc: "Memory a node keeps for still frames it has encoded (32 MB), so a dashboard full of thumbnails costs one ffmpeg per frame.",
		parse: int(0, 4 * 1024 ** 3),
	},
	stillGrabsMax: {
		env: "STILL_GRABS_MAX",
		default: "2",
		doc: "ffmpeg processes a node runs at once to grab still frames; more requests wait their turn.",
		parse: int(1, 64),
	},
	segmentSeconds: {
		env: "SEGMENT_SECONDS",
		default: "2",
		unit: "seconds",
		doc: "A clip is cut into segments of this length; each is one detector job.",
		parse: num(0.5, 600),
	},
	recordingRangeMaxHours: {
		env: "RECORDING_RANGE_MAX_HOURS",
		default: "24",
		unit: "hours",
		doc: "Longest time range one request for a camera's recording may ask for (a day); longer answers 422, so no request walks a camera's whole history.",
		parse: int(1, 24 * 31),
	},
	maxQueueDepth: {
		env: "MAX_QUEUE_DEPTH",
		default: "2000",
		unit: "segment jobs",
		doc: "Backlog above which uploads answer 503 with Retry-After instead of queueing more.",
		parse: int(1, 10_000_000),
	},
	jobMaxAttempts: {
		env: "JOB_MAX_ATTEMPTS",
		default: "5",
		unit: "attempts",
		doc: "Deliveries of a job before it goes to the dead-letter stream with its error.",
		parse: int(1, 100),
	},
	jobAckWait: {
		env: "JOB_ACK_WAIT",
		default: "30000",
		unit: "ms",
		doc: "How long a silent worker keeps a job before it is redelivered (workers signal progress meanwhile).",
		parse: int(1000, 3_600_000),
	},
	deadLetterMaxAge: {
		env: "DEAD_LETTER_MAX_AGE",
		default: "14",
		unit: "days",
		doc: "NATS drops dead letters older than this: two weeks to look into a failure after a holiday (0: kept until replayed or deleted).",
		parse: int(0, 3650),
	},
	deadLetterMaxBytes: {
		env: "DEAD_LETTER_MAX_BYTES",
		default: "1073741824",
		unit: "bytes",
		doc: "Size of one queue's dead-letter stream (1 GiB) beyond which NATS drops the oldest letters, so a flood of failures cannot fill its disk (0: no limit).",
		parse: int(0, 2 ** 50),
	},
	detectConcurrency: {
		env: "DETECT_CONCURRENCY",
		default: "1",
		unit: "jobs",
		doc: "Segment jobs one detector node works on at once (inference is CPU/GPU bound).",
		parse: int(1, 64),
	},
	detectBatch: { env: "DETECT_BATCH", default: "4", unit: "frames", doc: "Frames per inference call where the model allows batching.", parse: int(1, 64) },
	motionGate: {
		env: "MOTION_GATE",
		default: "true",
		doc: "Skip inference on frames with no motion since the last frame detected; they keep its detections, so still objects stay tracked.",
		parse: bool,
	},
	motionCellDelta: {
		env: "MOTION_CELL_DELTA",
		default: "10",
		unit: "grey levels",
		doc: "How far a cell of the motion grid (64 cells across, each its block's mean grey) must change to count as moved.",
		parse: num(1, 255),
	},
	motionMinArea: {
		env: "MOTION_MIN_AREA",
		default: "0.0004",
		unit: "0..1",
		doc: "Share of the motion grid's cells that must move for a frame to be detected (0.0004: two cells of the 64x64 grid, a distant person).",
		parse: num(0, 1),
	},
	liveStrideBacklog: {
		env: "LIVE_STRIDE_BACKLOG",
		default: "10",
		unit: "segments",
		doc: "Detector backlog at which live cameras detect every second frame, every third at twice it, and so on up to LIVE_STRIDE_MAX; uploads always get every frame.",
		parse: int(1, 100_000),
	},
	liveStrideMax: {
		env: "LIVE_STRIDE_MAX",
		default: "5",
		unit: "frames",
		doc: "Widest stride for live cameras under backlog (5: one frame in five detected).",
		parse: int(1, 100),
	},
	detectMinScore: {
		env: "DETECT_MIN_SCORE",
		default: "0.3",
		unit: "0..1",
		doc: "Detections below this confidence are dropped before tracking.",
		parse: num(0, 1),
	},
	detectorModel: {
		env: "DETECTOR_MODEL",
		default: "",
		doc: "Directory of a TF.js detector (Ultralytics YOLO export or CenterNet). Empty: the bundled CenterNet COCO model.",
		parse: text,
	},
	detectorBackend: {
		env: "DETECTOR_BACKEND",
		default: "",
		doc: "Force a TF.js backend (tfjs-node-gpu, tfjs-node, wasm, cpu). Empty: the best one available, in that order.",
		parse: oneOf("", "tfjs-node-gpu", "tfjs-node", "wasm", "cpu"),
	},
	ffmpegPath: { env: "FFMPEG_PATH", default: "", doc: "ffmpeg binary. Empty: the system's, else the one bundled by @ffmpeg-installer/ffmpeg.", parse: text },
	ffprobePath: {
		env: "FFPROBE_PATH",
		default: "",
		doc: "ffprobe binary. Empty: the system's, else the one bundled by @ffprobe-installer/ffprobe.",
		parse: text,
	},
	learnTargetPrecision: {
		env: "LEARN_TARGET_PRECISION",
		default: "0.9",
		unit: "0..1",
		doc: "Precision a learned alert threshold must keep (as a 95 % lower confidence bound): 0.9 lets at most about one alert in ten be a false alarm.",
		parse: num(0.5, 0.999),
	},
	learnMinVerdicts: {
		env: "LEARN_MIN_VERDICTS",
		default: "20",
		unit: "alerts",
		doc: "Judged alerts of one camera and class before a threshold is learned: fewer say too little about that camera.",
		parse: int(1, 100_000),
	},
	learnMinThreshold: {
		env: "LEARN_MIN_THRESHOLD",
		default: "0.05",
		unit: "0..1",
		doc: "Lowest threshold the learner may set (the rule's own minimum still applies above it).",
		parse: num(0, 1),
	},
	learnMaxThreshold: {
		env: "LEARN_MAX_THRESHOLD",
		default: "0.95",
		unit: "0..1",
		doc: "Highest threshold the learner may set, so bad feedback can never silence a camera entirely; an owner can still pin higher.",
		parse: num(0, 1),
	},
	learnWindow: {
		env: "LEARN_WINDOW",
		default: "1000",
		unit: "verdicts",
		doc: "Most recent verdicts of one camera and class the learner reads: bounds the work per verdict and follows a scene that changes.",
		parse: int(20, 1_000_000),
	},
	metricsPort: {
		env: "METRICS_PORT",
		default: "9464",
		unit: "TCP port",
		doc: "Internal port where a node serves /metrics, /healthz and /readyz: every node without the gateway, and gateway nodes too when METRICS_ON_PUBLIC_PORT is false. 0: off.",
		parse: int(0, 65535),
	},
	metricsOnPublicPort: {
		env: "METRICS_ON_PUBLIC_PORT",
		default: "true",
		doc: "Gateway nodes answer /metrics on PORT (one port for a single process). false: only on METRICS_PORT, so the public port never shows metrics (the Kubernetes manifests set it).",
		parse: bool,
	},
	metricsToken: {
		env: "METRICS_TOKEN",
		default: "",
		doc: "If set, /metrics requires `Authorization: Bearer <token>`; leave empty when only the cluster network can reach it.",
		parse: text,
	},
	superAdminEmail: {
		env: "SUPER_ADMIN_EMAIL",
		default: "admin@vigil.local",
		doc: "Email of the super-admin generated on first start in embedded mode.",
		parse: text,
	},
	requestTimeout: { env: "REQUEST_TIMEOUT", default: "30000", unit: "ms", doc: "Moleculer call timeout between services.", parse: int(100, 600000) },
	shutdownTimeout: {
		env: "SHUTDOWN_TIMEOUT",
		default: "25000",
		unit: "ms",
		doc: "On SIGTERM, how long a node waits for its calls and jobs in flight to finish before it stops anyway (within Kubernetes' 30 s grace).",
		parse: int(0, 600_000),
	},
	retentionInterval: {
		env: "RETENTION_INTERVAL",
		default: "3600",
		unit: "seconds",
		doc: "How often the retention cleanup runs (one node at a time). 0: never on a schedule (an admin can still run it).",
		parse: int(0, 7 * 86400),
	},
	retentionBatch: {
		env: "RETENTION_BATCH",
		default: "500",
		unit: "rows",
		doc: "Rows the cleanup removes per transaction, pausing between batches so the API keeps answering.",
		parse: int(1, 100_000),
	},
	retentionClipsDays: {
		env: "RETENTION_CLIPS_DAYS",
		default: "",
		unit: "days",
		doc: "Default for organizations without their own policy: clip videos older than this are deleted. Empty: kept for ever.",
		parse: optionalDays,
	},
	retentionSnapshotsDays: {
		env: "RETENTION_SNAPSHOTS_DAYS",
		default: "",
		unit: "days",
		doc: "Default: alert snapshots (JPEG) older than this are deleted; the alerts stay. Empty: kept for ever.",
		parse: optionalDays,
	},
	retentionDetectionsDays: {
		env: "RETENTION_DETECTIONS_DAYS",
		default: "",
		unit: "days",
		doc: "Default: per-frame detections of clips older than this are deleted; tracks, summaries and alerts stay. Empty: kept for ever.",
		parse: optionalDays,
	},
	retentionReportDays: {
		env: "RETENTION_REPORT_DAYS",
		default: "90",
		unit: "days",
		doc: "How long the reports of past cleanup runs are kept.",
		parse: int(1, 3650),
	},
	notifyRateLimit: {
		env: "NOTIFY_RATE_LIMIT",
		default: "5",
		unit: "messages",
		doc: "Messages one channel sends about one camera within NOTIFY_RATE_WINDOW; further alerts wait for one digest at the window's end.",
		parse: int(1, 10000),
	},
	notifyRateWindow: {
		env: "NOTIFY_RATE_WINDOW",
		default: "300",
		unit: "seconds",
		doc: "Window of the notification rate limit (5 min): a burst of alerts becomes a few messages and one digest, not a flood.",
		parse: int(1, 86400),
	},
	notifyMaxAttempts: {
		env: "NOTIFY_MAX_ATTEMPTS",
		default: "12",
		unit: "attempts",
		doc: "Tries of one notification before it is marked failed and dead-lettered; with the retry delays below, about 12 minutes of receiver outage.",
		parse: int(1, 100),
	},
	notifyRetryBase: {
		env: "NOTIFY_RETRY_BASE",
		default: "2000",
		unit: "ms",
		doc: "Delay before the first retry of a notification; it doubles (with jitter) up to NOTIFY_RETRY_MAX.",
		parse: int(0, 3_600_000),
	},
	notifyRetryMax: {
		env: "NOTIFY_RETRY_MAX",
		default: "300000",
		unit: "ms",
		doc: "Cap on the retry delay (5 min), so a receiver that comes back is tried again soon.",
		parse: int(0, 86_400_000),
	},
	notifyTimeout: {
		env: "NOTIFY_TIMEOUT",
		default: "10000",
		unit: "ms",
		doc: "How long one webhook, Telegram or SMTP send may take before it counts as failed and is retried.",
		parse: int(100, 120_000),
	},
	notifyConcurrency: {
		env: "NOTIFY_CONCURRENCY",
		default: "4",
		unit: "jobs",
		doc: "Notifications one notifier node sends at once (waiting on the network, not the CPU).",
		parse: int(1, 256),
	},
	notifyQueueMaxAge: {
		env: "NOTIFY_QUEUE_MAX_AGE",
		default: "24",
		unit: "hours",
		doc: "NATS drops a notification still waiting in its queue after this long (no notifier node ran meanwhile): news of an alert a day old is stale, and its delivery stays pending (0: no limit).",
		parse: int(0, 87_600),
	},
	notifyQueueMaxBytes: {
		env: "NOTIFY_QUEUE_MAX_BYTES",
		default: "268435456",
		unit: "bytes",
		doc: "Size of the notification queue's stream (256 MiB) beyond which NATS drops the oldest waiting notifications (0: no limit).",
		parse: int(0, 2 ** 50),
	},
	notifySweepInterval: {
		env: "NOTIFY_SWEEP_INTERVAL",
		default: "5000",
		unit: "ms",
		doc: "How often a notifier node sends the digests whose window has ended and re-queues notifications a crash left unqueued.",
		parse: int(50, 600_000),
	},
	notifyAllowPrivateUrls: {
		env: "NOTIFY_ALLOW_PRIVATE_URLS",
		default: "false",
		doc: "Let webhook channels POST to private, loopback or link-local addresses (receivers on your own network). Off: an organization admin cannot point a webhook at what only the server can reach.",
		parse: bool,
	},
	telegramApiUrl: {
		env: "TELEGRAM_API_URL",
		default: "https://api.telegram.org",
		doc: "Telegram Bot API base URL (a local fake in tests, or a self-hosted Bot API server).",
		parse: (raw: string, env: string) => {
			if (!/^https?:\/\/\S+$/.test(raw)) throw new ConfigError(env, `must be an http(s) URL, got "${raw}"`);
			return raw.replace(/\/+$/, "");
		},
	},
	smtpUrl: {
		env: "SMTP_URL",
		default: "",
		doc: "SMTP server for email channels: `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://...:465`. Empty: email channels cannot be created.",
		parse: (raw: string, env: string) => {
			if (raw && !/^smtps?:\/\/\S+$/.test(raw)) throw new ConfigError(env, "must be an smtp:// or smtps:// URL");
			return raw;
		},
	},
	smtpFrom: { env: "SMTP_FROM", default: "Vigil <vigil@localhost>", doc: "From address of notification emails.", parse: text },
} satisfies Record<string, Setting<unknown>>;

type Settings = typeof SETTINGS;
type Parsed = { [K in keyof Settings]: ReturnType<Settings[K]["parse"]> };

export interface Config extends Omit<Parsed, "transporter" | "databaseUrl" | "jwtSecret" | "encryptionKey"> {
	transporter: string | undefined;
	databaseUrl: string | undefined;
	jwtSecret: string;
	encryptionKey: Buffer;
	/** No DATABASE_URL: PGlite in-process, secrets generated on first start. */
	embedded: boolean;
	production: boolean;
}

function parseKey(raw: string, env: string): Buffer {
	const key = /^[0-9a-f]{64}$/i.test(raw) ? Buffer.from(raw, "hex") : Buffer.from(raw, "base64");
	if (key.length !== 32) throw new ConfigError(env, "must be 32 bytes written as 64 hex digits or base64");
	return key;
}

/** One setting, parsed on its own: for values needed when a service schema is declared (no side effects). */
export function readSetting<K extends keyof Settings>(key: K, env: Env = process.env): Parsed[K] {
	const setting = SETTINGS[key] as Setting<Parsed[K]>;
	const raw = env[setting.env];
	return setting.parse(raw !== undefined && raw !== "" ? raw : (setting.default as string), setting.env);
}

/**
 * `runsServices: false` for a command that starts none of the services in SERVICES (`vigil migrate`, `vigil repl`):
 * it is asked for no secret, since it reads none.
 */
export function loadConfig(env: Env = process.env, { runsServices = true }: { runsServices?: boolean } = {}): Config {
	const parsed: Record<string, unknown> = {};
	for (const [key, setting] of Object.entries(SETTINGS) as [string, Setting<unknown>][]) {
		const raw = env[setting.env];
		const value = raw !== undefined && raw !== "" ? raw : setting.default;
		parsed[key] = value === undefined ? undefined : setting.parse(value, setting.env);
	}
	const p = parsed as Partial<Parsed>;
	const production = p.nodeEnv === "production";
	const embedded = !p.databaseUrl;
	const services = p.services as ServiceName[];
	const needs = (secret: keyof typeof SECRET_READERS) => runsServices && SECRET_READERS[secret].some((name) => services.includes(name));
	let jwtSecret = p.jwtSecret;
	let encryptionKey = p.encryptionKey;
	if ((!jwtSecret && needs("JWT_SECRET")) || (!encryptionKey && needs("ENCRYPTION_KEY"))) {
		const missing = !jwtSecret && needs("JWT_SECRET") ? "JWT_SECRET" : "ENCRYPTION_KEY";
		if (production) throw new ConfigError(missing, `is required when NODE_ENV=production on a node running ${SECRET_READERS[missing].join(" or ")}`);
		const generated = generatedSecrets(p.dataDir as string);
		jwtSecret ??= generated.jwtSecret;
		encryptionKey ??= parseKey(generated.encryptionKey, "ENCRYPTION_KEY");
	}
	// A node whose services read neither is not given them: empty values, which no signing or cipher accepts.
	return { ...(p as Parsed), jwtSecret: jwtSecret ?? "", encryptionKey: encryptionKey ?? Buffer.alloc(0), embedded, production };
}

/** The services that read each secret; a node running none of them (a detector, a gateway) needs not hold it. */
export const SECRET_READERS = { JWT_SECRET: ["auth"], ENCRYPTION_KEY: ["camera", "notifier"] } as const satisfies Record<string, readonly ServiceName[]>;

/** Secrets made once and kept (mode 0600) so tokens and encrypted data survive restarts. */
function generatedSecrets(dataDir: string): { jwtSecret: string; encryptionKey: string } {
	const file = join(dataDir, "secrets.json");
	if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8"));
	mkdirSync(dataDir, { recursive: true });
	const secrets = { jwtSecret: randomBytes(48).toString("base64url"), encryptionKey: randomBytes(32).toString("hex") };
	writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
	chmodSync(file, 0o600);
	return secrets;
}

/** The settings as the Markdown table the README carries (`vigil settings`). */
export function settingsTable(): string {
	const rows = Object.values(SETTINGS).map((s: Setting<unknown>) => {
		const value = s.default === undefined ? "(unset)" : s.default === "" ? "(empty)" : `\`${s.default}\``;
		return `| \`${s.env}\` | ${value} | ${s.unit ?? ""} | ${s.doc} |`;
	});
	return ["| Variable | Default | Unit | Meaning |", "|---|---|---|---|", ...rows].join("\n");
}
