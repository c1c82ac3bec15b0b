import { beforeAll, describe, expect, it } from "vitest";
import { setupTestDatabase } from "@/lib/testing/database";
import { executeAction } from "@/lib/auth/action";
import type { SessionUser } from "@/lib/auth/users";
import { createRuleAction, createTeamAction, deleteRuleAction } from "./definitions";

const database = setupTestDatabase();
const security: SessionUser = { id: "u-sec", email: "sec@example.test", name: "Sec", role: "security" };
const auditor: SessionUser = { id: "u-aud", email: "aud@example.test", name: "Aud", role: "auditor" };
const owner: SessionUser = { id: "u-own", email: "own@example.test", name: "Own", role: "owner" };
let clusterId = "";

beforeAll(async () => {
  const db = database.prisma;
  await db.user.createMany({
    data: [security, auditor, owner].map(({ id, email, name, role }) => ({ id, email, name, role })),
  });
  const cluster = await db.cluster.create({ data: { name: "demo", apiServerUrl: "https://127.0.0.1:6443" } });
  clusterId = cluster.id;
  await db.identity.createMany({
    data: ["payments-api", "payments-worker"].map((name) => ({
      clusterId,
      kind: "ServiceAccount" as const,
      namespace: "payments-prod",
      name,
      username: `system:serviceaccount:payments-prod:${name}`,
    })),
  });
});

const ownersOf = async () =>
  (
    await database.prisma.identity.findMany({
      where: { clusterId },
      select: { ownerTeamId: true, ownerSource: true },
    })
  ).map((identity) => identity);

describe("teams page actions", () => {
  it("a security engineer creates a team, and a namespace rule owns its identities at once; deleting the rule disowns them", async () => {
    const team = await executeAction(createTeamAction, security, { name: "Payments" });
    if (!team.ok) throw new Error(team.error);
    expect(team.data).toMatchObject({ name: "Payments", slug: "payments" });
    expect(await executeAction(createTeamAction, security, { name: "payments " })).toMatchObject({
      ok: false,
      status: 409,
    });

    const rule = await executeAction(createRuleAction, security, {
      namespacePattern: "payments-*",
      teamId: team.data.id,
      clusterId: null,
      priority: 50,
    });
    if (!rule.ok) throw new Error(rule.error);
    expect(rule.data.reanalyzedClusters).toBe(1);
    expect(await ownersOf()).toEqual([
      { ownerTeamId: team.data.id, ownerSource: "namespaceRule" },
      { ownerTeamId: team.data.id, ownerSource: "namespaceRule" },
    ]);

    expect(await executeAction(deleteRuleAction, security, { id: rule.data.id })).toEqual({
      ok: true,
      data: { id: rule.data.id, reanalyzedClusters: 1 },
    });
    expect((await ownersOf()).map((identity) => identity.ownerTeamId)).toEqual([null, null]);
    expect(await executeAction(deleteRuleAction, security, { id: rule.data.id })).toMatchObject({
      ok: false,
      status: 404,
    });
  });

  it("refuses auditors, owners, bad patterns and unknown teams or clusters, changing nothing", async () => {
    const db = database.prisma;
    const teamId = (await db.team.findFirstOrThrow()).id;
    const before = { teams: await db.team.count(), rules: await db.ownershipRule.count() };
    for (const user of [auditor, owner]) {
      expect(await executeAction(createTeamAction, user, { name: "Sneaky" })).toMatchObject({
        ok: false,
        status: 403,
      });
      expect(await executeAction(createRuleAction, user, { namespacePattern: "*", teamId })).toMatchObject({
        ok: false,
        status: 403,
      });
    }
    expect(
      await executeAction(createRuleAction, security, { namespacePattern: "Payments/*", teamId }),
    ).toMatchObject({
      ok: false,
      status: 400,
      fieldErrors: { namespacePattern: [expect.any(String)] },
    });
    expect(
      await executeAction(createRuleAction, security, { namespacePattern: "x-*", teamId: "missing" }),
    ).toMatchObject({ ok: false, status: 404 });
    expect(
      await executeAction(createRuleAction, security, {
        namespacePattern: "x-*",
        teamId,
        clusterId: "missing",
      }),
    ).toMatchObject({ ok: false, status: 404 });
    expect(await executeAction(createTeamAction, security, { name: "!!!" })).toMatchObject({
      ok: false,
      status: 422,
    });
    expect({ teams: await db.team.count(), rules: await db.ownershipRule.count() }).toEqual(before);
    const denied = await db.auditLogEntry.count({
      where: { outcome: "denied", action: { in: ["team.create", "ownershipRule.create"] } },
    });
    expect(denied).toBe(4);
  });
});
