import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import { startKubeSim, type KubeSim } from "@/lib/kube-sim";
import { setupTestDatabase } from "@/lib/testing/database";
import { registerCluster } from "@/lib/clusters/register-cluster";
import { issueSyncToken } from "@/lib/demo/connect-cluster";
import { syncCluster } from "./sync-cluster";

process.env.KEYWARD_SECRET_KEY = randomBytes(32).toString("base64");
const db = setupTestDatabase();
let sim: KubeSim;
let admin: CoreV1Api;

beforeAll(async () => {
  sim = await startKubeSim({ port: 0, demo: true });
  const kc = new KubeConfig();
  kc.loadFromString(sim.adminKubeconfig());
  admin = kc.makeApiClient(CoreV1Api);
});
afterAll(async () => {
  await sim?.stop();
});

async function liveServiceAccounts(): Promise<string[]> {
  const list = await admin.listServiceAccountForAllNamespaces();
  return list.items.map((sa) => `${sa.metadata!.namespace}/${sa.metadata!.name}`).sort();
}

async function syncedServiceAccounts(clusterId: string): Promise<string[]> {
  const rows = await db.prisma.identity.findMany({ where: { clusterId, kind: "ServiceAccount", deletedAt: null }, select: { namespace: true, name: true } });
  return rows.map((r) => `${r.namespace}/${r.name}`).sort();
}

describe("cluster sync (simulator → client-node → Postgres)", () => {
  let clusterId: string;

  it("syncs every service account with only the read-only identity from deploy/", async () => {
    const kc = new KubeConfig();
    kc.loadFromString(sim.adminKubeconfig());
    const token = await issueSyncToken(kc, 3600);
    ({ id: clusterId } = await registerCluster({ name: "sim", apiServerUrl: sim.url, caCertPem: sim.caPem, sync: { type: "token", token } }));
    const outcome = await syncCluster(clusterId, "manual");
    expect(outcome).toMatchObject({ ok: true });
    const live = await liveServiceAccounts();
    expect(live.length).toBeGreaterThan(20);
    expect(await syncedServiceAccounts(clusterId)).toEqual(live);
    const run = await db.prisma.syncRun.findUniqueOrThrow({ where: { id: outcome.syncRunId } });
    expect(run).toMatchObject({ status: "succeeded", counts: { serviceaccounts: live.length } });
  });

  it("the read-only identity really cannot write", async () => {
    const kc = new KubeConfig();
    kc.loadFromString(sim.adminKubeconfig());
    const token = await issueSyncToken(kc, 3600);
    const asSync = new KubeConfig();
    asSync.loadFromOptions({
      clusters: [{ name: "c", server: sim.url, caData: Buffer.from(sim.caPem).toString("base64") }],
      users: [{ name: "u", token }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
    await expect(
      asSync.makeApiClient(CoreV1Api).createNamespacedServiceAccount({ namespace: "default", body: { metadata: { name: "nope" } } }),
    ).rejects.toMatchObject({ code: 403 });
    await expect(
      asSync.makeApiClient(RbacAuthorizationV1Api).deleteClusterRoleBinding({ name: "keyward-sync" }),
    ).rejects.toMatchObject({ code: 403 });
  });

  it("marks deleted service accounts as deleted and keeps their history", async () => {
    const before = await db.prisma.identity.findFirstOrThrow({ where: { clusterId, namespace: "kube-system", name: "default" } });
    await admin.createNamespacedServiceAccount({ namespace: "default", body: { metadata: { name: "short-lived-bot" } } });
    expect(await syncCluster(clusterId, "manual")).toMatchObject({ ok: true });
    expect(await syncedServiceAccounts(clusterId)).toContain("default/short-lived-bot");

    await admin.deleteNamespacedServiceAccount({ namespace: "default", name: "short-lived-bot" });
    expect(await syncCluster(clusterId, "manual")).toMatchObject({ ok: true });
    expect(await syncedServiceAccounts(clusterId)).toEqual(await liveServiceAccounts());
    const gone = await db.prisma.identity.findFirstOrThrow({ where: { clusterId, namespace: "default", name: "short-lived-bot" } });
    expect(gone.deletedAt).not.toBeNull();
    expect(gone.firstSeenAt.getTime()).toBeLessThan(gone.deletedAt!.getTime());

    const after = await db.prisma.identity.findFirstOrThrow({ where: { clusterId, namespace: "kube-system", name: "default" } });
    expect(after.firstSeenAt).toEqual(before.firstSeenAt);
    expect(after.lastSeenAt.getTime()).toBeGreaterThan(before.lastSeenAt.getTime());
  });

  it("records a forbidden sync as failed and leaves the last good snapshot intact", async () => {
    const snapshot = await syncedServiceAccounts(clusterId);
    await registerCluster({ name: "sim", apiServerUrl: sim.url, caCertPem: sim.caPem, sync: { type: "token", token: sim.tokenFor({ username: "nobody-in-particular" }) } });
    const outcome = await syncCluster(clusterId, "manual");
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error).toMatch(/403.*forbidden/i);
    const run = await db.prisma.syncRun.findUniqueOrThrow({ where: { id: outcome.syncRunId } });
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/cannot list resource/);
    expect(await syncedServiceAccounts(clusterId)).toEqual(snapshot);
    expect(await db.prisma.cluster.findUniqueOrThrow({ where: { id: clusterId } })).toMatchObject({ status: "error" });
  });
});
