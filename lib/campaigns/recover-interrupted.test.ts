// An apply whose process dies mid-way, against the simulator and a real Postgres: the change set and item stay
// `applying` until the campaign tick finds no progress for the lease, marks them failed (interrupted) with what
// the cluster shows, on one worker only; the retry then carries out only what is left.
import { randomBytes } from "node:crypto";
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditChain } from "@/lib/audit/log";
import type { PrismaClient } from "@/lib/db";
import { closeJobQueue } from "@/lib/jobs";
import { startKubeSim, type KubeSim, type RequestRecord } from "@/lib/kube-sim";
import { setupTestDatabase } from "@/lib/testing/database";
import { systemCampaignActor } from "./access";
import { carryOutDecision } from "./apply-decision";
import { runCampaignTick } from "./campaign-jobs";
import { DEFAULT_APPLY_LEASE_MS, recoverInterruptedApplies } from "./recover-interrupted";
import { connectSimCluster } from "@/lib/testing/sim-cluster";

process.env.KEYWARD_SECRET_KEY = randomBytes(32).toString("base64");
const db = setupTestDatabase();
const rbacGroup = "rbac.authorization.k8s.io";
const REMEDIATION_USER = "system:serviceaccount:keyward-system:keyward-remediation";
const who = systemCampaignActor("test");

let sim: KubeSim;
let admin: KubeConfig;
let clusterId: string;
let itemId: string;

const rbacApi = () => admin.makeApiClient(RbacAuthorizationV1Api);
const subjectsOf = async (name: string) => ((await rbacApi().readNamespacedRoleBinding({ name, namespace: "ci" })).subjects ?? []).map((s) => s.name);

/**
 * The database as a process sees it that dies right after the remediation identity's `writes`-th write reached
 * the cluster: from then on every call fails, so nothing after that write is stored (not even the failure).
 */
function dyingAfterWrite(prisma: PrismaClient, writes: number): { db: PrismaClient; detach: () => void } {
  let seen = 0;
  const onRequest = (record: RequestRecord) => {
    if (record.user === REMEDIATION_USER && ["create", "update", "delete"].includes(record.verb) && !record.requestURI.includes("dryRun")) seen++;
  };
  sim.on("request", onRequest);
  const db = new Proxy(prisma, {
    get(target, property) {
      if (seen >= writes) throw new Error("the process died");
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db, detach: () => sim.off("request", onRequest) };
}

beforeAll(async () => {
  sim = await startKubeSim({ port: 0 });
  admin = new KubeConfig();
  admin.loadFromString(sim.adminKubeconfig());
  // A service account with a legacy token, a binding of its own and one shared with alice: revoking it is three writes.
  const objects = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "ci" } },
    { apiVersion: `${rbacGroup}/v1`, kind: "ClusterRole", metadata: { name: "secret-reader" }, rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get"] }] },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "crashed", namespace: "ci" } },
    { apiVersion: "v1", kind: "Secret", metadata: { name: "crashed-token", namespace: "ci", annotations: { "kubernetes.io/service-account.name": "crashed" } }, type: "kubernetes.io/service-account-token" },
    { apiVersion: `${rbacGroup}/v1`, kind: "ClusterRoleBinding", metadata: { name: "crashed-secrets" }, roleRef: { apiGroup: rbacGroup, kind: "ClusterRole", name: "secret-reader" }, subjects: [{ kind: "ServiceAccount", name: "crashed", namespace: "ci" }] },
    {
      apiVersion: `${rbacGroup}/v1`,
      kind: "RoleBinding",
      metadata: { name: "crashed-edit", namespace: "ci" },
      roleRef: { apiGroup: rbacGroup, kind: "ClusterRole", name: "secret-reader" },
      subjects: [{ kind: "ServiceAccount", name: "crashed", namespace: "ci" }, { kind: "User", name: "alice", apiGroup: rbacGroup }],
    },
  ];
  for (const object of objects) sim.apply(object as Parameters<KubeSim["apply"]>[0]);
  await sim.settle();
  clusterId = await connectSimCluster(sim, admin);
  const campaign = await db.prisma.campaign.create({ data: { name: "Q4 review", status: "active", createdById: "security" } });
  const identity = await db.prisma.identity.findUniqueOrThrow({ where: { clusterId_kind_namespace_name: { clusterId, kind: "ServiceAccount", namespace: "ci", name: "crashed" } } });
  ({ id: itemId } = await db.prisma.reviewItem.create({
    data: { campaignId: campaign.id, clusterId, identityId: identity.id, status: "decided", evidence: {}, recommendation: "revoke", recommendationReason: "test", decision: "revoke", decidedAt: new Date() },
  }));
});

