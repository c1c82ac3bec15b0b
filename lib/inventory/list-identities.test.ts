import { beforeAll, describe, expect, it } from "vitest";
import { setupTestDatabase } from "@/lib/testing/database";
import type { Prisma } from "@/lib/db";
import { identityFilterSchema, listIdentities, type IdentityFilter } from "./list-identities";
import { getIdentityDetail } from "./identity-detail";
import { getInventoryOverview } from "./overview";

const database = setupTestDatabase();
const DAY = 86_400_000;
const now = new Date("2026-11-27T00:00:00Z");
const daysAgo = (d: number) => new Date(now.getTime() - d * DAY);

const users = {
  admin: { id: "u-admin", role: "admin" as const },
  auditor: { id: "u-auditor", role: "auditor" as const },
  payOwner: { id: "u-pay", role: "owner" as const },
  lonelyOwner: { id: "u-lonely", role: "owner" as const },
};

beforeAll(async () => {
  const db = database.prisma;
  await db.user.createMany({
    data: Object.values(users).map((u) => ({ id: u.id, email: `${u.id}@example.test`, name: u.id, role: u.role })),
  });
  await db.team.createMany({ data: [{ id: "t-pay", name: "Payments", slug: "payments" }, { id: "t-web", name: "Web", slug: "web" }] });
  await db.teamMember.create({ data: { teamId: "t-pay", userId: users.payOwner.id } });
  await db.cluster.createMany({ data: [{ id: "c-prod", name: "prod", apiServerUrl: "https://prod" }, { id: "c-dev", name: "dev", apiServerUrl: "https://dev" }] });
  const identity = (id: string, extra: Partial<Prisma.IdentityCreateManyInput>): Prisma.IdentityCreateManyInput => ({
    id,
    clusterId: "c-prod",
    kind: "ServiceAccount",
    namespace: "payments",
    name: id,
    username: `system:serviceaccount:payments:${id}`,
    firstSeenAt: daysAgo(30),
    ...extra,
  });
  await db.identity.createMany({
    data: [
      identity("pay-api", { ownerTeamId: "t-pay", ownerSource: "annotation", maxSeverity: "critical", openFindingCount: 2, oldestCredentialAt: daysAgo(400), hasLegacyToken: true }),
      identity("pay-worker", { ownerTeamId: "t-pay", ownerSource: "namespaceRule", maxSeverity: "medium", openFindingCount: 1, oldestCredentialAt: daysAgo(10) }),
      identity("pay-gone", { ownerTeamId: "t-pay", ownerSource: "annotation", deletedAt: daysAgo(1) }),
      identity("web-frontend", { namespace: "web", username: "system:serviceaccount:web:web-frontend", ownerTeamId: "t-web", ownerSource: "manual", maxSeverity: "high", openFindingCount: 1, oldestCredentialAt: daysAgo(100) }),
      identity("orphan", { namespace: "tools", username: "system:serviceaccount:tools:orphan", maxSeverity: "low", openFindingCount: 1, oldestCredentialAt: daysAgo(45), hasLegacyToken: true }),
      identity("ci-deployer", { clusterId: "c-dev", kind: "CertificateUser", namespace: "", username: "ci-deployer", groups: ["deployers"] }),
    ],
  });
  await db.finding.createMany({
    data: [
      { clusterId: "c-prod", identityId: "pay-api", type: "cluster-admin", severity: "critical", title: "Bound to cluster-admin", owasp: ["NHI5"], csf: ["PR.AA-05"], fingerprint: "f1", firstSeenAt: daysAgo(3) },
      { clusterId: "c-prod", identityId: "pay-api", type: "legacy-token", severity: "medium", title: "Legacy token", owasp: ["NHI7", "NHI2"], csf: ["PR.AA-01"], fingerprint: "f2", firstSeenAt: daysAgo(3) },
      { clusterId: "c-prod", identityId: "pay-worker", type: "secrets-reader", severity: "medium", title: "Reads secrets", owasp: ["NHI5"], csf: ["PR.AA-05"], fingerprint: "f3", firstSeenAt: daysAgo(3) },
      // Accepted until the future: silenced, so it matches no finding-type filter.
      { clusterId: "c-prod", identityId: "web-frontend", type: "cluster-admin", severity: "critical", title: "Bound to cluster-admin", owasp: ["NHI5"], csf: ["PR.AA-05"], fingerprint: "f4", acceptedUntil: new Date(now.getTime() + 30 * DAY) },
      { clusterId: "c-prod", identityId: "web-frontend", type: "wildcard", severity: "high", title: "Wildcard", owasp: ["NHI5"], csf: [], fingerprint: "f5" },
      // Resolved: history only.
      { clusterId: "c-prod", identityId: "orphan", type: "cluster-admin", severity: "critical", title: "Bound to cluster-admin", owasp: ["NHI5"], csf: [], fingerprint: "f6", resolvedAt: daysAgo(2) },
      { clusterId: "c-prod", identityId: "orphan", type: "no-owner", severity: "low", title: "No owner", owasp: ["NHI1"], csf: [], fingerprint: "f7" },
    ],
  });
  await db.syncRun.createMany({
    data: [
      { id: "run-1", clusterId: "c-prod", trigger: "registration", status: "succeeded", startedAt: daysAgo(5), finishedAt: daysAgo(5), durationMs: 900 },
      { id: "run-2", clusterId: "c-prod", trigger: "manual", status: "succeeded", startedAt: daysAgo(0.5), finishedAt: daysAgo(0.5), durationMs: 700 },
      { id: "run-3", clusterId: "c-prod", trigger: "manual", status: "failed", startedAt: daysAgo(0.2), error: "boom" },
    ],
  });
});

