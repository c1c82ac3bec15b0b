// The campaign tick on a real database: schedules launch once, reminders go out once per occasion, and each
// deadline is handled exactly once even with two workers at the same moment.
import { beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient, type PrismaClient } from "@/lib/db";
import type { KubeObject } from "@/lib/kube-sim";
import type { NotificationConfig } from "@/lib/notifications/config";
import { assignOwner } from "@/lib/owners/assign-owner";
import { addTeamMember, createTeam } from "@/lib/owners/teams";
import { insertCluster, insertKubeObjects } from "@/lib/permissions/test-support/inventory-rows";
import { setupTestDatabase } from "@/lib/testing/database";
import type { CampaignActor } from "./access";
import { handleDeadlines, runDueSchedules, sendReminders } from "./campaign-jobs";
import { closeCampaign } from "./close-campaign";
import { createCampaign } from "./create-campaign";
import { decideItem } from "./decide-item";
import { stopCampaignSchedule } from "./stop-schedule";

const DAY = 86_400_000;
const NOW = new Date("2026-12-02T08:00:00Z");
const database = setupTestDatabase();
const notifications: NotificationConfig = {
  email: { url: "smtp://127.0.0.1:2525", from: "keyward@example.test" },
  webhook: { url: "https://hooks.example.test/keyward" },
  linkBase: null,
};
const security: CampaignActor = { actor: { type: "user", id: "u-sec", label: "sec@example.test" }, user: { id: "u-sec", role: "security" } };
const teams: Record<string, string> = {};

const sa = (namespace: string, name: string): KubeObject => ({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace } });

beforeAll(async () => {
  const db = database.prisma;
  await db.user.createMany({
    data: [
      { id: "u-sec", email: "sec@example.test", name: "Sec", role: "security" },
      { id: "u-pay", email: "pay@example.test", name: "Pay", role: "owner" },
      { id: "u-web", email: "web@example.test", name: "Web", role: "owner" },
    ],
  });
  for (const name of ["Payments", "Web"]) teams[name] = (await createTeam(db, { name })).id;
  await addTeamMember(db, teams.Payments, "u-pay");
  await addTeamMember(db, teams.Web, "u-web");
  const cluster = await insertCluster(db, "prod");
  await insertKubeObjects(db, cluster.id, [sa("payments", "api"), sa("payments", "batch"), sa("web", "frontend")]);
  for (const identity of await db.identity.findMany({ where: { clusterId: cluster.id } })) {
    await assignOwner(db, { identityId: identity.id, teamId: identity.namespace === "web" ? teams.Web : teams.Payments, assignedBy: "test" }, NOW);
  }
});

const twoClients = () => [createPrismaClient(process.env.DATABASE_URL!), createPrismaClient(process.env.DATABASE_URL!)];
const disconnect = (clients: PrismaClient[]) => Promise.all(clients.map((client) => client.$disconnect()));
const outbox = (kind: string, dedupe: string) =>
  database.prisma.notificationOutbox.findMany({ where: { kind, dedupeKey: { contains: dedupe } }, orderBy: { dedupeKey: "asc" } });

