import type { Metadata } from "next";
import { requirePermission } from "@/lib/auth/session";
import { can } from "@/lib/auth/permissions";
import { getPrisma } from "@/lib/db";
import { listInbox } from "@/lib/campaigns/inbox";
import { listCampaigns } from "@/lib/campaigns/queries";
import { Card, EmptyState, PageHeader } from "@/components/ui/card";
import { Pagination } from "@/components/ui/pagination";
import { InboxTable, type InboxRow } from "@/components/reviews/inbox-table";
import { InboxFilters } from "@/components/reviews/inbox-filters";
import { inboxParamsSchema } from "@/components/reviews/review-view";

export const metadata: Metadata = { title: "Reviews" };

const PAGE_SIZE = 50;

export default async function ReviewsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const user = await requirePermission("campaigns:read");
  const params = inboxParamsSchema.parse(await searchParams);
  const db = getPrisma();
  // Owners see only their teams' items: listInbox and listCampaigns narrow by the viewer.
  const who = { actor: { type: "user" as const, id: user.id, label: user.email }, user };
  const [{ items, total }, { campaigns }] = await Promise.all([
    listInbox(db, who, {
      page: params.page,
      pageSize: PAGE_SIZE,
      campaignId: params.campaign,
      status: params.status === "all" ? undefined : params.status,
    }),
    listCampaigns(db, who, { status: "active", pageSize: 200 }),
  ]);
  const rows: InboxRow[] = items.map((item) => ({
    id: item.id,
    version: item.version,
    status: item.status,
    identity: {
      username: item.evidence.identity.username,
      kind: item.evidence.identity.kind,
      namespace: item.evidence.identity.namespace,
      name: item.evidence.identity.name,
    },
    clusterName: item.evidence.identity.clusterName,
    severity: item.severity,
    riskScore: item.riskScore,
    recommendation: item.recommendation,
    recommendationReason: item.recommendationReason,
    decision: item.decision,
    flagged: item.flagged,
    campaign: item.campaign,
    reviewerTeam: item.reviewerTeam?.name ?? null,
  }));
  const waiting = params.status === "pending" && !params.campaign;

  return (
    <>
      <PageHeader
        title="Reviews"
        description={
          user.role === "owner"
            ? "The identities your teams own, in the campaigns running now: riskiest and nearest deadline first."
            : "Every item of the campaigns running now: riskiest and nearest deadline first."
        }
      />
      <Card>
        <InboxFilters
          params={params}
          campaigns={campaigns.map((campaign) => ({ id: campaign.id, name: campaign.name }))}
        />
        {rows.length === 0 ? (
          <div className="mt-4">
            {waiting ? (
              <EmptyState title="Nothing waiting for your review">
                No active campaign has an undecided item {user.role === "owner" ? "for your teams" : ""}. When
                the security team launches one, its items appear here.
              </EmptyState>
            ) : (
              <EmptyState title="No item matches these filters">
                Change the status or the campaign to see others.
              </EmptyState>
            )}
          </div>
        ) : (
          <div className="mt-4">
            <InboxTable rows={rows} mayDecide={can(user.role, "campaigns:decide")} now={new Date()} />
            <Pagination
              page={params.page}
              pageSize={PAGE_SIZE}
              total={total}
              params={{ status: params.status, campaign: params.campaign }}
            />
          </div>
        )}
      </Card>
    </>
  );
}