async function names(user: (typeof users)[keyof typeof users], filter: Record<string, string>) {
  const parsed: IdentityFilter = identityFilterSchema.parse(filter);
  const page = await listIdentities(user, parsed, { page: 1, pageSize: 50 }, now);
  expect(page.total).toBe(page.items.length);
  return page.items.map((i) => i.name).sort();
}

describe("listIdentities", () => {
  it("lists live identities, riskiest first, with owner and cluster", async () => {
    const page = await listIdentities(users.admin, identityFilterSchema.parse({}), { page: 1, pageSize: 50 }, now);
    expect(page.items.map((i) => i.name)).toEqual(["pay-api", "web-frontend", "pay-worker", "orphan", "ci-deployer"]);
    expect(page.items[0]).toMatchObject({ ownerTeam: { slug: "payments" }, ownerSource: "annotation", cluster: { name: "prod" } });
  });

  it("filters on every column the inventory offers", async () => {
    const u = users.admin;
    expect(await names(u, { severity: "high" })).toEqual(["pay-api", "web-frontend"]);
    expect(await names(u, { owner: "unowned" })).toEqual(["ci-deployer", "orphan"]);
    expect(await names(u, { owner: "payments" })).toEqual(["pay-api", "pay-worker"]);
    expect(await names(u, { owner: "t-web" })).toEqual(["web-frontend"]);
    expect(await names(u, { credentialAgeDays: "90" })).toEqual(["pay-api", "web-frontend"]);
    expect(await names(u, { hasLegacyToken: "true" })).toEqual(["orphan", "pay-api"]);
    expect(await names(u, { hasLegacyToken: "false" })).toEqual(["ci-deployer", "pay-worker", "web-frontend"]);
    // Accepted and resolved findings do not count.
    expect(await names(u, { findingType: "cluster-admin" })).toEqual(["pay-api"]);
    expect(await names(u, { kind: "CertificateUser" })).toEqual(["ci-deployer"]);
    expect(await names(u, { cluster: "dev" })).toEqual(["ci-deployer"]);
    expect(await names(u, { cluster: "c-prod", namespace: "web" })).toEqual(["web-frontend"]);
    expect(await names(u, { q: "WORK" })).toEqual(["pay-worker"]);
    expect(await names(u, { q: "serviceaccount:tools" })).toEqual(["orphan"]);
    expect(await names(u, { q: "pay", includeDeleted: "true" })).toEqual(["pay-api", "pay-gone", "pay-worker"]);
    expect(await names(u, { severity: "", owner: "" })).toHaveLength(5);
  });

  it("rejects filters it cannot apply instead of ignoring them", () => {
    expect(identityFilterSchema.safeParse({ kind: "Robot" }).success).toBe(false);
    expect(identityFilterSchema.safeParse({ severity: "extreme" }).success).toBe(false);
    expect(identityFilterSchema.safeParse({ credentialAgeDays: "-3" }).success).toBe(false);
    expect(identityFilterSchema.safeParse({ sort: "password" }).success).toBe(false);
  });

  it("sorts on the server and walks keyset cursors through the same order as offset pages", async () => {
    for (const filter of [{ sort: "name" }, { sort: "credentialAge", dir: "desc" }, {}, { sort: "cluster", dir: "desc" }]) {
      const parsed = identityFilterSchema.parse(filter);
      const all = (await listIdentities(users.admin, parsed, { page: 1, pageSize: 50 }, now)).items.map((i) => i.id);
      const walked: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await listIdentities(users.admin, parsed, { cursor, limit: 2 }, now);
        expect(page.items.length).toBeLessThanOrEqual(2);
        walked.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(walked).toEqual(all);
      const second = await listIdentities(users.admin, parsed, { page: 2, pageSize: 2 }, now);
      expect(second.items.map((i) => i.id)).toEqual(all.slice(2, 4));
      expect(second.total).toBe(5);
    }
    const byName = await listIdentities(users.admin, identityFilterSchema.parse({ sort: "name" }), { page: 1, pageSize: 50 }, now);
    expect(byName.items.map((i) => i.name)).toEqual(["ci-deployer", "orphan", "pay-api", "pay-worker", "web-frontend"]);
  });

  it("scopes owners to their teams' identities, whatever the filter asks", async () => {
    expect(await names(users.payOwner, {})).toEqual(["pay-api", "pay-worker"]);
    expect(await names(users.payOwner, { owner: "web" })).toEqual([]);
    expect(await names(users.payOwner, { owner: "unowned" })).toEqual([]);
    expect(await names(users.lonelyOwner, {})).toEqual([]);
    expect(await names(users.auditor, {})).toHaveLength(5);
  });
});

