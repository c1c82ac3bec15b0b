import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { stringify } from "yaml";
import { setupTestDatabase } from "@/lib/testing/database";
import { createApiToken } from "@/lib/auth/api-tokens";
import type { SessionUser } from "@/lib/auth/users";
import * as identitiesRoute from "@/app/api/v1/identities/route";
import * as identityRoute from "@/app/api/v1/identities/[id]/route";
import * as whoCanRoute from "@/app/api/v1/who-can/route";
import * as clustersRoute from "@/app/api/v1/clusters/route";
import * as syncRunsRoute from "@/app/api/v1/clusters/[id]/sync-runs/route";
import * as openApiRoute from "@/app/api/v1/openapi.json/route";
import { listIdentitiesEndpoint, getIdentityEndpoint } from "./identities";
import { whoCanEndpoint } from "./who-can";
import { endpoint, handleApiRequest } from "./route";
import {
  clusterListResponseSchema,
  identityDetailResponseSchema,
  identityListResponseSchema,
  registeredClusterResponseSchema,
  whoCanResponseSchema,
} from "./openapi";

process.env.KEYWARD_SECRET_KEY = randomBytes(32).toString("base64");
const database = setupTestDatabase();
const tokens: Record<"read" | "write" | "expired" | "revoked", string> = { read: "", write: "", expired: "", revoked: "" };
const owner: SessionUser = { id: "u-owner", email: "owner@example.test", name: "Owner", role: "owner" };
const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

type Handler = (request: Request, context?: { params: Promise<Record<string, string>> }) => Promise<Response>;

async function call(handler: Handler, options: { path: string; method?: string; token?: string; body?: unknown; params?: Record<string, string> }) {
  const headers = new Headers();
  if (options.token !== undefined) headers.set("authorization", `Bearer ${options.token}`);
  if (options.body !== undefined) headers.set("content-type", "application/json");
  const request = new Request(`http://keyward.test/api/v1${options.path}`, {
    method: options.method ?? "GET",
    headers,
    body: options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body),
  });
  const response = await handler(request, { params: Promise.resolve(options.params ?? {}) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> & { error?: { code: string; message: string; fieldErrors?: Record<string, string[]> } } };
}

