import { beforeAll, describe, expect, it } from "vitest";
import { executeAction } from "@/lib/auth/action";
import type { SessionUser } from "@/lib/auth/users";
import { createTeam } from "@/lib/owners/teams";
import { insertCluster, insertKubeObjects } from "@/lib/permissions/test-support/inventory-rows";
import { setupTestDatabase } from "@/lib/testing/database";
import { cancelCampaignAction, closeCampaignAction, createCampaignAction, launchCampaignAction, reassignItemAction, stopScheduleAction } from "./definitions";

const database = setupTestDatabase();
const user = (role: SessionUser["role"]): SessionUser => ({ id: `u-${role}`, email: `${role}@example.test`, name: role, role });
let clusterId: string;
let teamId: string;

beforeAll(async () => {
  await database.prisma.user.createMany({ data: (["security", "owner", "auditor"] as const).map((role) => user(role)) });
  clusterId = (await insertCluster(database.prisma, "prod")).id;
  await insertKubeObjects(database.prisma, clusterId, [{ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "api", namespace: "payments" } }]);
  teamId = (await createTeam(database.prisma, { name: "Platform" })).id;
});

describe("campaign actions", () => {
  it("refuse owners and auditors whatever the page showed, and audit the refusal", async () => {
    for (const role of ["owner", "auditor"] as const) {
      expect(await executeAction(createCampaignAction, user(role), { name: "mine", launch: true })).toMatchObject({ ok: false, status: 403 });
    }
    expect(await database.prisma.campaign.count()).toBe(0);
    expect(await database.prisma.auditLogEntry.count({ where: { action: "campaign.create", outcome: "denied" } })).toBe(2);
  });

  it("answer field errors by path, a past deadline included", async () => {
    const result = await executeAction(createCampaignAction, user("security"), { name: "", schedule: { cron: "every tuesday" }, reminderDaysBefore: [0] });
    expect(result).toMatchObject({ ok: false, status: 400 });
    expect(!result.ok && Object.keys(result.fieldErrors ?? {}).sort()).toEqual(["name", "reminderDaysBefore.0", "schedule.cron"]);
    const past = await executeAction(createCampaignAction, user("security"), { name: "late", deadline: "2020-01-01T00:00:00Z" });
    expect(!past.ok && past.fieldErrors).toEqual({ deadline: ["The deadline must be in the future."] });
    expect(await database.prisma.campaign.count()).toBe(0);
  });

  it("create, launch, reassign and close for the security team; the auditor cannot close", async () => {
    const deadline = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const created = await executeAction(createCampaignAction, user("security"), { name: "Q1", scope: { clusterIds: [clusterId] }, deadline });
    expect(created).toMatchObject({ ok: true, data: { items: 0 } });
    const campaignId = created.ok ? created.data.id : "";
    const stored = await database.prisma.campaign.findUniqueOrThrow({ where: { id: campaignId } });
    expect(stored).toMatchObject({ status: "draft", deadline: new Date(deadline) });
    expect(await executeAction(launchCampaignAction, user("security"), { campaignId })).toEqual({ ok: true, data: { items: 1 } });

    const item = await database.prisma.reviewItem.findFirstOrThrow({ where: { campaignId } });
    expect(await executeAction(reassignItemAction, user("auditor"), { itemId: item.id, teamId, expectedVersion: item.version })).toMatchObject({ ok: false, status: 403 });
    expect(await executeAction(reassignItemAction, user("security"), { itemId: item.id, teamId, expectedVersion: item.version })).toEqual({ ok: true, data: { version: 1 } });
    expect(await executeAction(reassignItemAction, user("security"), { itemId: item.id, teamId, expectedVersion: 0 })).toMatchObject({ ok: false, status: 409 });

    expect(await executeAction(closeCampaignAction, user("auditor"), { campaignId })).toMatchObject({ ok: false, status: 403 });
    expect(await executeAction(closeCampaignAction, user("security"), { campaignId })).toEqual({ ok: true, data: null });
    expect(await executeAction(cancelCampaignAction, user("security"), { campaignId })).toMatchObject({ ok: false, status: 409, error: "This campaign is closed; it cannot be cancelled." });
    expect((await database.prisma.campaign.findUniqueOrThrow({ where: { id: campaignId } })).status).toBe("closed");
  });

  it("stop a recurring schedule for the security team only; a one-off campaign has none to stop", async () => {
    const created = await executeAction(createCampaignAction, user("security"), { name: "Quarterly", schedule: { cron: "quarterly" } });
    expect(created.ok).toBe(true);
    const campaignId = created.ok ? created.data.id : "";
    expect(await executeAction(stopScheduleAction, user("auditor"), { campaignId })).toMatchObject({ ok: false, status: 403 });
    expect(await executeAction(stopScheduleAction, user("security"), { campaignId })).toMatchObject({ ok: true });
    const { schedule } = await database.prisma.campaign.findUniqueOrThrow({ where: { id: campaignId }, include: { schedule: true } });
    expect(schedule?.enabled).toBe(false);
    const oneOff = await executeAction(createCampaignAction, user("security"), { name: "Once" });
    const oneOffId = oneOff.ok ? oneOff.data.id : "";
    expect(await executeAction(stopScheduleAction, user("security"), { campaignId: oneOffId })).toMatchObject({ ok: false, status: 409 });
  });
});
