// Keeps one identity's "no owner" finding in step with a manual owner change, without a full analysis.
import type { IdentityKind, PrismaClient } from "@/lib/db";
import { findingFingerprint, identityKey, isKubernetesBuiltIn } from "./evaluate";
import { refreshIdentitySummaries } from "./identity-summary";
import { findingRule } from "./rules";

export async function refreshNoOwnerFinding(
  db: PrismaClient,
  identity: { id: string; clusterId: string; kind: IdentityKind; namespace: string; name: string; deletedAt: Date | null },
  ownerTeamId: string | null,
  now: Date,
): Promise<void> {
  const fingerprint = findingFingerprint("no-owner", identityKey(identity));
  const applies = ownerTeamId === null && identity.deletedAt === null && !isKubernetesBuiltIn(identity);
  await db.$transaction(async (tx) => {
    if (applies) {
      const rule = findingRule("no-owner");
      await tx.finding.upsert({
        where: { clusterId_fingerprint: { clusterId: identity.clusterId, fingerprint } },
        create: {
          clusterId: identity.clusterId,
          identityId: identity.id,
          type: rule.id,
          severity: rule.severity,
          title: rule.title,
          owasp: [...rule.owasp],
          csf: [...rule.csf],
          fingerprint,
          firstSeenAt: now,
          lastSeenAt: now,
        },
        update: { resolvedAt: null, lastSeenAt: now },
      });
    } else {
      await tx.finding.updateMany({
        where: { clusterId: identity.clusterId, fingerprint, resolvedAt: null },
        data: { resolvedAt: now },
      });
    }
    await refreshIdentitySummaries(tx, [identity.id], now);
  });
}
