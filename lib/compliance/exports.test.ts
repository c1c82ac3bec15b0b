// The evidence exports on a real database: 100k inventory rows streamed in constant memory, formulas defused,
// and the decisions of a campaign with what the reviewer saw, what the cluster did and the mappings.
import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import { beforeAll, describe, expect, it } from "vitest";
import type { ReviewEvidence } from "@/lib/campaigns/evidence";
import type { Prisma, PrismaClient } from "@/lib/db";
import { insertCluster } from "@/lib/permissions/test-support/inventory-rows";
import { setupTestDatabase } from "@/lib/testing/database";
import { decisionsCsv, findingsCsv, inventoryCsv } from "./exports";
import { csvRecords } from "@/lib/testing/csv";

const database = setupTestDatabase();
let prisma: PrismaClient;
const NOW = new Date("2026-12-02T00:00:00Z");
const DAY = 86_400_000;
const BULK = 100_000;

// Heap measured after a full collection, so garbage awaiting collection is not mistaken for rows held.
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;
const liveHeap = () => {
  collectGarbage();
  return process.memoryUsage().heapUsed;
};

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Record<string, string>[]> {
  return csvRecords(await new Response(stream).text());
}

let prod: { id: string };
let staging: { id: string };
let payments: { id: string };
let cmd: { id: string };

beforeAll(async () => {
  prisma = database.prisma;
  prod = await insertCluster(prisma, "prod");
  staging = await insertCluster(prisma, "staging");
  payments = await prisma.team.create({ data: { name: "Payments", slug: "payments" } });
  // 100k identities in one statement; every tenth owned by Payments.
  await prisma.$executeRaw`
    INSERT INTO "Identity" ("id", "clusterId", "kind", "namespace", "name", "username", "ownerTeamId", "lastUsedAt")
    SELECT 'bulk-' || lpad(n::text, 6, '0'), ${prod.id}, 'ServiceAccount', 'ns-' || (n % 50), 'sa-' || n,
      'system:serviceaccount:ns-' || (n % 50) || ':sa-' || n, CASE WHEN n % 10 = 0 THEN ${payments.id} END,
      ${NOW.toISOString()}::timestamp(3) - (n % 90) * interval '1 day'
    FROM generate_series(1, ${BULK}) AS n`;
  // As autovacuum would after a bulk load (and the inventory scale test does): fresh statistics.
  await prisma.$executeRawUnsafe(`ANALYZE "Identity"`);
  cmd = await prisma.identity.create({
    data: {
      clusterId: staging.id,
      kind: "ServiceAccount",
      namespace: "apps",
      name: "=cmd",
      username: "system:serviceaccount:apps:=cmd",
      ownerTeamId: payments.id,
      maxSeverity: "high",
      openFindingCount: 1,
      oldestCredentialAt: new Date(NOW.getTime() - 400 * DAY),
      hasLegacyToken: true,
    },
  });
  await prisma.credential.createMany({
    data: [
      {
        clusterId: staging.id,
        identityId: cmd.id,
        kind: "legacyTokenSecret",
        namespace: "apps",
        name: "cmd-token",
        issuedAt: new Date(NOW.getTime() - 400 * DAY),
      },
      { clusterId: staging.id, identityId: cmd.id, kind: "boundToken", namespace: "apps", name: "pod-1" },
      {
        clusterId: staging.id,
        identityId: cmd.id,
        kind: "boundToken",
        namespace: "apps",
        name: "gone",
        deletedAt: NOW,
      },
    ],
  });
  const finding = (
    type: string,
    extra: Partial<Prisma.FindingCreateManyInput>,
  ): Prisma.FindingCreateManyInput => ({
    clusterId: staging.id,
    identityId: cmd.id,
    type,
    severity: "high",
    title: `${type} on =cmd`,
    owasp: [],
    csf: [],
    fingerprint: type,
    firstSeenAt: new Date(NOW.getTime() - 10 * DAY),
    ...extra,
  });
  await prisma.finding.createMany({
    data: [
      finding("legacy-token", { csf: ["PR.AA-01"], owasp: ["NHI7"] }),
      // Silenced by a risk acceptance in force: listed with its expiry, left out of the inventory's mapping.
      finding("human-use", {
        csf: ["DE.CM-03"],
        owasp: ["NHI10"],
        acceptedUntil: new Date(NOW.getTime() + 30 * DAY),
      }),
      finding("read-secrets", {
        severity: "medium",
        csf: ["PR.AA-05"],
        owasp: ["NHI5", "NHI2"],
        resolvedAt: NOW,
      }),
    ],
  });
});

