/**
 * The operator REPL: a node with no services of its own joins the running cluster (over NATS, or through the
 * embedded server's operator socket) and its commands print what the cluster knows, as an operator the audit log
 * names. First through moleculer-repl's command program in this process, then as the real `vigil repl` against a
 * running `vigil start`.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServiceBroker } from "moleculer";
import type { Command } from "commander";
import { AuditEntry } from "../../entities";
import { operatorCommands } from "../../app/repl-commands";
import { createReplNode, operatorProgram, runLine } from "../../app/repl";
import { operatorSocketPath } from "../../lib/platform/operator-socket";
import { overNats, startCluster, testConfig, type Cluster } from "../support/cluster";
import { Client, signUp } from "../support/http";
import { buildDist, freePort, ROOT, startNode, stopProcess, type NodeProcess } from "../support/processes";

const OPERATOR = "night-shift@ops-host";

describe("operator commands, through the REPL's command program", () => {
	let cluster: Cluster;
	let repl: ServiceBroker;
	let program: Command;
	let orgId: string;
	let cameraId: string;
	// The operator sees every organization: on a database other test files share, this one's name is its own.
	const shop = `Corner Shop ${randomBytes(3).toString("hex")}`;

	/** One line as typed at the prompt; what it printed. */
	async function run(line: string): Promise<string> {
		const out: string[] = [];
		program = operatorProgram(
			repl,
			operatorCommands((text) => out.push(text), OPERATOR),
		);
		await runLine(program, line, (text) => out.push(text));
		return out.join("\n");
	}

	beforeAll(async () => {
		cluster = await startCluster({ SERVICES: "api,auth,tenancy,camera,clip,alert,ingest,feedback,audit,retention,jobs,notifier" }, { operatorSocket: true });
		const api = new Client(cluster.url);
		const owner = await signUp(api, "repl-owner");
		orgId = (await api.post("/api/v1/orgs", { name: shop }, { token: owner.token })).body.id;
		const storeId = (await api.post(`/api/v1/orgs/${orgId}/stores`, { name: "High Street" }, { token: owner.token })).body.id;
		cameraId = (await api.post(`/api/v1/orgs/${orgId}/stores/${storeId}/cameras`, { name: "Till" }, { token: owner.token })).body.id;
		repl = createReplNode(cluster.config);
		await repl.start();
	});
	afterAll(async () => {
		await repl?.stop();
		await cluster?.stop();
	});

	it(`joins the cluster ${overNats ? "over NATS" : "through the embedded server's operator socket"} and runs no services of its own`, async () => {
		expect(repl.services.map((s) => s.name).filter((name) => !name.startsWith("$"))).toEqual([]);
		const out = await run("nodes");
		expect(out).toMatch(new RegExp(`${repl.nodeID} \\(this REPL\\)\\s+up\\s+\\S+\\s+-\\s+\\(none\\)`));
		expect(out).toMatch(new RegExp(`${cluster.core.nodeID}\\s+up.*jobs`));
	});

	it("queues: depth, consumers, oldest age and dead letters of each queue", async () => {
		const out = await run("queues");
		expect(out.split("\n")[0]).toMatch(/^QUEUE\s+PENDING\s+CONSUMERS\s+OLDEST\s+DEAD LETTERS$/);
		// The alert service works the evaluation queue; no detector runs in this cluster.
		expect(out).toMatch(new RegExp(`evaluate\\s+0\\s+1 \\(${cluster.core.nodeID}\\)\\s+-\\s+0`));
		expect(out).toMatch(/detector\s+0\s+0\s+-\s+0/);
	});

	it("cameras: counts per organization; --stale lists only cameras not seen lately", async () => {
		const counts = new RegExp(`${shop}\\s+0\\s+0\\s+0\\s+1`);
		expect(await run("cameras")).toMatch(counts);
		// This organization's one camera has never been seen: unknown, not stale. (Other files' cameras may be listed.)
		const stale = await run("cameras --stale");
		expect(stale).not.toContain(shop);
		expect(stale).not.toContain(cameraId);
		// The flag of one line does not stick to the next.
		expect(await run("cameras")).toMatch(counts);
	});

	it("thresholds and clip find a camera or clip of any organization by its id", async () => {
		expect(await run(`thresholds ${cameraId}`)).toContain(`Camera Till (${cameraId}): no thresholds learned or pinned yet`);
		expect(await run("clip 00000000-0000-4000-8000-000000000000")).toBe("Error: Clip not found (NOT_FOUND)");
		expect(await run("clip nope")).toMatch(/^Error: Parameters validation error! \(VALIDATION_ERROR\): .*clipId/);
	});

	it("dlq: lists letters; a replay of one that is not there says so", async () => {
		expect(await run("dlq list")).toBe("No dead letters.");
		expect(await run("dlq replay evaluate 42")).toBe("Error: Dead letter not found (NOT_FOUND)");
		expect(await run("dlq replay evaluate")).toBe("Usage: dlq replay <queue> <letterId>  (see dlq list)");
	});

	it("with a REPL attached, the server's own calls and balanced events stay in its process, handled once", async () => {
		let handled = 0;
		cluster.core.createService({ name: "probe", events: { "probe.ping": { group: "probe", handler: () => void handled++ } } });
		await cluster.core.waitForServices("probe");
		const tx = (cluster.core as unknown as { transit: { tx: { send: (...args: unknown[]) => Promise<void> } } }).transit.tx;
		const sent: string[] = [];
		const send = tx.send.bind(tx);
		tx.send = (topic, ...rest) => (sent.push(String(topic)), send(topic, ...rest));
		try {
			await cluster.core.emit("probe.ping", {});
			await cluster.core.call("jobs.queues", {}, { meta: { caller: { kind: "operator", name: OPERATOR, superAdmin: true } } });
			expect(handled).toBe(1);
			expect(sent.filter((topic) => /\.(REQ|EVENT)/.test(topic))).toEqual([]);
		} finally {
			tx.send = send;
			await cluster.core.destroyService(cluster.core.getLocalService("probe")!);
		}
	});

	it("retention run is recorded in the audit log as the operator, not as a user or the system", async () => {
		const out = await run("retention run");
		expect(out).toMatch(/^Retention run \S+ \(manual\) on \S+: removed /);
		const runId = /^Retention run (\S+)/.exec(out)![1];
		const entries = await (await cluster.db()).getRepository(AuditEntry).findBy({ action: "retention.run", targetId: runId });
		expect(entries).toHaveLength(1);
		expect(entries[0]).toMatchObject({ actorKind: "operator", actorId: null, actorEmail: OPERATOR, userAgent: "vigil repl" });
		expect(entries[0].requestId).toMatch(/^repl-/);
	});
});

