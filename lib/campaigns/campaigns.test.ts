// The campaign lifecycle on a real database: scope, launch with frozen evidence, decisions and their races,
// who may decide what, the inbox and progress, and the final states.
import { beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient, type PrismaClient } from "@/lib/db";
import type { KubeObject } from "@/lib/kube-sim";
import { addTeamMember, createTeam } from "@/lib/owners/teams";
import { assignOwner } from "@/lib/owners/assign-owner";
import { insertCluster, insertKubeObjects } from "@/lib/permissions/test-support/inventory-rows";
import { setupTestDatabase } from "@/lib/testing/database";
import type { CampaignActor } from "./access";
import { bulkApprove } from "./bulk-approve";
import { cancelCampaign, closeCampaign } from "./close-campaign";
import { createCampaign } from "./create-campaign";
import { decideItem } from "./decide-item";
import { CampaignAccessError, DecisionConflictError } from "./errors";
import type { ReviewEvidence } from "./evidence";
import { campaignProgress, listInbox } from "./inbox";
import { launchCampaign } from "./launch-campaign";
import { getCampaign, getReviewItem, listCampaignItems, listCampaigns } from "./queries";
import { reassignItem } from "./reassign-item";
import { campaignInputSchema } from "./schemas";

const DAY = 86_400_000;
const NOW = new Date("2026-12-02T08:00:00Z");
const AT = { now: NOW };
const RBAC = "rbac.authorization.k8s.io/v1";
const database = setupTestDatabase();

const sa = (namespace: string, name: string): KubeObject => ({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace } });
const objects: KubeObject[] = [
  sa("payments", "api"),
  sa("payments", "batch"),
  sa("web", "frontend"),
  sa("tools", "orphan"),
  { apiVersion: RBAC, kind: "Role", metadata: { name: "read-secrets", namespace: "payments" }, rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"] }] },
  {
    apiVersion: RBAC,
    kind: "RoleBinding",
    metadata: { name: "api-secrets", namespace: "payments" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "read-secrets" },
    subjects: [{ kind: "ServiceAccount", namespace: "payments", name: "api" }],
  },
  {
    apiVersion: RBAC,
    kind: "ClusterRoleBinding",
    metadata: { name: "frontend-admin" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
    subjects: [{ kind: "ServiceAccount", namespace: "web", name: "frontend" }],
  },
  { apiVersion: RBAC, kind: "ClusterRole", metadata: { name: "cluster-admin" }, rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }] },
  {
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/service-account-token",
    metadata: {
      name: "api-token",
      namespace: "payments",
      creationTimestamp: new Date(NOW.getTime() - 400 * DAY).toISOString(),
      annotations: { "kubernetes.io/service-account.name": "api" },
    },
  },
];

let clusterId: string;
const ids: Record<string, string> = {};
const teams: Record<string, string> = {};
const as = (id: string, role: CampaignActor["user"]["role"]): CampaignActor => ({
  actor: { type: "user", id, label: `${id}@example.test` },
  user: { id, role },
});
const security = as("u-sec", "security");
const payOwner = as("u-pay", "owner");
const payOwner2 = as("u-pay2", "owner");
const webOwner = as("u-web", "owner");
const auditor = as("u-aud", "auditor");

