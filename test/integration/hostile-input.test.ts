/**
 * Hostile input never gets a 5xx. Generated from /openapi.json: every route, called by a caller who gets
 * through (owner, super-admin for /admin, an edge box for /ingest) with real ids, receives hostile values
 * (NUL, unpaired surrogates, null, float4 underflow, huge numbers and cursors, years 0 / -1 / 10000, wrong
 * types) in each path, query and body parameter, one at a time. A new route is covered without editing this file.
 */
import { EdgeEvent } from "../../entities";
import { startCluster, type Cluster } from "../support/cluster";
import { Client, signUp, uniqueEmail, type Reply } from "../support/http";
import { eventually } from "../support/media";

type Schema = {
	type?: string;
	format?: string;
	enum?: unknown[];
	properties?: Record<string, Schema>;
	required?: string[];
	items?: Schema;
	oneOf?: Schema[];
	minLength?: number;
	minItems?: number;
	minimum?: number;
	pattern?: string;
	nullable?: boolean;
};
type Operation = { parameters?: { name: string; in: "path" | "query"; schema: Schema }[]; requestBody?: { content?: Record<string, { schema?: Schema }> } };

/** Held open by the server (and its Last-Event-ID is checked elsewhere). */
const STREAMING = "GET /api/v1/alerts/stream";
const UPLOAD = "POST /api/v1/orgs/:orgId/stores/:storeId/cameras/:cameraId/clips";
const NOBODY = "00000000-0000-4000-8000-000000000000";
const HUGE = "99999999999999999999999";
const YEARS = ["0000-01-01", "-000001-01-01", "10000-01-01"];
const clipCursor = (at: string, id: string) => Buffer.from(JSON.stringify([at, id])).toString("base64url");

/** Hostile values, by where they travel. A lone surrogate cannot be percent-encoded: its UTF-8 bytes go raw. */
const PATH_VALUES = ["%00", "a%00b", "%ED%A0%80", HUGE, "1e-71", ...YEARS, "null"];
const QUERY_VALUES = [
	"%00",
	"a%00b",
	"%ED%A0%80",
	"%F0%9F",
	HUGE,
	"-" + HUGE,
	"1e-71",
	"1e308",
	...YEARS,
	"null",
	"",
	"true",
	"{}",
	clipCursor("0000-01-01T00:00:00Z", NOBODY),
	clipCursor("10000-01-01T00:00:00Z", NOBODY),
	clipCursor("2020-01-01T00:00:00Z", "not-a-uuid"),
	clipCursor("2020-01-01T00:00:00Z", "\u0000"),
];
const BODY_VALUES: unknown[] = [
	"\u0000",
	"a\u0000b",
	"\uD800",
	"x\uDC00y",
	null,
	1e-71,
	-1e-71,
	1e308,
	-1e308,
	Number(HUGE),
	HUGE,
	"1e-71",
	...YEARS,
	true,
	0,
	-1,
	1.5,
	"",
	{},
	[],
	["a\u0000"],
	[null],
	[1e-71],
	{ "k\u0000": "\u0000" },
	"x".repeat(5000),
];

let cluster: Cluster;
let api: Client;
const tokens: Record<"owner" | "superadmin" | "service" | "signsOut", string> = { owner: "", superadmin: "", service: "", signsOut: "" };
/** Ends every session of its caller: sent as a user of its own, so the owner stays signed in. */
const SIGNS_OUT = "POST /api/v1/auth/logout-all";
const ids: Record<string, string> = {};
let ownerEmail = "";

/** A valid value for a parameter, so that a request with one hostile field gets past the others. */
const KNOWN: Record<string, unknown> = {
	url: "http://127.0.0.1:9/hook",
	timezone: "Europe/Paris",
	start: "08:00",
	end: "18:00",
	email: "",
	password: "wrong password, nothing changes",
	currentPassword: "wrong password, nothing changes",
	newPassword: "another long passphrase",
	refreshToken: "vrt_not-a-real-token",
	token: "not-a-real-token",
	classes: ["person"],
	className: "person",
	kind: "webhook",
	role: "staff",
	zoneIds: [],
	storeIds: [],
	days: [1, 2],
	points: [
		[0, 0],
		[1, 0],
		[1, 1],
	],
	box: [0.1, 0.1, 0.5, 0.5],
	camerasOnline: [],
	ackCommandIds: [],
	config: { url: "http://127.0.0.1:9/hook" },
	status: undefined,
};