/** Calls an endpoint as a signed-in browser session of `user`, as apiRoute does with the Auth.js session. */
async function callAsSession(def: Parameters<typeof handleApiRequest>[0], user: SessionUser | null, path: string, params: Record<string, string> = {}) {
  const response = await handleApiRequest(def, new Request(`http://keyward.test/api/v1${path}`), { params: Promise.resolve(params) }, async () => user);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  const db = database.prisma;
  const admin = await db.user.create({ data: { email: "admin@example.test", name: "Admin", role: "admin" } });
  await db.user.create({ data: { id: owner.id, email: owner.email, name: owner.name, role: "owner" } });
  await db.team.create({ data: { id: "t-pay", name: "Payments", slug: "payments", members: { create: { userId: owner.id } } } });
  const inDays = (d: number) => new Date(Date.now() + d * 86400e3);
  tokens.read = (await createApiToken(db, { name: "grafana", scope: "read", expiresAt: inDays(30), createdById: admin.id })).token;
  tokens.write = (await createApiToken(db, { name: "terraform", scope: "write", expiresAt: inDays(30), createdById: admin.id })).token;
  const expired = await createApiToken(db, { name: "old", scope: "write", expiresAt: inDays(1), createdById: admin.id });
  await db.apiToken.update({ where: { id: expired.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
  tokens.expired = expired.token;
  const revoked = await createApiToken(db, { name: "leaked", scope: "write", expiresAt: inDays(1), createdById: admin.id });
  await db.apiToken.update({ where: { id: revoked.id }, data: { revokedAt: new Date() } });
  tokens.revoked = revoked.token;

  await db.cluster.create({ data: { id: "c-prod", name: "prod", apiServerUrl: "https://prod.example:6443" } });
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
      sa("checkout", "payments", { ownerTeamId: "t-pay", ownerSource: "annotation", maxSeverity: "critical", openFindingCount: 1, hasLegacyToken: true }),
      sa("refunds", "payments", { ownerTeamId: "t-pay", ownerSource: "namespaceRule" }),
      sa("kube-state-metrics", "monitoring", { maxSeverity: "low", openFindingCount: 1 }),
    ],
  });
  await db.credential.create({ data: { clusterId: "c-prod", identityId: "i-checkout", kind: "legacyTokenSecret", namespace: "payments", name: "checkout-token", issuedAt: new Date("2025-01-01T00:00:00Z") } });
  await db.finding.createMany({
    data: [
      { clusterId: "c-prod", identityId: "i-checkout", type: "cluster-admin", severity: "critical", title: "Bound to cluster-admin", owasp: ["NHI5"], csf: ["PR.AA-05"], fingerprint: "f1" },
      { clusterId: "c-prod", identityId: "i-kube-state-metrics", type: "no-owner", severity: "low", title: "No owner", owasp: ["NHI1"], csf: ["ID.AM-01"], fingerprint: "f2" },
    ],
  });
  await db.rbacRole.createMany({
    data: [
      { clusterId: "c-prod", kind: "ClusterRole", name: "cluster-admin", rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }, { nonResourceURLs: ["*"], verbs: ["*"] }] },
      { clusterId: "c-prod", kind: "ClusterRole", name: "ksm", rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["list", "watch"] }] },
    ],
  });
  await db.rbacBinding.createMany({
    data: [
      { clusterId: "c-prod", kind: "ClusterRoleBinding", name: "checkout-admin", roleRefKind: "ClusterRole", roleRefName: "cluster-admin", subjects: [{ kind: "ServiceAccount", name: "checkout", namespace: "payments" }] },
      { clusterId: "c-prod", kind: "ClusterRoleBinding", name: "ksm", roleRefKind: "ClusterRole", roleRefName: "ksm", subjects: [{ kind: "ServiceAccount", name: "kube-state-metrics", namespace: "monitoring" }] },
    ],
  });
});

