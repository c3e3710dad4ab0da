/**
 * The permission matrix, as documented in the README: every REST route against every kind of caller.
 * A denial is recognisable by its layer: 401 (not signed in), 403 FORBIDDEN (role), or 404 naming the
 * organization or store (outside the caller's tenant). Anything else means the permission check let it through.
 */
import { startCluster, type Cluster } from "../support/cluster";
import { Client, signUp, uniqueEmail, type Reply } from "../support/http";

type Who = "owner" | "admin" | "staff" | "limitedStaff" | "outsider" | "superadmin" | "service" | "anonymous";
const WHO: Who[] = ["owner", "admin", "staff", "limitedStaff", "outsider", "superadmin", "service", "anonymous"];

/** Route -> who gets through. limitedStaff is staff limited to another store of the same organization. */
const MATRIX: Record<string, Who[]> = {
	"POST /api/v1/auth/register": WHO,
	"POST /api/v1/auth/login": WHO,
	"POST /api/v1/auth/refresh": WHO,
	"POST /api/v1/auth/logout": WHO,
	"GET /api/v1/auth/me": ["owner", "admin", "staff", "limitedStaff", "outsider", "superadmin"],
	"POST /api/v1/auth/logout-all": ["owner", "admin", "staff", "limitedStaff", "outsider", "superadmin"],
	"POST /api/v1/auth/password": ["owner", "admin", "staff", "limitedStaff", "outsider", "superadmin"],
	"POST /api/v1/orgs": ["owner", "admin", "staff", "limitedStaff", "outsider", "superadmin"],
	"GET /api/v1/orgs": ["owner", "admin", "staff", "limitedStaff", "outsider", "superadmin"],
	"POST /api/v1/invitations/accept": ["owner", "admin", "staff", "limitedStaff", "outsider", "superadmin"],
	"GET /api/v1/orgs/:orgId": ["owner", "admin", "staff", "limitedStaff", "superadmin"],
	"PATCH /api/v1/orgs/:orgId": ["owner", "admin", "superadmin"],
	"DELETE /api/v1/orgs/:orgId": ["owner", "superadmin"],
	"POST /api/v1/orgs/:orgId/stores": ["owner", "admin", "superadmin"],
	"GET /api/v1/orgs/:orgId/stores": ["owner", "admin", "staff", "limitedStaff", "superadmin"],
	"GET /api/v1/orgs/:orgId/stores/:storeId": ["owner", "admin", "staff", "superadmin"],
	"PATCH /api/v1/orgs/:orgId/stores/:storeId": ["owner", "admin", "superadmin"],
	"DELETE /api/v1/orgs/:orgId/stores/:storeId": ["owner", "admin", "superadmin"],
	"GET /api/v1/orgs/:orgId/members": ["owner", "admin", "superadmin"],
	"PATCH /api/v1/orgs/:orgId/members/:userId": ["owner", "admin", "superadmin"],
	"DELETE /api/v1/orgs/:orgId/members/:userId": ["owner", "admin", "superadmin"],
	"POST /api/v1/orgs/:orgId/invitations": ["owner", "admin", "superadmin"],
	"GET /api/v1/orgs/:orgId/invitations": ["owner", "admin", "superadmin"],
	"DELETE /api/v1/orgs/:orgId/invitations/:invitationId": ["owner", "admin", "superadmin"],
	"POST /api/v1/orgs/:orgId/stores/:storeId/service-tokens": ["owner", "admin", "superadmin"],
	"GET /api/v1/orgs/:orgId/stores/:storeId/service-tokens": ["owner", "admin", "superadmin"],
	"DELETE /api/v1/orgs/:orgId/stores/:storeId/service-tokens/:tokenId": ["owner", "admin", "superadmin"],
	"POST /api/v1/orgs/:orgId/stores/:storeId/cameras": ["owner", "admin", "superadmin"],
	"GET /api/v1/orgs/:orgId/stores/:storeId/cameras": ["owner", "admin", "staff", "superadmin", "service"],
	"GET /api/v1/orgs/:orgId/stores/:storeId/cameras/:cameraId": ["owner", "admin", "staff", "superadmin", "service"],
	"PATCH /api/v1/orgs/:orgId/stores/:storeId/cameras/:cameraId": ["owner", "admin", "superadmin"],
	"DELETE /api/v1/orgs/:orgId/stores/:storeId/cameras/:cameraId": ["owner", "admin", "superadmin"],
	"POST /api/v1/orgs/:orgId/stores/:storeId/cameras/:cameraId/zones": ["owner", "admin", "superadmin"],
	"GET /api/v1/orgs/:orgId/stores/:storeId/cameras/:cameraId/zones": ["owner", "admin", "staff", "superadmin", "service"],
	"PATCH /api/v1/orgs/:orgId/stores/:storeId/cameras/:cameraId/zones/:zoneId": ["owner", "admin", "superadmin"],
	"DELETE /api/v1/orgs/:orgId/stores/:storeId/cameras/:cameraId/zones/:zoneId": ["owner", "admin", "superadmin"],
	"POST /api/v1/orgs/:orgId/stores/:storeId/cameras/:cameraId/clips": ["owner", "admin", "staff", "superadmin", "service"],
	"GET /api/v1/orgs/:orgId/stores/:storeId/clips": ["owner", "admin", "staff", "superadmin", "service"],
	"GET /api/v1/orgs/:orgId/stores/:storeId/clips/:clipId": ["owner", "admin", "staff", "superadmin", "service"],
	"GET /api/v1/orgs/:orgId/stores/:storeId/clips/:clipId/detections": ["owner", "admin", "staff", "superadmin"],
	"GET /api/v1/orgs/:orgId/stores/:storeId/clips/:clipId/tracks": ["owner", "admin", "staff", "superadmin"],
	"DELETE /api/v1/orgs/:orgId/stores/:storeId/clips/:clipId": ["owner", "admin", "superadmin"],
	"POST /api/v1/orgs/:orgId/stores/:storeId/clips/:clipId/reprocess": ["owner", "admin", "superadmin"],
	"POST /api/v1/orgs/:orgId/stores/:storeId/alert-rules": ["owner", "admin", "superadmin"],
	"GET /api/v1/orgs/:orgId/stores/:storeId/alert-rules": ["owner", "admin", "staff", "superadmin"],
	"PATCH /api/v1/orgs/:orgId/stores/:storeId/alert-rules/:ruleId": ["owner", "admin", "superadmin"],
	"DELETE /api/v1/orgs/:orgId/stores/:storeId/alert-rules/:ruleId": ["owner", "admin", "superadmin"],
	"GET /api/v1/orgs/:orgId/stores/:storeId/alerts": ["owner", "admin", "staff", "superadmin"],
	"GET /api/v1/orgs/:orgId/stores/:storeId/alerts/:alertId": ["owner", "admin", "staff", "superadmin"],
	"GET /api/v1/orgs/:orgId/stores/:storeId/alerts/:alertId/snapshot": ["owner", "admin", "staff", "superadmin"],
	"POST /api/v1/orgs/:orgId/stores/:storeId/alerts/:alertId/acknowledge": ["owner", "admin", "staff", "superadmin"],
	"POST /api/v1/orgs/:orgId/stores/:storeId/alerts/:alertId/resolve": ["owner", "admin", "staff", "superadmin"],
	"GET /api/v1/alerts/stream": ["owner", "admin", "staff", "limitedStaff", "outsider", "superadmin"],
	// Edge boxes only: the store comes from the service token (users, super-admins included, get 403).
	"POST /api/v1/ingest/events": ["service"],
	"POST /api/v1/ingest/heartbeat": ["service"],
	"POST /api/v1/ingest/commands/:commandId/ack": ["service"],
	"GET /api/v1/orgs/:orgId/stores/:storeId/edge/boxes": ["owner", "admin", "superadmin"],
	"GET /api/v1/orgs/:orgId/stores/:storeId/edge/commands": ["owner", "admin", "superadmin"],
	"POST /api/v1/orgs/:orgId/stores/:storeId/edge/commands": ["owner", "admin", "superadmin"],
	"GET /api/v1/orgs/:orgId/cameras/health": ["owner", "admin", "staff", "limitedStaff", "superadmin"],
	"POST /api/v1/orgs/:orgId/notification-channels": ["owner", "admin", "superadmin"],
	"GET /api/v1/orgs/:orgId/notification-channels": ["owner", "admin", "superadmin"],
	"GET /api/v1/orgs/:orgId/notification-channels/:channelId": ["owner", "admin", "superadmin"],
	"PATCH /api/v1/orgs/:orgId/notification-channels/:channelId": ["owner", "admin", "superadmin"],
	"DELETE /api/v1/orgs/:orgId/notification-channels/:channelId": ["owner", "admin", "superadmin"],
	"POST /api/v1/orgs/:orgId/notification-channels/:channelId/test": ["owner", "admin", "superadmin"],
	"GET /api/v1/orgs/:orgId/stores/:storeId/alerts/:alertId/deliveries": ["owner", "admin", "staff", "superadmin"],
	"POST /api/v1/me/mutes": ["owner", "admin", "staff", "limitedStaff", "outsider", "superadmin"],
	"GET /api/v1/me/mutes": ["owner", "admin", "staff", "limitedStaff", "outsider", "superadmin"],
	"DELETE /api/v1/me/mutes/:muteId": ["owner", "admin", "staff", "limitedStaff", "outsider", "superadmin"],
	"POST /api/v1/orgs/:orgId/stores/:storeId/alerts/:alertId/feedback": ["owner", "admin", "staff", "superadmin"],
	"GET /api/v1/orgs/:orgId/stores/:storeId/alerts/:alertId/feedback": ["owner", "admin", "staff", "superadmin"],
	// Any user gets past the gateway; the alert's own store then decides (a 404 for anyone outside it, tested in feedback.test.ts).
	"POST /api/v1/alerts/:alertId/feedback": ["owner", "admin", "staff", "limitedStaff", "outsider", "superadmin"],
	"GET /api/v1/orgs/:orgId/stores/:storeId/cameras/:cameraId/thresholds": ["owner", "admin", "staff", "superadmin"],
	"GET /api/v1/orgs/:orgId/stores/:storeId/cameras/:cameraId/precision": ["owner", "admin", "staff", "superadmin"],
	"GET /api/v1/orgs/:orgId/stores/:storeId/cameras/:cameraId/frame": ["owner", "admin", "staff", "superadmin"],
	"GET /api/v1/orgs/:orgId/stores/:storeId/clips/:clipId/frame": ["owner", "admin", "staff", "superadmin"],
	"GET /api/v1/orgs/:orgId/stores/:storeId/clips/:clipId/video": ["owner", "admin", "staff", "superadmin"],
	"GET /api/v1/orgs/:orgId/stores/:storeId/cameras/:cameraId/recording": ["owner", "admin", "staff", "superadmin", "service"],
	"GET /api/v1/orgs/:orgId/stores/:storeId/alerts/volume": ["owner", "admin", "staff", "superadmin"],
	"PUT /api/v1/orgs/:orgId/stores/:storeId/cameras/:cameraId/thresholds/:className": ["owner", "admin", "superadmin"],
	"DELETE /api/v1/orgs/:orgId/stores/:storeId/cameras/:cameraId/thresholds/:className": ["owner", "admin", "superadmin"],
	"GET /api/v1/orgs/:orgId/stores/:storeId/dataset": ["owner", "admin", "superadmin"],
	"GET /api/v1/orgs/:orgId/audit-log": ["owner", "admin", "superadmin"],
	"GET /api/v1/admin/audit-log": ["superadmin"],
	"GET /api/v1/orgs/:orgId/retention": ["owner", "admin", "superadmin"],
	"PUT /api/v1/orgs/:orgId/retention": ["owner", "superadmin"],
	"GET /api/v1/orgs/:orgId/retention/runs": ["owner", "admin", "superadmin"],
	"POST /api/v1/admin/retention/run": ["superadmin"],
	"GET /api/v1/orgs/:orgId/dead-letters": ["owner", "admin", "superadmin"],
	"GET /api/v1/orgs/:orgId/dead-letters/:queue/:letterId": ["owner", "admin", "superadmin"],
	"POST /api/v1/orgs/:orgId/dead-letters/:queue/:letterId/replay": ["owner", "admin", "superadmin"],
	"DELETE /api/v1/orgs/:orgId/dead-letters/:queue/:letterId": ["owner", "admin", "superadmin"],
	"GET /api/v1/admin/queues": ["superadmin"],
	"GET /api/v1/admin/nodes": ["superadmin"],
	"GET /api/v1/admin/dead-letters": ["superadmin"],
	"GET /api/v1/admin/dead-letters/:queue/:letterId": ["superadmin"],
	"POST /api/v1/admin/dead-letters/:queue/:letterId/replay": ["superadmin"],
	"DELETE /api/v1/admin/dead-letters/:queue/:letterId": ["superadmin"],
};

