import { ApiException, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST } from "@/app/api/v1/clusters/[id]/audit/route";
import { systemActor } from "@/lib/audit/log";
import { registerCluster } from "@/lib/clusters/register-cluster";
import { issueSyncToken } from "@/lib/demo/connect-cluster";
import { kubeConfigFor } from "@/lib/k8s/client";
import { startKubeSim, type KubeSim } from "@/lib/kube-sim";
import { syncCluster } from "@/lib/sync/sync-cluster";
import { setupTestDatabase } from "@/lib/testing/database";
import { issueIngestToken } from "./ingest-tokens";
import { generateLeastPrivilege } from "./least-privilege";
import { getIdentityUsage } from "./queries";

// The whole path with nothing faked: the simulator serves a service account's requests and, as kube-apiserver's
// webhook backend, POSTs their audit events over HTTP to Keyward's route handler, which commits them to Postgres.

process.env.KEYWARD_SECRET_KEY = randomBytes(32).toString("base64");
const database = setupTestDatabase();
const SA = "system:serviceaccount:shop:api";
let sim: KubeSim;
let keyward: Server;
let keywardUrl: string;
let clusterId: string;

/** Keyward's audit route behind a real HTTP listener (what `next start` would be). */
async function serveAuditRoute(): Promise<Server> {
  const server = createServer((req, res) => {
    const id = /^\/api\/v1\/clusters\/([^/]+)\/audit$/.exec(req.url ?? "")?.[1] ?? "";
    const request = new Request(`http://${req.headers.host}${req.url}`, {
      method: req.method,
      headers: Object.entries(req.headers).flatMap(([k, v]) => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map((x) => [k, x] as [string, string]))),
      body: Readable.toWeb(req) as ReadableStream<Uint8Array>,
      duplex: "half",
    } as RequestInit);
    void POST(request, { params: Promise.resolve({ id: decodeURIComponent(id) }) }).then(async (response) => {
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

/** The service account's own client, with a TokenRequest token (its JTI is the credential id in audit events). */
async function serviceAccountClient(): Promise<CoreV1Api> {
  const admin = new KubeConfig();
  admin.loadFromString(sim.adminKubeconfig());
  const issued = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({ name: "api", namespace: "shop", body: { spec: { audiences: [] } } });
  return kubeConfigFor({ apiServerUrl: sim.url, caCertPem: sim.caPem }, { type: "token", token: issued.status!.token! }, "shop-api").makeApiClient(CoreV1Api);
}

/** The HTTP status a call ends with (200 when it succeeds). */
async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

/** The same three requests each time: what the service account really does. */
async function usualRequests(api: CoreV1Api, newSecret: string): Promise<number[]> {
  return Promise.all([
    statusOf(api.listNamespacedPod({ namespace: "shop" })),
    statusOf(api.readNamespacedSecret({ name: "settings", namespace: "shop" })),
    statusOf(api.createNamespacedSecret({ namespace: "shop", body: { metadata: { name: newSecret }, type: "Opaque", stringData: { at: new Date().toISOString() } } })),
  ]);
}

beforeAll(async () => {
  sim = await startKubeSim();
  sim.apply({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "api", namespace: "shop" } });
  sim.apply({ apiVersion: "v1", kind: "Secret", metadata: { name: "settings", namespace: "shop" }, type: "Opaque", data: { mode: "bGl2ZQ==" } });
  sim.apply({ apiVersion: "v1", kind: "Secret", metadata: { name: "db", namespace: "shop" }, type: "Opaque", data: { password: "c2VjcmV0" } });
  // Broad access, as workloads often get: far more than it uses.
  sim.apply({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: "shop-broad" },
    rules: [{ apiGroups: [""], resources: ["pods", "secrets", "serviceaccounts"], verbs: ["get", "list", "watch", "create", "update", "patch", "delete"] }],
  });
  sim.apply({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name: "api-broad", namespace: "shop" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "shop-broad" },
    subjects: [{ kind: "ServiceAccount", name: "api", namespace: "shop" }],
  });
  keyward = await serveAuditRoute();
  keywardUrl = `http://127.0.0.1:${(keyward.address() as AddressInfo).port}`;

  const adminKc = new KubeConfig();
  adminKc.loadFromString(sim.adminKubeconfig());
  ({ id: clusterId } = await registerCluster({ name: "shop", apiServerUrl: sim.url, caCertPem: sim.caPem, sync: { type: "token", token: await issueSyncToken(adminKc, 3600) } }));
  const outcome = await syncCluster(clusterId, "registration");
  if (!outcome.ok) throw new Error(`sync failed: ${outcome.error}`);
});

afterAll(async () => {
  await sim?.stop();
  await new Promise<void>((resolve) => (keyward ? keyward.close(() => resolve()) : resolve()));
});

describe("audit webhook end to end (simulator → HTTP → route → Postgres)", () => {
  it("counts a service account's requests in its rollups and moves its last use", async () => {
    const { token } = await issueIngestToken(database.prisma, clusterId, systemActor("test"));
    sim.setAuditWebhook({ url: `${keywardUrl}/api/v1/clusters/${clusterId}/audit`, token, batchMaxWaitMs: 50, responseStartedRatio: 0.5 });
    const identity = await database.prisma.identity.findFirstOrThrow({ where: { clusterId, username: SA } });
    expect(identity.lastUsedAt).toBeNull();

    const startedAt = new Date();
    const api = await serviceAccountClient();
    expect(await usualRequests(api, "run-1")).toEqual([200, 200, 200]);
    expect(await usualRequests(api, "run-2")).toEqual([200, 200, 200]);
    await sim.flushAudit();

    const rollups = await database.prisma.usageRollup.findMany({ where: { identityId: identity.id } });
    const counts = Object.fromEntries(rollups.map((r) => [`${r.verb} ${r.resource} ${r.namespace}`, r.count]));
    expect(counts).toEqual({ "list pods shop": 2, "get secrets shop": 2, "create secrets shop": 2 });
    const lastUsedAt = (await database.prisma.identity.findUniqueOrThrow({ where: { id: identity.id } })).lastUsedAt;
    expect(lastUsedAt!.getTime()).toBeGreaterThanOrEqual(startedAt.getTime() - 1000);
    // The client authenticates with a TokenRequest token: its JTI is the credential the events name.
    const credentials = await database.prisma.credentialUsage.findMany({ where: { identityId: identity.id } });
    expect(credentials.map((c) => c.credentialRef)).toEqual([expect.stringMatching(/^JTI=/)]);
    expect(credentials[0].count).toBe(6);
    const batches = await database.prisma.auditIngestBatch.findMany({ where: { clusterId } });
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.every((b) => b.source === "webhook" && b.status === "completed" && b.rejected === 0)).toBe(true);
    // The second stage of a request is a duplicate, never a second count.
    expect(batches.reduce((sum, b) => sum + b.duplicates, 0)).toBeGreaterThan(0);
  });

  it("the role generated from that usage, applied instead of the broad binding, lets the same requests through and denies the rest", async () => {
    const db = database.prisma;
    const identity = await db.identity.findFirstOrThrow({ where: { clusterId, username: SA } });
    const usage = await getIdentityUsage(db, identity.id, { days: 7 });
    const generated = generateLeastPrivilege(
      { kind: "ServiceAccount", namespace: "shop", name: "api", username: SA, groups: ["system:serviceaccounts", "system:serviceaccounts:shop", "system:authenticated"] },
      usage.records,
    );
    expect(generated.roles.map((r) => r.metadata.namespace)).toEqual(["shop"]);

    sim.delete({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", namespace: "shop", name: "api-broad" });
    for (const object of [...generated.clusterRoles, ...generated.roles, ...generated.clusterRoleBindings, ...generated.roleBindings]) {
      sim.apply(object as unknown as Parameters<KubeSim["apply"]>[0]);
    }
    const api = await serviceAccountClient();
    expect(await usualRequests(api, "run-3")).toEqual([200, 200, 200]);
    // Granted before, never used: now denied.
    expect(await statusOf(api.readNamespacedSecret({ name: "db", namespace: "shop" }))).toBe(403);
    expect(await statusOf(api.deleteNamespacedSecret({ name: "settings", namespace: "shop" }))).toBe(403);
    expect(await statusOf(api.listNamespacedServiceAccount({ namespace: "shop" }))).toBe(403);
  });
});