describe("getIdentityDetail", () => {
  it("returns findings with their state and acceptance, and the cluster's sync runs", async () => {
    const detail = await getIdentityDetail(users.admin, "web-frontend");
    expect(detail?.ownerTeam?.name).toBe("Web");
    const states = Object.fromEntries(detail!.findings.map((f) => [f.type, f.state]));
    expect(states).toEqual({ "cluster-admin": "accepted", wildcard: "open" });
    expect(detail!.syncRuns.map((r) => r.id)).toEqual(["run-3", "run-2", "run-1"]);
  });

  it("answers null for identities outside the owner's scope", async () => {
    expect(await getIdentityDetail(users.payOwner, "web-frontend")).toBeNull();
    expect((await getIdentityDetail(users.payOwner, "pay-api"))?.name).toBe("pay-api");
    expect(await getIdentityDetail(users.admin, "no-such-id")).toBeNull();
  });
});

describe("getInventoryOverview", () => {
  it("counts by severity, credential age, ownership and OWASP category", async () => {
    const o = await getInventoryOverview(users.admin, now);
    expect(o).toMatchObject({ total: 5, owned: 3, unowned: 2, withLegacyToken: 2 });
    expect(Object.fromEntries(o.bySeverity.map((b) => [b.severity, b.count]))).toEqual({ critical: 1, high: 1, medium: 1, low: 1, info: 0, none: 1 });
    expect(Object.fromEntries(o.credentialAge.map((b) => [b.key, b.count]))).toEqual({ "<30d": 1, "30-90d": 1, "90-365d": 1, ">1y": 1, none: 1 });
    // Open and unaccepted only: f4 (accepted) and f6 (resolved) are left out; f2 counts in both its categories.
    expect(Object.fromEntries(o.findingsByOwasp.map((c) => [c.category, c.total]))).toEqual({ NHI1: 1, NHI2: 1, NHI5: 3, NHI7: 1 });
    expect(o.findingsByOwasp.find((c) => c.category === "NHI5")).toMatchObject({ critical: 1, medium: 1, high: 1 });
  });

  it("reconstructs identities and open findings at each successful sync", async () => {
    const o = await getInventoryOverview(users.admin, now);
    expect(o.trend.map((t) => t.syncRunId)).toEqual(["run-1", "run-2"]);
    // run-1 (5 days ago): all six identities existed, no finding yet; run-2 (12 h ago): pay-gone deleted, f1–f3 open.
    expect(o.trend.map((t) => [t.identities, t.openFindings])).toEqual([
      [6, 0],
      [5, 3],
    ]);
  });

  it("gives owners the aggregates of their own identities only", async () => {
    const o = await getInventoryOverview(users.payOwner, now);
    expect(o).toMatchObject({ total: 2, owned: 2, unowned: 0 });
    expect(Object.fromEntries(o.findingsByOwasp.map((c) => [c.category, c.total]))).toEqual({ NHI2: 1, NHI5: 2, NHI7: 1 });
    const lonely = await getInventoryOverview(users.lonelyOwner, now);
    expect(lonely.total).toBe(0);
    expect(lonely.findingsByOwasp).toEqual([]);
  });
});