function validValue(name: string, schema: Schema = {}): unknown {
	if (name in KNOWN) return name === "email" ? uniqueEmail("hostile") : KNOWN[name];
	if (schema.format === "uuid") return ids[name] ?? ids[name.replace(/Id$/, "") + "Id"] ?? NOBODY;
	if (schema.enum?.length) return schema.enum[0];
	if (schema.oneOf?.length) return validValue(name, schema.oneOf[0]);
	switch (schema.type) {
		case "string":
			return schema.format === "email"
				? uniqueEmail("hostile")
				: schema.format === "date-time"
					? new Date(Date.now() + 3600_000).toISOString()
					: `hostile ${name}`.slice(0, Math.max(schema.minLength ?? 1, 8));
		case "integer":
		case "number":
			return Math.max(schema.minimum ?? 0, schema.type === "integer" ? 1 : 0.5);
		case "boolean":
			return true;
		case "array":
			return Array.from({ length: schema.minItems ?? 0 }, () => validValue(name, schema.items));
		case "object":
			return Object.fromEntries(
				Object.entries(schema.properties ?? {})
					.filter(([k]) => schema.required?.includes(k))
					.map(([k, s]) => [k, validValue(k, s)]),
			);
		default:
			return undefined;
	}
}

function baseline(schema: Schema | undefined): Record<string, unknown> {
	return Object.fromEntries(
		Object.entries(schema?.properties ?? {})
			.filter(([k, s]) => schema?.required?.includes(k) || k in KNOWN || s.format === "uuid")
			.map(([k, s]) => [k, validValue(k, s)])
			.filter(([, v]) => v !== undefined),
	);
}

function caller(route: string): string {
	if (route === SIGNS_OUT) return tokens.signsOut;
	if (route.includes("/api/v1/ingest/")) return tokens.service;
	if (route.includes("/api/v1/admin/")) return tokens.superadmin;
	return tokens.owner;
}

function fill(path: string, override: Record<string, string> = {}): string {
	return path.replace(
		/\{(\w+)\}/g,
		(_, name: string) =>
			override[name] ?? (name === "className" ? "person" : name === "queue" ? "detector" : name === "letterId" ? "1" : (ids[name] ?? NOBODY)),
	);
}

interface Probe {
	route: string;
	method: string;
	path: string;
	where: string;
	body?: unknown;
	raw?: string;
	headers?: Record<string, string>;
}

