// The campaign pages' aggregate and table queries on a real database: what the security team sees, what an owner
// sees (only its teams' items), completion per day, overdue after the deadline, and the items table's filters,
// sorting and paging.
import { beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "@/lib/kube-sim";
import { addTeamMember, createTeam } from "@/lib/owners/teams";
import { assignOwner } from "@/lib/owners/assign-owner";
import { insertCluster, insertKubeObjects } from "@/lib/permissions/test-support/inventory-rows";
import { setupTestDatabase } from "@/lib/testing/database";
import type { CampaignActor } from "./access";
import { createCampaign } from "./create-campaign";
import { decideItem } from "./decide-item";
import { itemTableQuerySchema, listCampaignItemsPage } from "./item-table";
import { campaignListProgress, campaignReport, scopedCampaignProgress } from "./report";

const DAY = 86_400_000;
const LAUNCH = new Date("2026-11-01T10:00:00Z");
const database = setupTestDatabase();

const as = (id: string, role: CampaignActor["user"]["role"]): CampaignActor => ({
  actor: { type: "user", id, label: `${id}@example.test` },
  user: { id, role },
});
const security = as("u-sec", "security");
const payOwner = as("u-pay", "owner");
const auditor = as("u-aud", "auditor");

const sa = (namespace: string, name: string): KubeObject => ({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace } });
// Payments owns three, Web one; "orphan" goes to the default reviewer (Platform).
const owners: Record<string, string | null> = { api: "Payments", batch: "Payments", cron: "Payments", frontend: "Web", orphan: null };
const namespaceOf: Record<string, string> = { api: "payments", batch: "payments", cron: "payments", frontend: "web", orphan: "tools" };

const teams: Record<string, string> = {};
let campaignId: string;
const itemOf: Record<string, { id: string; version: number }> = {};

beforeAll(async () => {
  const db = database.prisma;
  await db.user.createMany({
    data: [security, payOwner, auditor].map(({ user }) => ({ id: user.id, email: `${user.id}@example.test`, name: user.id, role: user.role })),
  });
  for (const name of ["Payments", "Web", "Platform"]) teams[name] = (await createTeam(db, { name })).id;
  await addTeamMember(db, teams.Payments, payOwner.user.id);
  const clusterId = (await insertCluster(db, "prod")).id;
  await insertKubeObjects(db, clusterId, Object.keys(owners).map((name) => sa(namespaceOf[name], name)));
  const identities = await db.identity.findMany({ where: { clusterId } });
  for (const identity of identities) {
    const team = owners[identity.name];
    if (team) await assignOwner(db, { identityId: identity.id, teamId: teams[team], assignedBy: "test" }, LAUNCH);
  }
  // Risk orders the table: frontend the riskiest, then api.
  await db.identity.update({ where: { id: identities.find((i) => i.name === "frontend")!.id }, data: { maxSeverity: "critical" } });
  const created = await createCampaign(
    db,
    security,
    { name: "Q4 review", launch: true, durationDays: 10, defaultReviewerTeamId: teams.Platform },
    { now: LAUNCH },
  );
  campaignId = created.id;
  for (const item of await db.reviewItem.findMany({ where: { campaignId }, include: { identity: true } })) {
    itemOf[item.identity!.name] = { id: item.id, version: item.version };
  }
  const decide = (name: string, decision: "approve" | "revoke" | "shrink", daysAfterLaunch: number) =>
    decideItem(db, security, itemOf[name].id, { decision, expectedVersion: itemOf[name].version, comment: "reviewed" }, new Date(LAUNCH.getTime() + daysAfterLaunch * DAY));
  await decide("api", "approve", 0);
  await decide("batch", "revoke", 2);
  await decide("frontend", "approve", 2);
  // A risk score the table sorts on, set where launch would have from findings.
  await db.reviewItem.update({ where: { id: itemOf.frontend.id }, data: { riskScore: 60 } });
  await db.reviewItem.update({ where: { id: itemOf.api.id }, data: { riskScore: 20 } });
});

const campaignRow = () => database.prisma.campaign.findUniqueOrThrow({ where: { id: campaignId } });

