// Usage is kept for a cluster's retention period (analysis settings, default 400 days): older rollups and
// seen audit IDs go. Run daily by the job worker.
import type { PrismaClient } from "@/lib/db";
import { analysisSettings, type AnalysisSettings } from "@/lib/findings/settings";

export const DEFAULT_USAGE_RETENTION_DAYS = 400;
const DAY_MS = 86_400_000;

/** The cluster's usageRetentionDays, read defensively (a missing or invalid setting means the default). */
export function usageRetentionDays(settings: unknown): number {
  const days = (analysisSettings(settings) as AnalysisSettings & { usageRetentionDays?: unknown })
    .usageRetentionDays;
  return typeof days === "number" && Number.isInteger(days) && days > 0 ? days : DEFAULT_USAGE_RETENTION_DAYS;
}

/** First day kept (YYYY-MM-DD, UTC) when keeping `days` days up to `now`. */
const firstDayKept = (now: Date, days: number) =>
  new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS - (days - 1) * DAY_MS).toISOString().slice(0, 10);

export interface RetentionOutcome {
  rollups: number;
  seenEvents: number;
}

export async function pruneUsage(db: PrismaClient, now: Date = new Date()): Promise<RetentionOutcome> {
  const outcome: RetentionOutcome = { rollups: 0, seenEvents: 0 };
  const clusters = await db.cluster.findMany({ select: { id: true, number: true, settings: true } });
  for (const cluster of clusters) {
    const cutoff = firstDayKept(now, usageRetentionDays(cluster.settings));
    outcome.rollups += await db.$executeRawUnsafe(
      `DELETE FROM "UsageRollup" WHERE "clusterId" = $1 AND "day" < $2::date`,
      cluster.id,
      cutoff,
    );
    outcome.seenEvents += await db.$executeRawUnsafe(
      `DELETE FROM "AuditEventSeen" WHERE "clusterNumber" = $1 AND "day" < $2::date`,
      cluster.number,
      cutoff,
    );
  }
  // AuditEventSeen has no foreign key: keys of deleted clusters expire after the default period.
  outcome.seenEvents += await db.$executeRawUnsafe(
    `DELETE FROM "AuditEventSeen" WHERE "day" < $1::date AND "clusterNumber" <> ALL($2::int[])`,
    firstDayKept(now, DEFAULT_USAGE_RETENTION_DAYS),
    clusters.map((cluster) => cluster.number),
  );
  return outcome;
}
