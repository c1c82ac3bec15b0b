// A campaign's items as the campaign page's table shows them: filtered, sorted and paged in the database, through
// the viewer's scope (listCampaignItems is keyset-paged in id order, for the API and exports).
import { z } from "zod";
import type { Prisma, PrismaClient } from "@/lib/db";
import { reviewItemScopeWhere, type CampaignActor } from "./access";
import type { ReviewEvidence } from "./evidence";

export const itemSorts = ["risk", "identity", "cluster", "namespace", "reviewer", "status", "decision"] as const;
export type ItemSort = (typeof itemSorts)[number];

export const itemTableQuerySchema = z.object({
  status: z.enum(["pending", "decided", "applying", "applied", "failed", "rolledBack"]).optional().catch(undefined),
  decision: z.enum(["approve", "shrink", "revoke", "undecided"]).optional().catch(undefined),
  /** A reviewer team's id, or "none" for the items without one. */
  team: z.string().min(1).max(64).optional().catch(undefined),
  sort: z.enum(itemSorts).catch("risk"),
  dir: z.enum(["asc", "desc"]).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(100_000).catch(1),
  pageSize: z.coerce.number().int().min(10).max(200).catch(50),
});
export type ItemTableQuery = z.output<typeof itemTableQuerySchema>;

/** The direction a column sorts in when first clicked: the riskiest first, names A to Z. */
export const defaultDir = (sort: ItemSort) => (sort === "risk" ? "desc" : "asc");

function orderBy(sort: ItemSort, dir: "asc" | "desc"): Prisma.ReviewItemOrderByWithRelationInput[] {
  const nulls = { sort: dir, nulls: "last" } as const;
  const by: Record<ItemSort, Prisma.ReviewItemOrderByWithRelationInput[]> = {
    risk: [{ riskScore: dir }],
    identity: [{ identity: { name: dir } }],
    cluster: [{ cluster: { name: dir } }],
    namespace: [{ identity: { namespace: dir } }, { identity: { name: "asc" } }],
    reviewer: [{ reviewerTeam: { name: dir } }],
    status: [{ status: dir }],
    decision: [{ decision: nulls }],
  };
  // The riskiest first within a column's ties, then a stable order for paging.
  return [...by[sort], ...(sort === "risk" ? [] : [{ riskScore: "desc" as const }]), { id: "asc" }];
}

export async function listCampaignItemsPage(db: PrismaClient, who: CampaignActor, campaignId: string, query: ItemTableQuery) {
  const { status, decision, team, sort, page, pageSize } = query;
  const where: Prisma.ReviewItemWhereInput = {
    AND: [
      { campaignId },
      reviewItemScopeWhere(who.user),
      status ? { status } : {},
      decision ? { decision: decision === "undecided" ? null : decision } : {},
      team ? { reviewerTeamId: team === "none" ? null : team } : {},
    ],
  };
  const [total, rows] = await Promise.all([
    db.reviewItem.count({ where }),
    db.reviewItem.findMany({
      where,
      orderBy: orderBy(sort, query.dir ?? defaultDir(sort)),
      skip: (page - 1) * pageSize,
      take: pageSize,
      select: {
        id: true,
        status: true,
        severity: true,
        riskScore: true,
        recommendation: true,
        recommendationReason: true,
        decision: true,
        decidedAt: true,
        flagged: true,
        version: true,
        identityId: true,
        // The evidence keeps the identity's name once its row is gone.
        evidence: true,
        cluster: { select: { id: true, name: true } },
        reviewerTeam: { select: { id: true, name: true } },
      },
    }),
  ]);
  const items = rows.map(({ evidence, ...row }) => {
    const { identity } = evidence as unknown as ReviewEvidence;
    return { ...row, identity: { kind: identity.kind, namespace: identity.namespace, name: identity.name, username: identity.username } };
  });
  return { total, items };
}

export type CampaignItemRow = Awaited<ReturnType<typeof listCampaignItemsPage>>["items"][number];