describe("schedules", () => {
  it("a due schedule launches one campaign from its template, however many workers tick", async () => {
    const { scheduleId } = await createCampaign(database.prisma, security, { name: "Monthly review", schedule: { cron: "monthly" }, durationDays: 10 }, { now: NOW });
    const schedule = await database.prisma.campaignSchedule.findUniqueOrThrow({ where: { id: scheduleId! } });
    expect(schedule.nextRunAt.toISOString()).toBe("2027-01-01T09:00:00.000Z");
    // Not due yet.
    expect(await runDueSchedules(database.prisma, { now: NOW, notifications })).toEqual([]);

    const due = new Date("2027-01-01T09:00:30Z");
    const clients = twoClients();
    try {
      const runs = await Promise.all(clients.map((client) => runDueSchedules(client, { now: due, notifications })));
      expect(runs.flat()).toHaveLength(1);
      const [campaignId] = runs.flat();
      const campaign = await database.prisma.campaign.findUniqueOrThrow({ where: { id: campaignId }, include: { items: true } });
      expect(campaign).toMatchObject({ name: "Monthly review", status: "active", scheduleId, createdById: "u-sec", durationDays: 10 });
      expect(campaign.deadline?.getTime()).toBe(due.getTime() + 10 * DAY);
      expect(campaign.items).toHaveLength(3);
      const after = await database.prisma.campaignSchedule.findUniqueOrThrow({ where: { id: scheduleId! } });
      expect(after.nextRunAt.toISOString()).toBe("2027-02-01T09:00:00.000Z");
      expect(after.lastRunAt?.getTime()).toBe(due.getTime());
      // Launch notices: one per reviewer team and channel (webhook) or member (email).
      expect((await outbox("launch", campaignId)).map((row) => row.recipient).sort()).toEqual(["pay@example.test", "web@example.test", "webhook", "webhook"]);
      expect(await runDueSchedules(database.prisma, { now: due, notifications })).toEqual([]);
    } finally {
      await disconnect(clients);
    }
  });
});

describe("stopping a schedule", () => {
  it("a stopped schedule launches nothing more; only the security team stops it, once", async () => {
    const { id, scheduleId } = await createCampaign(database.prisma, security, { name: "Quarterly review", schedule: { cron: "quarterly" } }, { now: NOW });
    const owner: CampaignActor = { actor: { type: "user", id: "u-pay", label: "pay@example.test" }, user: { id: "u-pay", role: "owner" } };
    await expect(stopCampaignSchedule(database.prisma, owner, id)).rejects.toMatchObject({ status: 403 });
    await stopCampaignSchedule(database.prisma, security, id);
    await expect(stopCampaignSchedule(database.prisma, security, id)).rejects.toMatchObject({ status: 409 });
    const schedule = await database.prisma.campaignSchedule.findUniqueOrThrow({ where: { id: scheduleId! } });
    expect(schedule.enabled).toBe(false);
    expect(await runDueSchedules(database.prisma, { now: new Date(schedule.nextRunAt.getTime() + 60_000), notifications })).toEqual([]);
    expect(await database.prisma.auditLogEntry.count({ where: { action: "campaign.schedule.stop", targetId: scheduleId! } })).toBe(1);
  });
});

describe("reminders", () => {
  it("sends each due reminder once to the teams that still have undecided items", async () => {
    const { id } = await createCampaign(database.prisma, security, { name: "Reminded", durationDays: 14, reminderDaysBefore: [1, 7], launch: true }, { now: NOW, notifications });
    const deadline = NOW.getTime() + 14 * DAY;
    expect(await sendReminders(database.prisma, { now: new Date(deadline - 8 * DAY), notifications })).toBe(0);
    // Payments decides everything first: only Web is reminded.
    for (const item of await database.prisma.reviewItem.findMany({ where: { campaignId: id, reviewerTeamId: teams.Payments } })) {
      await decideItem(database.prisma, security, item.id, { decision: "approve", expectedVersion: item.version }, NOW);
    }
    const weekBefore = new Date(deadline - 6 * DAY);
    expect(await sendReminders(database.prisma, { now: weekBefore, notifications })).toBe(2);
    expect(await sendReminders(database.prisma, { now: weekBefore, notifications })).toBe(0);
    expect((await outbox("reminder", id)).map((row) => [row.recipient, row.dedupeKey.includes(":7d:")])).toEqual([
      ["web@example.test", true],
      ["webhook", true],
    ]);
    expect(await sendReminders(database.prisma, { now: new Date(deadline - DAY / 2), notifications })).toBe(2);
    expect(await outbox("reminder", id)).toHaveLength(4);
    // None after the deadline.
    expect(await sendReminders(database.prisma, { now: new Date(deadline + 1), notifications })).toBe(0);
  });
});

describe("closing", () => {
  it("tells the security team how much was decided", async () => {
    const { id } = await createCampaign(database.prisma, security, { name: "Closed", launch: true }, { now: NOW, notifications });
    await closeCampaign(database.prisma, security, id, { now: NOW, notifications });
    const rows = await outbox("close", id);
    expect(rows.map((row) => row.recipient)).toEqual(["sec@example.test", "webhook"]);
    expect(rows[0].subject).toBe('Access review "Closed" closed: 0 of 3 decided');
  });
});

