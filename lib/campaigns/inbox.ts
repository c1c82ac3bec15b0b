// The reviewer's inbox (their items across active campaigns, riskiest and most urgent first) and a campaign's
// progress per reviewer team.
import { z } from "zod";
import type { PrismaClient, ReviewDecision, ReviewItemStatus } from "@/lib/db";
import { reviewItemScopeWhere, type CampaignActor } from "./access";
import type { ReviewEvidence } from "./evidence";

export const inboxQuerySchema = z.object({
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
  campaignId: z.string().min(1).max(64).optional(),
  /** Only items in this state (the inbox's default view is "pending"). */
  status: z.enum(["pending", "decided", "applying", "applied", "failed", "rolledBack"]).optional(),
});
export type InboxQuery = z.input<typeof inboxQuerySchema>;

export async function listInbox(db: PrismaClient, who: CampaignActor, query: InboxQuery = {}) {
  const { page, pageSize, campaignId, status } = inboxQuerySchema.parse(query);
  const where = {
    AND: [
      reviewItemScopeWhere(who.user),
      { campaign: { is: { status: "active" as const } } },
      campaignId ? { campaignId } : {},
      status ? { status } : {},
    ],
  };
  const [total, rows] = await Promise.all([
    db.reviewItem.count({ where }),
    db.reviewItem.findMany({
      where,
      orderBy: [{ riskScore: "desc" }, { campaign: { deadline: "asc" } }, { id: "asc" }],
      skip: (page - 1) * pageSize,
      take: pageSize,
      include: {
        campaign: { select: { id: true, name: true, deadline: true } },
        reviewerTeam: { select: { id: true, name: true } },
      },
    }),
  ]);
  const items = rows.map(({ evidence, ...item }) => ({ ...item, evidence: evidence as unknown as ReviewEvidence }));
  return { items, total };
}

export type InboxItem = Awaited<ReturnType<typeof listInbox>>["items"][number];

export interface ReviewerProgress {
  /** null: items without a reviewer team (the security team's). */
  teamId: string | null;
  teamName: string | null;
  total: number;
  pending: number;
  /** Decided, whether or not carried out yet. */
  decided: number;
  byDecision: Record<ReviewDecision, number>;
  byStatus: Partial<Record<ReviewItemStatus, number>>;
  flagged: number;
}

/** Progress per reviewer team, most undecided first. */
export async function campaignProgress(db: PrismaClient, campaignId: string): Promise<ReviewerProgress[]> {
  const [groups, flagged] = await Promise.all([
    db.reviewItem.groupBy({
      by: ["reviewerTeamId", "status", "decision"],
      where: { campaignId },
      _count: { _all: true },
    }),
    db.reviewItem.groupBy({ by: ["reviewerTeamId"], where: { campaignId, flagged: true }, _count: { _all: true } }),
  ]);
  const teamIds = [...new Set(groups.map((group) => group.reviewerTeamId).filter((id): id is string => id !== null))];
  const teams = new Map(
    (await db.team.findMany({ where: { id: { in: teamIds } }, select: { id: true, name: true } })).map((team) => [team.id, team.name]),
  );
  const progress = new Map<string | null, ReviewerProgress>();
  for (const group of groups) {
    const key = group.reviewerTeamId;
    let entry = progress.get(key);
    if (!entry) {
      entry = {
        teamId: key,
        teamName: key ? (teams.get(key) ?? null) : null,
        total: 0,
        pending: 0,
        decided: 0,
        byDecision: { approve: 0, shrink: 0, revoke: 0 },
        byStatus: {},
        flagged: flagged.find((row) => row.reviewerTeamId === key)?._count._all ?? 0,
      };
      progress.set(key, entry);
    }
    const count = group._count._all;
    entry.total += count;
    entry.byStatus[group.status] = (entry.byStatus[group.status] ?? 0) + count;
    if (group.status === "pending") entry.pending += count;
    else entry.decided += count;
    if (group.decision) entry.byDecision[group.decision] += count;
  }
  return [...progress.values()].sort((a, b) => b.pending - a.pending || (a.teamName ?? "").localeCompare(b.teamName ?? ""));
}
