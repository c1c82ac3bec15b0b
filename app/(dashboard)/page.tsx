import type { Metadata } from "next";
import Link from "next/link";
import { requirePermission } from "@/lib/auth/session";
import { listServiceAccounts, serviceAccountQuerySchema, serviceAccountsByNamespace } from "@/lib/inventory/service-accounts";
import { listClustersWithHistory } from "@/lib/clusters/queries";
import { Card, EmptyState, PageHeader, Stat } from "@/components/ui/card";
import { Badge, statusTone } from "@/components/ui/badge";
import { Pagination } from "@/components/ui/pagination";
import { timeAgo } from "@/components/ui/format";
import { NamespaceBarChart } from "@/components/charts/namespace-bar-chart";
import { ServiceAccountTable } from "@/components/inventory/service-account-table";

export const metadata: Metadata = { title: "Overview" };

const OWNER_ANNOTATION = "keyward.io/owner";

export default async function OverviewPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  await requirePermission("inventory:read");
  const params = await searchParams;
  const query = serviceAccountQuerySchema.parse(params);
  const [clusters, page, byNamespace] = await Promise.all([listClustersWithHistory(1), listServiceAccounts(query), serviceAccountsByNamespace()]);
  const now = new Date();
  const identities = clusters.reduce((n, c) => n + c._count.identities, 0);
  const keep = { q: query.q, namespace: query.namespace, sort: query.sort, dir: query.dir };

  return (
    <>
      <PageHeader title="Overview" description="Service accounts synced from your clusters into Keyward." />
      {clusters.length === 0 ? (
        <EmptyState title="No cluster registered yet">
          Register a cluster with a read-only sync credential (see the README), or start the demo with <code>npm run demo</code>.
        </EmptyState>
      ) : (
        <>
          <div className="grid grid-cols-1 gap-4 md:grid-cols-3">
            <Stat label="Clusters" value={clusters.length} hint={clusters.map((c) => c.name).join(", ")} />
            <Stat label="Service accounts" value={<span data-testid="sa-total">{identities}</span>} hint="live in the last sync" />
            <Stat
              label="Last sync"
              value={timeAgo(clusters.map((c) => c.lastSyncAt).filter(Boolean).sort().at(-1) ?? null, now)}
              hint={
                <span className="flex flex-wrap gap-1">
                  {clusters.map((c) => (
                    <Badge key={c.id} tone={statusTone[c.status]}>
                      {c.name}: {c.status}
                    </Badge>
                  ))}
                </span>
              }
            />
          </div>
          <div className="mt-6 grid grid-cols-1 gap-6 xl:grid-cols-3">
            <Card title="Service accounts by namespace" className="xl:col-span-1">
              {byNamespace.length ? <NamespaceBarChart data={byNamespace} /> : <EmptyState title="Nothing synced yet">Run a sync from the Clusters page.</EmptyState>}
            </Card>
            <Card
              title={`Service accounts (${page.total})`}
              className="xl:col-span-2"
              action={
                <form className="flex gap-2" role="search">
                  <input type="hidden" name="sort" value={query.sort} />
                  <input type="hidden" name="dir" value={query.dir} />
                  <input
                    name="q"
                    defaultValue={query.q}
                    placeholder="Search name or namespace"
                    aria-label="Search service accounts"
                    className="w-56 rounded-md border border-slate-300 px-2 py-1 text-sm"
                  />
                  <button className="rounded-md bg-slate-800 px-3 py-1 text-sm text-white">Search</button>
                </form>
              }
            >
              {page.rows.length ? (
                <>
                  <ServiceAccountTable
                    now={now}
                    sort={query.sort}
                    dir={query.dir}
                    params={keep}
                    rows={page.rows.map((r) => {
                      const owner = (r.annotations as Record<string, string> | null)?.[OWNER_ANNOTATION];
                      return { ...r, cluster: r.cluster.name, owner: owner ?? null };
                    })}
                  />
                  <Pagination page={query.page} pageSize={query.pageSize} total={page.total} params={keep} />
                </>
              ) : (
                <EmptyState title="No service account matches">
                  {query.q ? (
                    <>
                      Nothing matches “{query.q}”. <Link href="/" className="text-brand-600 underline">Clear the search</Link>.
                    </>
                  ) : (
                    "Run a sync from the Clusters page."
                  )}
                </EmptyState>
              )}
            </Card>
          </div>
        </>
      )}
    </>
  );
}
