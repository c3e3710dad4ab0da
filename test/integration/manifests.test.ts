/**
 * The Kubernetes manifests as each overlay renders them (`kubectl kustomize`), checked for what operations rely
 * on: hardened pods, probes and scraping on the internal port, secrets only where read, network fences, a
 * gateway that drains before it stops, GPU detectors. And the Grafana dashboard against what the scraped pods
 * really export: a node is started for each scraped Deployment, with its SERVICES, and its /metrics is read.
 * Needs kubectl; without it this file skips and says so (under CI=true it fails).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { loadAll } from "js-yaml";
import { createNode } from "../../app/node";
import { loadConfig, readSetting } from "../../lib/platform/config";
import { testConfig } from "../support/cluster";
import { commandAvailable, describeWhen, requireService } from "../support/require";

const ROOT = join(__dirname, "../..");
const OVERLAYS = ["dev", "production", "gpu"] as const;
const haveKubectl = requireService("kubectl", commandAvailable("kubectl", ["version", "--client"]), "install kubectl to render the overlays");

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: any; data?: any };

function render(overlay: string): K8sObject[] {
	const out = spawnSync("kubectl", ["kustomize", join(ROOT, "k8s/overlays", overlay)], { encoding: "utf8", timeout: 30000 });
	if (out.status !== 0) throw new Error(`kubectl kustomize k8s/overlays/${overlay} failed: ${out.stderr}`);
	return (loadAll(out.stdout) as (K8sObject | null)[]).filter((o): o is K8sObject => Boolean(o));
}

const rendered = haveKubectl ? Object.fromEntries(OVERLAYS.map((o) => [o, render(o)])) : ({} as Record<string, K8sObject[]>);
const byKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
const find = (objects: K8sObject[], kind: string, name: string) => {
	const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
	if (!found) throw new Error(`no ${kind} ${name}`);
	return found;
};
const podSpec = (d: K8sObject) => d.spec.template.spec;
const vigilContainer = (d: K8sObject) => podSpec(d).containers[0];
const envValue = (container: any, name: string): string | undefined => container.env?.find((e: any) => e.name === name)?.value;
const configMap = (objects: K8sObject[]) => find(objects, "ConfigMap", "vigil-config").data as Record<string, string>;

/** Which keys each Secret holds, as the template documents them (the Secrets themselves are made out of band). */
const secretKeys: Record<string, string[]> = Object.fromEntries(
	(loadAll(readFileSync(join(ROOT, "k8s/base/secret.example.yaml"), "utf8")) as K8sObject[]).map((s: any) => [s.metadata.name, Object.keys(s.stringData)]),
);

/** The environment variable names a container may see from Secrets. */
function secretEnv(container: any): string[] {
	const fromRefs = (container.envFrom ?? [])
		.filter((r: any) => r.secretRef)
		.flatMap((r: any) => secretKeys[r.secretRef.name] ?? [`<unknown Secret ${r.secretRef.name}>`]);
	const fromKeys = (container.env ?? []).filter((e: any) => e.valueFrom?.secretKeyRef).map((e: any) => e.name);
	return [...fromRefs, ...fromKeys];
}

/** The container port a probe or annotation names (by name or number). */
function containerPort(container: any, port: string | number): number | undefined {
	return (container.ports ?? []).find((p: any) => p.name === port || p.containerPort === Number(port))?.containerPort;
}

