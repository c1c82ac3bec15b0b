// Evidence exports: campaign decisions, the identity inventory and open findings as CSV, each row with the NIST
// CSF 2.0 subcategories and OWASP NHI ids it evidences. Rows are read a page at a time by keyset (id > last) and
// encoded as the reader pulls them, so an export of 100k rows holds one page, whatever the total.
import "server-only";
import { z } from "zod";
import type { Prisma, PrismaClient } from "@/lib/db";
import { compactRule } from "@/lib/findings/usage-rules";
import { userInfoForIdentity, type PolicyIdentity } from "@/lib/permissions/cluster-policy";
import { RbacAuthorizer, type RbacObjects } from "@/lib/rbac";
import { applyChangesToRbac } from "@/lib/remediation/plan";
import { csvStream, type CsvColumn, type CsvValue } from "./csv";
import { decisionMapping, findingMapping, inventoryMapping, type Mapping } from "./mappings";

const PAGE = 1000;

export interface ExportScope {
  /** One cluster; all clusters when absent. */
  clusterId?: string;
}

/**
 * Pages through rows by id (each page starts after the last id of the one before, so nothing is rescanned) and
 * turns each page into CSV rows whole, so its lookups (users, change sets, findings) are one query per page.
 */
async function* byKeyset<T extends { id: string }, Row>(
  page: (after: string | null) => Promise<T[]>,
  toRows: (rows: T[]) => Promise<Row[]> | Row[],
): AsyncGenerator<Row> {
  let after: string | null = null;
  for (;;) {
    const rows = await page(after);
    if (rows.length > 0) yield* await toRows(rows);
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1].id;
  }
}

const afterId = (after: string | null) => (after ? { id: { gt: after } } : {});

/** Columns from a row object: header → field, in order. */
function columns<Row>(spec: readonly (readonly [string, (row: Row) => CsvValue])[]): CsvColumn<Row>[] {
  return spec.map(([header, value]) => ({ header, value }));
}

const mappingColumns = <Row extends { mapping: Mapping }>() =>
  [
    ["csf", (row: Row) => row.mapping.csf],
    ["owasp", (row: Row) => row.mapping.owasp],
  ] as const;

// ---------------------------------------------------------------------------------------------------------------
// Campaign decisions

/** The parts of the frozen evidence (lib/campaigns/evidence.ts) an export reads; anything missing stays blank. */
const evidenceSchema = z
  .object({
    identity: z
      .object({
        kind: z.string(),
        namespace: z.string(),
        name: z.string(),
        clusterName: z.string(),
        ownerTeam: z.object({ name: z.string() }).nullable(),
      })
      .partial()
      .catch({}),
    grants: z.array(z.object({ text: z.string() })).catch([]),
    credentials: z.array(z.unknown()).catch([]),
    findings: z
      .array(
        z.object({
          type: z.string(),
          severity: z.string().optional(),
          csf: z.array(z.string()).catch([]),
          owasp: z.array(z.string()).catch([]),
        }),
      )
      .catch([]),
  })
  .partial();

/** What a decision's change set plan holds (lib/campaigns/apply-decision.ts): the identity and, for a shrink, the grants kept. */
const storedPlanSchema = z.object({
  identity: z.object({
    kind: z.enum(["ServiceAccount", "CertificateUser", "User", "Group"]),
    namespace: z.string(),
    name: z.string(),
    username: z.string(),
    groups: z.array(z.string()),
  }),
  grants: z
    .object({
      roles: z.array(z.any()),
      clusterRoles: z.array(z.any()),
      roleBindings: z.array(z.any()),
      clusterRoleBindings: z.array(z.any()),
    })
    .nullable()
    .optional(),
});

const checkResultSchema = z.array(z.object({ passed: z.boolean() })).catch([]);
const failureSchema = z
  .object({
    reason: z.string(),
    message: z.string().optional(),
    change: z
      .object({ op: z.string(), kind: z.string(), namespace: z.string(), name: z.string() })
      .optional(),
    cluster: z.object({ message: z.string().optional(), reason: z.string().optional() }).optional(),
  })
  .nullable()
  .catch(null);

/** The last change set that carried the item's decision out (not a rollback, not a preview). */
interface CarriedOut {
  reviewItemId: string;
  status: "applied" | "failed" | "rolledBack";
  plan: Prisma.JsonValue;
  verification: Prisma.JsonValue;
  failure: Prisma.JsonValue;
  appliedCount: number;
  deletedSecrets: boolean;
}

