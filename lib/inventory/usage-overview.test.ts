// The overview's usage figures: identities with the most unused access, unused identities per owning team.
import { beforeAll, describe, expect, it } from "vitest";
import type { Prisma } from "@/lib/db";
import { setupTestDatabase } from "@/lib/testing/database";
import { getInventoryOverview } from "./overview";

const database = setupTestDatabase();
const NOW = new Date("2026-11-27T00:00:00Z");
const admin = { id: "u-admin", role: "admin" as const };
const payOwner = { id: "u-pay", role: "owner" as const };

beforeAll(async () => {
  const db = database.prisma;
  await db.user.create({ data: { id: payOwner.id, email: "pay@example.test", name: "Pay", role: "owner" } });
  await db.team.create({ data: { id: "t-pay", name: "Payments", slug: "payments", members: { create: { userId: payOwner.id } } } });
  await db.team.create({ data: { id: "t-ops", name: "Ops", slug: "ops" } });
  await db.cluster.create({ data: { id: "c1", name: "prod", apiServerUrl: "https://prod.example:6443" } });
  const identities: [string, string | null, boolean][] = [
    ["checkout", "t-pay", false],
    ["refunds", "t-pay", false],
    ["ledger", "t-pay", false],
    ["backup", "t-ops", false],
    ["orphan", null, false],
    ["orphan-2", null, false],
    ["gone", null, true],
  ];
  await db.identity.createMany({
    data: identities.map(([name, team, deleted]) => ({
      id: `i-${name}`,
      clusterId: "c1",
      kind: "ServiceAccount" as const,
      namespace: "apps",
      name,
      username: `system:serviceaccount:apps:${name}`,
      ownerTeamId: team,
      deletedAt: deleted ? NOW : null,
    })),
  });
  const finding = (identity: string, type: string, details: Prisma.InputJsonObject = {}, extra: object = {}) => ({
    clusterId: "c1",
    identityId: `i-${identity}`,
    type,
    severity: "medium" as const,
    title: type,
    details,
    fingerprint: `${type}:${identity}`,
    ...extra,
  });
  await db.finding.createMany({
    data: [
      finding("checkout", "unused-permissions", { removedCount: 3, keptCount: 2 }),
      finding("refunds", "unused-permissions", { removedCount: 7, keptCount: 1 }),
      finding("backup", "unused-permissions", { removedCount: 5, keptCount: 0 }),
      // Accepted until after NOW, resolved, or on a deleted identity: not counted.
      finding("ledger", "unused-permissions", { removedCount: 50, keptCount: 0 }, { acceptedUntil: new Date(NOW.getTime() + 86_400_000) }),
      finding("orphan", "unused-permissions", { removedCount: 40, keptCount: 0 }, { resolvedAt: NOW }),
      finding("gone", "unused-permissions", { removedCount: 30, keptCount: 0 }),
      finding("ledger", "unused"),
      finding("backup", "unused"),
      finding("orphan", "unused"),
      finding("orphan-2", "unused"),
      finding("gone", "unused"),
      finding("refunds", "unused", {}, { resolvedAt: NOW }),
    ],
  });
});

describe("usage figures of the overview", () => {
  it("ranks identities by unused granted rules, from open unaccepted findings on live identities", async () => {
    const { mostUnusedAccess } = await getInventoryOverview(admin, NOW);
    expect(mostUnusedAccess.map((row) => [row.name, row.unusedRules, row.grantedRules, row.team])).toEqual([
      ["refunds", 7, 8, "Payments"],
      ["backup", 5, 5, "Ops"],
      ["checkout", 3, 5, "Payments"],
    ]);
    expect(mostUnusedAccess[0]).toMatchObject({ id: "i-refunds", cluster: "prod", kind: "ServiceAccount", namespace: "apps" });
  });

  it("counts unused identities per owning team, with an Unowned bucket", async () => {
    const { unusedByOwner } = await getInventoryOverview(admin, NOW);
    expect(unusedByOwner).toEqual([
      { teamId: null, team: "Unowned", slug: null, count: 2 },
      { teamId: "t-ops", team: "Ops", slug: "ops", count: 1 },
      { teamId: "t-pay", team: "Payments", slug: "payments", count: 1 },
    ]);
  });

  it("an owner sees only its teams' identities", async () => {
    const overview = await getInventoryOverview(payOwner, NOW);
    expect(overview.mostUnusedAccess.map((row) => row.name)).toEqual(["refunds", "checkout"]);
    expect(overview.unusedByOwner).toEqual([{ teamId: "t-pay", team: "Payments", slug: "payments", count: 1 }]);
  });
});