describe("authentication and scope", () => {
  it("answers 401 with a Bearer challenge for a missing, malformed, unknown, expired or revoked token", async () => {
    const anonymous = await callAsSession(listIdentitiesEndpoint, null, "/identities");
    expect(anonymous).toMatchObject({ status: 401, body: { error: { code: "unauthenticated" } } });
    for (const [token, message] of [
      ["kw_unknown", /not valid/],
      [tokens.expired, /expired/],
      [tokens.revoked, /revoked/],
    ] as const) {
      const response = await call(identitiesRoute.GET, { path: "/identities", token });
      expect(response.status).toBe(401);
      expect(response.body.error).toMatchObject({ code: "unauthenticated", message: expect.stringMatching(message) });
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
    const basic = await identitiesRoute.GET(new Request("http://keyward.test/api/v1/identities", { headers: { authorization: "Basic YTpi" } }));
    expect(basic.status).toBe(401);
  });

  it("a read token cannot register a cluster: 403, nothing changes, and the refusal is audited", async () => {
    const before = await database.prisma.cluster.count();
    const response = await call(clustersRoute.POST, {
      path: "/clusters",
      method: "POST",
      token: tokens.read,
      body: { name: "sneaky", apiServerUrl: "https://x.example", caCertPem: null, sync: { type: "token", token: "t" } },
    });
    expect(response).toMatchObject({ status: 403, body: { error: { code: "forbidden", message: expect.stringMatching(/read scope/) } } });
    expect(await database.prisma.cluster.count()).toBe(before);
    const audit = await database.prisma.auditLogEntry.findFirst({ where: { action: "cluster.register" }, orderBy: { seq: "desc" } });
    expect(audit).toMatchObject({ actorType: "apiToken", actorLabel: "grafana", outcome: "denied" });
  });

  it("never leaks an internal error", async () => {
    const failing = endpoint({
      name: "test.fail",
      permission: "inventory:read",
      async handler() {
        throw new Error('relation "ClusterCredential" at 10.1.2.3 does not exist');
      },
    });
    const response = await callAsSession(failing, owner, "/fail");
    expect(response.status).toBe(500);
    expect(response.body).toEqual({ error: { code: "internal", message: expect.any(String) } });
    expect(JSON.stringify(response.body)).not.toMatch(/ClusterCredential|10\.1\.2\.3/);
  });
});

describe("GET /api/v1/identities", () => {
  it("lists identities with owner, credentials and findings in the documented shape", async () => {
    const response = await call(identitiesRoute.GET, { path: "/identities", token: tokens.read });
    expect(response.status).toBe(200);
    const body = identityListResponseSchema.parse(response.body);
    expect(body.items.map((i) => i.name)).toEqual(["checkout", "kube-state-metrics", "refunds"]);
    expect(body.items[0]).toMatchObject({
      cluster: "prod",
      kind: "ServiceAccount",
      namespace: "payments",
      username: "system:serviceaccount:payments:checkout",
      owner: { team: { slug: "payments" }, source: "annotation" },
      credentials: [{ kind: "legacyTokenSecret", name: "checkout-token", issuedAt: "2025-01-01T00:00:00.000Z" }],
      findings: [{ type: "cluster-admin", severity: "critical", owasp: ["NHI5"], csf: ["PR.AA-05"] }],
    });
    expect(body.nextCursor).toBeNull();
  });

  it("filters, pages with a cursor, and rejects invalid filters with field errors", async () => {
    const critical = await call(identitiesRoute.GET, { path: "/identities?severity=critical&cluster=prod&namespace=", token: tokens.read });
    expect((critical.body.items as { name: string }[]).map((i) => i.name)).toEqual(["checkout"]);
    const searched = await call(identitiesRoute.GET, { path: "/identities?q=metrics", token: tokens.read });
    expect((searched.body.items as { name: string }[]).map((i) => i.name)).toEqual(["kube-state-metrics"]);

    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof call>> = await call(identitiesRoute.GET, { path: `/identities?limit=2${cursor ? `&cursor=${cursor}` : ""}`, token: tokens.read });
      const parsed = identityListResponseSchema.parse(page.body);
      names.push(...parsed.items.map((i) => i.name));
      cursor = parsed.nextCursor;
    } while (cursor);
    expect(names).toEqual(["checkout", "kube-state-metrics", "refunds"]);

    const invalid = await call(identitiesRoute.GET, { path: "/identities?kind=Robot&limit=0", token: tokens.read });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toMatchObject({ code: "invalid_request", fieldErrors: { kind: [expect.any(String)], limit: [expect.any(String)] } });
    const badCursor = await call(identitiesRoute.GET, { path: "/identities?cursor=%25%25", token: tokens.read });
    expect(badCursor).toMatchObject({ status: 400, body: { error: { fieldErrors: { cursor: [expect.any(String)] } } } });
  });

  it("an owner's session sees only the identities its teams own", async () => {
    const response = await callAsSession(listIdentitiesEndpoint, owner, "/identities");
    expect(response.status).toBe(200);
    expect(identityListResponseSchema.parse(response.body).items.map((i) => i.name)).toEqual(["checkout", "refunds"]);
    expect((await callAsSession(getIdentityEndpoint, owner, "/identities/i-kube-state-metrics", { id: "i-kube-state-metrics" })).status).toBe(404);
    expect((await callAsSession(whoCanEndpoint, owner, "/who-can?verb=get&resource=pods")).status).toBe(403);
  });
});

describe("GET /api/v1/identities/{id}", () => {
  it("returns effective permissions with provenance, credentials and findings", async () => {
    const response = await call(identityRoute.GET, { path: "/identities/i-checkout", token: tokens.read, params: { id: "i-checkout" } });
    expect(response.status).toBe(200);
    const body = identityDetailResponseSchema.parse(response.body);
    expect(body.permissions.rules).toContainEqual({
      rule: { apiGroups: ["*"], resources: ["*"], verbs: ["*"] },
      namespace: null,
      binding: { kind: "ClusterRoleBinding", name: "checkout-admin" },
      role: { kind: "ClusterRole", name: "cluster-admin" },
    });
    expect(body.findings).toEqual([expect.objectContaining({ type: "cluster-admin", state: "open" })]);
    expect(body.credentials).toEqual([expect.objectContaining({ name: "checkout-token" })]);
    expect((await call(identityRoute.GET, { path: "/identities/nope", token: tokens.read, params: { id: "nope" } })).body).toEqual({
      error: { code: "not_found", message: "No such identity." },
    });
  });
});