describe("inventoryCsv", () => {
  it("streams 100k identities to the end in constant memory", async () => {
    const reader = inventoryCsv(prisma, {}, NOW).getReader();
    const decoder = new TextDecoder();
    const start = liveHeap();
    let peak = 0;
    let lines = 0;
    let chunks = 0;
    let tail = "";
    const picked: string[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const text = tail + decoder.decode(value, { stream: true });
      const parts = text.split("\r\n");
      tail = parts.pop()!;
      lines += parts.length;
      for (const line of parts)
        if (line.startsWith("sa-77777,") || line.startsWith("sa-80,")) picked.push(line);
      if (++chunks % 5_000 === 0) peak = Math.max(peak, liveHeap() - start);
    }
    expect(tail).toBe("");
    expect(lines).toBe(1 + BULK + 1);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(60 * 1024 * 1024);
    const lastUsed = (n: number) => new Date(NOW.getTime() - (n % 90) * DAY).toISOString();
    expect(picked.sort()).toEqual([
      `sa-77777,ServiceAccount,prod,ns-27,,0,,${lastUsed(77777)},0,,GV.RR-02; ID.AM-08,`,
      `sa-80,ServiceAccount,prod,ns-30,Payments,0,,${lastUsed(80)},0,,GV.RR-02; ID.AM-08,`,
    ]);
  });

  it("defuses a formula in an identity name and maps credentials and open findings", async () => {
    const rows = await readAll(inventoryCsv(prisma, { clusterId: staging.id }, NOW));
    expect(rows).toEqual([
      {
        identity: "'=cmd",
        kind: "ServiceAccount",
        cluster: "staging",
        namespace: "apps",
        owner: "Payments",
        credentials: "2",
        "oldest credential": new Date(NOW.getTime() - 400 * DAY).toISOString(),
        "last used": "",
        "open findings": "1",
        "max severity": "high",
        csf: "PR.AA-01; GV.RR-02; ID.AM-08",
        owasp: "NHI7",
      },
    ]);
  });
});

describe("findingsCsv", () => {
  it("lists unresolved findings, accepted ones with their expiry and ID.RA-07", async () => {
    const rows = await readAll(findingsCsv(prisma, {}, NOW));
    expect(rows.map((row) => [row.rule, row.identity, row["accepted until"], row.csf, row.owasp])).toEqual(
      expect.arrayContaining([
        ["legacy-token", "'=cmd", "", "PR.AA-01", "NHI7"],
        [
          "human-use",
          "'=cmd",
          new Date(NOW.getTime() + 30 * DAY).toISOString(),
          "DE.CM-03; ID.RA-07",
          "NHI10",
        ],
      ]),
    );
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      cluster: "staging",
      namespace: "apps",
      owner: "Payments",
      severity: "high",
      finding: "'legacy-token on =cmd".slice(1),
    });
    expect(await readAll(findingsCsv(prisma, { clusterId: prod.id }, NOW))).toEqual([]);
  });
});