/** These delete the tenant the matrix runs in; they get a dedicated org per caller below. */
const DESTRUCTIVE = new Set(["DELETE /api/v1/orgs/:orgId", "DELETE /api/v1/orgs/:orgId/stores/:storeId"]);
/** Ends every session of the caller: each caller signs out a session of their own, below. */
const SIGNS_OUT = "POST /api/v1/auth/logout-all";
/** Held open by the server: checked on its own below. */
const STREAMING = "GET /api/v1/alerts/stream";
/** A streamed upload: probed with bytes that are not a video (refused after the permission check with 415). */
const UPLOAD = "POST /api/v1/orgs/:orgId/stores/:storeId/cameras/:cameraId/clips";
/** Routes whose success would change who the caller is (sign out, new password): probed with invalid input. */
const NO_SIDE_EFFECT_BODY: Record<string, unknown> = {
	"POST /api/v1/auth/logout": { refreshToken: "vrt_not-a-real-token" },
	"POST /api/v1/auth/password": { currentPassword: "" },
};

let cluster: Cluster;
let api: Client;
const tokens = {} as Record<Who, string | undefined>;
let orgId: string, storeA: string, storeB: string, cameraId: string;

/** A new organization with every kind of member, for the destructive routes. */
async function tenantWithEveryone() {
	const owner = await signUp(api, "owner");
	const org = (await api.post("/api/v1/orgs", { name: "Matrix Org" }, { token: owner.token })).body;
	const a = (await api.post(`/api/v1/orgs/${org.id}/stores`, { name: "Store A" }, { token: owner.token })).body;
	const b = (await api.post(`/api/v1/orgs/${org.id}/stores`, { name: "Store B" }, { token: owner.token })).body;
	const join = async (name: string, role: string, storeIds?: string[]) => {
		const user = await signUp(api, name);
		const invite = await api.post(`/api/v1/orgs/${org.id}/invitations`, { email: user.email, role, storeIds }, { token: owner.token });
		const accepted = await api.post("/api/v1/invitations/accept", { token: invite.body.token }, { token: user.token });
		if (accepted.status !== 200) throw new Error(`accept failed ${JSON.stringify(accepted.body)}`);
		return user.token;
	};
	const who: Record<Who, string | undefined> = {
		owner: owner.token,
		admin: await join("admin", "admin"),
		staff: await join("staff", "staff"),
		limitedStaff: await join("limited", "staff", [b.id]),
		outsider: (await signUp(api, "outsider")).token,
		superadmin: tokens.superadmin,
		service: (await api.post(`/api/v1/orgs/${org.id}/stores/${a.id}/service-tokens`, { name: "edge" }, { token: owner.token })).body.token,
		anonymous: undefined,
	};
	// The outsider has an organization of their own: being signed in elsewhere grants nothing here.
	await api.post("/api/v1/orgs", { name: "Elsewhere" }, { token: who.outsider });
	return { orgId: org.id as string, storeA: a.id as string, storeB: b.id as string, who };
}

