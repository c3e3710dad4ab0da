/**
 * The dashboard's built files as the gateway serves them: which file a URL path means, its content type and
 * cache policy, and paths that can never leave the dashboard's folder. No broker here; the gateway calls
 * serveDashboard for the requests none of its routes took.
 */
import { createReadStream } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, sep } from "node:path";

/** The page loads scripts, styles and pictures from its own origin only, and runs no inline script. */
export const DASHBOARD_CSP =
	"default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** Vite names what it writes under assets/ by content hash: a changed file gets a new name, so browsers may keep it for ever. */
export const CACHE_IMMUTABLE = "public, max-age=31536000, immutable";
/** index.html (and other unhashed files) name the current build: revalidated on every load, so a new build shows at once. */
export const CACHE_REVALIDATE = "no-cache";

/** Where the project keeps its built dashboard, from sources (lib/platform) and from dist/lib/platform alike. */
export function projectDashboardDir(): string {
	const root = join(__dirname, __dirname.endsWith(join("dist", "lib", "platform")) ? "../../.." : "../..");
	return join(root, "dashboard", "dist");
}

const CONTENT_TYPES: Record<string, string> = {
	".html": "text/html; charset=utf-8",
	".js": "text/javascript; charset=utf-8",
	".mjs": "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".json": "application/json; charset=utf-8",
	".map": "application/json; charset=utf-8",
	".webmanifest": "application/manifest+json; charset=utf-8",
	".txt": "text/plain; charset=utf-8",
	".svg": "image/svg+xml",
	".png": "image/png",
	".jpg": "image/jpeg",
	".jpeg": "image/jpeg",
	".gif": "image/gif",
	".webp": "image/webp",
	".avif": "image/avif",
	".ico": "image/x-icon",
	".woff": "font/woff",
	".woff2": "font/woff2",
	".ttf": "font/ttf",
	".wasm": "application/wasm",
};

/** The Content-Type of a built file; unknown kinds are bytes, never guessed (the gateway also sends nosniff). */
export function contentType(file: string): string {
	return CONTENT_TYPES[extname(file).toLowerCase()] ?? "application/octet-stream";
}

/** First path segments the gateway's own routes answer: an unknown path there stays a JSON 404, never the page. */
const SERVER_PATHS = new Set(["api", "docs", "healthz", "readyz", "metrics", "openapi.json"]);

export type DashboardTarget =
	/** index.html: `/` and the page's own routes (`/stores/...`), which the page resolves in the browser. */
	| { kind: "page" }
	/** A built file, relative to the dashboard's folder. */
	| { kind: "file"; relative: string; cacheControl: string }
	/** Not the dashboard's, or not a path it could ever have: 404. */
	| { kind: "none" };

/**
 * What a URL path (still percent-encoded, without its query) asks of the dashboard. A path whose last segment has
 * an extension, or anything under assets/, is a file; other paths are the page. Segments that are empty, start
 * with a dot (`..`, dotfiles) or hide a separator or NUL once decoded are refused, so nothing outside the folder
 * is ever named.
 */
export function dashboardTarget(urlPath: string): DashboardTarget {
	const raw = urlPath.split("/").slice(1);
	if (raw.length && raw[raw.length - 1] === "") raw.pop();
	const segments: string[] = [];
	for (const part of raw) {
		let segment: string;
		try {
			segment = decodeURIComponent(part);
		} catch {
			return { kind: "none" };
		}
		if (segment === "" || segment.startsWith(".") || /[/\\\0]/.test(segment)) return { kind: "none" };
		segments.push(segment);
	}
	if (segments.length === 0) return { kind: "page" };
	if (SERVER_PATHS.has(segments[0])) return { kind: "none" };
	const hashed = segments[0] === "assets";
	if (hashed || extname(segments[segments.length - 1]) !== "") {
		return { kind: "file", relative: segments.join("/"), cacheControl: hashed ? CACHE_IMMUTABLE : CACHE_REVALIDATE };
	}
	return { kind: "page" };
}

export type DashboardOutcome = "served" | "not-found" | "not-built";

/**
 * Answers a GET or HEAD for the dashboard from `dir`: the file with its type, cache policy and ETag (304 when the
 * browser's copy is current), HTML under DASHBOARD_CSP. Writes nothing unless it returns "served": the caller
 * answers "not-found" (404) and "not-built" (no index.html in `dir`: the page cannot be shown) in its own way.
 */
export async function serveDashboard(dir: string, req: IncomingMessage, res: ServerResponse, urlPath: string): Promise<DashboardOutcome> {
	if (req.method !== "GET" && req.method !== "HEAD") return "not-found";
	const target = dashboardTarget(urlPath);
	if (target.kind === "none") return "not-found";
	const relative = target.kind === "page" ? "index.html" : target.relative;
	const cacheControl = target.kind === "page" ? CACHE_REVALIDATE : target.cacheControl;
	const file = await containedFile(dir, relative);
	if (!file) return target.kind === "page" ? "not-built" : "not-found";

	const type = contentType(file.path);
	const etag = `W/"${file.size.toString(16)}-${Math.floor(file.mtimeMs).toString(16)}"`;
	res.setHeader("Content-Type", type);
	res.setHeader("Cache-Control", cacheControl);
	res.setHeader("ETag", etag);
	if (type.startsWith("text/html")) res.setHeader("Content-Security-Policy", DASHBOARD_CSP);
	if (req.headers["if-none-match"] === etag) {
		res.statusCode = 304;
		res.end();
		return "served";
	}
	res.statusCode = 200;
	res.setHeader("Content-Length", file.size);
	if (req.method === "HEAD") {
		res.end();
		return "served";
	}
	await new Promise<void>((resolve) => {
		const stream = createReadStream(file.path);
		stream.on("error", (err) => {
			res.destroy(err);
			resolve();
		});
		res.on("close", resolve);
		stream.pipe(res);
	});
	return "served";
}

/** The regular file `relative` names inside `dir`, links resolved, or undefined if it is missing or would lie outside. */
async function containedFile(dir: string, relative: string): Promise<{ path: string; size: number; mtimeMs: number } | undefined> {
	try {
		const root = await realpath(dir);
		const path = await realpath(join(root, relative));
		if (!path.startsWith(root + sep)) return undefined;
		const info = await stat(path);
		return info.isFile() ? { path, size: info.size, mtimeMs: info.mtimeMs } : undefined;
	} catch {
		return undefined;
	}
}

/** What a browser shows when the gateway runs without a built dashboard (no inline script or style: the API's CSP applies). */
export const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Vigil: dashboard not built</title></head>
<body><h1>The dashboard is not built</h1>
<p>Run <code>npm run build</code> (or start with <code>npm start</code>, which builds it), then reload this page.</p>
<p>The API answers meanwhile: <a href="/docs">API documentation</a>, <a href="/readyz">readiness</a>.</p>
</body></html>
`;