beforeAll(async () => {
  const db = database.prisma;
  await db.user.createMany({
    data: [security, payOwner, payOwner2, webOwner, auditor].map(({ user }) => ({ id: user.id, email: `${user.id}@example.test`, name: user.id, role: user.role })),
  });
  for (const name of ["Payments", "Web", "Platform"]) teams[name] = (await createTeam(db, { name })).id;
  await addTeamMember(db, teams.Payments, payOwner.user.id);
  await addTeamMember(db, teams.Payments, payOwner2.user.id);
  await addTeamMember(db, teams.Web, webOwner.user.id);
  clusterId = (await insertCluster(db, "prod")).id;
  await db.cluster.update({ where: { id: clusterId }, data: { usageObservedSince: new Date(NOW.getTime() - 200 * DAY) } });
  await insertKubeObjects(db, clusterId, objects);
  for (const identity of await db.identity.findMany({ where: { clusterId } })) ids[identity.name] = identity.id;
  await assignOwner(db, { identityId: ids.api, teamId: teams.Payments, assignedBy: "test" }, NOW);
  await assignOwner(db, { identityId: ids.batch, teamId: teams.Payments, assignedBy: "test" }, NOW);
  await assignOwner(db, { identityId: ids.frontend, teamId: teams.Web, assignedBy: "test" }, NOW);
  await db.identity.update({ where: { id: ids.api }, data: { lastUsedAt: new Date(NOW.getTime() - 2 * DAY) } });
  await db.identity.update({ where: { id: ids.batch }, data: { lastUsedAt: new Date(NOW.getTime() - 150 * DAY) } });
  await db.usageRollup.createMany({
    data: [1, 2].map((daysAgo) => ({
      clusterId,
      identityId: ids.api,
      day: new Date(Date.UTC(2026, 11, 2) - daysAgo * DAY),
      verb: "get",
      resource: "secrets",
      namespace: "payments",
      count: 10,
      deniedCount: 1,
      firstSeenAt: new Date(NOW.getTime() - daysAgo * DAY),
      lastSeenAt: new Date(NOW.getTime() - daysAgo * DAY),
    })),
  });
  const finding = (identity: string, type: string, severity: "medium" | "high" | "critical", details = {}) => ({
    clusterId,
    identityId: ids[identity],
    type,
    severity,
    title: `${type} of ${identity}`,
    owasp: ["NHI5"],
    csf: ["PR.AA-05"],
    fingerprint: `${type}:${identity}`,
    details,
  });
  await db.finding.createMany({
    data: [
      finding("api", "secrets-read", "high"),
      finding("api", "unused-permissions", "medium", { removedCount: 1, windowDays: 90 }),
      finding("batch", "unused", "medium"),
      finding("frontend", "cluster-admin", "critical"),
      finding("orphan", "no-owner", "medium"),
    ],
  });
  // What analysis keeps on the identity (the scope's minimum severity reads it).
  for (const [name, severity] of [["api", "high"], ["batch", "medium"], ["frontend", "critical"], ["orphan", "medium"]] as const) {
    await db.identity.update({ where: { id: ids[name] }, data: { maxSeverity: severity } });
  }
});

async function launched(name: string, scope: object = {}, extra: object = {}) {
  const created = await createCampaign(database.prisma, security, { name, scope, launch: true, defaultReviewerTeamId: teams.Platform, ...extra }, AT);
  const items = await database.prisma.reviewItem.findMany({ where: { campaignId: created.id }, include: { identity: true } });
  return { id: created.id, items, item: (identity: string) => items.find((item) => item.identityId === ids[identity])! };
}