describeWhen(haveKubectl)("Kubernetes manifests", () => {
	describe.each(OVERLAYS)("overlay %s", (overlay) => {
		const objects = () => rendered[overlay];
		const deployments = () => byKind(objects(), "Deployment");

		it("renders the gateway, core and detector Deployments", () => {
			expect(
				deployments()
					.map((d) => d.metadata.name)
					.sort(),
			).toEqual(["vigil-api", "vigil-core", "vigil-detector"]);
		});

		it("runs every pod with the runtime's seccomp profile and no service account token", () => {
			const pods = [...deployments(), ...byKind(objects(), "StatefulSet"), ...byKind(objects(), "Job")];
			for (const workload of pods) {
				expect({ name: workload.metadata.name, automount: podSpec(workload).automountServiceAccountToken }).toEqual({
					name: workload.metadata.name,
					automount: false,
				});
				expect(podSpec(workload).securityContext.seccompProfile).toEqual({ type: "RuntimeDefault" });
			}
		});

		it("probes /healthz and /readyz on the metrics port, and the scrape annotations name that declared port", () => {
			const metricsPort = Number(configMap(objects()).METRICS_PORT ?? readSetting("metricsPort", {}));
			for (const d of deployments()) {
				const container = vigilContainer(d);
				const annotations = d.spec.template.metadata.annotations ?? {};
				expect(annotations["prometheus.io/scrape"]).toBe("true");
				expect(annotations["prometheus.io/path"]).toBe("/metrics");
				expect(containerPort(container, annotations["prometheus.io/port"])).toBe(metricsPort);
				expect(container.livenessProbe.httpGet.path).toBe("/healthz");
				expect(container.readinessProbe.httpGet.path).toBe("/readyz");
				expect(containerPort(container, container.livenessProbe.httpGet.port)).toBe(metricsPort);
				expect(containerPort(container, container.readinessProbe.httpGet.port)).toBe(metricsPort);
			}
		});

		it("keeps /metrics off the gateway's public port, and its Service exposes the public port alone", () => {
			expect(envValue(vigilContainer(find(objects(), "Deployment", "vigil-api")), "METRICS_ON_PUBLIC_PORT")).toBe("false");
			expect(find(objects(), "Service", "vigil-api").spec.ports.map((p: any) => p.targetPort)).toEqual(["http"]);
		});

		it("gives detector pods only the NATS credentials: no JWT secret, encryption key, SMTP or database", () => {
			const seen = secretEnv(vigilContainer(find(objects(), "Deployment", "vigil-detector")));
			expect(seen.length).toBeGreaterThan(0);
			for (const secret of ["JWT_SECRET", "ENCRYPTION_KEY", "SMTP_URL", "DATABASE_URL"]) expect(seen).not.toContain(secret);
		});

		it("gives every node the secrets its services need to start under NODE_ENV=production", () => {
			const shared = configMap(objects());
			const values: Record<string, string> = {
				JWT_SECRET: "x".repeat(40),
				ENCRYPTION_KEY: "ab".repeat(32),
				DATABASE_URL: "postgres://vigil@db.invalid/vigil",
				SMTP_URL: "smtp://mail.invalid:587",
				NATS_USER: "vigil",
				NATS_PASSWORD: "secret",
			};
			for (const workload of [...deployments(), ...byKind(objects(), "Job")]) {
				const container = vigilContainer(workload);
				const env: Record<string, string> = { ...shared, DATA_DIR: "/nonexistent/vigil" };
				for (const name of secretEnv(container)) env[name] = values[name];
				for (const e of container.env ?? []) if (e.value !== undefined) env[e.name] = e.value.replace(/\$\((\w+)\)/g, (_: string, v: string) => env[v] ?? "");
				expect(env.NODE_ENV).toBe("production");
				// `vigil migrate` (the Job) starts none of the services: it reads no secret but the database's.
				const runsServices = !((container.command ?? []) as string[]).includes("migrate");
				expect(() => loadConfig(env, { runsServices })).not.toThrow();
			}
		});

		it("connects to NATS with the credentials of the vigil-nats Secret, which the NATS server requires", () => {
			for (const d of deployments()) {
				const env = vigilContainer(d).env as any[];
				const transporter = env.findIndex((e) => e.name === "TRANSPORTER");
				expect(env[transporter].value).toBe("nats://$(NATS_USER):$(NATS_PASSWORD)@nats:4222");
				// $(VAR) is only expanded from variables declared before it.
				for (const name of ["NATS_USER", "NATS_PASSWORD"]) {
					const at = env.findIndex((e) => e.name === name);
					expect(at).toBeGreaterThanOrEqual(0);
					expect(at).toBeLessThan(transporter);
					expect(env[at].valueFrom.secretKeyRef.name).toBe("vigil-nats");
				}
			}
			expect(configMap(objects()).TRANSPORTER).toBeUndefined();
			const natsConf = find(objects(), "ConfigMap", "nats-config").data["nats.conf"];
			expect(natsConf).toMatch(/authorization\s*\{[^}]*user:\s*\$NATS_USER[^}]*password:\s*\$NATS_PASSWORD/s);
			const nats = vigilContainer(find(objects(), "StatefulSet", "nats"));
			expect(nats.args).toEqual(["-c", "/etc/nats/nats.conf"]);
		});

		it("fences NATS and PostgreSQL to Vigil's pods and the gateway to the ingress controller", () => {
			const policies = byKind(objects(), "NetworkPolicy");
			const policy = (name: string) => find(policies, "NetworkPolicy", name).spec;
			expect(policy("vigil-default").podSelector).toEqual({});
			for (const [name, port] of [
				["nats", 4222],
				["postgresql", 5432],
			] as const) {
				expect(policy(name).ingress).toEqual([
					{ from: [{ podSelector: { matchLabels: { "app.kubernetes.io/part-of": "vigil" } } }], ports: [{ port, protocol: "TCP" }] },
				]);
			}
			expect(policy("vigil-api").ingress[0].from[0].namespaceSelector).toBeDefined();
			// Every Vigil pod carries the label those policies let in.
			for (const w of [...deployments(), ...byKind(objects(), "Job")]) expect(w.spec.template.metadata.labels["app.kubernetes.io/part-of"]).toBe("vigil");
		});

		it("bounds voluntary disruptions of every Deployment", () => {
			const budgets = byKind(objects(), "PodDisruptionBudget").map((b) => b.spec.selector.matchLabels["app.kubernetes.io/name"]);
			for (const d of deployments()) expect(budgets).toContain(d.spec.selector.matchLabels["app.kubernetes.io/name"]);
		});

		it("drains the gateway before it stops, within the grace period, and spreads it over zones and nodes", () => {
			const api = find(objects(), "Deployment", "vigil-api");
			const spec = podSpec(api);
			const [command, seconds] = vigilContainer(api).lifecycle.preStop.exec.command;
			expect(command).toBe("sleep");
			const shutdown = readSetting("shutdownTimeout", configMap(objects())) / 1000;
			expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(Number(seconds) + shutdown);
			const keys = spec.topologySpreadConstraints.map((c: any) => c.topologyKey);
			expect(keys).toEqual(expect.arrayContaining(["topology.kubernetes.io/zone", "kubernetes.io/hostname"]));
			for (const c of spec.topologySpreadConstraints) expect(c.labelSelector.matchLabels).toEqual(api.spec.selector.matchLabels);
		});
	});

	it("production and gpu scale detectors with KEDA on the backlog; dev does not need KEDA", () => {
		for (const overlay of ["production", "gpu"]) {
			const scaled = find(rendered[overlay], "ScaledObject", "vigil-detector");
			expect(scaled.spec.scaleTargetRef.name).toBe("vigil-detector");
			expect(scaled.spec.triggers[0].metadata.query).toContain("vigil_job_queue_depth");
		}
		expect(byKind(rendered.dev, "ScaledObject")).toEqual([]);
	});

	it("gpu runs the detector from the GPU image, one GPU per pod, on GPU nodes only", () => {
		const detector = find(rendered.gpu, "Deployment", "vigil-detector");
		const container = vigilContainer(detector);
		expect(container.image).toMatch(/^vigil-gpu(:|$)/);
		expect(Number(container.resources.limits["nvidia.com/gpu"])).toBe(1);
		expect(envValue(container, "DETECTOR_BACKEND")).toBe("tfjs-node-gpu");
		expect(Object.keys(podSpec(detector).nodeSelector ?? {})).not.toHaveLength(0);
		expect(podSpec(detector).tolerations).toEqual(expect.arrayContaining([expect.objectContaining({ key: "nvidia.com/gpu" })]));
		// The other Deployments stay on the CPU image.
		for (const name of ["vigil-api", "vigil-core"]) expect(vigilContainer(find(rendered.gpu, "Deployment", name)).image).toMatch(/^vigil(:|$)/);
	});
});

