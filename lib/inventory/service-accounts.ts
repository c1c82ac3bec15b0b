import { z } from "zod";
import { getPrisma, type Prisma } from "@/lib/db";

export const serviceAccountQuerySchema = z.object({
  q: z.string().trim().max(200).optional().catch(undefined),
  namespace: z.string().trim().max(253).optional().catch(undefined),
  sort: z.enum(["name", "namespace", "createdInClusterAt", "lastSeenAt"]).catch("namespace"),
  dir: z.enum(["asc", "desc"]).catch("asc"),
  page: z.coerce.number().int().min(1).max(100_000).catch(1),
  pageSize: z.coerce.number().int().min(10).max(200).catch(25),
});
export type ServiceAccountQuery = z.infer<typeof serviceAccountQuerySchema>;

/** One page of live service accounts, filtered and sorted in the database. */
export async function listServiceAccounts(query: ServiceAccountQuery) {
  const db = getPrisma();
  const where: Prisma.IdentityWhereInput = {
    kind: "ServiceAccount",
    deletedAt: null,
    ...(query.namespace ? { namespace: query.namespace } : {}),
    ...(query.q
      ? { OR: [{ name: { contains: query.q, mode: "insensitive" } }, { namespace: { contains: query.q, mode: "insensitive" } }] }
      : {}),
  };
  const orderBy: Prisma.IdentityOrderByWithRelationInput[] = [{ [query.sort]: query.dir }, { namespace: "asc" }, { name: "asc" }];
  const [total, rows] = await Promise.all([
    db.identity.count({ where }),
    db.identity.findMany({
      where,
      orderBy,
      skip: (query.page - 1) * query.pageSize,
      take: query.pageSize,
      select: {
        id: true,
        namespace: true,
        name: true,
        createdInClusterAt: true,
        lastSeenAt: true,
        annotations: true,
        cluster: { select: { name: true } },
      },
    }),
  ]);
  return { total, rows };
}

/** Live service accounts per namespace, largest first. */
export async function serviceAccountsByNamespace(limit = 12): Promise<{ namespace: string; count: number }[]> {
  const groups = await getPrisma().identity.groupBy({
    by: ["namespace"],
    where: { kind: "ServiceAccount", deletedAt: null },
    _count: { _all: true },
    orderBy: { _count: { namespace: "desc" } },
    take: limit,
  });
  return groups.map((g) => ({ namespace: g.namespace, count: g._count._all }));
}
