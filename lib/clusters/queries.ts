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
