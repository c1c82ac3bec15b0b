// The revoke policy end to end against the simulator: at the deadline, two workers at once; each undecided
// identity is revoked on the cluster exactly once (one change set, applied), a decided one is left alone, and
// another subject of a shared binding keeps its access.
import { randomBytes } from "node:crypto";
import { AuthorizationV1Api, KubeConfig, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient } from "@/lib/db";
import { closeJobQueue } from "@/lib/jobs";
import { startKubeSim, type KubeSim } from "@/lib/kube-sim";
import { setupTestDatabase } from "@/lib/testing/database";
import type { CampaignActor } from "./access";
import { handleDeadlines } from "./campaign-jobs";
import { createCampaign } from "./create-campaign";
import { decideItem } from "./decide-item";
import { connectSimCluster } from "@/lib/testing/sim-cluster";

process.env.KEYWARD_SECRET_KEY = randomBytes(32).toString("base64");
const db = setupTestDatabase();
const rbacGroup = "rbac.authorization.k8s.io";
const DAY = 86_400_000;
const security: CampaignActor = { actor: { type: "user", id: "u-sec", label: "sec@example.test" }, user: { id: "u-sec", role: "security" } };
let sim: KubeSim;
let admin: KubeConfig;
let clusterId: string;

async function can(user: string, verb: string, resource: string): Promise<boolean> {
  const groups = user.startsWith("system:serviceaccount:") ? ["system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"] : ["system:authenticated"];
  const review = await admin
    .makeApiClient(AuthorizationV1Api)
    .createSubjectAccessReview({ body: { spec: { user, groups, resourceAttributes: { verb, resource, group: "apps", namespace: "ci" } } } });
  return review.status?.allowed === true;
}

beforeAll(async () => {
  sim = await startKubeSim({ port: 0 });
  admin = new KubeConfig();
  admin.loadFromString(sim.adminKubeconfig());
  const objects = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "ci" } },
    { apiVersion: `${rbacGroup}/v1`, kind: "ClusterRole", metadata: { name: "deploy-edit" }, rules: [{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "create"] }] },
    ...["idle", "kept"].flatMap((name) => [
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: "ci" } },
      {
        apiVersion: `${rbacGroup}/v1`,
        kind: "RoleBinding",
        metadata: { name: `${name}-edit`, namespace: "ci" },
        roleRef: { apiGroup: rbacGroup, kind: "ClusterRole", name: "deploy-edit" },
        subjects: [{ kind: "ServiceAccount", name, namespace: "ci" }, { kind: "User", name: "alice", apiGroup: rbacGroup }],
      },
    ]),
  ];
  for (const object of objects) sim.apply(object as Parameters<KubeSim["apply"]>[0]);
  await sim.settle();
  clusterId = await connectSimCluster(sim, admin);
  await db.prisma.user.create({ data: { id: "u-sec", email: "sec@example.test", name: "Sec", role: "security" } });
});

afterAll(async () => {
  await closeJobQueue();
  await sim?.stop();
});

describe("deadline with the revoke policy", () => {
  it("revokes each undecided identity on the cluster exactly once, with two workers at the same moment", async () => {
    const launchedAt = new Date(Date.now() - 2 * DAY);
    const { id } = await createCampaign(
      db.prisma,
      security,
      { name: "Revoke at deadline", scope: { clusterIds: [clusterId], namespaces: ["ci"] }, durationDays: 1, undecidedPolicy: "revoke", escalateAfterDeadline: false, launch: true },
      { now: launchedAt },
    );
    const items = await db.prisma.reviewItem.findMany({ where: { campaignId: id }, include: { identity: true } });
    expect(items.map((item) => item.identity!.name).sort()).toEqual(["default", "idle", "kept"]);
    const kept = items.find((item) => item.identity!.name === "kept")!;
    const idle = items.find((item) => item.identity!.name === "idle")!;
    for (const item of items.filter((candidate) => candidate.id !== idle.id)) {
      await decideItem(db.prisma, security, item.id, { decision: "approve", expectedVersion: 0 }, launchedAt);
    }

    const clients = [createPrismaClient(process.env.DATABASE_URL!), createPrismaClient(process.env.DATABASE_URL!)];
    let outcomes;
    try {
      outcomes = (await Promise.all(clients.map((client) => handleDeadlines(client)))).flat();
    } finally {
      await Promise.all(clients.map((client) => client.$disconnect()));
    }
    expect(outcomes).toEqual([{ campaignId: id, undecided: 1, flagged: 0, revoked: 1, applied: 1, failures: [] }]);

    const changeSets = await db.prisma.clusterChangeSet.findMany({ where: { reviewItemId: idle.id } });
    expect(changeSets.map((changeSet) => [changeSet.decision, changeSet.status])).toEqual([["revoke", "applied"]]);
    expect(await db.prisma.reviewItem.findUniqueOrThrow({ where: { id: idle.id } })).toMatchObject({ status: "applied", decision: "revoke", decidedById: "system" });
    expect(await db.prisma.clusterChangeSet.count({ where: { reviewItemId: kept.id } })).toBe(0);

    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    expect(((await rbac.readNamespacedRoleBinding({ name: "idle-edit", namespace: "ci" })).subjects ?? []).map((s) => s.name)).toEqual(["alice"]);
    expect(((await rbac.readNamespacedRoleBinding({ name: "kept-edit", namespace: "ci" })).subjects ?? []).map((s) => s.name).sort()).toEqual(["alice", "kept"]);
    expect(await can("system:serviceaccount:ci:idle", "create", "deployments")).toBe(false);
    expect(await can("system:serviceaccount:ci:kept", "create", "deployments")).toBe(true);
    expect(await can("alice", "create", "deployments")).toBe(true);
  });
});
