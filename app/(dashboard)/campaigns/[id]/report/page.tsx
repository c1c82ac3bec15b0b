import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { ArrowLeft, Download } from "lucide-react";
import { requirePermission } from "@/lib/auth/session";
import { can } from "@/lib/auth/permissions";
import { getPrisma } from "@/lib/db";
import { getCampaign } from "@/lib/campaigns/queries";
import { campaignReport } from "@/lib/campaigns/report";
import { campaignViewer } from "@/lib/campaigns/viewer";
import { Card, EmptyState, PageHeader, Stat } from "@/components/ui/card";
import { formatDateTime } from "@/components/ui/format";
import { CampaignStatusBadge } from "@/components/campaigns/campaign-ui";
import { CompletionChart, DecisionsChart, OverdueByTeamChart } from "@/components/campaigns/report-charts";

export const metadata: Metadata = { title: "Campaign report" };

export default async function CampaignReportPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requirePermission("campaigns:read");
  const { id } = await params;
  const db = getPrisma();
  const who = campaignViewer(user);
  const campaign = await getCampaign(db, who, id);
  if (!campaign) notFound();
  const now = new Date();
  const report = await campaignReport(db, who, campaign, now);
  const percent = report.total === 0 ? 0 : Math.round((report.decided / report.total) * 100);
  const mayExport = can(user.role, "campaigns:export") && campaign.status !== "draft";
  const ended = campaign.closedAt ?? campaign.cancelledAt;
  const noOverdue =
    campaign.deadline && campaign.deadline < (ended ?? now)
      ? "Nothing was left undecided after the deadline."
      : ended
        ? "The campaign ended before its deadline: nothing was overdue."
        : "The deadline has not passed: nothing is overdue yet.";

  return (
    <>
      <Link href={`/campaigns/${campaign.id}`} className="mb-3 inline-flex items-center gap-1 text-sm text-slate-600 hover:underline">
        <ArrowLeft className="h-4 w-4" aria-hidden /> {campaign.name}
      </Link>
      <PageHeader
        title={`Report: ${campaign.name}`}
        description={
          <span className="flex flex-wrap items-center gap-3">
            <CampaignStatusBadge status={campaign.status} />
            <span>Deadline {formatDateTime(campaign.deadline)}</span>
            {user.role === "owner" ? <span>Your teams&apos; items only.</span> : null}
          </span>
        }
        action={
          mayExport ? (
            <a
              href={`/api/v1/campaigns/${campaign.id}/export.csv`}
              download
              className="inline-flex items-center gap-1.5 rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-50"
            >
              <Download className="h-4 w-4" aria-hidden /> Export CSV
            </a>
          ) : null
        }
      />
      {campaign.status === "draft" ? (
        <EmptyState title="Not launched yet">The report fills in once the campaign is launched and reviewers decide their items.</EmptyState>
      ) : (
        <>
          <div className="grid grid-cols-2 gap-4 md:grid-cols-4 xl:grid-cols-7" data-testid="report-numbers">
            <Stat label="Items" value={report.total} />
            <Stat label="Decided" value={report.decided} hint={`${percent}% of the items`} />
            <Stat label="Undecided" value={report.pending} />
            <Stat label="Overdue" value={<span className={report.overdue ? "text-red-700" : undefined}>{report.overdue}</span>} hint="undecided after the deadline" />
            <Stat label="Flagged" value={report.flagged} hint="kept at the deadline, undecided" />
            <Stat label="Applied" value={report.applied} hint="carried out on the cluster" />
            <Stat label="Failed" value={<span className={report.failed ? "text-red-700" : undefined}>{report.failed}</span>} hint="the cluster refused; retry from the item" />
          </div>
          <div className="mt-6 grid grid-cols-1 gap-6 xl:grid-cols-2">
            <Card title="Decisions by type">
              <DecisionsChart data={report.decisions} />
            </Card>
            <Card title="Completion over time">
              <CompletionChart data={report.completion} />
            </Card>
            <Card title="Overdue by reviewer team (the owner team, or the default reviewer)" className="xl:col-span-2">
              {report.overdueByTeam.length ? (
                <OverdueByTeamChart data={report.overdueByTeam} />
              ) : (
                <p className="text-sm text-slate-600" data-testid="no-overdue">
                  {noOverdue}
                </p>
              )}
            </Card>
          </div>
        </>
      )}
    </>
  );
}