describe("creating and launching", () => {
  it("only security and admin create campaigns; schedules take presets or cron", async () => {
    await expect(createCampaign(database.prisma, payOwner, { name: "mine" }, AT)).rejects.toBeInstanceOf(CampaignAccessError);
    await expect(createCampaign(database.prisma, auditor, { name: "mine" }, AT)).rejects.toBeInstanceOf(CampaignAccessError);
    expect(campaignInputSchema.parse({ name: "q", schedule: { cron: "quarterly" } }).schedule?.cron).toBe("0 9 1 1,4,7,10 *");
    expect(campaignInputSchema.safeParse({ name: "q", schedule: { cron: "every tuesday" } }).success).toBe(false);
    expect(campaignInputSchema.safeParse({ name: "q", schedule: { cron: "monthly" }, deadline: "2027-01-01T00:00:00Z" }).success).toBe(false);
    const created = await createCampaign(database.prisma, security, { name: "Quarterly", schedule: { cron: "quarterly" } }, AT);
    const schedule = await database.prisma.campaignSchedule.findUniqueOrThrow({ where: { id: created.scheduleId! } });
    expect(schedule.nextRunAt.toISOString()).toBe("2027-01-01T09:00:00.000Z");
    await expect(createCampaign(database.prisma, security, { name: "x", defaultReviewerTeamId: "nope" }, AT)).rejects.toMatchObject({ status: 422 });
    const audit = await database.prisma.auditLogEntry.findFirst({ where: { action: "campaign.create", targetId: created.id } });
    expect(audit?.actorId).toBe(security.user.id);
  });

  it("freezes each identity's evidence, assigns its owner team (else the default reviewer) and recommends", async () => {
    const { id, items, item } = await launched("Everything");
    expect(items).toHaveLength(4);
    const campaign = await database.prisma.campaign.findUniqueOrThrow({ where: { id } });
    expect(campaign.status).toBe("active");
    expect(campaign.deadline?.getTime()).toBe(NOW.getTime() + 14 * DAY);

    const api = item("api");
    expect(api.reviewerTeamId).toBe(teams.Payments);
    expect(item("orphan").reviewerTeamId).toBe(teams.Platform);
    const evidence = api.evidence as unknown as ReviewEvidence;
    expect(evidence.identity).toMatchObject({ name: "api", namespace: "payments", ownerTeam: { id: teams.Payments, name: "Payments" } });
    expect(evidence.grants).toEqual([
      expect.objectContaining({
        text: "get,list core/secrets in payments",
        binding: { kind: "RoleBinding", namespace: "payments", name: "api-secrets" },
        role: { kind: "Role", namespace: "payments", name: "read-secrets" },
      }),
    ]);
    expect(evidence.credentials).toEqual([expect.objectContaining({ kind: "legacyTokenSecret", name: "api-token", ageDays: 400 })]);
    expect(evidence.usage).toMatchObject({ requests: 18, denied: 2, activeDays: 2, unusedRules: 1, windowDays: 90 });
    expect(evidence.findings.map((finding) => finding.type)).toEqual(["secrets-read", "unused-permissions"]);
    expect(evidence.findings[0]).toMatchObject({ severity: "high", csf: ["PR.AA-05"], owasp: ["NHI5"] });
    expect(api).toMatchObject({ severity: "high", riskScore: 28, recommendation: "shrink", recommendationReason: "1 granted rule unused in 90 days" });
    expect(item("batch")).toMatchObject({ recommendation: "revoke", recommendationReason: "no use in 150 days" });
    expect(item("frontend")).toMatchObject({ severity: "critical", recommendation: "approve" });

    // A later change to the identity does not change what the reviewer judges.
    await database.prisma.finding.updateMany({ where: { identityId: ids.api }, data: { resolvedAt: NOW } });
    const again = await database.prisma.reviewItem.findUniqueOrThrow({ where: { id: api.id } });
    expect((again.evidence as unknown as ReviewEvidence).findings).toHaveLength(2);
    await database.prisma.finding.updateMany({ where: { identityId: ids.api }, data: { resolvedAt: null } });
  });

  it("applies the scope: clusters, namespaces, kinds, minimum severity, unowned, unused access", async () => {
    const names = async (scope: object) => (await launched("scoped", scope)).items.map((item) => item.identity!.name).sort();
    expect(await names({ namespaces: ["payments"] })).toEqual(["api", "batch"]);
    expect(await names({ minSeverity: "high" })).toEqual(["api", "frontend"]);
    expect(await names({ onlyUnowned: true })).toEqual(["orphan"]);
    expect(await names({ onlyUnusedAccess: true })).toEqual(["api", "batch"]);
    expect(await names({ kinds: ["CertificateUser"] })).toEqual([]);
    expect(await names({ clusterIds: [clusterId], namespaces: ["web"] })).toEqual(["frontend"]);
  });

  it("two replicas launching the same campaign create its items once", async () => {
    const { id } = await createCampaign(database.prisma, security, { name: "Raced" }, AT);
    const clients: PrismaClient[] = [createPrismaClient(process.env.DATABASE_URL!), createPrismaClient(process.env.DATABASE_URL!)];
    try {
      const outcomes = await Promise.all(clients.map((client) => launchCampaign(client, security, id, AT)));
      expect(outcomes.map((outcome) => outcome.launched).sort()).toEqual([false, true]);
      expect(await database.prisma.reviewItem.count({ where: { campaignId: id } })).toBe(4);
      expect(await database.prisma.auditLogEntry.count({ where: { action: "campaign.launch", targetId: id } })).toBe(1);
    } finally {
      await Promise.all(clients.map((client) => client.$disconnect()));
    }
  });
});