async function carriedOut(db: PrismaClient, itemIds: string[]): Promise<Map<string, CarriedOut>> {
  // Only the plan's identity and grants are read: the before-snapshots it also keeps can be large.
  const rows = await db.$queryRaw<CarriedOut[]>`
    SELECT DISTINCT ON ("reviewItemId") "reviewItemId", "status"::text AS "status",
      jsonb_build_object('identity', "plan"->'identity', 'grants', "plan"->'grants') AS "plan",
      "verification", "failure", jsonb_array_length("applied")::int AS "appliedCount",
      EXISTS (
        SELECT 1 FROM jsonb_array_elements("applied") AS a
        WHERE a->'change'->>'op' = 'delete' AND a->'change'->'before'->>'kind' = 'Secret'
      ) AS "deletedSecrets"
    FROM "ClusterChangeSet"
    WHERE "reviewItemId" = ANY(${itemIds}::text[]) AND "rollbackOfId" IS NULL
      AND "status" IN ('applied', 'failed', 'rolledBack')
    ORDER BY "reviewItemId", "createdAt" DESC, "id" DESC`;
  return new Map(rows.map((row) => [row.reviewItemId, row]));
}

function describeChange(change: { op: string; kind: string; namespace: string; name: string }): string {
  return `${change.op} ${change.kind} ${change.namespace ? `${change.namespace}/` : ""}${change.name}`;
}

function verificationText(itemStatus: string, decided: boolean, changeSet: CarriedOut | undefined): string {
  if (!changeSet) return decided ? "not carried out" : "";
  const checks = checkResultSchema.parse(changeSet.verification);
  const passed = checks.filter((check) => check.passed).length;
  const summary = `${passed}/${checks.length} access checks passed`;
  if (changeSet.status === "rolledBack" || itemStatus === "rolledBack") return `rolled back (had ${summary})`;
  if (changeSet.status === "applied")
    return checks.length > 0 ? `verified: ${summary}` : "applied (nothing to verify)";
  const failure = failureSchema.parse(changeSet.failure);
  switch (failure?.reason) {
    case "refused":
    case "dryRunRefused":
      return `failed: the cluster refused${failure.change ? ` ${describeChange(failure.change)}` : ""}${failure.cluster?.message ? `: ${failure.cluster.message}` : ""}`;
    case "verificationFailed":
      return `failed verification: ${summary}`;
    case "verificationUnavailable":
      return `applied, not verified: ${failure.message ?? "the cluster could not answer"}`;
    case "replanned":
      return "not applied: the cluster changed since the preview";
    default:
      return "failed";
  }
}

/** The identity's grants once the decision was carried out, as compact rules like "grants before". */
function grantsAfter(
  decision: string | null,
  itemStatus: string,
  before: string[],
  changeSet: CarriedOut | undefined,
): CsvValue {
  if (!decision) return "";
  // Approve keeps access as it was; a rollback restored it.
  if (decision === "approve" || itemStatus === "rolledBack") return before;
  if (changeSet?.status !== "applied") return "";
  if (decision === "revoke") return "none";
  const stored = storedPlanSchema.safeParse(changeSet.plan);
  if (!stored.success || !stored.data.grants) return "";
  const identity: PolicyIdentity = stored.data.identity;
  const grants = applyChangesToRbac(stored.data.grants as unknown as RbacObjects, []);
  return new RbacAuthorizer(grants).effectiveRules(userInfoForIdentity(identity)).map(compactRule);
}

interface DecisionRow {
  identity: string;
  kind: string;
  cluster: string;
  namespace: string;
  owner: string;
  reviewerTeam: string;
  reviewer: string;
  decision: string;
  comment: string | null;
  decidedAt: Date | null;
  status: string;
  appliedAt: Date | null;
  verification: string;
  grantsBefore: string[];
  grantsAfter: CsvValue;
  findings: string[];
  mapping: Mapping;
}

const decisionColumns = columns<DecisionRow>([
  ["identity", (r) => r.identity],
  ["kind", (r) => r.kind],
  ["cluster", (r) => r.cluster],
  ["namespace", (r) => r.namespace],
  ["owner", (r) => r.owner],
  ["reviewer team", (r) => r.reviewerTeam],
  ["reviewer", (r) => r.reviewer],
  ["decision", (r) => r.decision],
  ["comment", (r) => r.comment],
  ["decided at", (r) => r.decidedAt],
  ["status", (r) => r.status],
  ["applied at", (r) => r.appliedAt],
  ["verification result", (r) => r.verification],
  ["grants before", (r) => r.grantsBefore],
  ["grants after", (r) => r.grantsAfter],
  ["findings", (r) => r.findings],
  ...mappingColumns<DecisionRow>(),
]);

