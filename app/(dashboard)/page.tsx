import type { Metadata } from "next";
import Link from "next/link";
import { AlertTriangle, KeyRound, ShieldAlert, UserX } from "lucide-react";
import { requirePermission } from "@/lib/auth/session";
import { getInventoryOverview } from "@/lib/inventory/overview";
import { listClustersWithHistory } from "@/lib/clusters/queries";
import { Card, EmptyState, PageHeader, Stat } from "@/components/ui/card";
import { Badge, statusTone } from "@/components/ui/badge";
import { timeAgo } from "@/components/ui/format";
import { queryString } from "@/components/ui/format-query";
import { CredentialAgeChart, OwaspChart, OwnershipChart, SeverityChart, SyncTrendChart } from "@/components/charts/inventory-charts";
import { MostUnusedAccess } from "@/components/usage/most-unused-access";
import { UnusedByOwnerChart } from "@/components/usage/usage-charts";

export const metadata: Metadata = { title: "Overview" };

// Links here do not prefetch: each prefetch would run inventory queries for a page the user may never open.
const inventory = (params: Record<string, string | number | undefined>) => `/identities${queryString(params)}`;

export default async function OverviewPage() {
  const user = await requirePermission("inventory:read");
  const [overview, clusters] = await Promise.all([getInventoryOverview(user), listClustersWithHistory(1)]);
  const now = new Date();
  const critical = overview.bySeverity.filter((b) => b.severity === "critical" || b.severity === "high").reduce((n, b) => n + b.count, 0);
  const stale = overview.credentialAge.filter((b) => b.key === "90-365d" || b.key === ">1y").reduce((n, b) => n + b.count, 0);
  // Owners cannot open cluster pages: they are told who can, the others where to go.
  const noUsageHelp =
    user.role === "owner" ? (
      "Usage comes from the clusters' audit events, which your security team connects."
    ) : (
      <>
        No audit events yet? Install the audit webhook or upload a log on a cluster&apos;s page under{" "}
        <Link prefetch={false} href="/clusters" className="text-brand-600 underline">Clusters</Link>.
      </>
    );
  const lastSync = clusters.map((c) => c.lastSyncAt).filter((d): d is Date => !!d).sort((a, b) => a.getTime() - b.getTime()).at(-1) ?? null;

  return (
    <>
      <PageHeader
        title="Overview"
        description={user.role === "owner" ? "The non-human identities your teams own." : "Every non-human identity Keyward found in your clusters, and what is risky about them."}
        action={
          <Link prefetch={false} href="/identities" className="rounded-md bg-brand-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-brand-700">
            Open the inventory
          </Link>
        }
      />
      {overview.total === 0 ? (
        <EmptyState title={user.role === "owner" ? "No identity is assigned to your teams yet" : clusters.length ? "Nothing synced yet" : "No cluster registered yet"}>
          {user.role === "owner" ? (
            "Ask your security team to assign your team as the owner of its service accounts, or to annotate them with keyward.io/owner."
          ) : clusters.length ? (
            <>
              Run a sync from the <Link prefetch={false} href="/clusters" className="text-brand-600 underline">Clusters</Link> page.
            </>
          ) : (
            <>
              Register a cluster on the <Link prefetch={false} href="/clusters" className="text-brand-600 underline">Clusters</Link> page, or start the demo with <code>npm run demo</code>.
            </>
          )}
        </EmptyState>
      ) : (
        <>
          <div className="grid grid-cols-1 gap-4 md:grid-cols-2 xl:grid-cols-4">
            <Link prefetch={false} href="/identities">
              <Stat label="Identities" value={<span data-testid="identity-total">{overview.total}</span>} hint={`live, in ${clusters.length || "your"} cluster${clusters.length === 1 ? "" : "s"}`} />
            </Link>
            <Link prefetch={false} href={inventory({ severity: "high" })}>
              <Stat label="High or critical risk" value={<span className="flex items-center gap-2"><ShieldAlert className="h-5 w-5 text-red-600" aria-hidden />{critical}</span>} hint="with an open, unaccepted finding" />
            </Link>
            <Link prefetch={false} href={inventory({ owner: "unowned" })}>
              <Stat label="Unowned" value={<span className="flex items-center gap-2"><UserX className="h-5 w-5 text-amber-600" aria-hidden />{overview.unowned}</span>} hint="nobody is accountable for these" />
            </Link>
            <Link prefetch={false} href={inventory({ hasLegacyToken: "true" })}>
              <Stat label="Legacy tokens" value={<span className="flex items-center gap-2"><KeyRound className="h-5 w-5 text-amber-600" aria-hidden />{overview.withLegacyToken}</span>} hint={`${stale} identities with credentials older than 90 days`} />
            </Link>
          </div>
          <div className="mt-6 grid grid-cols-1 gap-6 xl:grid-cols-3">
            <Card title="Identities by risk">
              <SeverityChart data={overview.bySeverity.map((b) => ({ ...b, href: b.severity === "none" ? undefined : inventory({ severity: b.severity }) }))} />
            </Card>
            <Card title="Credential age">
              <CredentialAgeChart
                data={overview.credentialAge.map((b) => ({ label: b.label, count: b.count, href: b.minDays !== undefined && b.minDays > 0 ? inventory({ credentialAgeDays: b.minDays, sort: "credentialAge", dir: "desc" }) : undefined }))}
              />
            </Card>
            <Card title="Ownership">
              <OwnershipChart owned={overview.owned} unowned={overview.unowned} hrefs={{ unowned: inventory({ owner: "unowned" }) }} />
            </Card>
            <Card title="Open findings by OWASP NHI Top 10 category" className="xl:col-span-2">
              {overview.findingsByOwasp.length ? (
                <OwaspChart data={overview.findingsByOwasp} />
              ) : (
                <EmptyState title="No open finding">Nothing risky is open, or every open risk has been accepted.</EmptyState>
              )}
            </Card>
            <Card title="Clusters">
              <ul className="space-y-2 text-sm">
                {clusters.map((c) => (
                  <li key={c.id} className="flex items-center justify-between gap-2">
                    <Link prefetch={false} href={`/clusters/${c.id}`} className="font-medium text-brand-700 hover:underline">{c.name}</Link>
                    <span className="flex items-center gap-2 text-slate-500">
                      {timeAgo(c.lastSyncAt, now)} <Badge tone={statusTone[c.status]}>{c.status}</Badge>
                    </span>
                  </li>
                ))}
              </ul>
              <p className="mt-3 text-xs text-slate-500">Last sync {timeAgo(lastSync, now)}</p>
            </Card>
            <Card title="Most unused access" className="xl:col-span-2">
              {overview.mostUnusedAccess.length ? (
                <MostUnusedAccess
                  rows={overview.mostUnusedAccess.map((r) => ({
                    identityId: r.id,
                    label: r.namespace ? `${r.namespace}/${r.name}` : r.name,
                    cluster: r.cluster,
                    owner: r.team,
                    unused: r.unusedRules,
                    granted: r.grantedRules,
                  }))}
                />
              ) : (
                <EmptyState title="No unused access found">
                  Granted rules an identity never uses show up here once its cluster&apos;s audit events arrive.{" "}
                  {noUsageHelp}
                </EmptyState>
              )}
            </Card>
            <Card title="Unused identities by owner">
              {overview.unusedByOwner.length ? (
                <UnusedByOwnerChart data={overview.unusedByOwner.map((b) => ({ owner: b.team, count: b.count, href: inventory({ owner: b.slug ?? "unowned", findingType: "unused" }) }))} />
              ) : (
                <EmptyState title="No unused identity">
                  Identities with no request in the usage window show up here, per owning team. {noUsageHelp}
                </EmptyState>
              )}
            </Card>
            <Card title="Trend across syncs" className="xl:col-span-3">
              {overview.trend.length > 1 ? (
                <SyncTrendChart data={overview.trend.map((t) => ({ label: `${t.at.toISOString().slice(5, 16).replace("T", " ")} ${t.cluster}`, identities: t.identities, openFindings: t.openFindings }))} />
              ) : (
                <p className="flex items-center gap-2 text-sm text-slate-600">
                  <AlertTriangle className="h-4 w-4 text-slate-400" aria-hidden /> The trend appears after the second successful sync.
                </p>
              )}
            </Card>
          </div>
        </>
      )}
    </>
  );
}