describe("deciding", () => {
  it("two reviewers deciding one item: one wins, the other is told the winner's decision", async () => {
    const { item } = await launched("Race");
    const api = item("api");
    const clients = [createPrismaClient(process.env.DATABASE_URL!), createPrismaClient(process.env.DATABASE_URL!)];
    try {
      const results = await Promise.allSettled([
        decideItem(clients[0], payOwner, api.id, { decision: "revoke", comment: "gone", expectedVersion: api.version }, NOW),
        decideItem(clients[1], payOwner2, api.id, { decision: "approve", comment: "keep", expectedVersion: api.version }, NOW),
      ]);
      const won = results.filter((result) => result.status === "fulfilled");
      const lost = results.filter((result): result is PromiseRejectedResult => result.status === "rejected");
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      const stored = await database.prisma.reviewItem.findUniqueOrThrow({ where: { id: api.id } });
      expect(lost[0].reason).toBeInstanceOf(DecisionConflictError);
      expect((lost[0].reason as DecisionConflictError).current).toMatchObject({
        status: "decided",
        decision: stored.decision,
        decidedById: stored.decidedById,
        version: api.version + 1,
      });
      expect(stored.version).toBe(api.version + 1);
      expect(await database.prisma.auditLogEntry.count({ where: { action: "campaign.item.decide", targetId: api.id, outcome: "success" } })).toBe(1);
    } finally {
      await Promise.all(clients.map((client) => client.$disconnect()));
    }
  });

  it("an owner deciding another team's item is refused, recorded, and nothing changes; auditors decide nothing", async () => {
    const { item } = await launched("Attack");
    const frontend = item("frontend");
    for (const who of [payOwner, auditor]) {
      await expect(
        decideItem(database.prisma, who, frontend.id, { decision: "revoke", comment: "mine now", expectedVersion: frontend.version }, NOW),
      ).rejects.toBeInstanceOf(CampaignAccessError);
    }
    const stored = await database.prisma.reviewItem.findUniqueOrThrow({ where: { id: frontend.id } });
    expect(stored).toMatchObject({ status: "pending", decision: null, decidedById: null, version: frontend.version });
    const denied = await database.prisma.auditLogEntry.findMany({ where: { action: "campaign.item.decide", targetId: frontend.id } });
    expect(denied.map((entry) => [entry.actorId, entry.outcome])).toEqual([
      [payOwner.user.id, "denied"],
      [auditor.user.id, "denied"],
    ]);
    // An unassigned item (no owner, no default reviewer) belongs to the security team alone.
    const bare = await createCampaign(database.prisma, security, { name: "no default", launch: true, scope: { onlyUnowned: true } }, AT);
    const orphan = await database.prisma.reviewItem.findFirstOrThrow({ where: { campaignId: bare.id } });
    expect(orphan.reviewerTeamId).toBeNull();
    await expect(decideItem(database.prisma, webOwner, orphan.id, { decision: "approve", comment: "x", expectedVersion: 0 }, NOW)).rejects.toBeInstanceOf(CampaignAccessError);
    await expect(decideItem(database.prisma, security, orphan.id, { decision: "revoke", expectedVersion: 0 }, NOW)).resolves.toMatchObject({ version: 1 });
  });

  it("approving a critical item needs a comment", async () => {
    const { item } = await launched("Critical");
    const frontend = item("frontend");
    await expect(decideItem(database.prisma, webOwner, frontend.id, { decision: "approve", comment: "  ", expectedVersion: 0 }, NOW)).rejects.toMatchObject({ status: 422 });
    expect((await database.prisma.reviewItem.findUniqueOrThrow({ where: { id: frontend.id } })).status).toBe("pending");
    await decideItem(database.prisma, webOwner, frontend.id, { decision: "approve", comment: "the ingress controller needs it; ticket SEC-12", expectedVersion: 0 }, NOW);
    const stored = await database.prisma.reviewItem.findUniqueOrThrow({ where: { id: frontend.id } });
    expect(stored).toMatchObject({ status: "decided", decision: "approve", decidedById: webOwner.user.id, comment: "the ingress controller needs it; ticket SEC-12" });
    expect(stored.decidedAt?.getTime()).toBe(NOW.getTime());
    // A non-critical item is approved without one.
    await expect(decideItem(database.prisma, payOwner, item("api").id, { decision: "approve", expectedVersion: 0 }, NOW)).resolves.toMatchObject({ decision: "approve" });
  });

  it("bulk approve takes the low-risk items one by one and reports the rest", async () => {
    const { item } = await launched("Bulk");
    const [api, batch, frontend, orphan] = ["api", "batch", "frontend", "orphan"].map(item);
    await decideItem(database.prisma, payOwner2, batch.id, { decision: "revoke", expectedVersion: 0 }, NOW);
    const results = await bulkApprove(
      database.prisma,
      payOwner,
      { items: [api, batch, frontend, orphan].map((entry) => ({ id: entry.id, expectedVersion: 0 })), comment: "reviewed" },
      NOW,
    );
    expect(results.map((result) => [result.id, result.outcome])).toEqual([
      [api.id, "notLowRisk"],
      [batch.id, "conflict"],
      [frontend.id, "notLowRisk"],
      [orphan.id, "refused"],
    ]);
    // A medium one of their own team goes through.
    const secondBatch = (await launched("Bulk 2")).item("batch");
    expect(await bulkApprove(database.prisma, payOwner, { items: [{ id: secondBatch.id, expectedVersion: 0 }] }, NOW)).toEqual([
      { id: secondBatch.id, outcome: "approved", version: 1 },
    ]);
    expect(await database.prisma.reviewItem.findUniqueOrThrow({ where: { id: orphan.id } })).toMatchObject({ status: "pending", version: 0 });
  });

  it("reassigning moves the item to the new team and voids decisions opened before it", async () => {
    const { item } = await launched("Reassign");
    const batch = item("batch");
    await expect(reassignItem(database.prisma, payOwner, batch.id, { teamId: teams.Web, expectedVersion: 0 })).rejects.toBeInstanceOf(CampaignAccessError);
    await reassignItem(database.prisma, security, batch.id, { teamId: teams.Web, expectedVersion: 0 });
    await expect(decideItem(database.prisma, payOwner, batch.id, { decision: "revoke", expectedVersion: 1 }, NOW)).rejects.toBeInstanceOf(CampaignAccessError);
    await expect(decideItem(database.prisma, webOwner, batch.id, { decision: "revoke", expectedVersion: 0 }, NOW)).rejects.toBeInstanceOf(DecisionConflictError);
    await expect(decideItem(database.prisma, webOwner, batch.id, { decision: "revoke", expectedVersion: 1 }, NOW)).resolves.toMatchObject({ version: 2 });
    expect(await database.prisma.auditLogEntry.count({ where: { action: "campaign.item.reassign", targetId: batch.id } })).toBe(1);
  });
});