describe("GET /api/v1/who-can", () => {
  it("answers from the synced RBAC rows, cluster-wide when no namespace is given", async () => {
    const response = await call(whoCanRoute.GET, { path: "/who-can?verb=delete&resource=pods", token: tokens.read });
    const { subjects } = whoCanResponseSchema.parse(response.body);
    expect(subjects.map((s) => s.username)).toEqual(["system:serviceaccount:payments:checkout"]);
    expect(subjects[0]).toMatchObject({ kind: "ServiceAccount", identityId: "i-checkout", cluster: "prod", via: [{ binding: { name: "checkout-admin" }, role: { name: "cluster-admin" } }] });
    const list = await call(whoCanRoute.GET, { path: "/who-can?verb=list&resource=pods&namespace=monitoring&cluster=prod", token: tokens.read });
    expect(whoCanResponseSchema.parse(list.body).subjects.map((s) => s.name).sort()).toEqual(["checkout", "kube-state-metrics"]);
    const missing = await call(whoCanRoute.GET, { path: "/who-can?resource=pods", token: tokens.read });
    expect(missing).toMatchObject({ status: 400, body: { error: { fieldErrors: { verb: [expect.any(String)] } } } });
    expect((await call(whoCanRoute.GET, { path: "/who-can?verb=get&resource=pods&cluster=nowhere", token: tokens.read })).status).toBe(404);
  });
});

describe("clusters", () => {
  it("registers with a write token, never echoes credentials, audits with the token's name, and refuses duplicates", async () => {
    const secretToken = `sync-secret-${randomBytes(8).toString("hex")}`;
    const body = { name: "staging", apiServerUrl: "https://staging.example:6443", caCertPem: CA, sync: { type: "token", token: secretToken } };
    const created = await call(clustersRoute.POST, { path: "/clusters", method: "POST", token: tokens.write, body });
    expect(created.status).toBe(201);
    expect(registeredClusterResponseSchema.parse(created.body)).toMatchObject({ name: "staging", credentials: [{ purpose: "sync", authType: "token" }] });
    expect(JSON.stringify(created.body)).not.toContain(secretToken);
    const audit = await database.prisma.auditLogEntry.findFirst({ where: { action: "cluster.register" }, orderBy: { seq: "desc" } });
    expect(audit).toMatchObject({ actorType: "apiToken", actorLabel: "terraform", outcome: "success", targetId: "staging" });

    const listed = await call(clustersRoute.GET, { path: "/clusters", token: tokens.read });
    const clusters = clusterListResponseSchema.parse(listed.body).items;
    expect(clusters.map((c) => c.name)).toEqual(["prod", "staging"]);
    expect(JSON.stringify(listed.body)).not.toMatch(new RegExp(`${secretToken}|secretCiphertext`));

    const duplicate = await call(clustersRoute.POST, { path: "/clusters", method: "POST", token: tokens.write, body });
    expect(duplicate).toMatchObject({ status: 409, body: { error: { code: "conflict" } } });
  });

  it("validates the registration: field errors, bad JSON, unusable kubeconfigs", async () => {
    const invalid = await call(clustersRoute.POST, {
      path: "/clusters",
      method: "POST",
      token: tokens.write,
      body: { name: "Bad Name", apiServerUrl: "http://plain.example", caCertPem: null, sync: { type: "token", token: "" } },
    });
    expect(invalid.status).toBe(400);
    expect(Object.keys(invalid.body.error?.fieldErrors ?? {}).sort()).toEqual(["apiServerUrl", "name", "sync.token"]);
    const badJson = await call(clustersRoute.POST, { path: "/clusters", method: "POST", token: tokens.write, body: "{not json" });
    expect(badJson).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/JSON/) } } });
    const execKubeconfig = stringify({
      clusters: [{ name: "eks", cluster: { server: "https://eks.example" } }],
      users: [{ name: "aws", user: { exec: { command: "aws" } } }],
      contexts: [{ name: "eks", context: { cluster: "eks", user: "aws" } }],
      "current-context": "eks",
    });
    const unusable = await call(clustersRoute.POST, { path: "/clusters", method: "POST", token: tokens.write, body: { name: "eks", kubeconfig: execKubeconfig } });
    expect(unusable).toMatchObject({ status: 422, body: { error: { code: "unprocessable", message: expect.stringMatching(/exec plugin/) } } });
    expect(await database.prisma.cluster.findUnique({ where: { name: "eks" } })).toBeNull();
  });

  it("sync history: 404 for an unknown cluster, a list for a known one", async () => {
    expect((await call(syncRunsRoute.GET, { path: "/clusters/nope/sync-runs", token: tokens.read, params: { id: "nope" } })).status).toBe(404);
    const runs = await call(syncRunsRoute.GET, { path: "/clusters/c-prod/sync-runs?limit=5", token: tokens.read, params: { id: "c-prod" } });
    expect(runs).toMatchObject({ status: 200, body: { items: [] } });
  });
});

