import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { KubeConfig } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import { startKubeSim, type KubeSim, type RequestRecord } from "@/lib/kube-sim";
import { setupTestDatabase } from "@/lib/testing/database";
import { registerCluster } from "@/lib/clusters/register-cluster";
import { issueSyncToken } from "@/lib/demo/connect-cluster";
import { runFullSync, syncCluster } from "./sync-cluster";

process.env.KEYWARD_SECRET_KEY = randomBytes(32).toString("base64");
const db = setupTestDatabase();
let sim: KubeSim;
let clusterId: string;
const quickRetry = { attempts: 3, baseDelayMs: 20, maxDelayMs: 100 };

const serviceAccount = (namespace: string, name: string) => ({
  apiVersion: "v1",
  kind: "ServiceAccount",
  metadata: { namespace, name },
});
const pod = (name: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { namespace: "default", name },
  spec: { serviceAccountName: "default", containers: [{ name: "c", image: "busybox" }] },
});

beforeAll(async () => {
  sim = await startKubeSim({ port: 0 });
  for (let i = 0; i < 30; i++) sim.apply(serviceAccount("default", `bot-${i}`));
  // More pods than one page (500), so a sync can fail after some pages of a list were read.
  for (let i = 0; i < 700; i++) sim.apply(pod(`web-${i}`));
  await sim.settle();
  const admin = new KubeConfig();
  admin.loadFromString(sim.adminKubeconfig());
  const token = await issueSyncToken(admin, 3600);
  ({ id: clusterId } = await registerCluster({
    name: "faulty",
    apiServerUrl: sim.url,
    caCertPem: sim.caPem,
    sync: { type: "token", token },
  }));
});
afterAll(async () => {
  await sim?.stop();
});
afterEach(() => sim.faults.clear());

async function inventory() {
  const alive = { clusterId, deletedAt: null };
  const [identities, workloads, roles, bindings] = await Promise.all([
    db.prisma.identity.findMany({ where: alive, select: { kind: true, namespace: true, name: true } }),
    db.prisma.workload.count({ where: alive }),
    db.prisma.rbacRole.count({ where: alive }),
    db.prisma.rbacBinding.count({ where: alive }),
  ]);
  return {
    identities: identities.map((i) => `${i.kind}/${i.namespace}/${i.name}`).sort(),
    workloads,
    roles,
    bindings,
  };
}

describe("sync under faults", () => {
  it("ends complete and correct under 429s (Retry-After), 500s and dropped connections", async () => {
    const clean = await syncCluster(clusterId, "manual");
    expect(clean.ok).toBe(true);
    const expected = await inventory();
    expect(expected.workloads).toBe(700);

    sim.apply(serviceAccount("default", "added-under-fire"));
    let faulted = 0;
    const countFaults = (r: RequestRecord) => {
      if ([0, 429, 500].includes(r.responseStatus.code)) faulted++;
    };
    sim.on("request", countFaults);
    sim.faults.set({
      tooManyRequests: { count: 2, retryAfterSeconds: 1 },
      serverErrors: { count: 3 },
      dropConnections: { count: 3 },
    });
    const outcome = await syncCluster(clusterId, "manual");
    sim.off("request", countFaults);
    expect(outcome).toMatchObject({ ok: true });
    expect(faulted).toBe(8);
    const after = await inventory();
    expect(after.identities).toEqual(
      [...expected.identities, "ServiceAccount/default/added-under-fire"].sort(),
    );
    expect(after.identities).toContain("ServiceAccount/default/added-under-fire");
    expect({ ...after, identities: undefined }).toEqual({ ...expected, identities: undefined });
  });

  it("a sync whose lists keep failing midway records the failure, keeps the last snapshot, and the next run recovers", async () => {
    const before = await inventory();
    sim.apply(serviceAccount("default", "arrives-later"));
    sim.delete({ apiVersion: "v1", kind: "ServiceAccount", namespace: "default", name: "bot-0" });
    // After the first page of pods was served (other lists done or under way), every request fails.
    let pagesOfPods = 0;
    const breakAfterFirstPage = (r: RequestRecord) => {
      if (r.requestURI.startsWith("/api/v1/pods?") && ++pagesOfPods === 1)
        sim.faults.set({ serverErrors: { ratio: 1 } });
    };
    sim.on("request", breakAfterFirstPage);
    const failed = await runFullSync(clusterId, "schedule", { retry: quickRetry });
    sim.off("request", breakAfterFirstPage);
    expect(failed.outcome.ok).toBe(false);
    expect(pagesOfPods).toBeGreaterThanOrEqual(1);
    const run = await db.prisma.syncRun.findUniqueOrThrow({ where: { id: failed.outcome.syncRunId } });
    expect(run).toMatchObject({ status: "failed", trigger: "schedule" });
    expect(run.error).toMatch(/HTTP 500/);
    expect(run.durationMs).toBeGreaterThanOrEqual(0);
    expect(await inventory()).toEqual(before);
    expect(await db.prisma.cluster.findUniqueOrThrow({ where: { id: clusterId } })).toMatchObject({
      status: "error",
    });

    sim.faults.clear();
    expect(await syncCluster(clusterId, "manual")).toMatchObject({ ok: true });
    const recovered = await inventory();
    expect(recovered.identities).toContain("ServiceAccount/default/arrives-later");
    expect(recovered.identities).not.toContain("ServiceAccount/default/bot-0");
    expect(await db.prisma.cluster.findUniqueOrThrow({ where: { id: clusterId } })).toMatchObject({
      status: "healthy",
    });
  });

  it("a run left 'running' by a process that died is closed as interrupted by the next sync", async () => {
    const abandoned = await db.prisma.syncRun.create({
      data: { clusterId, trigger: "schedule", startedAt: new Date(Date.now() - 2 * 3600_000) },
    });
    const recent = await db.prisma.syncRun.create({ data: { clusterId, trigger: "manual" } });
    expect(await syncCluster(clusterId, "manual")).toMatchObject({ ok: true });
    expect(await db.prisma.syncRun.findUniqueOrThrow({ where: { id: abandoned.id } })).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/interrupted/),
    });
    // A run started moments ago may still be alive in another process: left alone.
    expect(await db.prisma.syncRun.findUniqueOrThrow({ where: { id: recent.id } })).toMatchObject({
      status: "running",
    });
    await db.prisma.syncRun.delete({ where: { id: recent.id } });
  });

  it("a sync that dies while writing rolls back entirely: nothing of it is visible", async () => {
    const before = await inventory();
    sim.apply(serviceAccount("default", "half-written"));
    // Postgres refuses NUL in text (real names cannot hold one; the sim does not validate): the write fails after namespaces and identities were written in the transaction.
    sim.apply(pod("bad\u0000pod"));
    const outcome = await syncCluster(clusterId, "manual");
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error).toMatch(/unsupported Unicode escape/);
    expect(await inventory()).toEqual(before);
    sim.delete({ apiVersion: "v1", kind: "Pod", namespace: "default", name: "bad\u0000pod" });
    expect(await syncCluster(clusterId, "manual")).toMatchObject({ ok: true });
    expect((await inventory()).identities).toContain("ServiceAccount/default/half-written");
  });
});
