// The usage API: lastUsedAt on identities and credentials, GET /identities/{id}/usage and /least-privilege, on a
// real database with rollup rows as ingestion writes them.
import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { setupTestDatabase } from "@/lib/testing/database";
import { createApiToken } from "@/lib/auth/api-tokens";
import type { SessionUser } from "@/lib/auth/users";
import * as identitiesRoute from "@/app/api/v1/identities/route";
import * as identityRoute from "@/app/api/v1/identities/[id]/route";
import * as usageRoute from "@/app/api/v1/identities/[id]/usage/route";
import * as leastPrivilegeApiRoute from "@/app/api/v1/identities/[id]/least-privilege/route";
import * as openApiRoute from "@/app/api/v1/openapi.json/route";
import { identityUsageEndpoint, leastPrivilegeEndpoint, leastPrivilegeRoute } from "./identities";
import { handleApiRequest } from "./route";
import { identityDetailResponseSchema, identityListResponseSchema, identityUsageResponseSchema, leastPrivilegeResponseSchema } from "./openapi";

process.env.KEYWARD_SECRET_KEY = randomBytes(32).toString("base64");
const database = setupTestDatabase();
const owner: SessionUser = { id: "u-owner", email: "owner@example.test", name: "Owner", role: "owner" };
let readToken = "";
const DAY = 86_400_000;
const today = new Date(new Date().toISOString().slice(0, 10) + "T00:00:00Z");
const daysAgo = (days: number, hours = 0) => new Date(today.getTime() - days * DAY + hours * 3_600_000);

type Handler = (request: Request, context?: { params: Promise<Record<string, string>> }) => Promise<Response>;

async function get(handler: Handler, path: string, id: string) {
  const response = await handler(new Request(`http://keyward.test/api/v1${path}`, { headers: { authorization: `Bearer ${readToken}` } }), {
    params: Promise.resolve({ id }),
  });
  return response;
}

async function asOwner(def: Parameters<typeof handleApiRequest>[0], path: string, id: string) {
  return handleApiRequest(def, new Request(`http://keyward.test/api/v1${path}`), { params: Promise.resolve({ id }) }, async () => owner);
}

beforeAll(async () => {
  const db = database.prisma;
  const admin = await db.user.create({ data: { email: "admin@example.test", name: "Admin", role: "admin" } });
  await db.user.create({ data: { id: owner.id, email: owner.email, name: owner.name, role: "owner" } });
  await db.team.create({ data: { id: "t-pay", name: "Payments", slug: "payments", members: { create: { userId: owner.id } } } });
  readToken = (await createApiToken(db, { name: "grafana", scope: "read", expiresAt: new Date(Date.now() + 30 * DAY), createdById: admin.id })).token;

  await db.cluster.create({ data: { id: "c-prod", name: "prod", apiServerUrl: "https://prod.example:6443", usageObservedSince: daysAgo(120) } });
  const sa = (name: string, namespace: string, extra: object = {}) => ({
    id: `i-${name}`,
    clusterId: "c-prod",
    kind: "ServiceAccount" as const,
    namespace,
    name,
    username: `system:serviceaccount:${namespace}:${name}`,
    ...extra,
  });
  await db.identity.createMany({
    data: [
      sa("checkout", "payments", { ownerTeamId: "t-pay", ownerSource: "annotation", lastUsedAt: daysAgo(1, 2) }),
      sa("refunds", "payments", { ownerTeamId: "t-pay", ownerSource: "annotation", lastUsedAt: daysAgo(200) }),
      sa("kube-state-metrics", "monitoring", { lastUsedAt: daysAgo(2) }),
      sa("never", "monitoring"),
    ],
  });
  await db.credential.create({
    data: { id: "cr-checkout", clusterId: "c-prod", identityId: "i-checkout", kind: "legacyTokenSecret", namespace: "payments", name: "checkout-token", lastUsedAt: daysAgo(1, 2) },
  });
  await db.credentialUsage.create({
    data: { clusterId: "c-prod", credentialRef: "JTI=abc", identityId: "i-checkout", credentialId: "cr-checkout", count: 8, firstSeenAt: daysAgo(30), lastSeenAt: daysAgo(1, 2) },
  });
  await db.rbacRole.create({
    data: {
      clusterId: "c-prod",
      kind: "Role",
      namespace: "payments",
      name: "checkout",
      rules: [
        { apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] },
        { apiGroups: [""], resources: ["secrets"], verbs: ["get"] },
      ],
    },
  });
  await db.rbacBinding.create({
    data: { clusterId: "c-prod", kind: "RoleBinding", namespace: "payments", name: "checkout", roleRefKind: "Role", roleRefName: "checkout", subjects: [{ kind: "ServiceAccount", name: "checkout", namespace: "payments" }] },
  });
  const rollup = (day: number, verb: string, count: number, extra: object = {}) => ({
    clusterId: "c-prod",
    identityId: "i-checkout",
    day: daysAgo(day),
    verb,
    resource: "pods",
    namespace: "payments",
    count,
    firstSeenAt: daysAgo(day, 1),
    lastSeenAt: daysAgo(day, 2),
    userAgents: ["checkout/v1.2.0 (linux/amd64) kubernetes/abc"],
    sourceIps: ["10.244.1.7"],
    ...extra,
  });
  await db.usageRollup.createMany({
    data: [
      rollup(1, "get", 5, { resourceNames: ["web-1"] }),
      rollup(20, "list", 3, { resourceNamesComplete: false, userAgents: ["kubectl/v1.31.0 (darwin/arm64) kubernetes/abc"] }),
      rollup(2, "get", 2, { resource: "secrets", deniedCount: 2, resourceNames: ["db"] }),
      // Outside a 7-day window, inside the 90-day default.
      rollup(40, "watch", 1),
    ],
  });
});

