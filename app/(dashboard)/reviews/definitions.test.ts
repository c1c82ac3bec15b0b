// The reviewer's actions as an attacker would call them (whatever the page showed): an auditor, another team's
// owner, a stale decision; and what a reviewer gets back when the cluster cannot preview.
import { beforeAll, describe, expect, it } from "vitest";
import { executeAction } from "@/lib/auth/action";
import type { SessionUser } from "@/lib/auth/users";
import { insertCluster } from "@/lib/permissions/test-support/inventory-rows";
import { setupTestDatabase } from "@/lib/testing/database";
import { applyAction, bulkApproveAction, decideAction, retryAction, rollbackAction } from "./definitions";

const database = setupTestDatabase();
const user = (id: string, role: SessionUser["role"]): SessionUser => ({
  id,
  email: `${id}@example.test`,
  name: id,
  role,
});
const security = user("u-sec", "security");
const payOwner = user("u-pay", "owner");
const webOwner = user("u-web", "owner");
const auditor = user("u-aud", "auditor");
const items: Record<string, string> = {};

const item = (name: string) => database.prisma.reviewItem.findUniqueOrThrow({ where: { id: items[name] } });

beforeAll(async () => {
  const db = database.prisma;
  await db.user.createMany({
    data: [security, payOwner, webOwner, auditor].map(({ id, email, name, role }) => ({
      id,
      email,
      name,
      role,
    })),
  });
  const pay = await db.team.create({
    data: { name: "Payments", slug: "payments", members: { create: { userId: payOwner.id } } },
  });
  await db.team.create({ data: { name: "Web", slug: "web", members: { create: { userId: webOwner.id } } } });
  // No remediation identity: decisions can be recorded but not carried out.
  const cluster = await insertCluster(db, "prod");
  const campaign = await db.campaign.create({
    data: {
      name: "Q4",
      status: "active",
      createdById: security.id,
      deadline: new Date(Date.now() + 86_400_000),
    },
  });
  for (const [name, severity] of [
    ["api", "critical"],
    ["batch", "low"],
    ["cron", "low"],
  ] as const) {
    const identity = await db.identity.create({
      data: {
        clusterId: cluster.id,
        kind: "ServiceAccount",
        namespace: "payments",
        name,
        username: `system:serviceaccount:payments:${name}`,
      },
    });
    const row = await db.reviewItem.create({
      data: {
        campaignId: campaign.id,
        clusterId: cluster.id,
        identityId: identity.id,
        reviewerTeamId: pay.id,
        severity,
        evidence: {},
        recommendation: "approve",
        recommendationReason: "test",
      },
    });
    items[name] = row.id;
  }
});

describe("decideAction", () => {
  it("is refused to an auditor before anything is read or written", async () => {
    expect(
      await executeAction(decideAction, auditor, {
        itemId: items.batch,
        decision: "approve",
        expectedVersion: 0,
      }),
    ).toMatchObject({ ok: false, status: 403 });
    expect(await item("batch")).toMatchObject({ status: "pending", decision: null });
  });

  it("refuses another team's owner (the team is read from the item) and records the denial", async () => {
    const result = await executeAction(decideAction, webOwner, {
      itemId: items.batch,
      decision: "revoke",
      expectedVersion: 0,
    });
    expect(result).toMatchObject({ ok: false, status: 403 });
    expect(await item("batch")).toMatchObject({ status: "pending", decision: null, version: 0 });
    const denials = await database.prisma.auditLogEntry.findMany({
      where: { actorId: webOwner.id, outcome: "denied" },
      select: { action: true, targetId: true },
    });
    expect(denials).toEqual([
      { action: "campaign.item.decide", targetId: items.batch },
      { action: "campaign.item.decide_preview", targetId: items.batch },
    ]);
  });

  it("refuses approving a critical item without a comment, and grants that are not RBAC objects, recording nothing", async () => {
    expect(
      await executeAction(decideAction, payOwner, {
        itemId: items.api,
        decision: "approve",
        expectedVersion: 0,
      }),
    ).toMatchObject({ ok: false, status: 422, error: expect.stringMatching(/comment/) });
    const badGrants = await executeAction(decideAction, payOwner, {
      itemId: items.api,
      decision: "shrink",
      expectedVersion: 0,
      grantsYaml: "apiVersion: v1\nkind: Secret\nmetadata: { name: x }",
    });
    expect(badGrants).toMatchObject({
      ok: false,
      status: 422,
      error: expect.stringMatching(/must be a Role/),
    });
    expect(await item("api")).toMatchObject({ status: "pending", decision: null });
  });

  it("records the owner's decision and says why it has no preview when the cluster has no remediation identity", async () => {
    const result = await executeAction(decideAction, payOwner, {
      itemId: items.batch,
      decision: "revoke",
      expectedVersion: 0,
      deleteServiceAccount: true,
    });
    expect(result).toEqual({
      ok: true,
      data: { outcome: "decided", previewError: expect.stringMatching(/remediation identity/) },
    });
    expect(await item("batch")).toMatchObject({
      status: "decided",
      decision: "revoke",
      decidedById: payOwner.id,
      version: 1,
    });
  });

  it("tells the loser of a race whose decision stands, without changing it", async () => {
    const result = await executeAction(decideAction, security, {
      itemId: items.batch,
      decision: "approve",
      comment: "fine",
      expectedVersion: 0,
    });
    expect(result).toMatchObject({
      ok: true,
      data: {
        outcome: "conflict",
        message: expect.stringMatching(/already decided/),
        current: { decision: "revoke", decidedBy: "u-pay <u-pay@example.test>", status: "decided" },
      },
    });
    expect(await item("batch")).toMatchObject({
      decision: "revoke",
      decidedById: payOwner.id,
      comment: null,
    });
  });

  it("previews again (no new decision) for the reviewer who saw the recorded version", async () => {
    const result = await executeAction(decideAction, payOwner, {
      itemId: items.batch,
      decision: "revoke",
      expectedVersion: 1,
    });
    expect(result).toMatchObject({
      ok: false,
      status: 422,
      error: expect.stringMatching(/remediation identity/),
    });
    expect(await item("batch")).toMatchObject({ decision: "revoke", version: 1 });
  });
});

describe("the other actions", () => {
  it("bulk approve says which items it refused and why, approving the reviewer's own", async () => {
    const refused = await executeAction(bulkApproveAction, webOwner, {
      items: [{ id: items.cron, expectedVersion: 0 }],
    });
    expect(refused).toMatchObject({ ok: true, data: [{ id: items.cron, outcome: "refused" }] });
    const result = await executeAction(bulkApproveAction, payOwner, {
      items: [
        { id: items.cron, expectedVersion: 0 },
        { id: items.api, expectedVersion: 0 },
      ],
    });
    expect(result).toMatchObject({
      ok: true,
      data: [
        { id: items.cron, outcome: "approved" },
        { id: items.api, outcome: "notLowRisk" },
      ],
    });
    expect(await item("cron")).toMatchObject({ status: "decided", decision: "approve" });
  });

  it("retry, apply and rollback find nothing another team's owner may act on", async () => {
    expect(await executeAction(retryAction, webOwner, { itemId: items.batch })).toMatchObject({
      ok: false,
      status: 404,
    });
    expect(await executeAction(applyAction, auditor, { changeSetId: "cs-x" })).toMatchObject({
      ok: false,
      status: 403,
    });
    expect(await executeAction(rollbackAction, payOwner, { changeSetId: "cs-missing" })).toMatchObject({
      ok: false,
      status: 409,
    });
  });
});
