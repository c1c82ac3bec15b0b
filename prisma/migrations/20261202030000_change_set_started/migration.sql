-- An apply records when it started and each write bumps updatedAt, so the campaign tick can tell an apply that
-- stopped (the process died) from one still making progress.

-- AlterTable
ALTER TABLE "ClusterChangeSet" ADD COLUMN "startedAt" TIMESTAMP(3),
ADD COLUMN "updatedAt" TIMESTAMP(3);

-- Existing change sets last changed no later than they were applied or created.
UPDATE "ClusterChangeSet" SET "updatedAt" = COALESCE("appliedAt", "createdAt");

ALTER TABLE "ClusterChangeSet" ALTER COLUMN "updatedAt" SET NOT NULL;

-- CreateIndex
CREATE INDEX "ClusterChangeSet_status_updatedAt_idx" ON "ClusterChangeSet"("status", "updatedAt");