/** Every request a route gets: each path, query and body parameter in turn replaced by each hostile value. */
function probes(method: string, path: string, op: Operation): Probe[] {
	const route = `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`;
	const out: Probe[] = [];
	const bodySchema = op.requestBody?.content?.["application/json"]?.schema;
	const isUpload = route === UPLOAD;
	const base = isUpload ? { raw: "not a video", headers: { "content-type": "video/mp4" } } : bodySchema ? { body: baseline(bodySchema) } : {};
	for (const p of op.parameters ?? []) {
		if (p.in === "path") for (const v of PATH_VALUES) out.push({ route, method, path: fill(path, { [p.name]: v }), where: `path ${p.name}=${v}`, ...base });
		if (p.in === "query") {
			for (const v of QUERY_VALUES) out.push({ route, method, path: `${fill(path)}?${p.name}=${v}`, where: `query ${p.name}=${v}`, ...base });
			out.push({ route, method, path: `${fill(path)}?${p.name}=a&${p.name}=b`, where: `query ${p.name} twice`, ...base });
		}
	}
	// Unknown fields are dropped, whatever they hold; this also reaches a route without parameters.
	if (method !== "delete")
		out.push({
			route,
			method,
			path: `${fill(path)}?unknown=%00`,
			where: "unknown query and body fields",
			...base,
			...(base.body && { body: { ...base.body, "unknown\u0000": "\u0000" } }),
		});
	// A DELETE with every real id and nothing hostile in it would delete a fixture: only its path is probed.
	if (bodySchema && !isUpload && method !== "delete") {
		const fields = Object.entries(bodySchema.properties ?? {});
		for (const [name, schema] of fields) {
			for (const v of BODY_VALUES)
				out.push({ route, method, path: fill(path), where: `body ${name}=${JSON.stringify(v)?.slice(0, 30)}`, body: { ...(base.body as object), [name]: v } });
			// One level down (a rule's schedule, a channel's config): each property in turn.
			for (const inner of Object.keys(schema.properties ?? {})) {
				const valid = { ...(validValue(name, schema) as object), ...(name === "config" && { url: KNOWN.url }) };
				for (const v of BODY_VALUES)
					out.push({
						route,
						method,
						path: fill(path),
						where: `body ${name}.${inner}=${JSON.stringify(v)?.slice(0, 30)}`,
						body: { ...(base.body as object), [name]: { ...valid, [inner]: v } },
					});
			}
			if (schema.type === "array")
				for (const v of BODY_VALUES)
					out.push({
						route,
						method,
						path: fill(path),
						where: `body ${name}[0]=${JSON.stringify(v)?.slice(0, 30)}`,
						body: { ...(base.body as object), [name]: [v] },
					});
		}
	}
	return out;
}

/** Runs tasks with at most `limit` at once. */
async function pool<T>(items: T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
	let next = 0;
	await Promise.all(
		Array.from({ length: limit }, async () => {
			while (next < items.length) await run(items[next++]);
		}),
	);
}

const send = (p: Probe): Promise<Reply> =>
	api.request(p.method.toUpperCase(), p.path, { body: p.body, raw: p.raw, headers: p.headers, token: caller(p.route) });

beforeAll(async () => {
	cluster = await startCluster({ NOTIFY_ALLOW_PRIVATE_URLS: "true", LOGIN_MAX_FAILURES: "1000", LOGIN_MAX_FAILURES_PER_IP: "100000" });
	api = new Client(cluster.url);
	const rootEmail = uniqueEmail("root");
	await cluster.core.call("auth.createUser", { email: rootEmail, password: "super admin passphrase", superAdmin: true });
	tokens.superadmin = (await api.post("/api/v1/auth/login", { email: rootEmail, password: "super admin passphrase" })).body.accessToken;
	tokens.signsOut = (await signUp(api, "hostile-signs-out")).token;
	const owner = await signUp(api, "hostile-owner");
	[tokens.owner, ownerEmail, ids.userId] = [owner.token, owner.email, owner.userId];
	const as = { token: owner.token };
	ids.orgId = (await api.post("/api/v1/orgs", { name: "Hostile Org" }, as)).body.id;
	ids.storeId = (await api.post(`/api/v1/orgs/${ids.orgId}/stores`, { name: "Hostile Store" }, as)).body.id;
	const store = `/api/v1/orgs/${ids.orgId}/stores/${ids.storeId}`;
	ids.cameraId = (await api.post(`${store}/cameras`, { name: "Door" }, as)).body.id;
	ids.ruleId = (await api.post(`${store}/alert-rules`, { name: "Anyone", cameraId: ids.cameraId, classes: ["person"], cooldownSec: 0 }, as)).body.id;
	const token = (await api.post(`${store}/service-tokens`, { name: "edge" }, as)).body;
	[tokens.service, ids.tokenId] = [token.token, token.id];
	ids.invitationId = (await api.post(`/api/v1/orgs/${ids.orgId}/invitations`, { email: uniqueEmail("invitee"), role: "staff" }, as)).body.id;
	ids.channelId = (
		await api.post(`/api/v1/orgs/${ids.orgId}/notification-channels`, { name: "Hook", kind: "webhook", config: { url: KNOWN.url } }, as)
	).body.id;
	ids.muteId = (await api.post("/api/v1/me/mutes", { cameraId: ids.cameraId }, as)).body.id;
	ids.commandId = (await api.post(`${store}/edge/commands`, { tokenId: ids.tokenId, kind: "restart" }, as)).body.id;
	// An alert from edge events, through the rule above.
	const now = Date.now();
	const events = Array.from({ length: 6 }, (_, k) => ({
		id: `seed-${k}`,
		cameraId: ids.cameraId,
		time: new Date(now - (30 - k) * 1000).toISOString(),
		className: "person",
		score: 0.9,
		box: [0.1 + 0.02 * k, 0.3, 0.2 + 0.02 * k, 0.7],
	}));
	await eventually(async () => ((await api.post("/api/v1/ingest/events", { events }, { token: tokens.service })).status === 200 ? true : undefined), 30000);
	// Where no alert comes (the rule engine is not what this file tests), alert routes still validate before they look up the id.
	ids.alertId = await eventually(async () => (await api.get(`${store}/alerts`, as)).body.items?.[0]?.id as string | undefined, 10000).catch(() => NOBODY);
	ids.zoneId = (
		await api.post(
			`${store}/cameras/${ids.cameraId}/zones`,
			{
				name: "Till",
				points: [
					[0, 0],
					[1, 0],
					[1, 1],
				],
			},
			as,
		)
	).body.id;
	for (const [name, id] of Object.entries(ids)) if (!id) throw new Error(`fixture ${name} was not created`);
}, 90_000);
afterAll(() => cluster?.stop());

