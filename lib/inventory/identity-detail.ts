import { getPrisma } from "@/lib/db";
import { identityScopeWhere, type Viewer } from "./scope";

/**
 * Everything the identity page shows, or null when the identity does not exist or `user` may not see it
 * (the same answer for both, so an owner cannot probe for other teams' identities).
 */
export async function getIdentityDetail(user: Viewer, id: string) {
  const db = getPrisma();
  const identity = await db.identity.findFirst({
    where: { AND: [{ id }, identityScopeWhere(user)] },
    select: {
      id: true,
      clusterId: true,
      kind: true,
      namespace: true,
      name: true,
      username: true,
      uid: true,
      labels: true,
      annotations: true,
      groups: true,
      automountToken: true,
      createdInClusterAt: true,
      firstSeenAt: true,
      lastSeenAt: true,
      lastUsedAt: true,
      deletedAt: true,
      maxSeverity: true,
      openFindingCount: true,
      hasLegacyToken: true,
      oldestCredentialAt: true,
      ownerSource: true,
      ownerTeam: { select: { id: true, name: true, slug: true } },
      cluster: { select: { id: true, name: true, lastSyncAt: true } },
      credentials: {
        orderBy: [{ deletedAt: { sort: "desc", nulls: "first" } }, { issuedAt: { sort: "asc", nulls: "last" } }],
        select: { id: true, kind: true, namespace: true, name: true, issuedAt: true, expiresAt: true, lastUsedAt: true, fingerprint: true, details: true, deletedAt: true },
      },
      workloads: {
        where: { deletedAt: null },
        orderBy: [{ namespace: "asc" }, { name: "asc" }],
        take: 100,
        select: { id: true, kind: true, namespace: true, name: true, ownerKind: true, ownerName: true, automountToken: true, createdInClusterAt: true },
      },
      findings: {
        orderBy: [{ resolvedAt: { sort: "desc", nulls: "first" } }, { severity: "desc" }, { firstSeenAt: "asc" }],
        select: {
          id: true,
          type: true,
          severity: true,
          title: true,
          details: true,
          owasp: true,
          csf: true,
          firstSeenAt: true,
          lastSeenAt: true,
          resolvedAt: true,
          acceptedUntil: true,
          acceptances: {
            orderBy: { createdAt: "desc" },
            take: 5,
            select: { id: true, reason: true, expiresAt: true, createdAt: true, revokedAt: true, acceptedById: true },
          },
        },
      },
      _count: { select: { workloads: { where: { deletedAt: null } } } },
    },
  });
  if (!identity) return null;

  // Sync runs of its cluster since it was first seen: when it appeared, was last confirmed, disappeared.
  const syncRuns = await db.syncRun.findMany({
    where: { clusterId: identity.clusterId, startedAt: { gte: new Date(identity.firstSeenAt.getTime() - 60_000) } },
    orderBy: { startedAt: "desc" },
    take: 10,
    select: { id: true, trigger: true, status: true, startedAt: true, durationMs: true, error: true },
  });
  const acceptedByIds = [...new Set(identity.findings.flatMap((f) => f.acceptances.map((a) => a.acceptedById)))];
  const acceptedBy = acceptedByIds.length
    ? await db.user.findMany({ where: { id: { in: acceptedByIds } }, select: { id: true, name: true, email: true } })
    : [];
  const people = new Map(acceptedBy.map((u) => [u.id, u]));
  const now = new Date();
  return {
    ...identity,
    findings: identity.findings.map((f) => ({
      ...f,
      state: f.resolvedAt ? ("resolved" as const) : f.acceptedUntil && f.acceptedUntil > now ? ("accepted" as const) : ("open" as const),
      acceptances: f.acceptances.map((a) => ({ ...a, acceptedBy: people.get(a.acceptedById) ?? null })),
    })),
    syncRuns,
  };
}
export type IdentityDetail = NonNullable<Awaited<ReturnType<typeof getIdentityDetail>>>;
