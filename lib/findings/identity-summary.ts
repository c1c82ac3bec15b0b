// Identity.maxSeverity and openFindingCount, denormalised from the open findings that no active risk
// acceptance silences, so the inventory filters and sorts without joining findings.
import type { Prisma, PrismaClient } from "@/lib/db";

type Db = PrismaClient | Prisma.TransactionClient;

function refreshSql(scope: string): string {
  return `UPDATE "Identity" AS i SET "maxSeverity" = agg.max_severity, "openFindingCount" = agg.open_count
FROM (
  SELECT s.id, max(f."severity") AS max_severity, count(f.id)::int AS open_count
  FROM "Identity" s
  LEFT JOIN "Finding" f ON f."identityId" = s.id AND f."resolvedAt" IS NULL
    AND (f."acceptedUntil" IS NULL OR f."acceptedUntil" <= $2::timestamp(3))
  WHERE ${scope}
  GROUP BY s.id
) AS agg
WHERE i.id = agg.id AND (i."maxSeverity" IS DISTINCT FROM agg.max_severity OR i."openFindingCount" <> agg.open_count)`;
}

const CLUSTER_SQL = refreshSql(`s."clusterId" = $1`);
const IDENTITIES_SQL = refreshSql(`s.id = ANY($1::text[])`);

/** Recomputes every identity of the cluster in one statement; returns how many changed. */
export async function refreshClusterIdentitySummaries(db: Db, clusterId: string, now: Date): Promise<number> {
  return db.$executeRawUnsafe(CLUSTER_SQL, clusterId, now.toISOString());
}

export async function refreshIdentitySummaries(db: Db, identityIds: readonly string[], now: Date): Promise<number> {
  if (identityIds.length === 0) return 0;
  return db.$executeRawUnsafe(IDENTITIES_SQL, [...identityIds], now.toISOString());
}