describe("deadlines", () => {
  const launchWithDeadline = async (name: string, undecidedPolicy: "keep" | "revoke") => {
    const { id } = await createCampaign(database.prisma, security, { name, durationDays: 7, undecidedPolicy, launch: true }, { now: NOW });
    const items = await database.prisma.reviewItem.findMany({ where: { campaignId: id }, include: { identity: true }, orderBy: { id: "asc" } });
    const frontend = items.find((item) => item.identity!.name === "frontend")!;
    await decideItem(database.prisma, security, frontend.id, { decision: "approve", comment: "needed", expectedVersion: 0 }, NOW);
    return { id, frontendId: frontend.id, after: new Date(NOW.getTime() + 7 * DAY + 60_000) };
  };

  it("keep: two workers at once flag the undecided items and escalate exactly once", async () => {
    const { id, frontendId, after } = await launchWithDeadline("Kept", "keep");
    const clients = twoClients();
    try {
      const outcomes = (await Promise.all(clients.map((client) => handleDeadlines(client, { now: after, notifications })))).flat();
      expect(outcomes).toEqual([{ campaignId: id, undecided: 2, flagged: 2, revoked: 0, applied: 0, failures: [] }]);
    } finally {
      await disconnect(clients);
    }
    const items = await database.prisma.reviewItem.findMany({ where: { campaignId: id } });
    expect(items.filter((item) => item.flagged).map((item) => item.status)).toEqual(["pending", "pending"]);
    expect(items.find((item) => item.id === frontendId)).toMatchObject({ flagged: false, decision: "approve" });
    expect((await outbox("escalation", id)).map((row) => row.recipient)).toEqual(["sec@example.test", "webhook"]);
    expect(await database.prisma.auditLogEntry.count({ where: { action: "campaign.deadline", targetId: id } })).toBe(1);
    expect((await database.prisma.campaign.findUniqueOrThrow({ where: { id } })).deadlineHandledAt?.getTime()).toBe(after.getTime());
    expect(await handleDeadlines(database.prisma, { now: new Date(after.getTime() + DAY), notifications })).toEqual([]);
  });

  it("revoke: two workers at once decide each undecided item revoke exactly once and try to carry it out", async () => {
    const { id, frontendId, after } = await launchWithDeadline("Revoked", "revoke");
    const clients = twoClients();
    let outcomes;
    try {
      outcomes = (await Promise.all(clients.map((client) => handleDeadlines(client, { now: after, notifications })))).flat();
    } finally {
      await disconnect(clients);
    }
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ campaignId: id, undecided: 2, revoked: 2, applied: 0 });
    // The cluster has no remediation identity: the revocations are decided and reported, not carried out.
    expect(outcomes[0].failures.map((failure) => failure.error)).toEqual(["Connect a remediation identity to carry decisions out", "Connect a remediation identity to carry decisions out"]);
    const items = await database.prisma.reviewItem.findMany({ where: { campaignId: id } });
    const revoked = items.filter((item) => item.id !== frontendId);
    expect(revoked.map((item) => [item.status, item.decision, item.decidedById, item.version])).toEqual([
      ["decided", "revoke", "system", 1],
      ["decided", "revoke", "system", 1],
    ]);
    expect(items.find((item) => item.id === frontendId)).toMatchObject({ decision: "approve", decidedById: "u-sec" });
    const decisions = await database.prisma.auditLogEntry.findMany({ where: { action: "campaign.item.decide", targetId: { in: revoked.map((item) => item.id) } } });
    expect(decisions.map((entry) => [entry.actorType, entry.actorLabel, entry.outcome])).toEqual([
      ["system", "campaign deadline", "success"],
      ["system", "campaign deadline", "success"],
    ]);
    expect(await database.prisma.auditLogEntry.count({ where: { action: "campaign.deadline", targetId: id, outcome: "failure" } })).toBe(1);
  });
});