describe("lastUsedAt", () => {
  it("is on identities and their credentials, in the list and the detail", async () => {
    const list = identityListResponseSchema.parse(await (await get(identitiesRoute.GET, "/identities?cluster=prod", "")).json());
    const checkout = list.items.find((item) => item.id === "i-checkout");
    expect(checkout).toMatchObject({ lastUsedAt: daysAgo(1, 2).toISOString(), credentials: [{ name: "checkout-token", lastUsedAt: daysAgo(1, 2).toISOString() }] });
    expect(list.items.find((item) => item.id === "i-never")?.lastUsedAt).toBeNull();
    const detail = identityDetailResponseSchema.parse(await (await get(identityRoute.GET, "/identities/i-checkout", "i-checkout")).json());
    expect(detail.lastUsedAt).toBe(daysAgo(1, 2).toISOString());
    expect(detail.credentials[0].lastUsedAt).toBe(daysAgo(1, 2).toISOString());
  });

  it("filters identities unused for N days and sorts by last use", async () => {
    const names = async (query: string) =>
      identityListResponseSchema.parse(await (await get(identitiesRoute.GET, `/identities?${query}`, "")).json()).items.map((item) => item.name);
    // refunds: last used 200 days ago; never: no use in a cluster observed for 120 days.
    expect((await names("unusedDays=90")).sort()).toEqual(["never", "refunds"]);
    expect(await names("unusedDays=150")).toEqual(["refunds"]);
    expect(await names("sort=lastUsed&dir=desc")).toEqual(["checkout", "kube-state-metrics", "refunds", "never"]);
    expect((await get(identitiesRoute.GET, "/identities?unusedDays=0", "")).status).toBe(400);
  });
});

describe("GET /api/v1/identities/{id}/usage", () => {
  it("summarises the window with the used-vs-granted matrix, credentials and sources", async () => {
    const response = await get(usageRoute.GET, "/identities/i-checkout/usage", "i-checkout");
    expect(response.status).toBe(200);
    const usage = identityUsageResponseSchema.parse(await response.json());
    expect(usage).toMatchObject({ days: 90, totals: { requests: 11, denied: 2, activeDays: 4 }, lastUsedAt: daysAgo(1, 2).toISOString() });
    expect(usage.daily).toHaveLength(90);
    expect(usage.daily.at(-1)?.day).toBe(today.toISOString().slice(0, 10));
    expect(usage.daily.find((day) => day.day === daysAgo(2).toISOString().slice(0, 10))).toEqual({ day: daysAgo(2).toISOString().slice(0, 10), requests: 2, denied: 2 });
    expect(usage.topVerbs).toEqual([{ verb: "get", requests: 5 }, { verb: "list", requests: 3 }, { verb: "watch", requests: 1 }]);
    const cell = (key: string, verb: string) => usage.matrix.rows.find((row) => row.key === key)?.cells[verb];
    expect(cell("core/pods", "get")).toMatchObject({ used: true, requests: 5, namespaces: ["payments"] });
    expect(cell("core/pods", "list")).toMatchObject({ used: true, requests: 3 });
    // Refused every time: not a use of the grant.
    expect(cell("core/secrets", "get")).toMatchObject({ used: false, requests: 0 });
    expect(usage.credentials).toEqual([expect.objectContaining({ id: "cr-checkout", lastUsedAt: daysAgo(1, 2).toISOString(), requests: 8 })]);
    expect(usage.sources.userAgents.map((source) => source.value).sort()).toEqual(["checkout/v1.2.0 (linux/amd64) kubernetes/abc", "kubectl/v1.31.0 (darwin/arm64) kubernetes/abc"]);
    expect(usage.records).toContainEqual({ verb: "get", apiGroup: "", resource: "pods", subresource: "", namespace: "payments", path: "", resourceNames: ["web-1"], resourceNamesComplete: true, count: 5 });
  });

  it("takes a shorter window and validates it", async () => {
    const usage = identityUsageResponseSchema.parse(await (await get(usageRoute.GET, "/identities/i-checkout/usage?days=7", "i-checkout")).json());
    expect(usage.daily).toHaveLength(7);
    expect(usage.totals.requests).toBe(7);
    expect(usage.records.map((record) => record.verb)).toEqual(["get"]);
    const invalid = await get(usageRoute.GET, "/identities/i-checkout/usage?days=0", "i-checkout");
    expect(invalid.status).toBe(400);
    expect((await get(usageRoute.GET, "/identities/nope/usage", "nope")).status).toBe(404);
  });

  it("an owner reads its team's identities' usage; another team's answers as if it did not exist", async () => {
    expect((await asOwner(identityUsageEndpoint, "/identities/i-checkout/usage", "i-checkout")).status).toBe(200);
    const other = await asOwner(identityUsageEndpoint, "/identities/i-kube-state-metrics/usage", "i-kube-state-metrics");
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ error: { code: "not_found", message: "No such identity." } });
  });
});