describe("decisionsCsv", () => {
  const evidence = (
    identity: { id: string; namespace: string; name: string },
    parts: Partial<Pick<ReviewEvidence, "grants" | "credentials" | "findings">>,
  ): ReviewEvidence => ({
    version: 1,
    frozenAt: NOW.toISOString(),
    identity: {
      id: identity.id,
      clusterId: staging.id,
      clusterName: "staging",
      kind: "ServiceAccount",
      namespace: identity.namespace,
      name: identity.name,
      username: `system:serviceaccount:${identity.namespace}:${identity.name}`,
      groups: [],
      ownerTeam: { id: payments.id, name: "Payments" },
      ownerSource: "annotation",
      createdInClusterAt: null,
      discoveredByUsage: false,
    },
    grants: [],
    credentials: [],
    usage: {
      windowDays: 30,
      since: NOW.toISOString(),
      lastUsedAt: null,
      observedSince: null,
      requests: 0,
      denied: 0,
      activeDays: 0,
      unusedRules: null,
    },
    findings: [],
    ...parts,
  });
  const grant = (text: string): ReviewEvidence["grants"][number] => ({
    rule: { verbs: ["get"], apiGroups: [""], resources: ["pods"] },
    text,
    namespace: "apps",
    binding: { kind: "RoleBinding", namespace: "apps", name: "rb" },
    role: { kind: "Role", namespace: "apps", name: "r" },
    viaSubject: { kind: "ServiceAccount", namespace: "apps", name: "x" },
  });
  const credential = {
    id: "cred",
    kind: "legacyTokenSecret" as const,
    namespace: "apps",
    name: "t",
    issuedAt: null,
    expiresAt: null,
    ageDays: 400,
    lastUsedAt: null,
  };

  let campaignId: string;

  beforeAll(async () => {
    const alice = await prisma.user.create({
      data: { email: "alice@example.test", name: "Alice", role: "owner" },
    });
    const sa = (name: string) =>
      prisma.identity.create({
        data: {
          clusterId: staging.id,
          kind: "ServiceAccount",
          namespace: "apps",
          name,
          username: `system:serviceaccount:apps:${name}`,
          ownerTeamId: payments.id,
        },
      });
    const [worker, old, live, broken, restored] = await Promise.all([
      sa("worker"),
      sa("old"),
      sa("live"),
      sa("broken"),
      sa("restored"),
    ]);
    const campaign = await prisma.campaign.create({
      data: { name: "Q4", status: "active", createdById: alice.id },
    });
    campaignId = campaign.id;
    const item = (
      identityId: string,
      ev: ReviewEvidence | Record<string, never>,
      data: Partial<Prisma.ReviewItemUncheckedCreateInput>,
    ) =>
      prisma.reviewItem.create({
        data: {
          campaignId,
          clusterId: staging.id,
          identityId,
          reviewerTeamId: payments.id,
          evidence: ev as unknown as Prisma.InputJsonObject,
          recommendation: "revoke",
          recommendationReason: "unused",
          ...data,
        },
      });
    const decided = (
      decision: "approve" | "shrink" | "revoke",
      status: "applied" | "failed",
      by = alice.id,
    ) => ({
      decision,
      status,
      decidedById: by,
      decidedAt: new Date(NOW.getTime() - DAY),
      ...(status === "applied" ? { appliedAt: NOW } : {}),
    });
    const approved = await item(
      cmd.id,
      evidence(
        { id: cmd.id, namespace: "apps", name: "=cmd" },
        {
          grants: [grant("get core/secrets in apps")],
          credentials: [credential],
          findings: [
            {
              id: "f",
              type: "legacy-token",
              severity: "high",
              title: "t",
              csf: ["PR.AA-01"],
              owasp: ["NHI7"],
            },
          ],
        },
      ),
      { ...decided("approve", "applied"), comment: "=1+1 still needed" },
    );
    const shrunk = await item(
      worker.id,
      evidence(
        { id: worker.id, namespace: "apps", name: "worker" },
        {
          grants: [grant("get,list core/pods in apps"), grant("get,list core/secrets in apps")],
          findings: [
            {
              id: "g",
              type: "unused-permissions",
              severity: "medium",
              title: "t",
              csf: ["PR.AA-05"],
              owasp: ["NHI5"],
            },
          ],
        },
      ),
      decided("shrink", "applied"),
    );
    const revoked = await item(
      old.id,
      evidence({ id: old.id, namespace: "apps", name: "old" }, { credentials: [credential] }),
      decided("revoke", "applied", "system"),
    );
    await item(live.id, {}, {});
    const failed = await item(
      broken.id,
      evidence({ id: broken.id, namespace: "apps", name: "broken" }, {}),
      decided("revoke", "failed"),
    );
    const rolledBack = await item(
      restored.id,
      evidence(
        { id: restored.id, namespace: "apps", name: "restored" },
        { grants: [grant("get core/pods in apps")] },
      ),
      { ...decided("revoke", "applied"), status: "rolledBack" },
    );

    const identityOf = (name: string) => ({
      kind: "ServiceAccount",
      namespace: "apps",
      name,
      username: `system:serviceaccount:apps:${name}`,
      groups: [],
    });
    const changeSet = (reviewItemId: string, data: Partial<Prisma.ClusterChangeSetUncheckedCreateInput>) =>
      prisma.clusterChangeSet.create({
        data: { clusterId: staging.id, reviewItemId, createdByLabel: "alice", plan: {}, ...data },
      });
    const passed = (n: number) =>
      Array.from({ length: n }, () => ({
        passed: true,
        allowed: false,
        expected: "denied",
        because: "removed",
        reason: "",
      }));
    const before = (kind: string, name: string) => ({
      apiVersion: "v1",
      kind,
      metadata: { name, namespace: "apps" },
    });
    await changeSet(approved.id, {
      decision: "approve",
      status: "applied",
      plan: { identity: identityOf("=cmd"), grants: null },
      applied: [
        { change: { op: "patch", before: before("ServiceAccount", "=cmd"), patch: {} }, result: null },
      ],
      verification: [],
    });
    // An earlier attempt that failed; the later applied one is what counts.
    await changeSet(shrunk.id, {
      decision: "shrink",
      status: "failed",
      createdAt: new Date(NOW.getTime() - DAY),
      failure: { reason: "refused" },
    });
    await changeSet(shrunk.id, {
      decision: "shrink",
      status: "applied",
      plan: {
        identity: identityOf("worker"),
        grants: {
          roles: [
            {
              metadata: { name: "worker-least", namespace: "apps" },
              rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }],
            },
          ],
          clusterRoles: [],
          roleBindings: [
            {
              metadata: { name: "worker-least", namespace: "apps" },
              roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "worker-least" },
              subjects: [{ kind: "ServiceAccount", name: "worker", namespace: "apps" }],
            },
          ],
          clusterRoleBindings: [],
        },
      },
      applied: [{ change: { op: "create", after: before("Role", "worker-least") }, result: null }],
      verification: passed(2),
    });
    // A preview never applied is not what was carried out.
    await changeSet(shrunk.id, {
      decision: "shrink",
      status: "planned",
      createdAt: new Date(NOW.getTime() + DAY),
    });
    await changeSet(revoked.id, {
      decision: "revoke",
      status: "applied",
      plan: { identity: identityOf("old"), grants: null },
      applied: [
        { change: { op: "delete", before: before("RoleBinding", "rb") }, result: null },
        { change: { op: "delete", before: before("Secret", "old-token") }, result: null },
      ],
      verification: passed(1),
    });
    await changeSet(failed.id, {
      decision: "revoke",
      status: "failed",
      plan: { identity: identityOf("broken"), grants: null },
      failure: {
        reason: "refused",
        index: 0,
        change: { op: "delete", kind: "RoleBinding", namespace: "apps", name: "rb" },
        cluster: { status: 403, reason: "Forbidden", message: "forbidden" },
      },
    });
    const original = await changeSet(rolledBack.id, {
      decision: "revoke",
      status: "rolledBack",
      plan: { identity: identityOf("restored"), grants: null },
      applied: [{ change: { op: "delete", before: before("RoleBinding", "rb") }, result: null }],
      verification: passed(1),
    });
    // The rollback's own change set is not the decision's.
    await changeSet(rolledBack.id, {
      decision: "revoke",
      status: "applied",
      rollbackOfId: original.id,
      createdAt: new Date(NOW.getTime() + DAY),
    });
  });

  it("has one row per item with the reviewer, the outcome on the cluster, grants before and after, and the mappings", async () => {
    const rows = await readAll(decisionsCsv(prisma, campaignId));
    const byName = new Map(rows.map((row) => [row.identity, row]));
    expect([...byName.keys()].sort()).toEqual(["'=cmd", "broken", "live", "old", "restored", "worker"]);
    const pick = (name: string) => {
      const row = byName.get(name)!;
      return [
        row.decision,
        row.reviewer,
        row["verification result"],
        row["grants before"],
        row["grants after"],
        row.csf,
        row.owasp,
      ];
    };
    expect(pick("'=cmd")).toEqual([
      "approve",
      "alice@example.test",
      "applied (nothing to verify)",
      "get core/secrets in apps",
      "get core/secrets in apps",
      "PR.AA-01; PR.AA-05; GV.RR-02; ID.RA-07",
      "NHI7",
    ]);
    expect(byName.get("'=cmd")).toMatchObject({
      kind: "ServiceAccount",
      cluster: "staging",
      namespace: "apps",
      owner: "Payments",
      "reviewer team": "Payments",
      comment: "'=1+1 still needed",
      "decided at": new Date(NOW.getTime() - DAY).toISOString(),
      "applied at": NOW.toISOString(),
      status: "applied",
      findings: "legacy-token (high)",
    });
    expect(pick("worker")).toEqual([
      "shrink",
      "alice@example.test",
      "verified: 2/2 access checks passed",
      "get,list core/pods in apps; get,list core/secrets in apps",
      "get core/pods in apps",
      "PR.AA-05; GV.RR-02; ID.RA-07",
      "NHI5",
    ]);
    expect(pick("old")).toEqual([
      "revoke",
      "Keyward (system)",
      "verified: 1/1 access checks passed",
      "",
      "none",
      "PR.AA-01; PR.AA-05; GV.RR-02; ID.RA-07",
      "NHI1; NHI7",
    ]);
    // Evidence missing entirely: the identity comes from the inventory, the rest stays blank.
    expect(pick("live")).toEqual(["", "", "", "", "", "PR.AA-05; GV.RR-02", ""]);
    expect(byName.get("live")).toMatchObject({ namespace: "apps", owner: "Payments", status: "pending" });
    expect(pick("broken")).toEqual([
      "revoke",
      "alice@example.test",
      "failed: the cluster refused delete RoleBinding apps/rb: forbidden",
      "",
      "",
      "PR.AA-05; GV.RR-02",
      "NHI1",
    ]);
  });

  it("shows a rolled-back decision with its access restored", async () => {
    const row = (await readAll(decisionsCsv(prisma, campaignId))).find((r) => r.identity === "restored")!;
    expect([
      row.status,
      row["verification result"],
      row["grants before"],
      row["grants after"],
      row.csf,
      row.owasp,
    ]).toEqual([
      "rolledBack",
      "rolled back (had 1/1 access checks passed)",
      "get core/pods in apps",
      "get core/pods in apps",
      "PR.AA-05; GV.RR-02; ID.RA-07",
      "NHI1",
    ]);
  });

  it("is empty (a header only) for a campaign without items", async () => {
    const text = await new Response(decisionsCsv(prisma, "no-such-campaign")).text();
    expect(text).toBe(
      "identity,kind,cluster,namespace,owner,reviewer team,reviewer,decision,comment,decided at,status,applied at,verification result,grants before,grants after,findings,csf,owasp\r\n",
    );
  });
});