beforeAll(async () => {
	cluster = await startCluster();
	api = new Client(cluster.url);
	const rootEmail = uniqueEmail("root");
	await cluster.core.call("auth.createUser", { email: rootEmail, password: "super admin passphrase", superAdmin: true });
	tokens.superadmin = (await api.post("/api/v1/auth/login", { email: rootEmail, password: "super admin passphrase" })).body.accessToken;
	const tenant = await tenantWithEveryone();
	Object.assign(tokens, tenant.who);
	({ orgId, storeA, storeB } = tenant);
	cameraId = (await api.post(`/api/v1/orgs/${orgId}/stores/${storeA}/cameras`, { name: "Door" }, { token: tokens.owner })).body.id;
});
afterAll(() => cluster?.stop());

const NOBODY = "00000000-0000-4000-8000-000000000000";
function fill(path: string, ids: { orgId: string; storeId: string }) {
	return path
		.replace(":orgId", ids.orgId)
		.replace(":storeId", ids.storeId)
		.replace(":cameraId", cameraId)
		.replace(":className", "person")
		.replace(":queue", "detector")
		.replace(":letterId", "1")
		.replace(/:(zoneId|tokenId|userId|invitationId|clipId|ruleId|alertId|channelId|muteId|commandId)/, NOBODY);
}