describe("GET /api/v1/identities/{id}/least-privilege", () => {
  it("JSON: the generated role and the diff with the rules held", async () => {
    const response = await get(leastPrivilegeApiRoute.GET, "/identities/i-checkout/least-privilege", "i-checkout");
    expect(response.status).toBe(200);
    const body = leastPrivilegeResponseSchema.parse(await response.json());
    expect(body.covered).toBe(true);
    expect(body.kept.map((grant) => grant.rule.resources)).toEqual([["pods"]]);
    expect(body.removed).toEqual([
      { rule: { apiGroups: [""], resources: ["secrets"], verbs: ["get"] }, namespace: "payments", binding: { kind: "RoleBinding", namespace: "payments", name: "checkout" }, role: { kind: "Role", namespace: "payments", name: "checkout" } },
    ]);
    expect(body.role.roles.map((role) => role.metadata.namespace)).toEqual(["payments"]);
    expect(JSON.stringify(body.role.roles)).not.toContain("secrets");
  });

  it("YAML: a download of the same objects", async () => {
    const response = await get(leastPrivilegeApiRoute.GET, "/identities/i-checkout/least-privilege?format=yaml", "i-checkout");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/yaml/);
    expect(response.headers.get("content-disposition")).toMatch(/^attachment; filename="keyward-least-privilege-[a-z0-9-]+\.yaml"$/);
    const kinds = parseAllDocuments(await response.text()).map((document) => (document.toJS() as { kind: string }).kind);
    expect(kinds).toEqual(["Role", "RoleBinding"]);
    expect((await get(leastPrivilegeApiRoute.GET, "/identities/i-checkout/least-privilege?format=xml", "i-checkout")).status).toBe(400);
  });

  it("errors stay JSON, and an owner cannot read another team's identity", async () => {
    const asOwnerRoute = leastPrivilegeRoute((request, context) => handleApiRequest(leastPrivilegeEndpoint, request, context, async () => owner));
    const call = (id: string) =>
      asOwnerRoute(new Request(`http://keyward.test/api/v1/identities/${id}/least-privilege?format=yaml`), { params: Promise.resolve({ id }) });
    const denied = await call("i-kube-state-metrics");
    expect(denied.status).toBe(404);
    expect(denied.headers.get("content-type")).toMatch(/json/);
    expect((await call("i-checkout")).headers.get("content-type")).toMatch(/yaml/);
  });
});

describe("OpenAPI", () => {
  it("documents the usage endpoints, the webhook's ingest-token auth and raw uploads", async () => {
    const document = (await openApiRoute.GET().json()) as {
      paths: Record<string, Record<string, { security?: unknown; requestBody?: { content: Record<string, unknown> }; parameters: { name: string }[]; responses: Record<string, { content?: Record<string, unknown> }> }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(["/identities/{id}/usage", "/identities/{id}/least-privilege", "/clusters/{id}/audit", "/clusters/{id}/audit/imports"]),
    );
    expect(document.paths["/clusters/{id}/audit"].post.security).toEqual([{ ingestToken: [] }]);
    expect(document.components.securitySchemes).toHaveProperty("ingestToken");
    expect(Object.keys(document.paths["/clusters/{id}/audit/imports"].post.requestBody?.content ?? {})).toContain("application/gzip");
    expect(document.paths["/clusters/{id}/audit/imports"].get.parameters.map((p) => p.name)).toEqual(expect.arrayContaining(["page", "pageSize", "source"]));
    expect(Object.keys(document.paths["/identities/{id}/least-privilege"].get.responses["200"].content ?? {})).toEqual(["application/json", "application/yaml"]);
    expect(document.paths["/identities/{id}/least-privilege"].get.parameters.map((p) => p.name)).toEqual(["id", "days", "format"]);
  });
});
