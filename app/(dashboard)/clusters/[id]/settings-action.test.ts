import { beforeAll, describe, expect, it } from "vitest";
import { executeAction } from "@/lib/auth/action";
import type { SessionUser } from "@/lib/auth/users";
import { setupTestDatabase } from "@/lib/testing/database";
import { updateSettingsAction } from "./definitions";

const database = setupTestDatabase();
const user = (role: SessionUser["role"]): SessionUser => ({ id: `u-${role}`, email: `${role}@example.test`, name: role, role });
const stored = async () => (await database.prisma.cluster.findUniqueOrThrow({ where: { id: "c-prod" } })).settings;

beforeAll(async () => {
  await database.prisma.user.createMany({ data: (["security", "auditor"] as const).map((role) => ({ ...user(role) })) });
  await database.prisma.cluster.create({ data: { id: "c-prod", name: "prod", apiServerUrl: "https://prod.example:6443", settings: { syncIntervalMinutes: 15 } } });
});

describe("updateSettingsAction", () => {
  it("is refused to an auditor, whatever the page showed, and the refusal is audited", async () => {
    expect(await executeAction(updateSettingsAction, user("auditor"), { clusterId: "c-prod", rotationDays: 30 })).toMatchObject({ ok: false, status: 403 });
    expect(await stored()).toEqual({ syncIntervalMinutes: 15 });
    expect(await database.prisma.auditLogEntry.count({ where: { action: "cluster.settings_update", outcome: "denied" } })).toBe(1);
  });

  it("answers field errors the form can show next to each field", async () => {
    const result = await executeAction(updateSettingsAction, user("security"), { clusterId: "c-prod", clusterCidrs: ["10.0.0.0/8", "10.0.0.1"], usageWindowDays: 0 });
    expect(result).toMatchObject({ ok: false, status: 400 });
    expect(!result.ok && result.fieldErrors).toEqual({ "clusterCidrs.1": [expect.stringMatching(/CIDR/)], usageWindowDays: [expect.any(String)] });
    expect(await stored()).toEqual({ syncIntervalMinutes: 15 });
  });

  it("saves a security engineer's change beside the other keys and answers the settings in effect", async () => {
    const result = await executeAction(updateSettingsAction, user("security"), { clusterId: "c-prod", clusterCidrs: ["10.0.0.0/8"], rotationDays: 30 });
    expect(result).toMatchObject({ ok: true, data: { changed: ["clusterCidrs", "rotationDays"], settings: { clusterCidrs: ["10.0.0.0/8"], rotationDays: 30, usageWindowDays: 90 } } });
    expect(await stored()).toEqual({ syncIntervalMinutes: 15, clusterCidrs: ["10.0.0.0/8"], rotationDays: 30 });
    const retention = await executeAction(updateSettingsAction, user("security"), { clusterId: "c-prod", usageRetentionDays: 7 });
    expect(retention).toMatchObject({ ok: false, status: 422, error: expect.stringMatching(/usage window/) });
  });
});
