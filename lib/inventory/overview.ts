import { getPrisma, Prisma } from "@/lib/db";
import { severities, type SeverityName } from "./filters";
import { identityScopeSql, identityScopeWhere, type Viewer } from "./scope";

const DAY_MS = 86_400_000;

/** Credential age buckets, by the identity's oldest live credential. */
export const credentialAgeBuckets = [
  { key: "<30d", label: "< 30 d", minDays: 0, maxDays: 30 },
  { key: "30-90d", label: "30–90 d", minDays: 30, maxDays: 90 },
  { key: "90-365d", label: "90 d–1 y", minDays: 90, maxDays: 365 },
  { key: ">1y", label: "> 1 y", minDays: 365, maxDays: undefined },
] as const;

/** Everything the overview charts show, for the identities `user` may see. Live identities only. */
export async function getInventoryOverview(user: Viewer, now = new Date()) {
  const db = getPrisma();
  const live = { AND: [identityScopeWhere(user), { deletedAt: null }] };
  const ago = (days: number) => new Date(now.getTime() - days * DAY_MS);

  const [bySeverityRows, total, owned, legacy, noCredential, ageCounts, findingsByOwasp, trend, mostUnusedAccess, unusedByOwner] = await Promise.all([
    db.identity.groupBy({ by: ["maxSeverity"], where: live, _count: { _all: true } }),
    db.identity.count({ where: live }),
    db.identity.count({ where: { AND: [live, { ownerTeamId: { not: null } }] } }),
    db.identity.count({ where: { AND: [live, { hasLegacyToken: true }] } }),
    db.identity.count({ where: { AND: [live, { oldestCredentialAt: null }] } }),
    Promise.all(
      credentialAgeBuckets.map((b) =>
        db.identity.count({
          where: { AND: [live, { oldestCredentialAt: { lte: ago(b.minDays), ...(b.maxDays ? { gt: ago(b.maxDays) } : {}) } }] },
        }),
      ),
    ),
    openFindingsByOwasp(user, now),
    syncTrend(user),
    identitiesWithMostUnusedAccess(user, now),
    unusedIdentitiesByOwner(user, now),
  ]);

  const severityCounts = new Map(bySeverityRows.map((r) => [r.maxSeverity ?? "none", r._count._all]));
  return {
    total,
    owned,
    unowned: total - owned,
    withLegacyToken: legacy,
    bySeverity: [...severities].reverse().map((s) => ({ severity: s as SeverityName | "none", count: severityCounts.get(s) ?? 0 })).concat({
      severity: "none",
      count: severityCounts.get("none") ?? 0,
    }),
    credentialAge: [
      ...credentialAgeBuckets.map((b, i) => ({ key: b.key, label: b.label, minDays: b.minDays, count: ageCounts[i] ?? 0 })),
      { key: "none", label: "none", minDays: undefined, count: noCredential },
    ],
    findingsByOwasp,
    trend,
    mostUnusedAccess,
    unusedByOwner,
  };
}
export type InventoryOverview = Awaited<ReturnType<typeof getInventoryOverview>>;

/** Open, unaccepted findings per OWASP NHI category and severity (a finding counts once per category). */
async function openFindingsByOwasp(user: Viewer, now: Date) {
  const rows = await getPrisma().$queryRaw<{ category: string; severity: SeverityName; count: bigint }[]>`
    SELECT o.category, f."severity"::text AS severity, count(*) AS count
    FROM "Finding" f
    JOIN "Identity" i ON i."id" = f."identityId"
    CROSS JOIN LATERAL unnest(f."owasp") AS o(category)
    WHERE f."resolvedAt" IS NULL
      AND (f."acceptedUntil" IS NULL OR f."acceptedUntil" <= ${now})
      AND i."deletedAt" IS NULL
      AND ${identityScopeSql(user)}
    GROUP BY o.category, f."severity"
    ORDER BY o.category`;
  const byCategory = new Map<string, { category: string; total: number } & Record<SeverityName, number>>();
  for (const row of rows) {
    const entry = byCategory.get(row.category) ?? { category: row.category, total: 0, info: 0, low: 0, medium: 0, high: 0, critical: 0 };
    entry[row.severity] += Number(row.count);
    entry.total += Number(row.count);
    byCategory.set(row.category, entry);
  }
  return [...byCategory.values()];
}

