-- AlterTable
ALTER TABLE "Identity" ADD COLUMN     "groups" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "maxSeverity" "Severity",
ADD COLUMN     "openFindingCount" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "hasLegacyToken" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "oldestCredentialAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "Finding" ADD COLUMN     "acceptedUntil" TIMESTAMP(3);

-- CreateIndex
CREATE INDEX "Identity_deletedAt_maxSeverity_idx" ON "Identity"("deletedAt", "maxSeverity");

-- CreateIndex
CREATE INDEX "Identity_namespace_idx" ON "Identity"("namespace");

-- CreateIndex
CREATE INDEX "Finding_type_idx" ON "Finding"("type");
