// Recovery of staged usage (see ingest-audit.ts): chunks an ingestion committed but did not get to merge into
// the rollups, because it crashed or failed, or because it stalled long enough to be taken for dead. Each staged
// chunk is merged in its own transaction, which deletes it: merged exactly once, whoever gets there first.
import { sqlPoolOf, type PrismaClient } from "@/lib/db";
import { inTransaction, lockClusterUsage, takeStaged, writeUsage } from "./write-usage";

/** A running ingestion that has staged nothing for this long is taken for dead. */
export const ABANDONED_AFTER_MS = 30 * 60_000;

/** Merges one batch's staged chunks, in order; returns how many this call merged. */
export async function mergeStagedBatch(
  db: PrismaClient,
  clusterId: string,
  batchId: string,
): Promise<number> {
  const rows = await db.usageStaged.findMany({
    where: { batchId },
    select: { seq: true },
    orderBy: { seq: "asc" },
  });
  let merged = 0;
  for (const { seq } of rows) {
    const took = await inTransaction(sqlPoolOf(db), async (tx) => {
      await lockClusterUsage(tx, clusterId);
      const writes = await takeStaged(tx, batchId, seq);
      if (writes) await writeUsage(tx, clusterId, writes);
      return writes !== null;
    });
    if (took) merged++;
  }
  return merged;
}

/**
 * Merges the staged usage of ingestions that are over: failed, finished without merging, or running but silent
 * for ABANDONED_AFTER_MS. Run before each ingestion of the cluster and by the daily usage job (all clusters).
 */
export async function mergeAbandonedUsage(
  db: PrismaClient,
  options: { clusterId?: string; now?: Date; abandonedAfterMs?: number } = {},
): Promise<number> {
  const silentSince = new Date(
    (options.now ?? new Date()).getTime() - (options.abandonedAfterMs ?? ABANDONED_AFTER_MS),
  );
  const batches = await db.usageStaged.groupBy({
    by: ["batchId", "clusterId"],
    where: options.clusterId ? { clusterId: options.clusterId } : {},
    _max: { createdAt: true },
  });
  if (batches.length === 0) return 0;
  const running = new Set(
    (
      await db.auditIngestBatch.findMany({
        where: { id: { in: batches.map((batch) => batch.batchId) }, status: "running" },
        select: { id: true },
      })
    ).map((batch) => batch.id),
  );
  let merged = 0;
  for (const batch of batches) {
    const silent = batch._max.createdAt! < silentSince;
    if (running.has(batch.batchId) && !silent) continue;
    merged += await mergeStagedBatch(db, batch.clusterId, batch.batchId);
    // Shown as failed in the ingest history; an ingestion that was only stalled sets its own status when it ends.
    if (silent)
      await db.auditIngestBatch.updateMany({
        where: { id: batch.batchId, status: "running" },
        data: {
          status: "failed",
          error: "Interrupted: the ingestion stopped; what it had committed was merged.",
          finishedAt: new Date(),
        },
      });
  }
  return merged;
}