describe("campaign report", () => {
  it("counts decisions by type and the cumulative completion per day for the security team", async () => {
    const campaign = await campaignRow();
    const report = await campaignReport(database.prisma, security, campaign, new Date(LAUNCH.getTime() + 3 * DAY));
    expect(report).toMatchObject({ total: 5, decided: 3, pending: 2, overdue: 0, applied: 0, failed: 0, flagged: 0 });
    expect(report.decisions).toEqual([
      { decision: "approve", count: 2 },
      { decision: "shrink", count: 0 },
      { decision: "revoke", count: 1 },
      { decision: "undecided", count: 2 },
    ]);
    // Up to the deadline (11 November): the days still to come have no decided count yet.
    expect(report.completion.slice(0, 5)).toEqual([
      { day: "2026-11-01", decided: 1, total: 5 },
      { day: "2026-11-02", decided: 1, total: 5 },
      { day: "2026-11-03", decided: 3, total: 5 },
      { day: "2026-11-04", decided: 3, total: 5 },
      { day: "2026-11-05", decided: null, total: 5 },
    ]);
    expect(report.completion.map((point) => point.day).at(-1)).toBe("2026-11-11");
    expect(report.overdueByTeam).toEqual([]);
  });

  it("gives an owner only its teams' items, and the auditor everything", async () => {
    const campaign = await campaignRow();
    const at = new Date(LAUNCH.getTime() + 3 * DAY);
    const mine = await campaignReport(database.prisma, payOwner, campaign, at);
    expect(mine).toMatchObject({ total: 3, decided: 2, pending: 1 });
    expect(mine.completion[3]).toEqual({ day: "2026-11-04", decided: 2, total: 3 });
    expect((await campaignReport(database.prisma, auditor, campaign, at)).total).toBe(5);

    const progress = await scopedCampaignProgress(database.prisma, payOwner, campaignId);
    expect(progress.map((entry) => [entry.teamName, entry.total, entry.pending])).toEqual([["Payments", 3, 1]]);
    expect((await scopedCampaignProgress(database.prisma, security, campaignId)).map((entry) => entry.teamName).sort()).toEqual(["Payments", "Platform", "Web"]);

    expect(await campaignListProgress(database.prisma, payOwner, [campaignId])).toEqual(new Map([[campaignId, { total: 3, pending: 1 }]]));
    expect(await campaignListProgress(database.prisma, security, [campaignId])).toEqual(new Map([[campaignId, { total: 5, pending: 2 }]]));
  });

  it("counts undecided items after the deadline as overdue, per reviewer team, up to the close", async () => {
    const campaign = await campaignRow();
    expect(campaign.deadline?.toISOString()).toBe("2026-11-11T10:00:00.000Z");
    const after = await campaignReport(database.prisma, security, campaign, new Date("2026-11-12T00:00:00Z"));
    expect(after.overdue).toBe(2);
    expect(after.overdueByTeam).toEqual([
      { teamId: teams.Payments, teamName: "Payments", overdue: 1 },
      { teamId: teams.Platform, teamName: "Platform", overdue: 1 },
    ]);
    expect(after.completion).toHaveLength(12);
    // Closed before its deadline: nothing was overdue, and the chart ends at the close.
    const closedEarly = { ...campaign, closedAt: new Date("2026-11-05T12:00:00Z") };
    const report = await campaignReport(database.prisma, security, closedEarly, new Date("2026-12-01T00:00:00Z"));
    expect(report.overdue).toBe(0);
    expect(report.completion.at(-1)?.day).toBe("2026-11-05");
    expect((await campaignReport(database.prisma, payOwner, campaign, new Date("2026-11-12T00:00:00Z"))).overdueByTeam).toEqual([
      { teamId: teams.Payments, teamName: "Payments", overdue: 1 },
    ]);
  });

  it("has no completion days before a launch", async () => {
    const draft = await createCampaign(database.prisma, security, { name: "later" }, { now: LAUNCH });
    const report = await campaignReport(database.prisma, security, { ...(await database.prisma.campaign.findUniqueOrThrow({ where: { id: draft.id } })) });
    expect(report).toMatchObject({ total: 0, completion: [], decisions: expect.arrayContaining([{ decision: "undecided", count: 0 }]) });
  });
});

describe("campaign items table", () => {
  const page = (who: CampaignActor, query: Record<string, string> = {}) =>
    listCampaignItemsPage(database.prisma, who, campaignId, itemTableQuerySchema.parse(query));
  const names = (result: Awaited<ReturnType<typeof page>>) => result.items.map((item) => item.identity.name);

  it("sorts the riskiest first by default, and by any column both ways", async () => {
    expect(names(await page(security)).slice(0, 2)).toEqual(["frontend", "api"]);
    expect(names(await page(security, { sort: "identity" }))).toEqual(["api", "batch", "cron", "frontend", "orphan"]);
    expect(names(await page(security, { sort: "identity", dir: "desc" }))).toEqual(["orphan", "frontend", "cron", "batch", "api"]);
    expect(names(await page(security, { sort: "namespace" }))).toEqual(["api", "batch", "cron", "orphan", "frontend"]);
    const byReviewer = await page(security, { sort: "reviewer" });
    expect(byReviewer.items.map((item) => item.reviewerTeam?.name)).toEqual(["Payments", "Payments", "Payments", "Platform", "Web"]);
  });

  it("filters on status, decision and reviewer team, and pages", async () => {
    expect(names(await page(security, { decision: "undecided", sort: "identity" }))).toEqual(["cron", "orphan"]);
    expect(names(await page(security, { decision: "approve", sort: "identity" }))).toEqual(["api", "frontend"]);
    expect(names(await page(security, { status: "decided", team: teams.Payments, sort: "identity" }))).toEqual(["api", "batch"]);
    const paged = await page(security, { sort: "identity", pageSize: "10", page: "1" });
    expect(paged.total).toBe(5);
    expect((await page(security, { sort: "identity", page: "2" })).items).toEqual([]);
    // Garbage in the URL falls back to the defaults rather than failing the page.
    expect(itemTableQuerySchema.parse({ sort: "nope", status: "x", page: "-3" })).toMatchObject({ sort: "risk", status: undefined, page: 1 });
  });

  it("shows an owner only its teams' items, whatever the filter asks", async () => {
    expect(names(await page(payOwner, { sort: "identity" }))).toEqual(["api", "batch", "cron"]);
    const other = await page(payOwner, { team: teams.Web });
    expect(other).toEqual({ total: 0, items: [] });
  });
});
