// A campaign's aggregates for its pages: progress in the list, progress per reviewer team, and the report (decisions
// by type, completion over time, overdue by team). Always through the viewer's scope: an owner's numbers count only
// its teams' items.
import type { PrismaClient, ReviewDecision } from "@/lib/db";
import { reviewItemScopeWhere, type CampaignActor } from "./access";
import { campaignProgress, type ReviewerProgress } from "./inbox";

const DAY_MS = 86_400_000;

/** Items and undecided items per campaign, for the campaigns list's progress bars. */
export async function campaignListProgress(
  db: PrismaClient,
  who: CampaignActor,
  campaignIds: string[],
): Promise<Map<string, { total: number; pending: number }>> {
  const groups = await db.reviewItem.groupBy({
    by: ["campaignId", "status"],
    where: { AND: [{ campaignId: { in: campaignIds } }, reviewItemScopeWhere(who.user)] },
    _count: { _all: true },
  });
  const counts = new Map<string, { total: number; pending: number }>();
  for (const group of groups) {
    const entry = counts.get(group.campaignId) ?? { total: 0, pending: 0 };
    entry.total += group._count._all;
    if (group.status === "pending") entry.pending += group._count._all;
    counts.set(group.campaignId, entry);
  }
  return counts;
}

/** The reviewer teams (null: none) of the campaign's items that `who` may see. */
async function visibleReviewerTeams(db: PrismaClient, who: CampaignActor, campaignId: string): Promise<Set<string | null>> {
  const groups = await db.reviewItem.groupBy({
    by: ["reviewerTeamId"],
    where: { AND: [{ campaignId }, reviewItemScopeWhere(who.user)] },
  });
  return new Set(groups.map((group) => group.reviewerTeamId));
}

/** campaignProgress, narrowed to the teams whose items `who` may see (an owner: its own teams). */
export async function scopedCampaignProgress(db: PrismaClient, who: CampaignActor, campaignId: string): Promise<ReviewerProgress[]> {
  const [progress, visible] = await Promise.all([campaignProgress(db, campaignId), visibleReviewerTeams(db, who, campaignId)]);
  return progress.filter((entry) => visible.has(entry.teamId));
}

export interface CampaignReport {
  total: number;
  decided: number;
  pending: number;
  /** Carried out on the cluster (applied), and failed there. */
  applied: number;
  failed: number;
  /** Undecided at the deadline under the keep policy. */
  flagged: number;
  /** Undecided after the deadline (counted up to the close, if the campaign ended). */
  overdue: number;
  decisions: { decision: ReviewDecision | "undecided"; count: number }[];
  /**
   * One point per UTC day from the launch to the deadline (or the close): decisions so far against all items;
   * `decided` is null for the days still to come.
   */
  completion: { day: string; decided: number | null; total: number }[];
  overdueByTeam: { teamId: string | null; teamName: string | null; overdue: number }[];
}

interface DayRow {
  reviewerTeamId: string | null;
  day: Date;
  decided: bigint;
}

const utcDay = (date: Date) => date.toISOString().slice(0, 10);

export async function campaignReport(
  db: PrismaClient,
  who: CampaignActor,
  campaign: { id: string; launchedAt: Date | null; deadline: Date | null; closedAt: Date | null; cancelledAt: Date | null },
  now: Date = new Date(),
): Promise<CampaignReport> {
  const [groups, days] = await Promise.all([
    db.reviewItem.groupBy({
      by: ["reviewerTeamId", "status", "decision", "flagged"],
      where: { AND: [{ campaignId: campaign.id }, reviewItemScopeWhere(who.user)] },
      _count: { _all: true },
    }),
    // Per team as well as per day: the rows of teams the viewer may not see are dropped below.
    db.$queryRaw<DayRow[]>`
      SELECT "reviewerTeamId", date_trunc('day', "decidedAt") AS "day", count(*)::int8 AS "decided"
      FROM "ReviewItem"
      WHERE "campaignId" = ${campaign.id} AND "decidedAt" IS NOT NULL
      GROUP BY 1, 2`,
  ]);
  // Visibility follows the reviewer team (reviewItemScopeWhere): the groups above already went through it.
  const visible = new Set(groups.map((group) => group.reviewerTeamId));
  const end = campaign.closedAt ?? campaign.cancelledAt ?? now;
  const pastDeadline = campaign.deadline !== null && campaign.deadline.getTime() < end.getTime();

  const report: CampaignReport = { total: 0, decided: 0, pending: 0, applied: 0, failed: 0, flagged: 0, overdue: 0, decisions: [], completion: [], overdueByTeam: [] };
  const byDecision: Record<ReviewDecision | "undecided", number> = { approve: 0, shrink: 0, revoke: 0, undecided: 0 };
  const overdueByTeam = new Map<string | null, number>();
  for (const group of groups) {
    const count = group._count._all;
    report.total += count;
    byDecision[group.decision ?? "undecided"] += count;
    if (group.flagged) report.flagged += count;
    if (group.status === "applied") report.applied += count;
    if (group.status === "failed") report.failed += count;
    if (group.status === "pending") {
      report.pending += count;
      if (pastDeadline) overdueByTeam.set(group.reviewerTeamId, (overdueByTeam.get(group.reviewerTeamId) ?? 0) + count);
    } else report.decided += count;
  }
  report.decisions = (Object.keys(byDecision) as (keyof typeof byDecision)[]).map((decision) => ({ decision, count: byDecision[decision] }));
  report.overdue = [...overdueByTeam.values()].reduce((sum, count) => sum + count, 0);

  const teamIds = [...overdueByTeam.keys()].filter((id): id is string => id !== null);
  const names = new Map((await db.team.findMany({ where: { id: { in: teamIds } }, select: { id: true, name: true } })).map((team) => [team.id, team.name]));
  report.overdueByTeam = [...overdueByTeam]
    .map(([teamId, overdue]) => ({ teamId, teamName: teamId ? (names.get(teamId) ?? null) : null, overdue }))
    .sort((a, b) => b.overdue - a.overdue || (a.teamName ?? "").localeCompare(b.teamName ?? ""));

  if (campaign.launchedAt) {
    const perDay = new Map<string, number>();
    for (const row of days) {
      if (!visible.has(row.reviewerTeamId)) continue;
      const day = utcDay(row.day);
      perDay.set(day, (perDay.get(day) ?? 0) + Number(row.decided));
    }
    // An open campaign's chart runs to its deadline, so the days left show; an ended one stops at its end.
    const ended = campaign.closedAt ?? campaign.cancelledAt;
    const last = ended ?? (campaign.deadline && campaign.deadline > now ? campaign.deadline : now);
    let decided = 0;
    for (let t = Date.parse(utcDay(campaign.launchedAt)); t <= last.getTime(); t += DAY_MS) {
      const day = utcDay(new Date(t));
      decided += perDay.get(day) ?? 0;
      report.completion.push({ day, decided: t <= end.getTime() ? decided : null, total: report.total });
    }
  }
  return report;
}
