import { z } from "zod";
import type { PrismaClient } from "@/lib/db";
import type { RejectedLine } from "./types";

// A cluster's audit ingestion as the cluster page and GET /api/v1/clusters/{id}/audit/imports show it: the
// batches (webhook deliveries and uploads) newest first, and where events come from.

export const ingestHistoryQuery = z.object({
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
  source: z.enum(["webhook", "upload"]).optional().describe("only webhook deliveries or only uploads"),
});
export type IngestHistoryQuery = z.output<typeof ingestHistoryQuery>;

const rejectedLines = z.array(z.object({ line: z.number(), reason: z.string() }));

/** sampleReasons is JSON written by the ingester; anything else in the column reads as none rather than failing the page. */
function sampleReasonsOf(value: unknown): RejectedLine[] {
  const parsed = rejectedLines.safeParse(value);
  return parsed.success ? parsed.data : [];
}

export interface IngestBatchRow {
  id: string;
  source: "webhook" | "upload";
  status: "running" | "completed" | "failed";
  fileName: string | null;
  actorLabel: string;
  accepted: number;
  duplicates: number;
  rejected: number;
  sampleReasons: RejectedLine[];
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

export async function listIngestBatches(
  db: PrismaClient,
  clusterId: string,
  { page, pageSize, source }: IngestHistoryQuery,
): Promise<{ items: IngestBatchRow[]; page: number; pageSize: number; total: number }> {
  const where = { clusterId, ...(source ? { source } : {}) };
  const [total, rows] = await Promise.all([
    db.auditIngestBatch.count({ where }),
    db.auditIngestBatch.findMany({
      where,
      // id breaks ties between batches started in the same millisecond, so pages never overlap.
      orderBy: [{ startedAt: "desc" }, { id: "desc" }],
      skip: (page - 1) * pageSize,
      take: pageSize,
      select: {
        id: true,
        source: true,
        status: true,
        fileName: true,
        actorLabel: true,
        accepted: true,
        duplicates: true,
        rejected: true,
        sampleReasons: true,
        error: true,
        startedAt: true,
        finishedAt: true,
      },
    }),
  ]);
  return { items: rows.map((row) => ({ ...row, sampleReasons: sampleReasonsOf(row.sampleReasons) })), page, pageSize, total };
}

/** What the cluster page's usage section leads with: since when events are observed, the last of each source, the webhook token. */
export async function getUsageIngestSummary(db: PrismaClient, clusterId: string) {
  const [cluster, lastWebhook, lastUpload, token] = await Promise.all([
    db.cluster.findUnique({ where: { id: clusterId }, select: { usageObservedSince: true } }),
    db.auditIngestBatch.findFirst({ where: { clusterId, source: "webhook" }, orderBy: { startedAt: "desc" }, select: { startedAt: true } }),
    db.auditIngestBatch.findFirst({ where: { clusterId, source: "upload" }, orderBy: { startedAt: "desc" }, select: { startedAt: true } }),
    db.auditIngestToken.findFirst({
      where: { clusterId, revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: new Date() } }] },
      orderBy: { createdAt: "desc" },
      select: { createdAt: true, expiresAt: true, lastUsedAt: true },
    }),
  ]);
  return {
    observedSince: cluster?.usageObservedSince ?? null,
    lastWebhookAt: lastWebhook?.startedAt ?? null,
    lastUploadAt: lastUpload?.startedAt ?? null,
    webhookToken: token,
  };
}