/** `vigil repl` typed into: the lines go to its stdin, which then ends (Ctrl+D); what it printed and its exit code. */
function vigil(args: string[], env: Record<string, string>, input = ""): Promise<{ code: number | null; output: string }> {
	return new Promise((resolve) => {
		const child = spawn(process.execPath, [join(ROOT, "dist", "bin", "vigil.js"), ...args], {
			env: { ...process.env, LOG_LEVEL: "warn", ...env },
			stdio: ["pipe", "pipe", "pipe"],
		});
		let output = "";
		child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
		child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
		const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
		child.once("exit", (code) => {
			clearTimeout(timer);
			resolve({ code, output });
		});
		child.stdin.end(input);
	});
}

const eventually = async (check: () => boolean, what: string, timeoutMs = 60_000) => {
	const deadline = Date.now() + timeoutMs;
	while (!check()) {
		if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 100));
	}
};

(overNats ? describe.skip : describe)("vigil repl attached to a running embedded vigil start", () => {
	let dataDir: string;
	let server: NodeProcess;
	let url: string;
	/** The embedded server only: the environment's PostgreSQL and NATS, if any, are not its. */
	let env: Record<string, string>;

	beforeAll(async () => {
		buildDist();
		dataDir = mkdtempSync(join(tmpdir(), "vigil-repl-"));
		const port = await freePort();
		url = `http://127.0.0.1:${port}`;
		env = { DATA_DIR: dataDir, DATABASE_URL: "", TRANSPORTER: "", NAMESPACE: "vigil" };
		server = startNode({ ...env, PORT: String(port), SERVICES: "api,auth,tenancy,camera,clip,detector,alert,ingest,audit,retention,jobs" });
		await eventually(() => /Password \(shown only this once\): \S+/.test(server.output()) || server.child.exitCode !== null, "the server's first start");
		await eventually(() => existsSync(operatorSocketPath(dataDir)), "the operator socket");
	}, 240_000);
	afterAll(async () => {
		if (server) await stopProcess(server.child, "SIGTERM");
		if (dataDir) rmSync(dataDir, { recursive: true, force: true });
	});

	it("opens its operator socket for this OS user only", () => {
		expect(statSync(operatorSocketPath(dataDir)).mode & 0o777).toBe(0o600);
		expect(statSync(join(dataDir, "run")).mode & 0o777).toBe(0o700);
	});

	it("queues and nodes print the server's queues, services and detector; retention run lands in the audit log as the operator", async () => {
		const { code, output } = await vigil(["repl"], env, "queues\nnodes\nretention run\n");
		expect(code).toBe(0);
		expect(output).toMatch(/detector\s+0\s+1 \(\S+\)\s+-\s+0/);
		expect(output).toMatch(/repl-\S+ \(this REPL\)\s+up/);
		expect(output).toMatch(/\S+\s+up\s+\S+\s+\w+ \S+ \(0 in hand\)\s+alert,api,audit,auth,camera,clip,detector,ingest,jobs,retention,tenancy/);
		expect(output).toMatch(/Retention run \S+ \(manual\)/);

		const password = /Password \(shown only this once\): (\S+)/.exec(server.output())![1];
		const api = new Client(url);
		const login = await api.post("/api/v1/auth/login", { email: "admin@vigil.local", password });
		const log = await api.get("/api/v1/admin/audit-log?withoutOrg=true", { token: login.body.accessToken });
		const run = log.body.items.find((e: { action: string }) => e.action === "retention.run");
		expect(run.actor.kind).toBe("operator");
		expect(run.actor.email).toMatch(/^\S+@\S+$/);
	}, 90_000);

	it("vigil migrate on the DATA_DIR the server holds says so in one line", async () => {
		const { code, output } = await vigil(["migrate"], env);
		expect(code).toBe(1);
		expect(output.trim()).toMatch(/^The embedded database in \S+ is in use by another Vigil process \(pid \d+\): stop that server first/);
		expect(output.trim().split("\n")).toHaveLength(1);
	}, 60_000);

	it("without a running server, vigil repl says so in one line", async () => {
		const empty = mkdtempSync(join(tmpdir(), "vigil-repl-none-"));
		try {
			const { code, output } = await vigil(["repl"], { ...env, DATA_DIR: empty }, "queues\n");
			expect(code).toBe(1);
			expect(output.trim()).toMatch(/^No Vigil server is running on DATA_DIR \S+ \(nothing listens on \S+\): start one with `vigil start`/);
			expect(output.trim().split("\n")).toHaveLength(1);
		} finally {
			rmSync(empty, { recursive: true, force: true });
		}
	}, 60_000);
});

(overNats ? describe : describe.skip)("vigil repl joining a running cluster over NATS", () => {
	let cluster: Cluster;

	beforeAll(async () => {
		buildDist();
		cluster = await startCluster({ SERVICES: "api,auth,tenancy,camera,clip,alert,audit,retention,jobs" });
	}, 240_000);
	afterAll(() => cluster?.stop());

	it("prints the cluster's nodes and queues, with no services of its own", async () => {
		const config = testConfig();
		const env = { TRANSPORTER: cluster.config.transporter!, NAMESPACE: cluster.config.namespace, DATA_DIR: config.dataDir, DATABASE_URL: "" };
		const { code, output } = await vigil(["repl"], env, "nodes\nqueues\n");
		rmSync(config.dataDir, { recursive: true, force: true });
		expect(code).toBe(0);
		expect(output).toMatch(/repl-\S+ \(this REPL\)\s+up\s+\S+\s+-\s+\(none\)/);
		expect(output).toMatch(new RegExp(`${cluster.core.nodeID}\\s+up.*alert,audit`));
		expect(output).toMatch(new RegExp(`evaluate\\s+0\\s+1 \\(${cluster.core.nodeID}\\)`));
	}, 90_000);
});