it("no route answers hostile input with a 5xx", async () => {
	const doc = (await api.get("/openapi.json")).body as { paths: Record<string, Record<string, Operation>> };
	const all = Object.entries(doc.paths)
		.filter(([path]) => path.startsWith("/api/v1"))
		.flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ method, path, op })));
	const list = all.flatMap(({ method, path, op }) => probes(method, path, op)).filter((p) => p.route !== STREAMING);
	const failures: string[] = [];
	const exercised = new Map<string, number>();
	await pool(list, 6, async (p) => {
		const res = await send(p);
		exercised.set(p.route, (exercised.get(p.route) ?? 0) + 1);
		if (res.status >= 500) failures.push(`${p.route} ${p.where}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
	});
	// The routes exercised: every one of /openapi.json but the stream.
	const routes = all.map(({ method, path }) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`).filter((r) => r !== STREAMING);
	expect([...exercised.keys()].sort()).toEqual(routes.sort());
	expect(failures).toEqual([]);
}, 120_000);

describe("what a user relies on", () => {
	const store = () => `/api/v1/orgs/${ids.orgId}/stores/${ids.storeId}`;
	const fieldsOf = (res: Reply) => (res.body?.error?.details as { field: string }[] | undefined)?.map((d) => d.field);

	it("null for a field that cannot be null is a 422 naming it, and the rule is unchanged", async () => {
		const res = await api.patch(`${store()}/alert-rules/${ids.ruleId}`, { enabled: null, minScore: null }, { token: tokens.owner });
		expect(res.status).toBe(422);
		expect(fieldsOf(res)?.sort()).toEqual(["enabled", "minScore"]);
		const rules = (await api.get(`${store()}/alert-rules`, { token: tokens.owner })).body.items as { id: string; enabled: boolean; minScore: number }[];
		expect(rules.find((r) => r.id === ids.ruleId)).toMatchObject({ enabled: true, minScore: 0.5 });
	});

	it("a NUL character or an unpaired surrogate in a name is a 422", async () => {
		for (const name of ["Till\u0000", "Till\uD800"]) {
			const res = await api.post(`/api/v1/orgs/${ids.orgId}/stores`, { name }, { token: tokens.owner });
			expect({ name, status: res.status, fields: fieldsOf(res) }).toEqual({ name, status: 422, fields: ["name"] });
		}
		const login = await api.post("/api/v1/auth/login", { email: `${ownerEmail}\u0000`, password: "x" });
		expect(login.status).toBe(422);
	});

	it("a score too small for storage is a 422, zero is stored", async () => {
		const tiny = await api.request("PUT", `${store()}/cameras/${ids.cameraId}/thresholds/person`, { body: { threshold: 1e-71 }, token: tokens.owner });
		expect([tiny.status, fieldsOf(tiny)]).toEqual([422, ["threshold"]]);
		const zero = await api.request("PUT", `${store()}/cameras/${ids.cameraId}/thresholds/person`, { body: { threshold: 0 }, token: tokens.owner });
		expect(zero.status).toBe(200);
	});

	it("a cursor or a date outside what the database holds is a 422", async () => {
		for (const query of [`cursor=${HUGE}`, "from=0000-01-01", "to=10000-01-01", "from=-000001-01-01"]) {
			for (const list of [`${store()}/alerts`, `/api/v1/orgs/${ids.orgId}/audit-log`, `${store()}/clips`]) {
				const res = await api.get(`${list}?${query}`, { token: tokens.owner });
				expect({ list, query, status: res.status, code: res.body.error?.code }).toEqual({ list, query, status: 422, code: "VALIDATION_FAILED" });
			}
		}
		for (const cursor of [clipCursor("0000-01-01T00:00:00Z", NOBODY), clipCursor("2020-01-01T00:00:00Z", "not-a-uuid")]) {
			const res = await api.get(`${store()}/clips?cursor=${cursor}`, { token: tokens.owner });
			expect([res.status, fieldsOf(res)]).toEqual([422, ["cursor"]]);
		}
	});

	it("an edge batch with bad events stores the good ones and rejects only the bad", async () => {
		const time = new Date(Date.now() - 10_000).toISOString();
		const event = (id: string, more: object = {}) => ({
			id,
			cameraId: ids.cameraId,
			time,
			className: "person",
			score: 0.8,
			box: [0.2, 0.2, 0.4, 0.6],
			...more,
		});
		const run = Date.now().toString(36);
		const good = [event(`good-a-${run}`), event(`good-b-${run}`, { trackId: "t\uD83D\uDE00" })];
		const bad = [
			event(`bad-nul-${run}\u0000`),
			event(`bad-score-${run}`, { score: 1e-71 }),
			event(`bad-year-${run}`, { time: "0000-01-01T00:00:00Z" }),
			event(`bad-class-${run}`, { className: null }),
			event(`bad-track-${run}`, { trackId: "\uDC00" }),
			event(`bad-plate-${run}`, { plate: "AB\u00001" }),
		];
		const res = await api.post("/api/v1/ingest/events", { events: [bad[0], good[0], ...bad.slice(1), good[1]] }, { token: tokens.service });
		expect(res.status).toBe(200);
		expect({ accepted: res.body.accepted, rejected: res.body.rejected }).toEqual({ accepted: 2, rejected: bad.length });
		const stored = (await (await cluster.db()).getRepository(EdgeEvent).findBy({ cameraId: ids.cameraId })).filter((e) => e.eventId.includes(run));
		expect(stored.map((e) => [e.eventId, e.trackId]).sort()).toEqual([
			[good[0].id, null],
			[good[1].id, "t\uD83D\uDE00"],
		]);
		expect(res.body.results.filter((r: { status: string }) => r.status === "rejected").map((r: { errors: { field: string }[] }) => r.errors[0].field)).toEqual([
			"id",
			"score",
			"time",
			"className",
			"trackId",
			"plate",
		]);
	});

	it("an undecodable upload's error does not show where the server keeps files", async () => {
		const notVideo = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from("ftypisom"), Buffer.alloc(2000, 7)]);
		const res = await api.request("POST", `${store()}/cameras/${ids.cameraId}/clips`, {
			raw: notVideo,
			headers: { "content-type": "video/mp4" },
			token: tokens.owner,
		});
		expect(res.status).toBe(422);
		expect(res.body.error.code).toBe("UNDECODABLE_VIDEO");
		expect(JSON.stringify(res.body)).not.toContain(cluster.config.dataDir);
		expect(JSON.stringify(res.body)).not.toMatch(/\/[\w.-]+\/[\w.-]+\.mp4/);
	});
});
