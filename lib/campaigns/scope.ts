// A campaign's scope: which identities it reviews. Evaluated at launch against the live inventory.
import { z } from "zod";
import type { Prisma } from "@/lib/db";
import { identityKinds, severities } from "@/lib/inventory/filters";

export const campaignScopeSchema = z.object({
  /** Empty: every cluster. */
  clusterIds: z.array(z.string().min(1).max(64)).max(500).default([]),
  /** Empty: every namespace (and the identities that have none). */
  namespaces: z.array(z.string().trim().min(1).max(253)).max(500).default([]),
  /** Empty: every kind. */
  kinds: z.array(z.enum(identityKinds)).default([]),
  /** Only identities whose open, unaccepted findings reach this severity. */
  minSeverity: z.enum(severities).optional(),
  onlyUnowned: z.boolean().default(false),
  /** Only identities with an open "unused" or "unused-permissions" finding. */
  onlyUnusedAccess: z.boolean().default(false),
});
export type CampaignScope = z.output<typeof campaignScopeSchema>;

const UNUSED_ACCESS_FINDINGS = ["unused", "unused-permissions"];

/** The live identities in scope, as a Prisma where-clause. */
export function campaignScopeWhere(scope: CampaignScope, now: Date): Prisma.IdentityWhereInput {
  const and: Prisma.IdentityWhereInput[] = [{ deletedAt: null }];
  if (scope.clusterIds.length > 0) and.push({ clusterId: { in: scope.clusterIds } });
  if (scope.namespaces.length > 0) and.push({ namespace: { in: scope.namespaces } });
  if (scope.kinds.length > 0) and.push({ kind: { in: scope.kinds } });
  if (scope.minSeverity) and.push({ maxSeverity: { in: severities.slice(severities.indexOf(scope.minSeverity)) } });
  if (scope.onlyUnowned) and.push({ ownerTeamId: null });
  if (scope.onlyUnusedAccess) {
    and.push({
      findings: {
        some: {
          type: { in: UNUSED_ACCESS_FINDINGS },
          resolvedAt: null,
          OR: [{ acceptedUntil: null }, { acceptedUntil: { lte: now } }],
        },
      },
    });
  }
  return { AND: and };
}
