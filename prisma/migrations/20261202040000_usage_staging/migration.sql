-- Seen audit IDs keyed by (cluster, day, key): one chunk's keys land together in its day's part of the index
-- instead of at random pages of the whole index, and retention deletes by the same key (no separate day index).
ALTER TABLE "AuditEventSeen" DROP CONSTRAINT "AuditEventSeen_pkey";
DROP INDEX "AuditEventSeen_day_idx";
ALTER TABLE "AuditEventSeen" ADD CONSTRAINT "AuditEventSeen_pkey" PRIMARY KEY ("clusterId", "day", "eventKey");

-- A committed chunk's usage until its ingestion merges it into the rollups (or recovery does, after a crash).
CREATE TABLE "UsageStaged" (
    "batchId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "clusterId" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "UsageStaged_pkey" PRIMARY KEY ("batchId","seq")
);

-- Written once and read at most once: stored out of line without compression, which costs more time than it saves.
ALTER TABLE "UsageStaged" ALTER COLUMN "payload" SET STORAGE EXTERNAL;

-- CreateIndex
CREATE INDEX "UsageStaged_clusterId_idx" ON "UsageStaged"("clusterId");

-- AddForeignKey
ALTER TABLE "UsageStaged" ADD CONSTRAINT "UsageStaged_batchId_fkey" FOREIGN KEY ("batchId") REFERENCES "AuditIngestBatch"("id") ON DELETE CASCADE ON UPDATE CASCADE;
