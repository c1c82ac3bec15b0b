// Reading usage back: the window's rollups aggregated per request (what the findings, the least-privilege role
// and the identity page need), the sources an identity was used from, credentials' last use, and the identity
// page's usage summary. Every query aggregates in Postgres: a window holds one row per identity, request and day.
import "server-only";
import { Prisma, type CredentialKind, type PrismaClient } from "@/lib/db";
import { analysisSettings } from "@/lib/findings/settings";
import { ownGrants, usageWindowStart, type IdentityUsageFacts, type UsageSource } from "@/lib/findings/usage-rules";
import { loadClusterPolicy } from "@/lib/permissions/cluster-policy";
import {
  getIdentityPermissions,
  markUsedCells,
  type UsedPermissionMatrix,
} from "@/lib/permissions/identity-permissions";
import type { EffectiveRule } from "@/lib/rbac";
import { diffGrants } from "./grant-usage";
import { generateLeastPrivilege, type LeastPrivilegeRole } from "./least-privilege";
import type { UsageRecord } from "./types";

const TOP = 10;

interface RecordRow {
  identityId: string;
  verb: string;
  apiGroup: string;
  resource: string;
  subresource: string;
  namespace: string;
  path: string;
  count: bigint;
  resourceNames: string[];
  resourceNamesComplete: boolean;
}

