import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeConfig } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import { startKubeSim, type KubeSim } from "@/lib/kube-sim";
import { setupTestDatabase } from "@/lib/testing/database";
import { eventually } from "@/lib/testing/eventually";
import { registerCluster } from "@/lib/clusters/register-cluster";
import { issueSyncToken } from "@/lib/demo/connect-cluster";
import { startClusterWatch, type ClusterWatch } from "./watcher";

process.env.KEYWARD_SECRET_KEY = randomBytes(32).toString("base64");
const db = setupTestDatabase();
let sim: KubeSim;
let clusterId: string;
let watch: ClusterWatch | undefined;
const log: string[] = [];

beforeAll(async () => {
  sim = await startKubeSim({ port: 0 });
  const admin = new KubeConfig();
  admin.loadFromString(sim.adminKubeconfig());
  const token = await issueSyncToken(admin, 3600);
  ({ id: clusterId } = await registerCluster({
    name: "watched",
    apiServerUrl: sim.url,
    caCertPem: sim.caPem,
    sync: { type: "token", token },
  }));
  // Short server-side timeouts, so that watches are re-opened (and meet injected faults) within the test.
  watch = await startClusterWatch(clusterId, {
    watchTimeoutSeconds: 1,
    flushIntervalMs: 50,
    analysisDebounceMs: 300,
    log: (m) => log.push(m),
  });
});
afterAll(async () => {
  await watch?.stop();
  await sim?.stop();
});

const serviceAccount = (name: string) => ({
  apiVersion: "v1",
  kind: "ServiceAccount",
  metadata: { namespace: "default", name },
});
const findServiceAccount = (name: string) => () =>
  db.prisma.identity.findFirst({ where: { clusterId, kind: "ServiceAccount", namespace: "default", name } });
const watchRelists = () =>
  db.prisma.syncRun.count({ where: { clusterId, trigger: "watch", status: "succeeded" } });

describe("watching a cluster after the full sync", () => {
  it("applies additions, changes and deletions within seconds", async () => {
    expect(await watchRelists()).toBe(1);
    sim.apply(serviceAccount("watched-bot"));
    sim.apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { namespace: "default", name: "ci" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
      subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "ci-deployer" }],
    });
    const added = await eventually(
      findServiceAccount("watched-bot"),
      (row) => row !== null && row.deletedAt === null,
    );
    expect(added).toMatchObject({ username: "system:serviceaccount:default:watched-bot", deletedAt: null });
    const ciUser = await eventually(
      () =>
        db.prisma.identity.findFirst({
          where: { clusterId, kind: "User", name: "ci-deployer", deletedAt: null },
        }),
      (row) => row !== null,
    );
    expect(ciUser).not.toBeNull();
    expect(
      await db.prisma.rbacBinding.findFirst({
        where: { clusterId, namespace: "default", name: "ci", deletedAt: null },
      }),
    ).toMatchObject({ roleRefName: "edit" });

    sim.apply({
      ...serviceAccount("watched-bot"),
      metadata: {
        ...serviceAccount("watched-bot").metadata,
        annotations: { "keyward.io/owner": "payments" },
      },
    });
    const changed = await eventually(findServiceAccount("watched-bot"), (row) =>
      JSON.stringify(row?.annotations).includes("payments"),
    );
    expect(changed?.annotations).toEqual({ "keyward.io/owner": "payments" });

    sim.delete({ apiVersion: "v1", kind: "ServiceAccount", namespace: "default", name: "watched-bot" });
    sim.delete({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      namespace: "default",
      name: "ci",
    });
    const deleted = await eventually(findServiceAccount("watched-bot"), (row) => row?.deletedAt !== null);
    expect(deleted?.deletedAt).not.toBeNull();
    expect(deleted?.firstSeenAt).toEqual(added?.firstSeenAt);
    const ciGone = await eventually(
      () => db.prisma.identity.findFirstOrThrow({ where: { clusterId, kind: "User", name: "ci-deployer" } }),
      (row) => row.deletedAt !== null,
    );
    expect(ciGone.deletedAt).not.toBeNull();
  });

  it("re-analyses shortly after changes: a new cluster-admin grant becomes a critical finding", async () => {
    sim.apply(serviceAccount("escalated-bot"));
    sim.apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "escalated-bot-admin" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
      subjects: [{ kind: "ServiceAccount", name: "escalated-bot", namespace: "default" }],
    });
    const finding = await eventually(
      () =>
        db.prisma.finding.findFirst({
          where: { clusterId, type: "cluster-admin", resolvedAt: null, identity: { name: "escalated-bot" } },
        }),
      (row) => row !== null,
      15_000,
    );
    expect(finding).toMatchObject({ severity: "critical" });
  });

  it("relists (full sync) when the server forgot the watched resourceVersion (410 Gone)", async () => {
    const before = await watchRelists();
    sim.faults.expireWatches();
    await eventually(watchRelists, (n) => n > before);
    expect(await watchRelists()).toBeGreaterThan(before);
    sim.apply(serviceAccount("after-relist"));
    expect(await eventually(findServiceAccount("after-relist"), (row) => row !== null)).not.toBeNull();
  });

  it("reconnects after dropped connections, 429s and 500s, and keeps up", async () => {
    const relists = await watchRelists();
    sim.faults.set({
      dropConnections: { count: 4 },
      tooManyRequests: { count: 3, retryAfterSeconds: 1 },
      serverErrors: { count: 3 },
    });
    // Watches time out every second and re-open into the faults until they are used up.
    await eventually(
      async () => sim.faults.current(),
      (f) => f.dropConnections?.count === 0 && f.tooManyRequests?.count === 0 && f.serverErrors?.count === 0,
    );
    expect(sim.faults.current()).toMatchObject({
      dropConnections: { count: 0 },
      tooManyRequests: { count: 0 },
      serverErrors: { count: 0 },
    });
    sim.apply(serviceAccount("after-faults"));
    expect(await eventually(findServiceAccount("after-faults"), (row) => row !== null)).not.toBeNull();
    expect(log.some((m) => /connection was lost|closed before|socket hang up|ECONNRESET/.test(m))).toBe(true);
    // Faults on re-watch are retried from the last resourceVersion, not by relisting.
    expect(await watchRelists()).toBe(relists);
  });
});
