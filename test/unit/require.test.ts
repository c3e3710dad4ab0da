/** The guard of tests that need a server, a tool or a file: a visible skip where it is missing, a failure under CI. */
import { createServer } from "node:net";
import type * as Require from "../support/require";

/** The helper as loaded under this CI setting (it reads CI once, when loaded). */
function loadWith(ci: string | undefined): typeof Require {
	const saved = process.env.CI;
	if (ci === undefined) delete process.env.CI;
	else process.env.CI = ci;
	try {
		let loaded!: typeof Require;
		jest.isolateModules(() => (loaded = jest.requireActual("../support/require")));
		return loaded;
	} finally {
		if (saved === undefined) delete process.env.CI;
		else process.env.CI = saved;
	}
}

describe("requireService", () => {
	it("outside CI, says what is missing and lets the tests skip", () => {
		const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
		try {
			const { requireService } = loadWith(undefined);
			expect(requireService("NATS at nats://127.0.0.1:1", false, "start it")).toBe(false);
			expect(warn).toHaveBeenCalledWith(expect.stringContaining("NATS at nats://127.0.0.1:1 is not available (start it)"));
			expect(requireService("PostgreSQL", true)).toBe(true);
		} finally {
			warn.mockRestore();
		}
	});

	it("under CI=true, fails instead of skipping", () => {
		const { requireService } = loadWith("true");
		expect(() => requireService("NATS at nats://127.0.0.1:1", false)).toThrow(/NATS at nats:\/\/127.0.0.1:1 is not available/);
		expect(requireService("PostgreSQL", true)).toBe(true);
	});
});

describe("probes", () => {
	it("reachable tells a listening port from a closed one", async () => {
		const { reachable } = loadWith(undefined);
		const server = createServer();
		await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
		const { port } = server.address() as { port: number };
		try {
			expect(reachable(`nats://127.0.0.1:${port}`)).toBe(true);
		} finally {
			await new Promise((resolve) => server.close(resolve));
		}
		expect(reachable(`nats://127.0.0.1:${port}`)).toBe(false);
	});

	it("commandAvailable finds node and not a command that does not exist", () => {
		const { commandAvailable } = loadWith(undefined);
		expect(commandAvailable(process.execPath)).toBe(true);
		expect(commandAvailable("vigil-no-such-command")).toBe(false);
	});
});
