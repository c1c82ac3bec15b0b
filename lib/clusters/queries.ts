import { getPrisma } from "@/lib/db";

/** Clusters with their latest sync runs. Never selects credentials. */
export async function listClustersWithHistory(historyLength = 10) {
  return getPrisma().cluster.findMany({
    orderBy: { name: "asc" },
    select: {
      id: true,
      name: true,
      apiServerUrl: true,
      status: true,
      statusMessage: true,
      lastSyncAt: true,
      createdAt: true,
      credentials: { select: { purpose: true, authType: true, updatedAt: true } },
      _count: { select: { identities: { where: { deletedAt: null } } } },
      syncRuns: {
        orderBy: { startedAt: "desc" },
        take: historyLength,
        select: { id: true, trigger: true, status: true, startedAt: true, durationMs: true, counts: true, error: true },
      },
    },
  });
}

/** One cluster with a longer sync history for its page, or null. Never selects credentials' secrets. */
export async function getClusterDetail(id: string, historyLength = 50) {
  const db = getPrisma();
  const cluster = await db.cluster.findUnique({
    where: { id },
    select: {
      id: true,
      name: true,
      apiServerUrl: true,
      caCertPem: true,
      status: true,
      statusMessage: true,
      lastSyncAt: true,
      createdAt: true,
      credentials: { orderBy: { purpose: "asc" }, select: { purpose: true, authType: true, subject: true, updatedAt: true } },
      syncRuns: {
        orderBy: { startedAt: "desc" },
        take: historyLength,
        select: { id: true, trigger: true, status: true, startedAt: true, finishedAt: true, durationMs: true, counts: true, error: true },
      },
    },
  });
  if (!cluster) return null;
  const [identities, openFindings] = await Promise.all([
    db.identity.groupBy({ by: ["kind"], where: { clusterId: id, deletedAt: null }, _count: { _all: true } }),
    db.finding.count({ where: { clusterId: id, resolvedAt: null, OR: [{ acceptedUntil: null }, { acceptedUntil: { lte: new Date() } }] } }),
  ]);
  return { ...cluster, identitiesByKind: identities.map((g) => ({ kind: g.kind, count: g._count._all })), openFindings };
}

/** The number of objects a sync saw, all kinds together. */
export function totalSyncedObjects(counts: unknown): number {
  if (!counts || typeof counts !== "object") return 0;
  return Object.values(counts as Record<string, unknown>).reduce<number>((n, v) => n + (typeof v === "number" ? v : 0), 0);
}
