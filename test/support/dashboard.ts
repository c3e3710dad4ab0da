/**
 * What the dashboard's browser tests share: Debian's chromium driven by playwright-core, a build of the
 * dashboard that is fresh (rebuilt when its sources changed, one build at a time across test processes), a
 * signed-in page, screenshots to test-artifacts/dashboard/, and a watch on the page's console.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { PASSWORD } from "./http";
import { requireService } from "./require";

export const CHROMIUM = "/usr/bin/chromium";
const ROOT = join(__dirname, "..", "..");
export const ARTIFACTS = join(ROOT, "test-artifacts", "dashboard");
const DASHBOARD = join(ROOT, "dashboard");
/** How long the page may take to show what a click asked for. */
export const UI_MS = 15_000;

/**
 * Whether the browser suites run in this pass. `.ci/run` runs them once, in its PostgreSQL + NATS pass, and sets
 * BROWSER_TESTS=off for the embedded one: the page is the same whichever database serves it.
 */
export const chromiumRunnable = () => {
	if (process.env.BROWSER_TESTS === "off") {
		console.warn("Browser suites skipped in this pass (BROWSER_TESTS=off): CI runs them in its PostgreSQL + NATS pass");
		return false;
	}
	return requireService("Chromium at /usr/bin/chromium", existsSync(CHROMIUM), "apt-get install chromium");
};

export const launchChromium = (): Promise<Browser> =>
	chromium.launch({
		executablePath: CHROMIUM,
		args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
	});

/** Whether an <img> finished loading a real picture (runs in the page; the root tsconfig has no DOM types). */
export const pictureLoaded = (img: unknown) => {
	const picture = img as { complete: boolean; naturalWidth: number };
	return picture.complete && picture.naturalWidth > 0;
};

/** Newest modification time under a folder (sources of the dashboard). */
function newest(path: string): number {
	const info = statSync(path);
	if (!info.isDirectory()) return info.mtimeMs;
	return Math.max(info.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

/** Holds a lock directory while `work` runs; another process waits for it (a stale lock is taken over after a minute). */
function withLock(lock: string, work: () => void) {
	const deadline = Date.now() + 180_000;
	for (;;) {
		try {
			mkdirSync(lock);
			break;
		} catch {
			if (Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > 60_000) rmSync(lock, { recursive: true, force: true });
			if (Date.now() > deadline) throw new Error(`the dashboard build lock ${lock} is held`);
			execFileSync("sleep", ["0.5"]);
		}
	}
	try {
		work();
	} finally {
		rmSync(lock, { recursive: true, force: true });
	}
}

/** The gateway serves dashboard/dist: build it when it is missing or older than its sources. */
export function buildDashboardIfStale() {
	const built = join(DASHBOARD, "dist", "index.html");
	const stale = () => {
		const sources = Math.max(newest(join(DASHBOARD, "src")), newest(join(DASHBOARD, "index.html")), newest(join(DASHBOARD, "vite.config.mts")));
		return !existsSync(built) || statSync(built).mtimeMs < sources;
	};
	if (!stale()) return;
	withLock(join(DASHBOARD, ".build-lock"), () => {
		if (!stale()) return;
		execFileSync(
			process.execPath,
			[join(ROOT, "node_modules", "vite", "bin", "vite.js"), "build", "--config", join(DASHBOARD, "vite.config.mts"), "--logLevel", "warn"],
			{ cwd: ROOT, stdio: "inherit" },
		);
	});
}

/** Collects the page's console errors and uncaught exceptions into `errors`; sets the UI timeout. */
export function watchPage(page: Page, errors: string[]): Page {
	// The URL says which request a "Failed to load resource" was.
	page.on("console", (m) => m.type() === "error" && errors.push(`${m.text()} ${m.location().url}`.trim()));
	page.on("pageerror", (e) => errors.push(String(e)));
	page.setDefaultTimeout(UI_MS);
	return page;
}

export function screenshot(page: Page, name: string) {
	mkdirSync(ARTIFACTS, { recursive: true });
	return page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

export async function signIn(page: Page, baseUrl: string, email: string, password = PASSWORD, hash = "") {
	await page.goto(baseUrl + "/" + hash);
	await page.getByLabel("Email").fill(email);
	await page.getByLabel("Password").fill(password);
	await page.getByRole("button", { name: "Sign in" }).click();
}
