-- CreateEnum
CREATE TYPE "AuditIngestSource" AS ENUM ('webhook', 'upload');

-- CreateEnum
CREATE TYPE "AuditIngestStatus" AS ENUM ('running', 'completed', 'failed');

-- AlterTable
ALTER TABLE "Identity" ADD COLUMN     "lastUsedAt" TIMESTAMP(3),
ADD COLUMN     "discoveredByUsage" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "Cluster" ADD COLUMN     "usageObservedSince" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "AuditIngestToken" (
    "id" TEXT NOT NULL,
    "clusterId" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3),
    "revokedAt" TIMESTAMP(3),
    "lastUsedAt" TIMESTAMP(3),

    CONSTRAINT "AuditIngestToken_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditIngestBatch" (
    "id" TEXT NOT NULL,
    "clusterId" TEXT NOT NULL,
    "source" "AuditIngestSource" NOT NULL,
    "status" "AuditIngestStatus" NOT NULL DEFAULT 'running',
    "fileName" TEXT,
    "actorLabel" TEXT NOT NULL,
    "accepted" INTEGER NOT NULL DEFAULT 0,
    "duplicates" INTEGER NOT NULL DEFAULT 0,
    "rejected" INTEGER NOT NULL DEFAULT 0,
    "sampleReasons" JSONB NOT NULL DEFAULT '[]',
    "error" TEXT,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "AuditIngestBatch_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditEventSeen" (
    "clusterId" TEXT NOT NULL,
    "eventKey" BIGINT NOT NULL,
    "day" DATE NOT NULL,

    CONSTRAINT "AuditEventSeen_pkey" PRIMARY KEY ("clusterId","eventKey")
);

-- CreateTable
CREATE TABLE "UsageRollup" (
    "id" BIGSERIAL NOT NULL,
    "clusterId" TEXT NOT NULL,
    "identityId" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "verb" TEXT NOT NULL,
    "apiGroup" TEXT NOT NULL DEFAULT '',
    "resource" TEXT NOT NULL DEFAULT '',
    "subresource" TEXT NOT NULL DEFAULT '',
    "namespace" TEXT NOT NULL DEFAULT '',
    "path" TEXT NOT NULL DEFAULT '',
    "count" INTEGER NOT NULL,
    "deniedCount" INTEGER NOT NULL DEFAULT 0,
    "firstSeenAt" TIMESTAMP(3) NOT NULL,
    "lastSeenAt" TIMESTAMP(3) NOT NULL,
    "userAgents" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "sourceIps" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "resourceNames" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "resourceNamesComplete" BOOLEAN NOT NULL DEFAULT true,

    CONSTRAINT "UsageRollup_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CredentialUsage" (
    "clusterId" TEXT NOT NULL,
    "credentialRef" TEXT NOT NULL,
    "identityId" TEXT NOT NULL,
    "credentialId" TEXT,
    "count" INTEGER NOT NULL,
    "firstSeenAt" TIMESTAMP(3) NOT NULL,
    "lastSeenAt" TIMESTAMP(3) NOT NULL,
    "userAgents" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "sourceIps" TEXT[] DEFAULT ARRAY[]::TEXT[],

    CONSTRAINT "CredentialUsage_pkey" PRIMARY KEY ("clusterId","credentialRef")
);

-- CreateIndex
CREATE UNIQUE INDEX "AuditIngestToken_tokenHash_key" ON "AuditIngestToken"("tokenHash");

-- CreateIndex
CREATE INDEX "AuditIngestToken_clusterId_idx" ON "AuditIngestToken"("clusterId");

-- CreateIndex
CREATE INDEX "AuditIngestBatch_clusterId_startedAt_idx" ON "AuditIngestBatch"("clusterId", "startedAt");

-- CreateIndex
CREATE INDEX "AuditEventSeen_day_idx" ON "AuditEventSeen"("day");

-- CreateIndex
CREATE INDEX "UsageRollup_clusterId_day_idx" ON "UsageRollup"("clusterId", "day");

-- CreateIndex
CREATE UNIQUE INDEX "UsageRollup_identity_day_request_key" ON "UsageRollup"("identityId", "day", "verb", "apiGroup", "resource", "subresource", "namespace", "path");

-- CreateIndex
CREATE INDEX "CredentialUsage_identityId_idx" ON "CredentialUsage"("identityId");

-- AddForeignKey
ALTER TABLE "AuditIngestToken" ADD CONSTRAINT "AuditIngestToken_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "Cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AuditIngestBatch" ADD CONSTRAINT "AuditIngestBatch_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "Cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "UsageRollup" ADD CONSTRAINT "UsageRollup_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "Cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "UsageRollup" ADD CONSTRAINT "UsageRollup_identityId_fkey" FOREIGN KEY ("identityId") REFERENCES "Identity"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CredentialUsage" ADD CONSTRAINT "CredentialUsage_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "Cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CredentialUsage" ADD CONSTRAINT "CredentialUsage_identityId_fkey" FOREIGN KEY ("identityId") REFERENCES "Identity"("id") ON DELETE CASCADE ON UPDATE CASCADE;
