/**
 * The dashboard's only way to the API: same-origin fetches with the session cookies (the browser sends Origin,
 * which the gateway's CSRF check accepts). Paths and request bodies are typed from the served OpenAPI document
 * (schema.d.ts, generated); an expired access token is refreshed once and the request retried.
 */
import type { paths } from "./schema";

export interface FieldError {
	field: string;
	message: string;
}

/** An API error as the gateway shapes it: `{ error: { code, message, details } }`. */
export class ApiError extends Error {
	constructor(
		readonly status: number,
		readonly code: string,
		message: string,
		readonly fieldErrors: FieldError[] = [],
	) {
		super(message);
	}
	/** The message for one form field, from a 422's details. */
	fieldError(field: string): string | undefined {
		return this.fieldErrors.find((e) => e.field === field)?.message;
	}
}

type Method = "get" | "post" | "put" | "patch" | "delete";
type PathsWith<M extends Method> = { [P in keyof paths]: paths[P] extends { [K in M]: object } ? P : never }[keyof paths];
type Operation<P extends keyof paths, M extends Method> = paths[P][M & keyof paths[P]];
type PathParams<O> = O extends { parameters: { path: infer T } } ? T : never;
type QueryParams<O> = O extends { parameters: { query?: infer T } } ? T : never;
type Body<O> = O extends { requestBody: { content: { "application/json": infer T } } } ? T : never;

export interface RequestOptions<O> {
	path?: PathParams<O>;
	query?: QueryParams<O>;
	body?: Body<O>;
}

/** `/api/v1/orgs/{orgId}` with `{ orgId }` -> `/api/v1/orgs/1f0…`. */
export function fillPath(template: string, params: Record<string, string> = {}, query: Record<string, unknown> = {}): string {
	const path = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ""));
	const search = new URLSearchParams();
	for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== "" && value !== null) search.set(key, String(value));
	const qs = search.toString();
	return qs ? `${path}?${qs}` : path;
}

async function toError(res: Response): Promise<ApiError> {
	const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string; details?: unknown } } | null;
	const details = Array.isArray(body?.error?.details) ? (body.error.details as FieldError[]) : [];
	return new ApiError(res.status, body?.error?.code ?? "HTTP_" + res.status, body?.error?.message ?? res.statusText, details);
}

let refreshing: Promise<boolean> | undefined;

/** Rotates the session cookies; concurrent callers share one refresh (a refresh token works once). */
export function refreshSession(): Promise<boolean> {
	refreshing ??= fetch("/api/v1/auth/refresh", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: "{}" })
		.then((res) => res.ok)
		.catch(() => false)
		.finally(() => (refreshing = undefined));
	return refreshing;
}

/** Called when the session is gone for good (refresh refused): the page shows the sign-in form. */
let onSignedOut: () => void = () => undefined;
export const whenSignedOut = (handler: () => void) => (onSignedOut = handler);

/** Sends a request; on 401 TOKEN_EXPIRED refreshes once and retries. */
export async function send(method: string, url: string, init: { body?: BodyInit; contentType?: string } = {}): Promise<Response> {
	const attempt = () =>
		fetch(url, {
			method: method.toUpperCase(),
			credentials: "same-origin",
			headers: init.contentType ? { "Content-Type": init.contentType } : undefined,
			body: init.body,
		});
	let res = await attempt();
	if (res.status === 401) {
		const err = await toError(res.clone());
		if (err.code === "TOKEN_EXPIRED" && (await refreshSession())) res = await attempt();
		else if (!url.startsWith("/api/v1/auth/login")) onSignedOut();
	}
	if (!res.ok) throw await toError(res);
	return res;
}

/**
 * Makes sure the session is usable, refreshing it only if the access token has expired. Callers that merely saw
 * a connection drop (a stream cut by a page being left, too) use this rather than refreshing outright: a refresh
 * whose answer is lost leaves the browser holding a used refresh token, and presenting it again ends the session.
 */
export async function ensureSession(): Promise<boolean> {
	try {
		await send("get", "/api/v1/auth/me");
		return true;
	} catch {
		return false;
	}
}

/** A typed JSON call: `api("post", "/api/v1/orgs/{orgId}/stores", { path: { orgId }, body: { name } })`. */
export async function api<T, M extends Method, P extends PathsWith<M>>(method: M, template: P, options: RequestOptions<Operation<P, M>> = {}): Promise<T> {
	const url = fillPath(template, options.path as Record<string, string>, options.query as Record<string, unknown>);
	const res = await send(method, url, options.body === undefined ? {} : { body: JSON.stringify(options.body), contentType: "application/json" });
	return (res.status === 204 ? undefined : await res.json()) as T;
}

/**
 * Uploads a clip as the raw file (video/mp4). XMLHttpRequest, not fetch: only it reports upload progress.
 * A 401 TOKEN_EXPIRED is refreshed and the upload started again once.
 */
export function uploadClip(url: string, file: File, onProgress: (ratio: number) => void): Promise<unknown> {
	const once = () =>
		new Promise<{ status: number; text: string }>((resolve, reject) => {
			const xhr = new XMLHttpRequest();
			xhr.open("POST", url);
			xhr.withCredentials = true;
			xhr.setRequestHeader("Content-Type", file.type || "video/mp4");
			xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
			xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText });
			xhr.onerror = () => reject(new ApiError(0, "NETWORK", "The upload was interrupted; check the connection and try again"));
			xhr.send(file);
		});
	const parse = ({ status, text }: { status: number; text: string }) => {
		const body = text ? JSON.parse(text) : null;
		if (status >= 200 && status < 300) return body;
		const error = body?.error ?? {};
		throw new ApiError(status, error.code ?? `HTTP_${status}`, error.message ?? `Upload failed (${status})`, Array.isArray(error.details) ? error.details : []);
	};
	return once().then(async (result) => {
		if (result.status === 401 && text401(result.text) === "TOKEN_EXPIRED" && (await refreshSession())) return parse(await once());
		return parse(result);
	});
}

function text401(text: string): string | undefined {
	try {
		return JSON.parse(text)?.error?.code;
	} catch {
		return undefined;
	}
}