/** The decisions of one campaign: one row per review item, with what the reviewer saw and what the cluster did. */
export function decisionsCsv(db: PrismaClient, campaignId: string): ReadableStream<Uint8Array> {
  const page = (after: string | null) =>
    db.reviewItem.findMany({
      where: { campaignId, ...afterId(after) },
      orderBy: { id: "asc" },
      take: PAGE,
      select: {
        id: true,
        status: true,
        decision: true,
        comment: true,
        decidedById: true,
        decidedAt: true,
        appliedAt: true,
        evidence: true,
        cluster: { select: { name: true } },
        reviewerTeam: { select: { name: true } },
        identity: {
          select: { kind: true, namespace: true, name: true, ownerTeam: { select: { name: true } } },
        },
      },
    });
  const toRows = async (items: Awaited<ReturnType<typeof page>>): Promise<DecisionRow[]> => {
    const deciderIds = [...new Set(items.flatMap((item) => (item.decidedById ? [item.decidedById] : [])))];
    const [users, changeSets] = await Promise.all([
      db.user.findMany({ where: { id: { in: deciderIds } }, select: { id: true, email: true } }),
      carriedOut(
        db,
        items.map((item) => item.id),
      ),
    ]);
    const emails = new Map(users.map((user) => [user.id, user.email]));
    return items.map((item) => {
      const evidence = evidenceSchema.catch({}).parse(item.evidence);
      const frozen = evidence.identity ?? {};
      const changeSet = changeSets.get(item.id);
      const findings = evidence.findings ?? [];
      const grantsBefore = (evidence.grants ?? []).map((grant) => grant.text);
      return {
        identity: frozen.name ?? item.identity?.name ?? "",
        kind: frozen.kind ?? item.identity?.kind ?? "",
        cluster: frozen.clusterName ?? item.cluster.name,
        namespace: frozen.namespace ?? item.identity?.namespace ?? "",
        owner:
          (frozen.ownerTeam !== undefined ? frozen.ownerTeam?.name : item.identity?.ownerTeam?.name) ?? "",
        reviewerTeam: item.reviewerTeam?.name ?? "",
        // Keyward's own decisions (the deadline's revoke policy) are made by the system, not a user.
        reviewer: item.decidedById
          ? (emails.get(item.decidedById) ??
            (item.decidedById === "system" ? "Keyward (system)" : item.decidedById))
          : "",
        decision: item.decision ?? "",
        comment: item.comment,
        decidedAt: item.decidedAt,
        status: item.status,
        appliedAt: item.appliedAt,
        verification: verificationText(item.status, item.decision !== null, changeSet),
        grantsBefore,
        grantsAfter: grantsAfter(item.decision, item.status, grantsBefore, changeSet),
        findings: findings.map((finding) =>
          finding.severity ? `${finding.type} (${finding.severity})` : finding.type,
        ),
        mapping: decisionMapping({
          decision: item.decision,
          findings,
          hasCredentials: (evidence.credentials ?? []).length > 0,
          changedCluster: (changeSet?.appliedCount ?? 0) > 0,
          deletedLegacyTokens: changeSet?.deletedSecrets ?? false,
        }),
      };
    });
  };
  return csvStream(decisionColumns, byKeyset(page, toRows));
}

// ---------------------------------------------------------------------------------------------------------------
// Inventory

interface InventoryRow {
  identity: string;
  kind: string;
  cluster: string;
  namespace: string;
  owner: string;
  credentials: number;
  oldestCredential: Date | null;
  lastUsed: Date | null;
  openFindings: number;
  maxSeverity: string;
  mapping: Mapping;
}

const inventoryColumns = columns<InventoryRow>([
  ["identity", (r) => r.identity],
  ["kind", (r) => r.kind],
  ["cluster", (r) => r.cluster],
  ["namespace", (r) => r.namespace],
  ["owner", (r) => r.owner],
  ["credentials", (r) => r.credentials],
  ["oldest credential", (r) => r.oldestCredential],
  ["last used", (r) => r.lastUsed],
  ["open findings", (r) => r.openFindings],
  ["max severity", (r) => r.maxSeverity],
  ...mappingColumns<InventoryRow>(),
]);

/** Findings that count as open: unresolved and not silenced by a risk acceptance in force. */
const openFindingWhere = (now: Date): Prisma.FindingWhereInput => ({
  resolvedAt: null,
  OR: [{ acceptedUntil: null }, { acceptedUntil: { lte: now } }],
});