/**
 * Live identities and open findings as they stood at the end of each of the last successful syncs,
 * reconstructed from first-seen / deleted / resolved timestamps (so it needs no snapshot table).
 */
async function syncTrend(user: Viewer, limit = 30) {
  const rows = await getPrisma().$queryRaw<{ syncRunId: string; cluster: string; at: Date; durationMs: number | null; identities: bigint; openFindings: bigint }[]>`
    WITH runs AS (
      SELECT r."id", r."clusterId", r."finishedAt", r."durationMs"
      FROM "SyncRun" r
      WHERE r."status" = 'succeeded' AND r."finishedAt" IS NOT NULL
      ORDER BY r."finishedAt" DESC
      LIMIT ${limit}
    )
    SELECT runs."id" AS "syncRunId", c."name" AS cluster, runs."finishedAt" AS at, runs."durationMs" AS "durationMs",
      (SELECT count(*) FROM "Identity" i
        WHERE i."firstSeenAt" <= runs."finishedAt" AND (i."deletedAt" IS NULL OR i."deletedAt" > runs."finishedAt")
          AND ${identityScopeSql(user)}) AS identities,
      (SELECT count(*) FROM "Finding" f JOIN "Identity" i ON i."id" = f."identityId"
        WHERE f."firstSeenAt" <= runs."finishedAt" AND (f."resolvedAt" IS NULL OR f."resolvedAt" > runs."finishedAt")
          AND ${identityScopeSql(user)}) AS "openFindings"
    FROM runs JOIN "Cluster" c ON c."id" = runs."clusterId"
    ORDER BY runs."finishedAt" ASC`;
  return rows.map((r) => ({ ...r, identities: Number(r.identities), openFindings: Number(r.openFindings) }));
}


/** An open finding that no risk acceptance silences, on a live identity the viewer may see. */
const openOn = (now: Date) => Prisma.sql`f."resolvedAt" IS NULL AND (f."acceptedUntil" IS NULL OR f."acceptedUntil" <= ${now}) AND i."deletedAt" IS NULL`;

/** The identities holding the most granted rules they never used in the usage window (their unused-permissions findings). */
export async function identitiesWithMostUnusedAccess(user: Viewer, now = new Date(), limit = 10) {
  const rows = await getPrisma().$queryRaw<
    { id: string; kind: string; namespace: string; name: string; cluster: string; team: string | null; removed: number; kept: number }[]
  >`
    SELECT i."id", i."kind"::text AS kind, i."namespace", i."name", c."name" AS cluster, t."name" AS team,
      coalesce((f."details"->>'removedCount')::int, 0) AS removed, coalesce((f."details"->>'keptCount')::int, 0) AS kept
    FROM "Finding" f
    JOIN "Identity" i ON i."id" = f."identityId"
    JOIN "Cluster" c ON c."id" = i."clusterId"
    LEFT JOIN "Team" t ON t."id" = i."ownerTeamId"
    WHERE f."type" = 'unused-permissions' AND ${openOn(now)} AND ${identityScopeSql(user)}
    ORDER BY removed DESC, i."name", i."id"
    LIMIT ${limit}`;
  return rows.map((row) => ({ ...row, unusedRules: row.removed, grantedRules: row.removed + row.kept }));
}

/** Live identities with an open "unused" finding, per owning team ("Unowned" for none), most first. */
export async function unusedIdentitiesByOwner(user: Viewer, now = new Date()) {
  const rows = await getPrisma().$queryRaw<{ teamId: string | null; team: string | null; slug: string | null; count: bigint }[]>`
    SELECT t."id" AS "teamId", t."name" AS team, t."slug" AS slug, count(DISTINCT i."id") AS count
    FROM "Finding" f
    JOIN "Identity" i ON i."id" = f."identityId"
    LEFT JOIN "Team" t ON t."id" = i."ownerTeamId"
    WHERE f."type" = 'unused' AND ${openOn(now)} AND ${identityScopeSql(user)}
    GROUP BY t."id", t."name", t."slug"
    ORDER BY count DESC, t."name" NULLS LAST`;
  return rows.map((row) => ({ teamId: row.teamId, team: row.team ?? "Unowned", slug: row.slug, count: Number(row.count) }));
}