afterAll(async () => {
  await closeJobQueue();
  await sim?.stop();
});

describe("an apply interrupted by a crash", () => {
  it("is marked failed after the lease with what the cluster shows, by one worker, and the retry completes it", async () => {
    // The process dies right after its second write reached the cluster, before storing it.
    const dying = dyingAfterWrite(db.prisma, 2);
    await expect(carryOutDecision(dying.db, who, itemId)).rejects.toThrow("the process died");
    dying.detach();
    const [stuck] = await db.prisma.clusterChangeSet.findMany({ where: { reviewItemId: itemId } });
    expect(stuck).toMatchObject({ status: "applying", failure: null, startedAt: expect.any(Date) });
    expect((stuck.applied as unknown[]).length).toBe(1);
    expect((await db.prisma.reviewItem.findUniqueOrThrow({ where: { id: itemId } })).status).toBe("applying");
    expect(await subjectsOf("crashed-edit")).toEqual(["alice"]);

    // Within the lease it may still be running: left alone.
    expect(await recoverInterruptedApplies(db.prisma)).toEqual([]);
    expect((await db.prisma.clusterChangeSet.findUniqueOrThrow({ where: { id: stuck.id } })).status).toBe("applying");

    // After it, two workers at once (one of them the tick): exactly one recovers it.
    const later = new Date(stuck.updatedAt.getTime() + DEFAULT_APPLY_LEASE_MS + 60_000);
    const [tick, other] = await Promise.all([runCampaignTick(db.prisma, { now: later }), recoverInterruptedApplies(db.prisma, { now: later })]);
    expect([...tick.recovered, ...other].sort()).toEqual([stuck.id]);

    const recovered = await db.prisma.clusterChangeSet.findUniqueOrThrow({ where: { id: stuck.id } });
    expect(recovered.status).toBe("failed");
    expect(recovered.failure).toMatchObject({
      reason: "interrupted",
      message: expect.stringContaining("2 of 3 planned changes are in effect on the cluster; retry to carry out the rest"),
      changes: [
        { index: 0, op: "delete", kind: "ClusterRoleBinding", name: "crashed-secrets", state: "inEffect" },
        { index: 1, op: "replace", kind: "RoleBinding", namespace: "ci", name: "crashed-edit", state: "inEffect" },
        { index: 2, op: "delete", kind: "Secret", namespace: "ci", name: "crashed-token", state: "notInEffect" },
      ],
    });
    // The unrecorded second change joins the applied list (what a rollback would undo), with the object as it is now.
    const applied = recovered.applied as { change: { op: string }; result: { subjects?: { name: string }[] } | null }[];
    expect(applied.map(({ change }) => change.op)).toEqual(["delete", "replace"]);
    expect(applied[1].result?.subjects?.map((s) => s.name)).toEqual(["alice"]);
    expect((await db.prisma.reviewItem.findUniqueOrThrow({ where: { id: itemId } })).status).toBe("failed");
    const entry = await db.prisma.auditLogEntry.findFirstOrThrow({ where: { targetId: itemId, action: "campaign.decision.apply" } });
    expect(entry).toMatchObject({ outcome: "failure", actorLabel: "apply recovery", details: { changeSetId: stuck.id, applied: 2, planned: 3 } });
    expect(await verifyAuditChain(db.prisma)).toMatchObject({ ok: true });
    expect(await recoverInterruptedApplies(db.prisma, { now: later })).toEqual([]);

    // Retry: planned again from the live state, it only deletes the token; alice keeps her binding.
    const retried = await carryOutDecision(db.prisma, who, itemId);
    expect(retried).toMatchObject({ status: "applied" });
    if (retried.status === "replanned") throw new Error("unexpected re-plan");
    expect(retried.applied.map(({ change }) => change.op)).toEqual(["delete"]);
    await expect(admin.makeApiClient(CoreV1Api).readNamespacedSecret({ name: "crashed-token", namespace: "ci" })).rejects.toMatchObject({ code: 404 });
    expect(await subjectsOf("crashed-edit")).toEqual(["alice"]);
    expect((await db.prisma.reviewItem.findUniqueOrThrow({ where: { id: itemId } })).status).toBe("applied");
  });
});
