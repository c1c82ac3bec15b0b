import type { Metadata } from "next";
import Link from "next/link";
import { headers } from "next/headers";
import { notFound } from "next/navigation";
import { ArrowLeft } from "lucide-react";
import { requirePermission } from "@/lib/auth/session";
import { can } from "@/lib/auth/permissions";
import { getClusterDetail, totalSyncedObjects } from "@/lib/clusters/queries";
import { SyncHistoryTable } from "@/components/clusters/sync-history-table";
import { Card, EmptyState, PageHeader, Stat } from "@/components/ui/card";
import { Badge, statusTone } from "@/components/ui/badge";
import { formatDateTime, formatDuration, timeAgo } from "@/components/ui/format";
import { SyncButton } from "@/components/clusters/sync-button";
import { TestConnection } from "@/components/clusters/test-connection";
import { SyncRunsChart } from "@/components/charts/inventory-charts";
import { Pagination } from "@/components/ui/pagination";
import { IngestHistoryTable } from "@/components/usage/ingest-history-table";
import { AuditUploadForm } from "@/components/usage/audit-upload-form";
import { WebhookSetupCard } from "@/components/usage/webhook-setup-card";
import { getPrisma } from "@/lib/db";
import { getClusterSettings } from "@/lib/clusters/update-cluster-settings";
import { analysisSettings } from "@/lib/findings/settings";
import { ClusterSettingsForm } from "@/components/clusters/cluster-settings-form";
import { getUsageIngestSummary, ingestHistoryQuery, listIngestBatches } from "@/lib/usage/ingest-history";
import { AUDIT_POLICY_PATH, AUDIT_POLICY_YAML, AUDIT_WEBHOOK_CONFIG_PATH, KUBE_APISERVER_AUDIT_FLAGS } from "@/lib/usage/webhook-setup";

export const metadata: Metadata = { title: "Cluster" };

/** Keyward's address as the browser reached it: the default for the webhook kubeconfig, which the user can change. */
async function requestOrigin(): Promise<string> {
  if (process.env.AUTH_URL) return process.env.AUTH_URL;
  const h = await headers();
  return `${h.get("x-forwarded-proto") ?? "http"}://${h.get("x-forwarded-host") ?? h.get("host") ?? "localhost:3000"}`;
}