/** Words of PromQL that are not metric names. */
const PROMQL = new Set([
	"sum",
	"max",
	"min",
	"avg",
	"count",
	"topk",
	"bottomk",
	"rate",
	"irate",
	"increase",
	"histogram_quantile",
	"scalar",
	"vector",
	"and",
	"or",
	"unless",
	"bool",
	"offset",
]);

/** Metric names an expression reads: label matchers, ranges, strings and grouping clauses are not names. */
function metricNames(expr: string): string[] {
	const bare = expr
		.replace(/"(?:[^"\\]|\\.)*"/g, '""')
		.replace(/\{[^}]*\}/g, "")
		.replace(/\[[^\]]*\]/g, "")
		.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
	return [...bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)].map((m) => m[0]).filter((w) => !PROMQL.has(w));
}

/** Every PromQL the dashboard runs, with where it is: panel targets and the template variables' queries. */
function dashboardQueries(): { where: string; expr: string }[] {
	const dashboard = JSON.parse(readFileSync(join(ROOT, "grafana/vigil-overview.json"), "utf8"));
	const panels = dashboard.panels.flatMap((p: any) => [p, ...(p.panels ?? [])]);
	const queries = panels.flatMap((p: any) => (p.targets ?? []).map((t: any) => ({ where: `panel "${p.title}"`, expr: t.expr as string })));
	for (const v of dashboard.templating.list) {
		const query = typeof v.query === "string" ? v.query : v.query?.query;
		const labelValues = /^label_values\(\s*([^,)]+)/.exec(query ?? "");
		if (labelValues) queries.push({ where: `variable $${v.name}`, expr: labelValues[1] });
	}
	return queries;
}

