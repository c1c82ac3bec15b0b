// An ingestion commits a chunk every second or two. One still "running" that has committed nothing for half an
// hour has stopped (its process died or was killed): the ingest history shows it failed, with what it
// committed kept (its counts are exactly that).
import type { PrismaClient } from "@/lib/db";

export const INTERRUPTED_AFTER_MS = 30 * 60_000;

/** Marks silent running ingestions (of one cluster, or all) failed; returns how many. */
export async function failInterruptedIngestions(
  db: PrismaClient,
  options: { clusterId?: string; now?: Date } = {},
): Promise<number> {
  const now = options.now ?? new Date();
  const { count } = await db.auditIngestBatch.updateMany({
    where: {
      ...(options.clusterId ? { clusterId: options.clusterId } : {}),
      status: "running",
      lastCommitAt: { lt: new Date(now.getTime() - INTERRUPTED_AFTER_MS) },
    },
    data: {
      status: "failed",
      error: "Interrupted: the ingestion stopped; what it had committed is kept.",
      finishedAt: now,
    },
  });
  return count;
}