/** The identity inventory (identities the cluster still has), with its owner, credentials, use and findings. */
export function inventoryCsv(
  db: PrismaClient,
  scope: ExportScope = {},
  now: Date = new Date(),
): ReadableStream<Uint8Array> {
  const page = (after: string | null) =>
    db.identity.findMany({
      where: {
        deletedAt: null,
        ...(scope.clusterId ? { clusterId: scope.clusterId } : {}),
        ...afterId(after),
      },
      orderBy: { id: "asc" },
      take: PAGE,
      select: {
        id: true,
        kind: true,
        namespace: true,
        name: true,
        oldestCredentialAt: true,
        lastUsedAt: true,
        openFindingCount: true,
        maxSeverity: true,
        cluster: { select: { name: true } },
        ownerTeam: { select: { name: true } },
        _count: { select: { credentials: { where: { deletedAt: null } } } },
      },
    });
  const toRows = async (identities: Awaited<ReturnType<typeof page>>): Promise<InventoryRow[]> => {
    const findings = await db.finding.findMany({
      where: { identityId: { in: identities.map((identity) => identity.id) }, ...openFindingWhere(now) },
      select: { identityId: true, csf: true, owasp: true },
    });
    const byIdentity = new Map<string, { csf: string[]; owasp: string[] }[]>();
    for (const finding of findings) {
      const list = byIdentity.get(finding.identityId!) ?? [];
      list.push(finding);
      byIdentity.set(finding.identityId!, list);
    }
    return identities.map((identity) => ({
      identity: identity.name,
      kind: identity.kind,
      cluster: identity.cluster.name,
      namespace: identity.namespace,
      owner: identity.ownerTeam?.name ?? "",
      credentials: identity._count.credentials,
      oldestCredential: identity.oldestCredentialAt,
      lastUsed: identity.lastUsedAt,
      openFindings: identity.openFindingCount,
      maxSeverity: identity.maxSeverity ?? "",
      mapping: inventoryMapping({
        findings: byIdentity.get(identity.id) ?? [],
        hasCredentials: identity._count.credentials > 0,
      }),
    }));
  };
  return csvStream(inventoryColumns, byKeyset(page, toRows));
}

// ---------------------------------------------------------------------------------------------------------------
// Findings

interface FindingRow {
  finding: string;
  rule: string;
  severity: string;
  identity: string;
  cluster: string;
  namespace: string;
  owner: string;
  firstSeen: Date;
  acceptedUntil: Date | null;
  mapping: Mapping;
}

const findingColumns = columns<FindingRow>([
  ["finding", (r) => r.finding],
  ["rule", (r) => r.rule],
  ["severity", (r) => r.severity],
  ["identity", (r) => r.identity],
  ["cluster", (r) => r.cluster],
  ["namespace", (r) => r.namespace],
  ["owner", (r) => r.owner],
  ["first seen", (r) => r.firstSeen],
  ["accepted until", (r) => r.acceptedUntil],
  ...mappingColumns<FindingRow>(),
]);

/**
 * Unresolved findings, including those a risk acceptance silences (with its expiry: an exception is evidence too).
 * An acceptance that has expired is left blank: the finding is open again.
 */
export function findingsCsv(
  db: PrismaClient,
  scope: ExportScope = {},
  now: Date = new Date(),
): ReadableStream<Uint8Array> {
  const page = (after: string | null) =>
    db.finding.findMany({
      where: {
        resolvedAt: null,
        ...(scope.clusterId ? { clusterId: scope.clusterId } : {}),
        ...afterId(after),
      },
      orderBy: { id: "asc" },
      take: PAGE,
      select: {
        id: true,
        type: true,
        title: true,
        severity: true,
        csf: true,
        owasp: true,
        firstSeenAt: true,
        acceptedUntil: true,
        cluster: { select: { name: true } },
        identity: { select: { name: true, namespace: true, ownerTeam: { select: { name: true } } } },
      },
    });
  const toRows = (findings: Awaited<ReturnType<typeof page>>): FindingRow[] =>
    findings.map((finding) => {
      const accepted = finding.acceptedUntil !== null && finding.acceptedUntil.getTime() > now.getTime();
      return {
        finding: finding.title,
        rule: finding.type,
        severity: finding.severity,
        identity: finding.identity?.name ?? "",
        cluster: finding.cluster.name,
        namespace: finding.identity?.namespace ?? "",
        owner: finding.identity?.ownerTeam?.name ?? "",
        firstSeen: finding.firstSeenAt,
        acceptedUntil: accepted ? finding.acceptedUntil : null,
        mapping: findingMapping({ csf: finding.csf, owasp: finding.owasp }, accepted),
      };
    });
  return csvStream(findingColumns, byKeyset(page, toRows));
}
