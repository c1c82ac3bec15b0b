import type { Metadata } from "next";
import Link from "next/link";
import { ArrowLeft } from "lucide-react";
import { requirePermission } from "@/lib/auth/session";
import { getPrisma } from "@/lib/db";
import { Card, PageHeader } from "@/components/ui/card";
import { NewCampaignForm } from "@/components/campaigns/campaign-form";

export const metadata: Metadata = { title: "New campaign" };

export default async function NewCampaignPage() {
  await requirePermission("campaigns:manage");
  const db = getPrisma();
  const [clusters, teams] = await Promise.all([
    db.cluster.findMany({ orderBy: { name: "asc" }, select: { id: true, name: true } }),
    db.team.findMany({ orderBy: { name: "asc" }, select: { id: true, name: true } }),
  ]);
  return (
    <>
      <Link href="/campaigns" className="mb-3 inline-flex items-center gap-1 text-sm text-slate-600 hover:underline">
        <ArrowLeft className="h-4 w-4" aria-hidden /> Campaigns
      </Link>
      <PageHeader
        title="New campaign"
        description="Every identity in scope goes to its owner team (or the default reviewer), who approves, shrinks or revokes its access before the deadline."
      />
      <Card>
        <NewCampaignForm clusters={clusters} teams={teams} />
      </Card>
    </>
  );
}
