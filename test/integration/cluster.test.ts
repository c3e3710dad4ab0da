/**
 * Multi-node: the gateway and the services on separate brokers that only meet over NATS.
 * Needs TRANSPORTER (CI sets it); without it this file is skipped and says so.
 */
import { createServer } from "node:net";
import { createNode } from "../../app/node";
import { testConfig, waitForReady } from "../support/cluster";
import { Client, PASSWORD, signUp } from "../support/http";

const transporter = process.env.TRANSPORTER;
const describeOverNats = transporter ? describe : describe.skip;
if (!transporter) console.warn("cluster.test.ts skipped: set TRANSPORTER=nats://127.0.0.1:4222 to run the multi-node tests");

const freePort = () =>
	new Promise<number>((resolve) => {
		const srv = createServer().listen(0, "127.0.0.1", () => {
			const { port } = srv.address() as { port: number };
			srv.close(() => resolve(port));
		});
	});

describeOverNats("gateway and services on different nodes over NATS", () => {
	it("the gateway is not ready until a services node joins, serves through it, and notices when it leaves", async () => {
		const metricsPort = await freePort();
		const config = testConfig({ METRICS_PORT: String(metricsPort) });
		const gateway = createNode({ ...config, services: ["api"] }, { nodeID: `gw-${config.namespace}` });
		const core = createNode({ ...config, services: ["auth", "tenancy", "camera", "clip", "alert"] }, { nodeID: `core-${config.namespace}` });
		await gateway.start();
		try {
			const server = (gateway.getLocalService("api") as unknown as { server: import("node:http").Server }).server;
			const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
			const api = new Client(url);

			const alone = await api.get("/readyz");
			expect(alone.status).toBe(503);
			expect(alone.body.checks).toMatchObject({ transporter: "ok", auth: "no node runs it" });
			expect((await api.post("/api/v1/auth/login", { email: "a@example.com", password: PASSWORD })).status).toBe(404);

			await core.start();
			await waitForReady(url);
			const user = await signUp(api, "over-nats");
			const org = await api.post("/api/v1/orgs", { name: "Remote" }, { token: user.token });
			expect(org.status).toBe(201);
			// Errors thrown on the services node keep their status and code across the wire.
			const invalid = await api.post(`/api/v1/orgs/${org.body.id}/stores`, { name: "" }, { token: user.token });
			expect(invalid.status).toBe(422);
			expect(invalid.body.error.details[0].field).toBe("name");
			expect((await api.get("/api/v1/orgs/00000000-0000-4000-8000-000000000000", { token: user.token })).status).toBe(404);

			// A node without the gateway still exposes its own metrics.
			const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
			expect(metrics.status).toBe(200);
			expect(await metrics.text()).toContain("process_cpu_seconds_total");

			await core.stop();
			const gone = await api.get("/readyz");
			expect(gone.status).toBe(503);
			const unavailable = await api.get("/api/v1/auth/me", { token: user.token });
			expect([404, 503]).toContain(unavailable.status);
		} finally {
			await core.stop().catch(() => undefined);
			await gateway.stop();
		}
	});
});