export default async function ClusterPage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<{ registered?: string; page?: string }>;
}) {
  const user = await requirePermission("clusters:read");
  const { id } = await params;
  const cluster = await getClusterDetail(id);
  if (!cluster) notFound();
  const query = await searchParams;
  const justRegistered = query.registered === "1";
  // A page number that does not parse shows the first page rather than an error.
  const historyQuery = ingestHistoryQuery.safeParse({ page: query.page, pageSize: 20 });
  const [ingest, usage, { settings }] = await Promise.all([
    listIngestBatches(getPrisma(), cluster.id, historyQuery.success ? historyQuery.data : { page: 1, pageSize: 20 }),
    getUsageIngestSummary(getPrisma(), cluster.id),
    getClusterSettings(getPrisma(), cluster.id),
  ]);
  const canUpload = can(user.role, "clusters:sync");
  const canManage = can(user.role, "clusters:manage");
  const now = new Date();
  const runs = cluster.syncRuns;
  const succeeded = runs.filter((r) => r.status === "succeeded");
  const identities = cluster.identitiesByKind.reduce((n, k) => n + k.count, 0);
  const lastRun = runs[0];

  return (
    <>
      <Link href="/clusters" className="mb-3 inline-flex items-center gap-1 text-sm text-slate-600 hover:underline">
        <ArrowLeft className="h-4 w-4" aria-hidden /> Clusters
      </Link>
      <PageHeader
        title={cluster.name}
        description={
          <span className="flex flex-wrap items-center gap-2">
            <Badge tone={statusTone[cluster.status]}>{cluster.status}</Badge>
            <span className="font-mono text-xs">{cluster.apiServerUrl}</span>
            {cluster.credentials.map((c) => (
              <Badge key={c.purpose} tone={c.purpose === "sync" ? "blue" : "amber"}>
                {c.purpose}: {c.authType}
              </Badge>
            ))}
          </span>
        }
        action={can(user.role, "clusters:sync") ? <SyncButton clusterId={cluster.id} clusterName={cluster.name} /> : null}
      />
      {justRegistered ? (
        <p role="status" className="mb-4 rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800">
          Registered. Test the connection, then run the first sync.
        </p>
      ) : null}
      {cluster.statusMessage ? <p className="mb-4 rounded-md bg-red-50 px-3 py-2 text-sm text-red-700">{cluster.statusMessage}</p> : null}
      <div className="grid grid-cols-1 gap-4 md:grid-cols-4">
        <Link href={`/identities?cluster=${encodeURIComponent(cluster.name)}`}>
          <Stat label="Identities" value={identities} hint={cluster.identitiesByKind.map((k) => `${k.count} ${k.kind}`).join(", ") || "none synced yet"} />
        </Link>
        <Stat label="Open findings" value={cluster.openFindings} />
        <Stat label="Last sync" value={timeAgo(cluster.lastSyncAt, now)} hint={lastRun ? `${lastRun.status}, ${formatDuration(lastRun.durationMs)}` : "never"} />
        <Stat
          label="Success rate"
          value={runs.length ? `${Math.round((succeeded.length / runs.length) * 100)}%` : "—"}
          hint={`of the last ${runs.length} syncs`}
        />
      </div>
      {can(user.role, "clusters:manage") ? (
        <Card title="Connection" className="mt-6">
          <TestConnection clusterId={cluster.id} clusterName={cluster.name} />
        </Card>
      ) : null}
      <Card
        title="Settings"
        className="mt-6"
        action={<span className="text-xs text-slate-500">{canManage ? "a change re-analyses the cluster at once" : "read-only for your role"}</span>}
      >
        <ClusterSettingsForm clusterId={cluster.id} settings={settings} defaults={analysisSettings({})} canEdit={canManage} />
      </Card>
      <Card title="Sync durations and objects" className="mt-6">
        {runs.length ? (
          <SyncRunsChart
            data={[...runs].reverse().map((r) => ({
              label: r.startedAt.toISOString().slice(5, 16).replace("T", " "),
              seconds: r.durationMs === null ? null : r.durationMs / 1000,
              objects: totalSyncedObjects(r.counts),
              failed: r.status === "failed",
            }))}
          />
        ) : (
          <p className="text-sm text-slate-600">No sync yet{can(user.role, "clusters:sync") ? ": press Sync now." : "."}</p>
        )}
      </Card>
      <Card title="Sync history" className="mt-6">
        <SyncHistoryTable runs={runs} />
      </Card>

      <Card
        title="Usage (audit events)"
        className="mt-6"
        action={
          <span className="text-xs text-slate-500" data-testid="usage-observed">
            {usage.observedSince ? `observed since ${formatDateTime(usage.observedSince)}` : "no events yet"}
            {usage.lastWebhookAt ? ` · last webhook delivery ${timeAgo(usage.lastWebhookAt, now)}` : ""}
            {usage.lastUploadAt ? ` · last upload ${timeAgo(usage.lastUploadAt, now)}` : ""}
          </span>
        }
      >
        {ingest.total === 0 ? (
          <EmptyState title="No audit events yet">
            {canUpload
              ? "Install the webhook (below) so the API server sends its audit events here, or upload an audit log file. Usage, last use and unused access come from these events."
              : "An administrator or security engineer installs the audit webhook or uploads an audit log; usage, last use and unused access come from these events."}
          </EmptyState>
        ) : (
          <>
            <IngestHistoryTable batches={ingest.items} />
            <Pagination page={ingest.page} pageSize={ingest.pageSize} total={ingest.total} params={{}} />
          </>
        )}
      </Card>
      {canUpload || canManage ? (
        <div className="mt-6 grid grid-cols-1 gap-6 lg:grid-cols-2">
          {canUpload ? (
            <Card title="Upload an audit log">
              <AuditUploadForm clusterId={cluster.id} />
            </Card>
          ) : null}
          {canManage ? (
            <Card title="Audit webhook">
              <WebhookSetupCard
                clusterId={cluster.id}
                clusterName={cluster.name}
                defaultKeywardUrl={await requestOrigin()}
                setup={{ auditPolicyYaml: AUDIT_POLICY_YAML, policyPath: AUDIT_POLICY_PATH, kubeconfigPath: AUDIT_WEBHOOK_CONFIG_PATH, flags: KUBE_APISERVER_AUDIT_FLAGS }}
                token={usage.webhookToken}
              />
            </Card>
          ) : null}
        </div>
      ) : null}
    </>
  );
}
