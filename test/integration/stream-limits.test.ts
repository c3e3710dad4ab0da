/**
 * JetStream keeps what Vigil leaves in it within limits: every queue's dead letters (DEAD_LETTER_MAX_AGE,
 * DEAD_LETTER_MAX_BYTES) and the notifications waiting to be sent (NOTIFY_QUEUE_MAX_AGE, NOTIFY_QUEUE_MAX_BYTES)
 * are capped in age and size, on streams Vigil creates and on streams an older version created without limits.
 * Runs in the PostgreSQL + NATS pass only (a full cluster on the NATS of TRANSPORTER).
 */
import { randomBytes } from "node:crypto";
import { connect, DiscardPolicy, nanos, RetentionPolicy, StorageType, type JetStreamManager, type NatsConnection } from "nats";
import { createJobQueue, jobStreamNames } from "../../lib/jobs";
import { NOTIFY_QUEUE } from "../../lib/notify/engine";
import { deleteStreams, startCluster, type Cluster } from "../support/cluster";
import { describeWhen, requireService } from "../support/require";

const TRANSPORTER = process.env.TRANSPORTER ?? "";
const realServers = Boolean(TRANSPORTER && process.env.DATABASE_URL);
if (!realServers) console.warn("stream-limits.test.ts runs in the PostgreSQL + NATS pass only (set TRANSPORTER and DATABASE_URL)");
const runnable = realServers && requireService(`NATS at ${TRANSPORTER}`, TRANSPORTER.startsWith("nats://"), "TRANSPORTER must be a nats:// URL");

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

describeWhen(runnable)("JetStream stream limits", () => {
	const namespace = `limits-${randomBytes(4).toString("hex")}`;
	let nc: NatsConnection;
	let jsm: JetStreamManager;
	let cluster: Cluster | undefined;

	/** A stream as an older Vigil made it: no age or size limit. */
	async function unlimitedStream(name: string, subject: string, retention: RetentionPolicy) {
		await jsm.streams.add({ name, subjects: [subject], retention, storage: StorageType.File, discard: DiscardPolicy.Old, duplicate_window: nanos(120000) });
		const { config } = await jsm.streams.info(name);
		expect(config).toMatchObject({ max_age: 0, max_bytes: -1 });
	}

	beforeAll(async () => {
		nc = await connect({ servers: TRANSPORTER });
		jsm = await nc.jetstreamManager();
		// Left by an older version: the notification queue and the detector's dead letters, unlimited.
		const notify = jobStreamNames(namespace, NOTIFY_QUEUE);
		const detector = jobStreamNames(namespace, "detector");
		await unlimitedStream(notify.stream, notify.subject, RetentionPolicy.Workqueue);
		await unlimitedStream(notify.deadStream, notify.deadSubject, RetentionPolicy.Limits);
		await unlimitedStream(detector.deadStream, detector.deadSubject, RetentionPolicy.Limits);
		cluster = await startCluster({
			NAMESPACE: namespace,
			DEAD_LETTER_MAX_AGE: "3",
			DEAD_LETTER_MAX_BYTES: "1048576",
			NOTIFY_QUEUE_MAX_AGE: "6",
			NOTIFY_QUEUE_MAX_BYTES: "2097152",
		});
	}, 120_000);

	afterAll(async () => {
		await cluster?.stop();
		await deleteStreams(TRANSPORTER, namespace);
		await nc?.close();
	});

	it("limits every queue's dead letters, on streams it updates and on streams it creates", async () => {
		for (const queue of [NOTIFY_QUEUE, "detector", "evaluate"]) {
			const { config } = await jsm.streams.info(jobStreamNames(namespace, queue).deadStream);
			expect({ queue, maxAge: config.max_age, maxBytes: config.max_bytes }).toEqual({ queue, maxAge: nanos(3 * DAY_MS), maxBytes: 1048576 });
		}
	});

	it("limits the notifications waiting to be sent, and leaves the other job streams unlimited", async () => {
		const notify = await jsm.streams.info(jobStreamNames(namespace, NOTIFY_QUEUE).stream);
		expect(notify.config).toMatchObject({ max_age: nanos(6 * HOUR_MS), max_bytes: 2097152, retention: RetentionPolicy.Workqueue });
		const detector = await jsm.streams.info(jobStreamNames(namespace, "detector").stream);
		expect(detector.config).toMatchObject({ max_age: 0, max_bytes: -1 });
	});

	it("a node that only reads the queue's figures leaves its limits alone", async () => {
		// What the jobs service does for GET /admin/queues: a queue of its own, declared without the notifier's settings.
		const reader = createJobQueue(NOTIFY_QUEUE, {}, { connection: nc, namespace, nodeId: "reader" });
		try {
			expect(await reader.stats()).toMatchObject({ pending: 0 });
		} finally {
			await reader.close();
		}
		const notify = await jsm.streams.info(jobStreamNames(namespace, NOTIFY_QUEUE).stream);
		expect(notify.config).toMatchObject({ max_age: nanos(6 * HOUR_MS), max_bytes: 2097152 });
		const consumer = await jsm.consumers.info(jobStreamNames(namespace, NOTIFY_QUEUE).stream, NOTIFY_QUEUE);
		expect(consumer.config.max_deliver).toBe(cluster?.config.notifyMaxAttempts);
	});

	it("uses two weeks and 1 GiB for dead letters, a day and 256 MiB for waiting notifications, by default", async () => {
		const name = `defaults${randomBytes(3).toString("hex")}`;
		const queue = createJobQueue(name, {}, { connection: nc, namespace, nodeId: "defaults" });
		try {
			await queue.stats();
		} finally {
			await queue.close();
		}
		const dead = await jsm.streams.info(jobStreamNames(namespace, name).deadStream);
		expect(dead.config).toMatchObject({ max_age: nanos(14 * DAY_MS), max_bytes: 2 ** 30 });
		const defaults = (await import("../../lib/platform/config")).SETTINGS;
		expect([defaults.notifyQueueMaxAge.default, defaults.notifyQueueMaxBytes.default]).toEqual(["24", String(256 * 2 ** 20)]);
	});
});
