// Reading campaigns and their items for pages and the API, always through the viewer's scope: an owner sees the
// campaigns that hold items of their teams, and only those items; security, admin and auditors see everything.
import { z } from "zod";
import type { PrismaClient } from "@/lib/db";
import { reviewItemScopeWhere, type CampaignActor } from "./access";
import type { ReviewEvidence } from "./evidence";
import { campaignScopeSchema } from "./scope";

export const campaignStatuses = ["draft", "active", "closed", "cancelled"] as const;

export const campaignListQuerySchema = z.object({
  status: z.enum(campaignStatuses).optional(),
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
});

export async function listCampaigns(db: PrismaClient, who: CampaignActor, query: z.input<typeof campaignListQuerySchema> = {}) {
  const { status, page, pageSize } = campaignListQuerySchema.parse(query);
  const visibleItems = reviewItemScopeWhere(who.user);
  // Drafts have no items: only those who may see every item see them.
  const where = {
    AND: [status ? { status } : {}, Object.keys(visibleItems).length === 0 ? {} : { items: { some: visibleItems } }],
  };
  const [total, campaigns] = await Promise.all([
    db.campaign.count({ where }),
    db.campaign.findMany({
      where,
      orderBy: [{ createdAt: "desc" }, { id: "asc" }],
      skip: (page - 1) * pageSize,
      take: pageSize,
      include: { schedule: { select: { id: true, cron: true, nextRunAt: true, enabled: true } } },
    }),
  ]);
  return { total, campaigns: campaigns.map((campaign) => ({ ...campaign, scope: campaignScopeSchema.parse(campaign.scope) })) };
}

/** The campaign if `who` may see it (null otherwise, so its existence is not given away). */
export async function getCampaign(db: PrismaClient, who: CampaignActor, campaignId: string) {
  const visibleItems = reviewItemScopeWhere(who.user);
  const campaign = await db.campaign.findFirst({
    where: { id: campaignId, ...(Object.keys(visibleItems).length === 0 ? {} : { items: { some: visibleItems } }) },
    include: {
      schedule: { select: { id: true, cron: true, nextRunAt: true, enabled: true } },
      defaultReviewerTeam: { select: { id: true, name: true } },
    },
  });
  return campaign ? { ...campaign, scope: campaignScopeSchema.parse(campaign.scope) } : null;
}

export const campaignItemsQuerySchema = z.object({
  /** The last item id of the previous page. */
  cursor: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** A campaign's items that `who` may see, in a stable order, keyset-paged (the API's items list and exports). */
export async function listCampaignItems(
  db: PrismaClient,
  who: CampaignActor,
  campaignId: string,
  query: z.input<typeof campaignItemsQuerySchema> = {},
) {
  const { cursor, limit } = campaignItemsQuerySchema.parse(query);
  const rows = await db.reviewItem.findMany({
    where: { AND: [{ campaignId }, reviewItemScopeWhere(who.user), cursor ? { id: { gt: cursor } } : {}] },
    orderBy: { id: "asc" },
    take: limit + 1,
    include: { reviewerTeam: { select: { id: true, name: true } } },
  });
  const items = rows.slice(0, limit).map(({ evidence, ...item }) => ({ ...item, evidence: evidence as unknown as ReviewEvidence }));
  return { items, nextCursor: rows.length > limit ? items.at(-1)!.id : undefined };
}

/** One item with its campaign and change sets, if `who` may see it (null otherwise). */
export async function getReviewItem(db: PrismaClient, who: CampaignActor, itemId: string) {
  const item = await db.reviewItem.findFirst({
    where: { AND: [{ id: itemId }, reviewItemScopeWhere(who.user)] },
    include: {
      campaign: { select: { id: true, name: true, status: true, deadline: true } },
      reviewerTeam: { select: { id: true, name: true } },
      changeSets: { orderBy: { createdAt: "desc" }, select: { id: true, decision: true, status: true, createdAt: true, appliedAt: true, rolledBackAt: true, rollbackOfId: true } },
    },
  });
  if (!item) return null;
  const { evidence, ...rest } = item;
  return { ...rest, evidence: evidence as unknown as ReviewEvidence };
}
