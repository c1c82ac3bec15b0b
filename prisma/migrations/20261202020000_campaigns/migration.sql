-- CreateEnum
CREATE TYPE "CampaignStatus" AS ENUM ('draft', 'active', 'closed', 'cancelled');

-- CreateEnum
CREATE TYPE "UndecidedPolicy" AS ENUM ('keep', 'revoke');

-- CreateEnum
CREATE TYPE "ReviewDecision" AS ENUM ('approve', 'shrink', 'revoke');

-- CreateEnum
CREATE TYPE "ReviewItemStatus" AS ENUM ('pending', 'decided', 'applying', 'applied', 'failed', 'rolledBack');

-- CreateEnum
CREATE TYPE "ChangeSetStatus" AS ENUM ('planned', 'applying', 'applied', 'failed', 'rolledBack');

-- CreateEnum
CREATE TYPE "NotificationChannel" AS ENUM ('email', 'webhook');

-- CreateEnum
CREATE TYPE "NotificationStatus" AS ENUM ('pending', 'sent', 'failed');

-- CreateTable
CREATE TABLE "CampaignSchedule" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "cron" TEXT NOT NULL,
    "template" JSONB NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "nextRunAt" TIMESTAMP(3) NOT NULL,
    "lastRunAt" TIMESTAMP(3),
    "createdById" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CampaignSchedule_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Campaign" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "status" "CampaignStatus" NOT NULL DEFAULT 'draft',
    "scope" JSONB NOT NULL DEFAULT '{}',
    "defaultReviewerTeamId" TEXT,
    "durationDays" INTEGER NOT NULL DEFAULT 14,
    "deadline" TIMESTAMP(3),
    "reminderDaysBefore" INTEGER[] DEFAULT ARRAY[]::INTEGER[],
    "escalateAfterDeadline" BOOLEAN NOT NULL DEFAULT true,
    "undecidedPolicy" "UndecidedPolicy" NOT NULL DEFAULT 'keep',
    "scheduleId" TEXT,
    "createdById" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "launchedAt" TIMESTAMP(3),
    "closedAt" TIMESTAMP(3),
    "cancelledAt" TIMESTAMP(3),
    "deadlineHandledAt" TIMESTAMP(3),

    CONSTRAINT "Campaign_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ReviewItem" (
    "id" TEXT NOT NULL,
    "campaignId" TEXT NOT NULL,
    "clusterId" TEXT NOT NULL,
    "identityId" TEXT,
    "reviewerTeamId" TEXT,
    "status" "ReviewItemStatus" NOT NULL DEFAULT 'pending',
    "severity" "Severity",
    "riskScore" INTEGER NOT NULL DEFAULT 0,
    "evidence" JSONB NOT NULL,
    "recommendation" "ReviewDecision" NOT NULL,
    "recommendationReason" TEXT NOT NULL,
    "decision" "ReviewDecision",
    "comment" TEXT,
    "decidedById" TEXT,
    "decidedAt" TIMESTAMP(3),
    "version" INTEGER NOT NULL DEFAULT 0,
    "appliedAt" TIMESTAMP(3),
    "flagged" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "ReviewItem_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ClusterChangeSet" (
    "id" TEXT NOT NULL,
    "clusterId" TEXT NOT NULL,
    "reviewItemId" TEXT,
    "rollbackOfId" TEXT,
    "decision" "ReviewDecision",
    "status" "ChangeSetStatus" NOT NULL DEFAULT 'planned',
    "plan" JSONB NOT NULL,
    "applied" JSONB NOT NULL DEFAULT '[]',
    "failure" JSONB,
    "verification" JSONB,
    "createdByLabel" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "appliedAt" TIMESTAMP(3),
    "rolledBackAt" TIMESTAMP(3),

    CONSTRAINT "ClusterChangeSet_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "NotificationOutbox" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "channel" "NotificationChannel" NOT NULL,
    "recipient" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "body" JSONB NOT NULL,
    "status" "NotificationStatus" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sentAt" TIMESTAMP(3),
    "lastError" TEXT,
    "dedupeKey" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "NotificationOutbox_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "CampaignSchedule_enabled_nextRunAt_idx" ON "CampaignSchedule"("enabled", "nextRunAt");

-- CreateIndex
CREATE INDEX "Campaign_status_deadline_idx" ON "Campaign"("status", "deadline");

-- CreateIndex
CREATE INDEX "ReviewItem_reviewerTeamId_status_idx" ON "ReviewItem"("reviewerTeamId", "status");

-- CreateIndex
CREATE INDEX "ReviewItem_campaignId_status_idx" ON "ReviewItem"("campaignId", "status");

-- CreateIndex
CREATE UNIQUE INDEX "ReviewItem_campaignId_identityId_key" ON "ReviewItem"("campaignId", "identityId");

-- CreateIndex
CREATE UNIQUE INDEX "ClusterChangeSet_rollbackOfId_key" ON "ClusterChangeSet"("rollbackOfId");

-- CreateIndex
CREATE INDEX "ClusterChangeSet_reviewItemId_idx" ON "ClusterChangeSet"("reviewItemId");

-- CreateIndex
CREATE INDEX "ClusterChangeSet_clusterId_createdAt_idx" ON "ClusterChangeSet"("clusterId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "NotificationOutbox_dedupeKey_key" ON "NotificationOutbox"("dedupeKey");

-- CreateIndex
CREATE INDEX "NotificationOutbox_status_nextAttemptAt_idx" ON "NotificationOutbox"("status", "nextAttemptAt");

-- AddForeignKey
ALTER TABLE "Campaign" ADD CONSTRAINT "Campaign_defaultReviewerTeamId_fkey" FOREIGN KEY ("defaultReviewerTeamId") REFERENCES "Team"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Campaign" ADD CONSTRAINT "Campaign_scheduleId_fkey" FOREIGN KEY ("scheduleId") REFERENCES "CampaignSchedule"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ReviewItem" ADD CONSTRAINT "ReviewItem_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "Campaign"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ReviewItem" ADD CONSTRAINT "ReviewItem_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "Cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ReviewItem" ADD CONSTRAINT "ReviewItem_identityId_fkey" FOREIGN KEY ("identityId") REFERENCES "Identity"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ReviewItem" ADD CONSTRAINT "ReviewItem_reviewerTeamId_fkey" FOREIGN KEY ("reviewerTeamId") REFERENCES "Team"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ClusterChangeSet" ADD CONSTRAINT "ClusterChangeSet_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "Cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ClusterChangeSet" ADD CONSTRAINT "ClusterChangeSet_reviewItemId_fkey" FOREIGN KEY ("reviewItemId") REFERENCES "ReviewItem"("id") ON DELETE SET NULL ON UPDATE CASCADE;