const freePort = () =>
	new Promise<number>((resolve) => {
		const srv = createServer().listen(0, "127.0.0.1", () => {
			const { port } = srv.address() as { port: number };
			srv.close(() => resolve(port));
		});
	});

/** Metric names a scrape declares (HELP and TYPE lines). */
const declared = (text: string) => new Set([...text.matchAll(/^# (?:HELP|TYPE) (\S+)/gm)].map((m) => m[1]));

describe("the dashboard's queries", () => {
	it("filter to the gateway instances ($instance) only what a gateway itself measures", () => {
		// $instance lists gateways; a counter of the auth service (sign-in failures) lives on the core pods.
		const gatewayOwn = new RegExp(": (vigil_http_|process_|nodejs_)");
		const filtered = dashboardQueries().filter(({ expr }) => expr.includes("$instance"));
		expect(filtered.length).toBeGreaterThan(0);
		for (const { where, expr } of filtered) for (const name of metricNames(expr)) expect(`${where}: ${name}`).toMatch(gatewayOwn);
	});

	it("read a queue's depth with max: every node reports the same shared queue, so a sum counts it once per pod", () => {
		const queueGauges = dashboardQueries().filter(({ expr }) => /vigil_job_(queue_depth|oldest_age_seconds)/.test(expr));
		expect(queueGauges.length).toBeGreaterThan(0);
		for (const { where, expr } of queueGauges) expect(`${where}: ${expr}`).toMatch(/: max\(vigil_job_/);
	});
});

describeWhen(haveKubectl)("the dashboard against the scraped pods", () => {
	it("finds every metric a panel queries on a pod Prometheus scrapes, and none on the gateway's public port", async () => {
		const exported = new Set<string>();
		const scraped = byKind(rendered.production, "Deployment").filter((d) => d.spec.template.metadata.annotations?.["prometheus.io/scrape"] === "true");
		expect(scraped.map((d) => d.metadata.name).sort()).toEqual(["vigil-api", "vigil-core", "vigil-detector"]);
		for (const deployment of scraped) {
			const container = vigilContainer(deployment);
			const port = await freePort();
			const config = testConfig({
				SERVICES: envValue(container, "SERVICES") as string,
				METRICS_PORT: String(port),
				METRICS_ON_PUBLIC_PORT: envValue(container, "METRICS_ON_PUBLIC_PORT") ?? "true",
			});
			const broker = createNode(config, { nodeID: `${deployment.metadata.name}-${config.namespace}` });
			await broker.start();
			try {
				const calls = config.services.includes("auth") ? 2 : 0;
				for (let i = 0; i < calls; i++) await broker.call("auth.health");
				const scrape = await fetch(`http://127.0.0.1:${port}/metrics`);
				expect(scrape.status).toBe(200);
				const text = await scrape.text();
				for (const name of declared(text)) exported.add(name);
				// Moleculer's call metrics reach the same endpoint, labelled by action alone.
				if (calls) expect(text).toMatch(/^moleculer_request_total\{action="auth\.health"\} 2$/m);
				expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
				expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
				if (config.services.includes("api")) {
					const server = (broker.getLocalService("api") as unknown as { server: import("node:http").Server }).server;
					const publicPort = (server.address() as { port: number }).port;
					expect((await fetch(`http://127.0.0.1:${publicPort}/metrics`)).status).toBe(404);
				}
			} finally {
				await broker.stop();
			}
		}
		const known = (name: string) => exported.has(name) || exported.has(name.replace(/_(bucket|sum|count)$/, ""));
		const missing = dashboardQueries().flatMap(({ where, expr }) =>
			metricNames(expr)
				.filter((name) => !known(name))
				.map((name) => `${where}: ${name}`),
		);
		expect(missing).toEqual([]);
		// The parse found names at all (a broken parser would pass the line above).
		expect(dashboardQueries().flatMap(({ expr }) => metricNames(expr))).toEqual(
			expect.arrayContaining(["vigil_login_failures_total", "moleculer_request_total", "vigil_detector_info", "vigil_stage_seconds_bucket"]),
		);
	});
});
