import type { Metadata } from "next";
import Link from "next/link";
import { Plus } from "lucide-react";
import { z } from "zod";
import { requirePermission } from "@/lib/auth/session";
import { can } from "@/lib/auth/permissions";
import { getPrisma } from "@/lib/db";
import { reviewItemScopeWhere } from "@/lib/campaigns/access";
import { campaignStatuses, listCampaigns } from "@/lib/campaigns/queries";
import { campaignListProgress } from "@/lib/campaigns/report";
import { campaignViewer } from "@/lib/campaigns/viewer";
import { Card, EmptyState, PageHeader } from "@/components/ui/card";
import { Pagination } from "@/components/ui/pagination";
import { formatDateTime } from "@/components/ui/format";
import { queryString } from "@/components/ui/format-query";
import { CampaignStatusBadge, Deadline, ProgressBar, ScheduleText } from "@/components/campaigns/campaign-ui";

export const metadata: Metadata = { title: "Campaigns" };

const PAGE_SIZE = 20;
const paramsSchema = z.object({
  status: z.enum(campaignStatuses).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(100_000).catch(1),
});

const th = "px-3 py-2 text-left font-medium";
const td = "px-3 py-2 align-top";

export default async function CampaignsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requirePermission("campaigns:read");
  const raw = Object.fromEntries(Object.entries(await searchParams).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  const { status, page } = paramsSchema.parse(raw);
  const db = getPrisma();
  const who = campaignViewer(user);
  const mayManage = can(user.role, "campaigns:manage");
  const { total, campaigns } = await listCampaigns(db, who, { status, page, pageSize: PAGE_SIZE });
  const progress = await campaignListProgress(db, who, campaigns.map((campaign) => campaign.id));
  const now = new Date();
  // Drafts have no items yet: only viewers who see every item (not an owner) ever see one.
  const seesDrafts = Object.keys(reviewItemScopeWhere(who.user)).length === 0;
  const tabs = campaignStatuses.filter((s) => seesDrafts || s !== "draft");

  return (
    <>
      <PageHeader
        title="Campaigns"
        description={
          user.role === "owner"
            ? "Access reviews that hold identities of your teams. Decide your items from Reviews."
            : "Access reviews: every identity in a campaign's scope goes to its owner team, who approves, shrinks or revokes its access."
        }
        action={
          mayManage ? (
            <Link href="/campaigns/new" className="inline-flex items-center gap-1.5 rounded-md bg-brand-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-brand-700">
              <Plus className="h-4 w-4" aria-hidden /> New campaign
            </Link>
          ) : null
        }
      />
      <nav aria-label="Campaign status" className="mb-4 flex flex-wrap gap-1">
        {[undefined, ...tabs].map((s) => (
          <Link
            key={s ?? "all"}
            href={`/campaigns${queryString({ status: s })}`}
            aria-current={s === status ? "page" : undefined}
            className={`rounded-md px-3 py-1 text-sm ${s === status ? "bg-slate-900 text-white" : "text-slate-600 hover:bg-slate-100"}`}
          >
            {s ?? "All"}
          </Link>
        ))}
      </nav>
      <Card title={<span data-testid="campaign-count">{total} {total === 1 ? "campaign" : "campaigns"}</span>}>
        {campaigns.length ? (
          <>
            <div className="overflow-x-auto">
              <table className="min-w-full divide-y divide-slate-200 text-sm" data-testid="campaigns">
                <thead className="bg-slate-50 text-xs uppercase tracking-wide text-slate-500">
                  <tr>
                    <th scope="col" className={th}>Campaign</th>
                    <th scope="col" className={th}>Status</th>
                    <th scope="col" className={th}>Progress</th>
                    <th scope="col" className={th}>Deadline</th>
                    <th scope="col" className={th}>Schedule</th>
                    <th scope="col" className={th}>Created</th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {campaigns.map((campaign) => {
                    const counts = progress.get(campaign.id) ?? { total: 0, pending: 0 };
                    return (
                      <tr key={campaign.id} data-testid="campaign-row" className="hover:bg-slate-50">
                        <td className={td}>
                          <Link href={`/campaigns/${campaign.id}`} className="font-medium text-brand-700 hover:underline">
                            {campaign.name}
                          </Link>
                        </td>
                        <td className={td}>
                          <CampaignStatusBadge status={campaign.status} />
                        </td>
                        <td className={td}>
                          {!campaign.launchedAt ? (
                            <span className="text-xs text-slate-500">{campaign.status === "draft" ? "items are created at launch" : "never launched"}</span>
                          ) : (
                            <ProgressBar decided={counts.total - counts.pending} total={counts.total} label={`Progress of ${campaign.name}`} />
                          )}
                        </td>
                        <td className={td}>
                          <Deadline deadline={campaign.deadline} status={campaign.status} pending={counts.pending} now={now} />
                        </td>
                        <td className={td}>
                          <ScheduleText schedule={campaign.schedule} />
                        </td>
                        <td className={`${td} text-slate-600`}>{formatDateTime(campaign.createdAt)}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
            <Pagination page={page} pageSize={PAGE_SIZE} total={total} params={{ status }} />
          </>
        ) : status ? (
          <EmptyState title={`No ${status} campaign`}>
            <Link href="/campaigns" className="text-brand-600 underline">Show every campaign</Link>.
          </EmptyState>
        ) : mayManage ? (
          <EmptyState title="Create your first review campaign">
            Choose a scope (clusters, namespaces, minimum risk), a deadline and a schedule: each identity in scope goes to its owner team for review.{" "}
            <Link href="/campaigns/new" className="text-brand-600 underline">New campaign</Link>.
          </EmptyState>
        ) : user.role === "owner" ? (
          <EmptyState title="Nothing to review">No campaign holds identities of your teams. The security team will let you know when one starts.</EmptyState>
        ) : (
          <EmptyState title="No campaign yet">The security team creates access reviews; they appear here once launched.</EmptyState>
        )}
      </Card>
    </>
  );
}