interface SourceRow {
  identityId: string;
  kind: "userAgent" | "sourceIp" | "impersonator";
  value: string;
  count: bigint;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

export interface UsageScope {
  clusterId: string;
  /** First day of the window (see usageWindowStart). */
  since: Date;
  /** One identity; all of the cluster's when absent. */
  identityId?: string;
}

/**
 * Each identity's window, with one record per distinct request (verb, group, resource, subresource, namespace,
 * path) summed over its days, and its distinct user agents and addresses. Denied requests count as use of the
 * identity (someone holds its credential) but not of any permission. Identities without events are absent.
 */
export async function loadUsageFacts(
  db: PrismaClient,
  scope: UsageScope,
): Promise<Map<string, IdentityUsageFacts>> {
  const identity = scope.identityId ? Prisma.sql`AND r."identityId" = ${scope.identityId}` : Prisma.empty;
  const since = scope.since.toISOString().slice(0, 10);
  // No join with "Identity": right after a large ingest the table's statistics are stale, and the planner would
  // pick a nested loop over every rollup row per identity.
  const [records, sources] = await Promise.all([
    // Each rollup row joins its names once each (WITH ORDINALITY): its count is summed on the first only.
    db.$queryRaw<RecordRow[]>`
      SELECT r."identityId", r."verb", r."apiGroup", r."resource", r."subresource", r."namespace", r."path",
        coalesce(sum(r."count" - r."deniedCount") FILTER (WHERE n.ord IS NULL OR n.ord = 1), 0)::int8 AS "count",
        coalesce(array_agg(DISTINCT n.name) FILTER (WHERE n.name IS NOT NULL AND r."count" > r."deniedCount"), '{}') AS "resourceNames",
        coalesce(bool_and(r."resourceNamesComplete") FILTER (WHERE r."count" > r."deniedCount"), true) AS "resourceNamesComplete"
      FROM "UsageRollup" r
      LEFT JOIN LATERAL unnest(r."resourceNames") WITH ORDINALITY AS n(name, ord) ON true
      WHERE r."clusterId" = ${scope.clusterId} AND r."day" >= ${since}::date ${identity}
      GROUP BY r."identityId", r."verb", r."apiGroup", r."resource", r."subresource", r."namespace", r."path"`,
    db.$queryRaw<SourceRow[]>`
      SELECT r."identityId", s.kind, s.value, sum(r."count")::int8 AS "count", min(r."firstSeenAt") AS "firstSeenAt", max(r."lastSeenAt") AS "lastSeenAt"
      FROM "UsageRollup" r
      CROSS JOIN LATERAL (
        SELECT 'userAgent' AS kind, ua AS value FROM unnest(r."userAgents") AS ua
        UNION ALL SELECT 'sourceIp', ip FROM unnest(r."sourceIps") AS ip
        UNION ALL SELECT 'impersonator', u FROM unnest(r."impersonators") AS u
      ) s
      WHERE r."clusterId" = ${scope.clusterId} AND r."day" >= ${since}::date ${identity}
      GROUP BY r."identityId", s.kind, s.value`,
  ]);
  const facts = new Map<string, IdentityUsageFacts>();
  const of = (identityId: string) => {
    let entry = facts.get(identityId);
    if (!entry) facts.set(identityId, (entry = { records: [], userAgents: [], sourceIps: [], impersonators: [] }));
    return entry;
  };
  for (const { identityId, count, ...record } of records) {
    const entry = of(identityId);
    // A request the cluster refused every time used no permission.
    if (count > 0n) entry.records.push({ ...record, count: Number(count) });
  }
  for (const { identityId, kind, value, count, firstSeenAt, lastSeenAt } of sources) {
    const source: UsageSource = { value, count: Number(count), firstSeenAt, lastSeenAt };
    const entry = of(identityId);
    ({ userAgent: entry.userAgents, sourceIp: entry.sourceIps, impersonator: entry.impersonators })[kind].push(source);
  }
  for (const entry of facts.values()) {
    entry.userAgents.sort(byCountDesc);
    entry.sourceIps.sort(byCountDesc);
    entry.impersonators.sort(byCountDesc);
  }
  return facts;
}

function byCountDesc(a: { count: number; value?: string }, b: { count: number; value?: string }): number {
  return b.count - a.count || (a.value ?? "").localeCompare(b.value ?? "");
}

/** Requests seen with each credential's id (all time); their last use is Credential.lastUsedAt, kept by ingestion. */
async function credentialRequests(db: PrismaClient, credentialIds: readonly string[]): Promise<Map<string, number>> {
  if (credentialIds.length === 0) return new Map();
  const rows = await db.credentialUsage.groupBy({ by: ["credentialId"], where: { credentialId: { in: [...credentialIds] } }, _sum: { count: true } });
  return new Map(rows.map((row) => [row.credentialId ?? "", row._sum.count ?? 0]));
}

export interface IdentityUsage {
  identityId: string;
  days: number;
  /** First day of the window (UTC midnight). */
  since: Date;
  lastUsedAt: Date | null;
  /** When Keyward started receiving the cluster's audit events (null: never). */
  observedSince: Date | null;
  totals: { requests: number; denied: number; activeDays: number };
  /** Every day of the window, oldest first, zero when idle. `day` is YYYY-MM-DD (UTC). */
  daily: { day: string; requests: number; denied: number }[];
  topVerbs: { verb: string; requests: number }[];
  /** Resources as `group/resource[/subresource]` ("core" for the core group), or a non-resource path. */
  topResources: {
    key: string;
    apiGroup: string;
    resource: string;
    subresource: string;
    path: string;
    requests: number;
  }[];
  /** The identity's effective permissions with each cell marked used or unused in the window. */
  matrix: UsedPermissionMatrix;
  credentials: {
    id: string;
    kind: CredentialKind;
    namespace: string;
    name: string;
    deletedAt: Date | null;
    /** Latest event with this credential's id, or its legacy-token-last-used label. */
    lastUsedAt: Date | null;
    /** Requests seen with this credential's id (all time). */
    requests: number;
  }[];
  /** Credential ids seen in events that match no synced credential (e.g. a bound token's JTI). */
  otherCredentials: { credentialRef: string; lastUsedAt: Date; requests: number }[];
  sources: { userAgents: UsageSource[]; sourceIps: UsageSource[]; impersonators: UsageSource[] };
  /** Allowed requests aggregated over the window: the least-privilege role is generated from these. */
  records: UsageRecord[];
}

/**
 * The identity page's usage tab and GET /api/v1/identities/{id}/usage. `days` defaults to the cluster's usage
 * window. The caller checks that the viewer may see the identity; a missing identity throws.
 */
export async function getIdentityUsage(
  db: PrismaClient,
  identityId: string,
  options: { days?: number; now?: Date } = {},
): Promise<IdentityUsage> {
  const now = options.now ?? new Date();
  const identity = await db.identity.findUniqueOrThrow({
    where: { id: identityId },
    select: {
      clusterId: true,
      lastUsedAt: true,
      cluster: { select: { settings: true, usageObservedSince: true } },
      credentials: {
        orderBy: [
          { deletedAt: { sort: "desc", nulls: "first" } },
          { issuedAt: { sort: "asc", nulls: "last" } },
        ],
        select: { id: true, kind: true, namespace: true, name: true, deletedAt: true, lastUsedAt: true },
      },
    },
  });
  const days = options.days ?? analysisSettings(identity.cluster.settings).usageWindowDays;
  const since = usageWindowStart(now, days);
  const sinceDay = since.toISOString().slice(0, 10);
  const [facts, dailyRows, permissions, requestsByCredential, other] = await Promise.all([
    loadUsageFacts(db, { clusterId: identity.clusterId, since, identityId }),
    db.$queryRaw<{ day: string; requests: bigint; denied: bigint }[]>`
      SELECT to_char(r."day", 'YYYY-MM-DD') AS day, sum(r."count")::int8 AS requests, sum(r."deniedCount")::int8 AS denied
      FROM "UsageRollup" r
      WHERE r."identityId" = ${identityId} AND r."day" >= ${sinceDay}::date
      GROUP BY r."day"`,
    getIdentityPermissions(db, identityId),
    credentialRequests(db, identity.credentials.map((credential) => credential.id)),
    db.credentialUsage.findMany({
      where: { identityId, credentialId: null },
      orderBy: { lastSeenAt: "desc" },
      take: 50,
      select: { credentialRef: true, lastSeenAt: true, count: true },
    }),
  ]);
  const usage = facts.get(identityId) ?? { records: [], userAgents: [], sourceIps: [], impersonators: [] };
  const byDay = new Map(dailyRows.map((row) => [row.day, row]));
  const daily = Array.from({ length: days }, (_, index) => {
    const day = new Date(since.getTime() + index * 86_400_000).toISOString().slice(0, 10);
    const row = byDay.get(day);
    return { day, requests: Number(row?.requests ?? 0n), denied: Number(row?.denied ?? 0n) };
  });
  const verbs = new Map<string, number>();
  const resources = new Map<string, IdentityUsage["topResources"][number]>();
  for (const record of usage.records) {
    verbs.set(record.verb, (verbs.get(record.verb) ?? 0) + record.count);
    const key =
      record.path ||
      `${record.apiGroup || "core"}/${record.resource}${record.subresource ? `/${record.subresource}` : ""}`;
    const entry = resources.get(key) ?? {
      key,
      apiGroup: record.apiGroup,
      resource: record.resource,
      subresource: record.subresource,
      path: record.path,
      requests: 0,
    };
    entry.requests += record.count;
    resources.set(key, entry);
  }
  return {
    identityId,
    days,
    since,
    lastUsedAt: identity.lastUsedAt,
    observedSince: identity.cluster.usageObservedSince,
    totals: {
      requests: daily.reduce((sum, day) => sum + day.requests, 0),
      denied: daily.reduce((sum, day) => sum + day.denied, 0),
      activeDays: daily.filter((day) => day.requests > 0).length,
    },
    daily,
    topVerbs: [...verbs]
      .map(([verb, requests]) => ({ verb, requests }))
      .sort((a, b) => b.requests - a.requests || a.verb.localeCompare(b.verb))
      .slice(0, TOP),
    topResources: [...resources.values()]
      .sort((a, b) => b.requests - a.requests || a.key.localeCompare(b.key))
      .slice(0, TOP),
    matrix: markUsedCells(permissions?.matrix ?? { verbs: [], rows: [], nonResourceUrls: [] }, usage.records),
    credentials: identity.credentials.map((credential) => ({
      id: credential.id,
      kind: credential.kind,
      namespace: credential.namespace,
      name: credential.name,
      deletedAt: credential.deletedAt,
      lastUsedAt: credential.lastUsedAt,
      requests: requestsByCredential.get(credential.id) ?? 0,
    })),
    otherCredentials: other.map((row) => ({
      credentialRef: row.credentialRef,
      lastUsedAt: row.lastSeenAt,
      requests: row.count,
    })),
    sources: { userAgents: usage.userAgents, sourceIps: usage.sourceIps, impersonators: usage.impersonators },
    records: usage.records,
  };
}

export interface IdentityLeastPrivilege {
  days: number;
  since: Date;
  observedSince: Date | null;
  /** False when the window holds no event and Keyward never received the cluster's: no role can be derived. */
  covered: boolean;
  role: LeastPrivilegeRole;
  /** The identity's own grants (not those of Kubernetes' system groups), split by the window's use. */
  kept: EffectiveRule[];
  removed: EffectiveRule[];
}

/** The role the identity could live with, from the window's allowed requests, and the diff to what it holds now. */
export async function getIdentityLeastPrivilege(
  db: PrismaClient,
  identityId: string,
  options: { days?: number; now?: Date } = {},
): Promise<IdentityLeastPrivilege> {
  const now = options.now ?? new Date();
  const identity = await db.identity.findUniqueOrThrow({
    where: { id: identityId },
    select: { clusterId: true, kind: true, namespace: true, name: true, username: true, groups: true, cluster: { select: { settings: true, usageObservedSince: true } } },
  });
  const days = options.days ?? analysisSettings(identity.cluster.settings).usageWindowDays;
  const since = usageWindowStart(now, days);
  const [facts, policy] = await Promise.all([
    loadUsageFacts(db, { clusterId: identity.clusterId, since, identityId }),
    loadClusterPolicy(db, identity.clusterId),
  ]);
  const records = facts.get(identityId)?.records ?? [];
  const { kept, removed } = diffGrants(ownGrants(policy.effectiveRules(identity)), records);
  return {
    days,
    since,
    observedSince: identity.cluster.usageObservedSince,
    covered: facts.has(identityId) || identity.cluster.usageObservedSince !== null,
    role: generateLeastPrivilege(identity, records),
    kept,
    removed,
  };
}
