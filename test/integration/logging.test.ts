import { jsonLine, requestScope } from "../../lib/platform/logging";
import { startCluster, type Cluster } from "../support/cluster";
import { Client, uniqueEmail } from "../support/http";

describe("structured logs", () => {
	it("a JSON line carries level, message, fields and the request id of its scope", () => {
		const line = requestScope.run({ requestId: "req-42" }, () => jsonLine("warn", [{ email: "a@b.c" }, "Failed login"], { nodeID: "n1", svc: "auth" }));
		expect(JSON.parse(line)).toMatchObject({ level: "warn", msg: "Failed login", node: "n1", mod: "auth", requestId: "req-42", email: "a@b.c" });
	});

	describe("across services", () => {
		let cluster: Cluster;
		beforeAll(async () => (cluster = await startCluster()));
		afterAll(() => cluster?.stop());

		it("a line written by a service while serving a request names that request's id", async () => {
			const lines: string[] = [];
			const spy = jest.spyOn(console, "warn").mockImplementation((...args: unknown[]) => void lines.push(args.join(" ")));
			try {
				await new Client(cluster.url).post(
					"/api/v1/auth/login",
					{ email: uniqueEmail("ghost"), password: "no such account" },
					{ headers: { "x-request-id": "log-trace-7" } },
				);
			} finally {
				spy.mockRestore();
			}
			const failed = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "Failed login");
			expect(failed).toMatchObject({ requestId: "log-trace-7", mod: "auth" });
		});
	});
});
