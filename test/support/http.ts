/** A small HTTP client for tests: JSON in and out, optional cookie jar, Bearer tokens. */
export interface Reply<T = any> {
	status: number;
	body: T;
	headers: Headers;
}

export interface RequestOptions {
	body?: unknown;
	raw?: string | Buffer;
	token?: string;
	headers?: Record<string, string>;
}

export class Client {
	/** Cookies as a browser would keep them (name -> value), filled from Set-Cookie. */
	readonly cookies = new Map<string, string>();

	constructor(
		readonly baseUrl: string,
		private readonly useCookies = false,
	) {}

	async request<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<Reply<T>> {
		const headers: Record<string, string> = { ...options.headers };
		let payload: string | Buffer | undefined = options.raw;
		if (options.body !== undefined) {
			payload = JSON.stringify(options.body);
			headers["content-type"] ??= "application/json";
		}
		if (options.token) headers.authorization = `Bearer ${options.token}`;
		if (this.useCookies && this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
		const res = await fetch(this.baseUrl + path, { method, headers, body: payload });
		if (this.useCookies) {
			for (const line of res.headers.getSetCookie()) {
				const [pair, ...attrs] = line.split(";");
				const name = pair.slice(0, pair.indexOf("="));
				if (attrs.some((a) => /max-age=0/i.test(a))) this.cookies.delete(name);
				else this.cookies.set(name, decodeURIComponent(pair.slice(pair.indexOf("=") + 1)));
			}
		}
		const text = await res.text();
		let body: unknown = text;
		try {
			body = text ? JSON.parse(text) : null;
		} catch {
			/* not JSON: keep the text */
		}
		return { status: res.status, body: body as T, headers: res.headers };
	}

	get = <T = any>(path: string, o?: RequestOptions) => this.request<T>("GET", path, o);
	post = <T = any>(path: string, body?: unknown, o?: RequestOptions) => this.request<T>("POST", path, { ...o, body });
	patch = <T = any>(path: string, body?: unknown, o?: RequestOptions) => this.request<T>("PATCH", path, { ...o, body });
	delete = <T = any>(path: string, o?: RequestOptions) => this.request<T>("DELETE", path, o);
}

let counter = 0;
export const uniqueEmail = (name: string) => `${name}.${Date.now().toString(36)}${(counter++).toString(36)}@example.com`;
export const PASSWORD = "correct horse battery staple";

/** Registers a new user and returns their access token and ids. */
export async function signUp(client: Client, name: string): Promise<{ email: string; token: string; refreshToken: string; userId: string }> {
	const email = uniqueEmail(name);
	const res = await client.post("/api/v1/auth/register", { email, password: PASSWORD });
	if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
	return { email, token: res.body.accessToken, refreshToken: res.body.refreshToken, userId: res.body.user.id };
}