describe("GET /api/v1/openapi.json", () => {
  it("describes every route, its parameters and error shape", async () => {
    const document = z
      .object({ openapi: z.literal("3.1.0"), paths: z.record(z.string(), z.record(z.string(), z.object({ parameters: z.array(z.object({ name: z.string() })) }).loose())) })
      .loose()
      .parse(await openApiRoute.GET().json());
    expect(Object.keys(document.paths).sort()).toEqual([
      "/campaigns",
      "/campaigns/{id}",
      "/campaigns/{id}/cancel",
      "/campaigns/{id}/close",
      "/campaigns/{id}/export.csv",
      "/campaigns/{id}/items",
      "/campaigns/{id}/items/bulk-approve",
      "/campaigns/{id}/items/{itemId}",
      "/campaigns/{id}/items/{itemId}/apply",
      "/campaigns/{id}/items/{itemId}/decision",
      "/campaigns/{id}/items/{itemId}/preview",
      "/campaigns/{id}/launch",
      "/campaigns/{id}/schedule/stop",
      "/changes/{id}/rollback",
      "/clusters",
      "/clusters/{id}/audit",
      "/clusters/{id}/audit/imports",
      "/clusters/{id}/settings",
      "/clusters/{id}/sync",
      "/clusters/{id}/sync-runs",
      "/clusters/{id}/test",
      "/exports/findings.csv",
      "/exports/inventory.csv",
      "/identities",
      "/identities/{id}",
      "/identities/{id}/least-privilege",
      "/identities/{id}/usage",
      "/who-can",
    ]);
    expect(document.paths["/identities"].get.parameters.map((p) => p.name)).toEqual(expect.arrayContaining(["cluster", "namespace", "kind", "severity", "q", "cursor", "limit"]));
    expect(document.paths["/who-can"].get.parameters.map((p) => p.name)).toEqual(expect.arrayContaining(["verb", "group", "resource", "subresource", "namespace"]));
    expect(document.paths["/campaigns/{id}/items/{itemId}/decision"].post.parameters.map((p) => p.name)).toEqual(["id", "itemId"]);
    const decisionBody = z
      .object({ requestBody: z.object({ content: z.object({ "application/json": z.object({ schema: z.object({ properties: z.record(z.string(), z.unknown()), required: z.array(z.string()) }) }) }) }) })
      .parse(document.paths["/campaigns/{id}/items/{itemId}/decision"].post).requestBody.content["application/json"].schema;
    expect(Object.keys(decisionBody.properties)).toEqual(expect.arrayContaining(["decision", "comment", "apply", "expectedVersion", "grants", "deleteServiceAccount"]));
    expect(decisionBody.required).toEqual(["decision"]);
    expect(document.paths["/campaigns/{id}/items"].get.parameters.map((p) => p.name)).toEqual(["id", "cursor", "limit"]);
    expect(document.paths["/exports/inventory.csv"].get).toMatchObject({ parameters: [{ name: "cluster" }], responses: { "200": { content: { "text/csv": expect.anything() } } } });
  });
});