/** Did the permission layer refuse this request? */
function refusedBy(res: Reply): string | null {
	if (res.status === 401 && /^(UNAUTHORIZED|TOKEN_\w+)$/.test(res.body?.error?.code)) return "401";
	if (res.status === 403 && res.body?.error?.code === "FORBIDDEN") return "403";
	if (res.status === 404 && /^(Organization|Store) not found$/.test(res.body?.error?.message)) return "404";
	return null;
}

function expectedRefusal(who: Who, route: string): string | null {
	if (MATRIX[route].includes(who)) return null;
	if (who === "anonymous") return "401";
	// Outside the organization: 404; a route with no organization in its path cannot say that.
	if (who === "outsider") return route.includes(":orgId") ? "404" : "403";
	if (who === "limitedStaff" && route.includes(":storeId")) return "404";
	return "403";
}

it("the matrix covers every route of /openapi.json", async () => {
	const doc = (await api.get("/openapi.json")).body;
	const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
		.filter(([path]) => path.startsWith("/api/v1"))
		.flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`));
	expect(routes.sort()).toEqual(Object.keys(MATRIX).sort());
});

describe.each(Object.keys(MATRIX).filter((r) => !DESTRUCTIVE.has(r) && r !== STREAMING && r !== SIGNS_OUT))("%s", (route) => {
	it.each(WHO)("as %s", async (who) => {
		const [method, path] = route.split(" ");
		const body = NO_SIDE_EFFECT_BODY[route] ?? (method === "GET" || method === "DELETE" ? undefined : {});
		const options = route === UPLOAD ? { raw: "not a video", headers: { "content-type": "video/mp4" } } : { body };
		const res = await api.request(method, fill(path, { orgId, storeId: storeA }), { ...options, token: tokens[who] });
		expect({ who, refused: refusedBy(res) }).toEqual({ who, refused: expectedRefusal(who, route) });
		expect(res.status).toBeLessThan(500);
	});
});

describe.each([...DESTRUCTIVE])("%s", (route) => {
	it("refuses everyone outside the matrix and lets the others delete", async () => {
		const [method, path] = route.split(" ");
		for (const who of WHO) {
			const tenant = await tenantWithEveryone();
			const token = who === "superadmin" ? tokens.superadmin : tenant.who[who];
			const res = await api.request(method, fill(path, { orgId: tenant.orgId, storeId: tenant.storeA }), { token });
			expect({ who, refused: refusedBy(res) }).toEqual({ who, refused: expectedRefusal(who, route) });
			if (!expectedRefusal(who, route)) expect(res.status).toBe(204);
		}
	});
});

describe(SIGNS_OUT, () => {
	it("lets every signed-in user sign themselves out everywhere, and no one else", async () => {
		const tenant = await tenantWithEveryone();
		const rootEmail = uniqueEmail("root-out");
		await cluster.core.call("auth.createUser", { email: rootEmail, password: "super admin passphrase", superAdmin: true });
		tenant.who.superadmin = (await api.post("/api/v1/auth/login", { email: rootEmail, password: "super admin passphrase" })).body.accessToken;
		for (const who of WHO) {
			const res = await api.post("/api/v1/auth/logout-all", {}, { token: tenant.who[who] });
			expect({ who, refused: refusedBy(res) }).toEqual({ who, refused: expectedRefusal(who, SIGNS_OUT) });
			if (expectedRefusal(who, SIGNS_OUT)) continue;
			expect(res.status).toBe(204);
			// The access token used for it is refused from now on.
			expect((await api.get("/api/v1/auth/me", { token: tenant.who[who] })).status).toBe(401);
		}
	});
});

describe(STREAMING, () => {
	it.each(WHO)("as %s", async (who) => {
		const abort = new AbortController();
		const headers: Record<string, string> = tokens[who] ? { authorization: `Bearer ${tokens[who]}` } : {};
		const res = await fetch(`${cluster.url}/api/v1/alerts/stream`, { headers, signal: abort.signal });
		const body = res.headers.get("content-type")?.includes("json") ? await res.json() : null;
		abort.abort();
		expect({ who, refused: refusedBy({ status: res.status, body, headers: res.headers }) }).toEqual({ who, refused: expectedRefusal(who, STREAMING) });
	});
});

describe("tenant isolation", () => {
	it("a store of another organization is 404 even when addressed through your own organization", async () => {
		const other = await tenantWithEveryone();
		const res = await api.get(`/api/v1/orgs/${orgId}/stores/${other.storeA}/cameras`, { token: tokens.owner });
		expect(res.status).toBe(404);
		const write = await api.post(`/api/v1/orgs/${orgId}/stores/${other.storeA}/cameras`, { name: "Sneaky" }, { token: tokens.owner });
		expect(write.status).toBe(404);
	});

	it("staff limited to store B see only store B in the store list", async () => {
		const list = await api.get(`/api/v1/orgs/${orgId}/stores`, { token: tokens.limitedStaff });
		expect(list.body.items.map((s: { id: string }) => s.id)).toEqual([storeB]);
	});

	it("a body field cannot redirect a request to another tenant (path parameters win)", async () => {
		const other = await tenantWithEveryone();
		const res = await api.post(`/api/v1/orgs/${orgId}/stores`, { name: "Mine", orgId: other.orgId }, { token: tokens.owner });
		expect(res.status).toBe(201);
		expect(res.body.orgId).toBe(orgId);
	});

	it("a malformed id is a 404, not a 500", async () => {
		const res = await api.get("/api/v1/orgs/not-a-uuid/stores", { token: tokens.owner });
		expect(res.status).toBe(404);
	});
});
