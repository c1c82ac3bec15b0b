import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { ArrowLeft, BarChart3, Download } from "lucide-react";
import { requirePermission } from "@/lib/auth/session";
import { can } from "@/lib/auth/permissions";
import { getPrisma } from "@/lib/db";
import { getCampaign } from "@/lib/campaigns/queries";
import { itemTableQuerySchema, listCampaignItemsPage } from "@/lib/campaigns/item-table";
import { scopedCampaignProgress } from "@/lib/campaigns/report";
import { campaignViewer } from "@/lib/campaigns/viewer";
import { Card, EmptyState, PageHeader } from "@/components/ui/card";
import { Pagination } from "@/components/ui/pagination";
import { formatDateTime } from "@/components/ui/format";
import { CampaignLifecycleActions } from "@/components/campaigns/campaign-actions";
import { CampaignItemsTable, ItemFilters } from "@/components/campaigns/items-table";
import { CampaignStatusBadge, Deadline, ProgressBar, ScheduleText, scopeText } from "@/components/campaigns/campaign-ui";

export const metadata: Metadata = { title: "Campaign" };

const linkClass = "inline-flex items-center gap-1.5 rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-50";

export default async function CampaignPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requirePermission("campaigns:read");
  const { id } = await params;
  const raw = Object.fromEntries(Object.entries(await searchParams).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  const query = itemTableQuerySchema.parse(raw);
  const db = getPrisma();
  const who = campaignViewer(user);
  // Null for a campaign the viewer may not see (an owner's view of another team's): it reads as absent.
  const campaign = await getCampaign(db, who, id);
  if (!campaign) notFound();
  const mayManage = can(user.role, "campaigns:manage");
  const [progress, { total, items }, clusters, teams] = await Promise.all([
    scopedCampaignProgress(db, who, campaign.id),
    listCampaignItemsPage(db, who, campaign.id, query),
    db.cluster.findMany({ where: { id: { in: campaign.scope.clusterIds } }, select: { id: true, name: true } }),
    mayManage && campaign.status === "active" ? db.team.findMany({ orderBy: { name: "asc" }, select: { id: true, name: true } }) : null,
  ]);
  const now = new Date();
  const decided = progress.reduce((sum, entry) => sum + entry.decided, 0);
  const itemCount = progress.reduce((sum, entry) => sum + entry.total, 0);
  const pending = itemCount - decided;
  const basePath = `/campaigns/${campaign.id}`;
  const tableParams = { status: query.status, decision: query.decision, team: query.team, sort: query.sort === "risk" ? undefined : query.sort, dir: query.dir, pageSize: query.pageSize === 50 ? undefined : query.pageSize };
  const filtered = query.status || query.decision || query.team;
  const teamOptions = progress.map((entry) => entry.teamId && { id: entry.teamId, name: entry.teamName ?? entry.teamId }).filter((team) => !!team);

  return (
    <>
      <Link href="/campaigns" className="mb-3 inline-flex items-center gap-1 text-sm text-slate-600 hover:underline">
        <ArrowLeft className="h-4 w-4" aria-hidden /> Campaigns
      </Link>
      <PageHeader
        title={campaign.name}
        description={
          <span className="flex flex-wrap items-center gap-3">
            <CampaignStatusBadge status={campaign.status} />
            <span>
              Deadline <Deadline deadline={campaign.deadline} status={campaign.status} pending={pending} now={now} />
            </span>
          </span>
        }
        action={
          <div className="flex flex-col items-end gap-2">
            <div className="flex gap-2">
              <Link href={`${basePath}/report`} className={linkClass}>
                <BarChart3 className="h-4 w-4" aria-hidden /> Report
              </Link>
              {can(user.role, "campaigns:export") && campaign.status !== "draft" ? (
                <a href={`/api/v1/campaigns/${campaign.id}/export.csv`} className={linkClass} download>
                  <Download className="h-4 w-4" aria-hidden /> Export CSV
                </a>
              ) : null}
            </div>
            {mayManage ? <CampaignLifecycleActions campaignId={campaign.id} status={campaign.status} scheduleRunning={campaign.schedule?.enabled ?? false} /> : null}
          </div>
        }
      />
      <div className="grid grid-cols-1 gap-6 xl:grid-cols-3">
        <Card title="Settings">
          <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 text-sm" data-testid="campaign-settings">
            <dt className="text-slate-500">Scope</dt>
            <dd>{scopeText(campaign.scope, new Map(clusters.map((cluster) => [cluster.id, cluster.name])))}</dd>
            <dt className="text-slate-500">Default reviewer</dt>
            <dd>{campaign.defaultReviewerTeam?.name ?? "the security team"}</dd>
            <dt className="text-slate-500">Duration</dt>
            <dd>{campaign.deadline && campaign.launchedAt ? `until ${formatDateTime(campaign.deadline)}` : `${campaign.durationDays} days from the launch`}</dd>
            <dt className="text-slate-500">Reminders</dt>
            <dd>{campaign.reminderDaysBefore.length ? `${campaign.reminderDaysBefore.join(", ")} days before the deadline` : "none"}</dd>
            <dt className="text-slate-500">After the deadline</dt>
            <dd>
              {campaign.undecidedPolicy === "revoke" ? "undecided items are revoked" : "undecided items keep their access and are flagged"}
              {campaign.escalateAfterDeadline ? "; escalated to the security team" : ""}
            </dd>
            <dt className="text-slate-500">Schedule</dt>
            <dd>
              <ScheduleText schedule={campaign.schedule} />
            </dd>
            <dt className="text-slate-500">Created</dt>
            <dd>{formatDateTime(campaign.createdAt)}</dd>
            {campaign.launchedAt ? (
              <>
                <dt className="text-slate-500">Launched</dt>
                <dd>{formatDateTime(campaign.launchedAt)}</dd>
              </>
            ) : null}
            {campaign.closedAt || campaign.cancelledAt ? (
              <>
                <dt className="text-slate-500">{campaign.closedAt ? "Closed" : "Cancelled"}</dt>
                <dd>{formatDateTime(campaign.closedAt ?? campaign.cancelledAt)}</dd>
              </>
            ) : null}
          </dl>
        </Card>
        <Card title="Progress per reviewer team" className="xl:col-span-2">
          {campaign.status === "draft" ? (
            <p className="text-sm text-slate-600">A draft has no items yet: launching it puts every identity in scope up for review.</p>
          ) : progress.length === 0 ? (
            <p className="text-sm text-slate-600">No identity was in scope at the launch.</p>
          ) : (
            <div className="space-y-4" data-testid="team-progress">
              <ProgressBar decided={decided} total={itemCount} label="Overall progress" />
              <ul className="divide-y divide-slate-100">
                {progress.map((entry) => (
                  <li key={entry.teamId ?? "none"} className="grid grid-cols-1 gap-2 py-2 md:grid-cols-[12rem_1fr_auto] md:items-center" data-testid="team-progress-row">
                    <span className="font-medium">{entry.teamName ?? "Security team (no reviewer team)"}</span>
                    <ProgressBar decided={entry.decided} total={entry.total} label={`Progress of ${entry.teamName ?? "the security team"}`} />
                    <span className="text-xs text-slate-600 tabular-nums">
                      {entry.byDecision.approve} approved · {entry.byDecision.shrink} shrunk · {entry.byDecision.revoke} revoked
                      {entry.flagged ? ` · ${entry.flagged} flagged` : ""}
                      {entry.byStatus.failed ? ` · ${entry.byStatus.failed} failed` : ""}
                    </span>
                  </li>
                ))}
              </ul>
            </div>
          )}
        </Card>
        {campaign.status === "draft" ? null : (
          <Card title={<span data-testid="item-count">{total} {total === 1 ? "item" : "items"}{filtered ? " match" : ""}</span>} className="xl:col-span-3">
            <ItemFilters basePath={basePath} query={query} teams={teamOptions} withoutTeam={progress.some((entry) => entry.teamId === null)} />
            {items.length ? (
              <>
                <CampaignItemsTable rows={items} basePath={basePath} query={query} params={tableParams} reassign={teams} />
                <Pagination
                  page={query.page}
                  pageSize={query.pageSize}
                  total={total}
                  params={Object.fromEntries(Object.entries(tableParams).map(([k, v]) => [k, v === undefined ? undefined : String(v)]))}
                />
              </>
            ) : (
              <EmptyState title={filtered ? "No item matches these filters" : "No item to show"}>
                {filtered ? (
                  <Link href={basePath} className="text-brand-600 underline">Reset the filters</Link>
                ) : (
                  "No identity was in scope at the launch."
                )}
              </EmptyState>
            )}
          </Card>
        )}
      </div>
    </>
  );
}