describe("inbox, progress and the end of a campaign", () => {
  it("an owner's inbox holds only their teams' items, riskiest first; security and auditors see all", async () => {
    const { id, item } = await launched("Inbox");
    const pay = await listInbox(database.prisma, payOwner, { campaignId: id });
    expect(pay.items.map((entry) => entry.identityId)).toEqual([ids.api, ids.batch]);
    expect(pay.total).toBe(2);
    expect(pay.items[0].evidence.identity.name).toBe("api");
    const all = await listInbox(database.prisma, auditor, { campaignId: id });
    expect(all.items.map((entry) => entry.identityId)).toEqual([ids.frontend, ids.api, ids.batch, ids.orphan]);
    expect((await listInbox(database.prisma, as("u-x", "owner"), { campaignId: id })).total).toBe(0);
    const page = await listInbox(database.prisma, security, { campaignId: id, page: 2, pageSize: 3 });
    expect(page.items.map((entry) => entry.identityId)).toEqual([ids.orphan]);

    await decideItem(database.prisma, payOwner, item("api").id, { decision: "shrink", expectedVersion: 0 }, NOW);
    expect((await listInbox(database.prisma, payOwner, { campaignId: id, status: "pending" })).items.map((entry) => entry.identityId)).toEqual([ids.batch]);
    const progress = await campaignProgress(database.prisma, id);
    expect(progress.find((row) => row.teamId === teams.Payments)).toMatchObject({ teamName: "Payments", total: 2, pending: 1, decided: 1, byDecision: { shrink: 1 } });
    expect(progress.find((row) => row.teamId === teams.Web)).toMatchObject({ total: 1, pending: 1, decided: 0 });
  });

  it("campaigns and items are read through the viewer's scope", async () => {
    const { id, item } = await launched("Scoped reads");
    const draft = await createCampaign(database.prisma, security, { name: "Draft only" }, AT);
    expect(await getCampaign(database.prisma, auditor, draft.id)).toMatchObject({ name: "Draft only", status: "draft" });
    expect(await getCampaign(database.prisma, payOwner, draft.id)).toBeNull();
    expect(await getCampaign(database.prisma, payOwner, id)).toMatchObject({ name: "Scoped reads", scope: { onlyUnowned: false } });
    const ownerCampaigns = (await listCampaigns(database.prisma, payOwner, { pageSize: 200 })).campaigns.map((campaign) => campaign.id);
    expect(ownerCampaigns).toContain(id);
    expect(ownerCampaigns).not.toContain(draft.id);
    expect((await listCampaigns(database.prisma, as("u-none", "owner"))).total).toBe(0);

    const first = await listCampaignItems(database.prisma, security, id, { limit: 3 });
    const rest = await listCampaignItems(database.prisma, security, id, { cursor: first.nextCursor, limit: 3 });
    expect([...first.items, ...rest.items].map((entry) => entry.identityId).sort()).toEqual(Object.values(ids).sort());
    expect(rest.nextCursor).toBeUndefined();
    expect((await listCampaignItems(database.prisma, webOwner, id)).items.map((entry) => entry.identityId)).toEqual([ids.frontend]);
    expect(await getReviewItem(database.prisma, webOwner, item("api").id)).toBeNull();
    expect(await getReviewItem(database.prisma, payOwner, item("api").id)).toMatchObject({ campaign: { id }, reviewerTeam: { name: "Payments" }, changeSets: [] });
  });

  it("draft → active → closed is final: no decisions, no relaunch, no cancel; drafts can be cancelled", async () => {
    const { id, item } = await launched("Closing");
    await expect(closeCampaign(database.prisma, payOwner, id, AT)).rejects.toBeInstanceOf(CampaignAccessError);
    await closeCampaign(database.prisma, security, id, AT);
    expect(await database.prisma.campaign.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: "closed", closedAt: NOW });
    await expect(launchCampaign(database.prisma, security, id, AT)).rejects.toMatchObject({ status: 409 });
    await expect(closeCampaign(database.prisma, security, id, AT)).rejects.toMatchObject({ status: 409 });
    await expect(cancelCampaign(database.prisma, security, id, AT)).rejects.toMatchObject({ status: 409 });
    await expect(decideItem(database.prisma, payOwner, item("api").id, { decision: "revoke", expectedVersion: 0 }, NOW)).rejects.toMatchObject({ status: 409 });
    expect((await listInbox(database.prisma, security, { campaignId: id })).total).toBe(0);

    const draft = await createCampaign(database.prisma, security, { name: "Never" }, AT);
    await cancelCampaign(database.prisma, security, draft.id, AT);
    await expect(launchCampaign(database.prisma, security, draft.id, AT)).rejects.toMatchObject({ status: 409 });
    expect(await database.prisma.reviewItem.count({ where: { campaignId: draft.id } })).toBe(0);
    expect(await database.prisma.auditLogEntry.count({ where: { action: { in: ["campaign.close", "campaign.cancel"] }, targetId: { in: [id, draft.id] } } })).toBe(2);
  });
});

