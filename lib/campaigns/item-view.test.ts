import { beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "@/lib/kube-sim";
import { insertCluster, insertKubeObjects } from "@/lib/permissions/test-support/inventory-rows";
import { setupTestDatabase } from "@/lib/testing/database";
import type { CampaignActor } from "./access";
import { decisionOptionsSchema } from "./apply-decision";
import { currentOwnGrants, getReviewItemView, retryOptions } from "./item-view";

const database = setupTestDatabase();
const RBAC = "rbac.authorization.k8s.io";
const as = (id: string, role: CampaignActor["user"]["role"]): CampaignActor => ({
  actor: { type: "user", id, label: id },
  user: { id, role },
});
const payOwner = as("u-pay", "owner");
const webOwner = as("u-web", "owner");
let itemId: string;
let identityId: string;

const objects: KubeObject[] = [
  { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "api", namespace: "payments" } },
  {
    apiVersion: `${RBAC}/v1`,
    kind: "ClusterRole",
    metadata: { name: "node-reader" },
    rules: [{ apiGroups: [""], resources: ["nodes"], verbs: ["get", "list"] }],
  },
  {
    apiVersion: `${RBAC}/v1`,
    kind: "ClusterRoleBinding",
    metadata: { name: "api-nodes" },
    roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: "node-reader" },
    subjects: [{ kind: "ServiceAccount", name: "api", namespace: "payments" }],
  },
];
// A shrink to a cluster-wide role, stored as JSON stores it: no namespace key on cluster-scoped objects.
const grants = {
  roles: [],
  roleBindings: [],
  clusterRoles: [
    { metadata: { name: "keep" }, rules: [{ apiGroups: [""], resources: ["nodes"], verbs: ["get"] }] },
  ],
  clusterRoleBindings: [
    {
      metadata: { name: "keep" },
      roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: "keep" },
      subjects: [{ kind: "ServiceAccount", name: "api", namespace: "payments" }],
    },
  ],
};

beforeAll(async () => {
  const db = database.prisma;
  await db.user.createMany({
    data: ["u-pay", "u-web", "u-sec"].map((id) => ({
      id,
      email: `${id}@example.test`,
      name: id === "u-pay" ? "Pat" : id,
      role: id === "u-sec" ? "security" : "owner",
    })),
  });
  const pay = await db.team.create({
    data: { name: "Payments", slug: "payments", members: { create: { userId: "u-pay" } } },
  });
  await db.team.create({ data: { name: "Web", slug: "web", members: { create: { userId: "u-web" } } } });
  const cluster = await insertCluster(db, "prod");
  await insertKubeObjects(db, cluster.id, objects);
  identityId = (await db.identity.findFirstOrThrow({ where: { clusterId: cluster.id, name: "api" } })).id;
  const campaign = await db.campaign.create({ data: { name: "Q4", status: "active", createdById: "u-sec" } });
  const item = await db.reviewItem.create({
    data: {
      campaignId: campaign.id,
      clusterId: cluster.id,
      identityId,
      reviewerTeamId: pay.id,
      status: "failed",
      evidence: {},
      recommendation: "shrink",
      recommendationReason: "test",
      decision: "shrink",
      decidedById: "u-pay",
      decidedAt: new Date("2026-12-01T10:00:00Z"),
      version: 1,
    },
  });
  itemId = item.id;
  const plan = { decision: "shrink", changes: [], checks: [], notes: ["a note"] };
  const failure = {
    reason: "verificationUnavailable",
    message: "Applied, but the cluster could not verify it",
  };
  await db.clusterChangeSet.create({
    data: {
      id: "cs-1",
      clusterId: cluster.id,
      reviewItemId: item.id,
      decision: "shrink",
      status: "failed",
      plan: { plan, dryRun: [], grants: null },
      createdByLabel: "u-pay",
      createdAt: new Date("2026-12-01T11:00:00Z"),
    },
  });
  await db.clusterChangeSet.create({
    data: {
      id: "cs-2",
      clusterId: cluster.id,
      reviewItemId: item.id,
      decision: "shrink",
      status: "failed",
      plan: { plan, dryRun: [{ ok: true, object: null }], grants, deleteServiceAccount: false },
      failure,
      verification: [],
      createdByLabel: "u-pay",
      createdAt: new Date("2026-12-01T12:00:00Z"),
    },
  });
});

describe("getReviewItemView", () => {
  it("is null for an owner of another team, as if the item did not exist", async () => {
    expect(await getReviewItemView(database.prisma, webOwner, itemId)).toBeNull();
  });

  it("names who decided and gives every change set in full, newest first", async () => {
    const view = await getReviewItemView(database.prisma, payOwner, itemId);
    expect(view).toMatchObject({ id: itemId, decision: "shrink", decidedBy: "Pat <u-pay@example.test>" });
    expect(view!.changeSets.map((set) => set.id)).toEqual(["cs-2", "cs-1"]);
    expect(view!.changeSets[0]).toMatchObject({
      status: "failed",
      plan: { notes: ["a note"] },
      dryRun: [{ ok: true }],
      applied: [],
      failure: { reason: "verificationUnavailable" },
      irreversible: [],
    });
    expect(view!.changeSets[1]).toMatchObject({ failure: null, verification: [], options: {} });
  });

  it("gives a retry the latest preview's options, in a form the preview accepts again", async () => {
    const view = await getReviewItemView(database.prisma, payOwner, itemId);
    const options = retryOptions(view!.changeSets);
    expect(options.grants?.clusterRoles.map((role) => role.metadata.name)).toEqual(["keep"]);
    expect(options.deleteServiceAccount).toBeUndefined();
    expect(decisionOptionsSchema.safeParse(options).success).toBe(true);
  });
});

describe("currentOwnGrants", () => {
  it("lists the identity's own rules as the last sync saw them, and nothing once it is deleted", async () => {
    const rules = await currentOwnGrants(database.prisma, identityId);
    expect(rules?.map((rule) => [rule.binding.name, rule.rule.resources])).toEqual([
      ["api-nodes", ["nodes"]],
    ]);
    await database.prisma.identity.update({ where: { id: identityId }, data: { deletedAt: new Date() } });
    expect(await currentOwnGrants(database.prisma, identityId)).toBeNull();
  });
});
