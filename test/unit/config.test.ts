import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../lib/platform/config";

const dataDir = () => mkdtempSync(join(tmpdir(), "vigil-config-"));

describe("configuration", () => {
	it("defaults to the embedded single process", () => {
		const config = loadConfig({ DATA_DIR: dataDir() });
		expect(config).toMatchObject({
			embedded: true,
			transporter: undefined,
			port: 3000,
			services: ["api", "auth", "tenancy", "camera", "clip", "detector", "alert", "notifier", "feedback", "audit", "retention", "jobs", "ingest", "stream"],
			accessTokenTtl: 900,
			refreshTokenTtl: 604800,
		});
	});

	it.each([
		["PORT", "abc"],
		["TRANSPORTER", "redis://localhost"],
		["DATABASE_URL", "mysql://x"],
		["SERVICES", "api,teleporter"],
		["LOG_FORMAT", "xml"],
		["JWT_SECRET", "short"],
		["ENCRYPTION_KEY", "not-32-bytes"],
		["BCRYPT_COST", "99"],
	])("fails at start naming the bad variable %s", (variable, value) => {
		expect(() => loadConfig({ DATA_DIR: dataDir(), [variable]: value })).toThrow(ConfigError);
		expect(() => loadConfig({ DATA_DIR: dataDir(), [variable]: value })).toThrow(new RegExp(`^Invalid configuration: ${variable} `));
	});

	it("never prints a database password in its error", () => {
		expect(() => loadConfig({ DATA_DIR: dataDir(), DATABASE_URL: "mysql://root:topsecret@db/x" })).toThrow(/^(?!.*topsecret)/s);
	});

	it("generates secrets once in embedded mode, keeps them 0600, and reuses them", () => {
		const dir = dataDir();
		const first = loadConfig({ DATA_DIR: dir });
		const second = loadConfig({ DATA_DIR: dir });
		expect(first.jwtSecret).toBe(second.jwtSecret);
		expect(first.encryptionKey.equals(second.encryptionKey)).toBe(true);
		expect(first.encryptionKey).toHaveLength(32);
		expect(statSync(join(dir, "secrets.json")).mode & 0o777).toBe(0o600);
		expect(readFileSync(join(dir, "secrets.json"), "utf8")).toContain(first.jwtSecret);
	});

	it("requires the secrets in production", () => {
		expect(() => loadConfig({ NODE_ENV: "production", DATA_DIR: dataDir(), DATABASE_URL: "postgres://db/vigil" })).toThrow(/JWT_SECRET is required/);
		expect(() => loadConfig({ NODE_ENV: "production", DATA_DIR: dataDir(), JWT_SECRET: "x".repeat(40) })).toThrow(/ENCRYPTION_KEY is required/);
	});

	it("in production, asks a node only for the secrets its services read", () => {
		const production = (services: string, secrets: Record<string, string> = {}) =>
			loadConfig({ NODE_ENV: "production", DATA_DIR: dataDir(), DATABASE_URL: "postgres://db/vigil", SERVICES: services, ...secrets });
		const detector = production("detector");
		expect(detector.jwtSecret).toBe("");
		expect(detector.encryptionKey).toHaveLength(0);
		expect(() => production("api")).not.toThrow();
		// `vigil migrate` and `vigil repl` start none of SERVICES (all of them by default): no secret asked.
		expect(() => loadConfig({ NODE_ENV: "production", DATA_DIR: dataDir(), DATABASE_URL: "postgres://db/vigil" }, { runsServices: false })).not.toThrow();
		expect(() => production("auth", { ENCRYPTION_KEY: "ab".repeat(32) })).toThrow(/JWT_SECRET is required .* running auth/);
		expect(() => production("notifier", { JWT_SECRET: "x".repeat(40) })).toThrow(/ENCRYPTION_KEY is required .* running camera or notifier/);
		expect(() => production("camera,auth", { JWT_SECRET: "x".repeat(40), ENCRYPTION_KEY: "ab".repeat(32) })).not.toThrow();
	});
});

describe("documentation", () => {
	it("the README's configuration table lists every setting with its default", () => {
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const { SETTINGS } = require("../../lib/platform/config") as typeof import("../../lib/platform/config");
		const readme = readFileSync(join(__dirname, "../../README.md"), "utf8");
		for (const setting of Object.values(SETTINGS)) {
			const row = readme.split("\n").find((line) => line.startsWith(`| \`${setting.env}\` |`));
			expect(row).toBeDefined();
			if (setting.default) expect(row).toContain(`\`${setting.default}\``);
		}
	});
});
