import type { Metadata } from "next";
import { requirePermission } from "@/lib/auth/session";
import { can } from "@/lib/auth/permissions";
import { listClustersWithHistory } from "@/lib/clusters/queries";
import { SyncHistoryTable } from "@/components/clusters/sync-history-table";
import { Card, EmptyState, PageHeader } from "@/components/ui/card";
import { Badge, statusTone } from "@/components/ui/badge";
import { timeAgo } from "@/components/ui/format";
import { SyncButton } from "@/components/clusters/sync-button";
import { RegisterClusterForm } from "@/components/clusters/register-cluster-form";
import Link from "next/link";

export const metadata: Metadata = { title: "Clusters" };

export default async function ClustersPage() {
  const user = await requirePermission("clusters:read");
  const clusters = await listClustersWithHistory(10);
  const now = new Date();
  const maySync = can(user.role, "clusters:sync");
  const mayManage = can(user.role, "clusters:manage");
  return (
    <>
      <PageHeader title="Clusters" description="Registered clusters, Keyward's credentials for them, and their sync history." />
      {mayManage ? (
        <div className="mb-6">
          <RegisterClusterForm />
        </div>
      ) : null}
      {clusters.length === 0 ? (
        <EmptyState title="No cluster registered yet">
          {mayManage ? "Register one above with a read-only sync credential (deploy/keyward-sync.yaml)," : "Ask an administrator to register one,"} or start the demo with <code>npm run demo</code>.
        </EmptyState>
      ) : (
        <div className="space-y-6">
          {clusters.map((c) => (
            <Card
              key={c.id}
              title={
                <span className="flex items-center gap-2">
                  <Link href={`/clusters/${c.id}`} className="hover:underline">{c.name}</Link> <Badge tone={statusTone[c.status]}>{c.status}</Badge>
                </span>
              }
              action={maySync ? <SyncButton clusterId={c.id} clusterName={c.name} /> : null}
            >
              <dl className="grid grid-cols-2 gap-4 text-sm md:grid-cols-4">
                <div>
                  <dt className="text-slate-500">API server</dt>
                  <dd className="font-mono text-xs">{c.apiServerUrl}</dd>
                </div>
                <div>
                  <dt className="text-slate-500">Identities</dt>
                  <dd>{c._count.identities}</dd>
                </div>
                <div>
                  <dt className="text-slate-500">Last sync</dt>
                  <dd>{timeAgo(c.lastSyncAt, now)}</dd>
                </div>
                <div>
                  <dt className="text-slate-500">Credentials</dt>
                  <dd className="flex flex-wrap gap-1">
                    {c.credentials.map((cred) => (
                      <Badge key={cred.purpose} tone={cred.purpose === "sync" ? "blue" : "amber"}>
                        {cred.purpose}: {cred.authType}
                      </Badge>
                    ))}
                  </dd>
                </div>
              </dl>
              {c.statusMessage ? <p className="mt-4 rounded-md bg-red-50 px-3 py-2 text-sm text-red-700">{c.statusMessage}</p> : null}
              <h3 className="mt-6 text-xs font-semibold uppercase tracking-wide text-slate-500">Sync history</h3>
              <SyncHistoryTable runs={c.syncRuns} className="mt-2" />
            </Card>
          ))}
        </div>
      )}
    </>
  );
}
