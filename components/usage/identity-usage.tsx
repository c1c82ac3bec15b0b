import Link from "next/link";
import { Activity, AlertTriangle, Info } from "lucide-react";
import type { EffectiveRule } from "@/lib/rbac";
import type { IdentityUsage } from "@/lib/usage/queries";
import { Card, EmptyState, Stat } from "@/components/ui/card";
import { formatDateTime } from "@/components/ui/format";
import { queryString } from "@/components/ui/format-query";
import { CredentialUsageTable, LastUsed } from "./credential-usage-table";
import { LeastPrivilegeView } from "./least-privilege-view";
import { RankedRequestsChart, RequestsPerDayChart } from "./usage-charts";
import { UsedVsGrantedMatrix } from "./used-vs-granted";
import { USAGE_WINDOWS, buildUsedVsGranted, type DeniedRequests } from "./usage-view";

const OTHER_CREDENTIALS_SHOWN = 10;

const rowKeyOf = (d: DeniedRequests) => `${d.apiGroup || "core"}/${d.resource}${d.subresource ? `/${d.subresource}` : ""}`;

/** 7 / 30 / 90 days (and the cluster's own window when it is another length); links, so the server renders it. */
function WindowSelector({ identityId, days }: { identityId: string; days: number }) {
  const windows = USAGE_WINDOWS.includes(days as (typeof USAGE_WINDOWS)[number]) ? [...USAGE_WINDOWS] : [...USAGE_WINDOWS, days].sort((a, b) => a - b);
  return (
    <nav aria-label="Usage window" className="inline-flex overflow-hidden rounded-md border border-slate-300 text-sm">
      {windows.map((d) => (
        <Link
          key={d}
          href={`/identities/${identityId}${queryString({ tab: "usage", days: d })}`}
          aria-current={d === days ? "page" : undefined}
          className={`px-3 py-1 ${d === days ? "bg-brand-600 font-medium text-white" : "bg-white text-slate-700 hover:bg-slate-50"} border-l border-slate-300 first:border-l-0`}
        >
          {d} days
        </Link>
      ))}
    </nav>
  );
}

function SourceList({ title, items, testId }: { title: string; items: { value: string; count: number }[]; testId: string }) {
  const max = Math.max(1, ...items.map((i) => i.count));
  return (
    <div>
      <h3 className="mb-2 text-xs font-semibold uppercase tracking-wide text-slate-500">{title}</h3>
      {items.length === 0 ? (
        <p className="text-sm text-slate-600">None recorded.</p>
      ) : (
        <ul className="space-y-1.5 text-sm" data-testid={testId}>
          {items.map((i) => (
            <li key={i.value}>
              <span className="flex items-baseline justify-between gap-3">
                <span className="min-w-0 break-all font-mono text-xs">{i.value}</span>
                <span className="shrink-0 tabular-nums text-slate-600">{i.count.toLocaleString("en")}</span>
              </span>
              <span className="mt-0.5 block h-1 rounded bg-slate-100">
                <span className="block h-1 rounded bg-brand-500" style={{ width: `${(i.count / max) * 100}%` }} />
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * The identity page's usage tab: when it was last used, how much and what for, which of its grants it never used
 * (and what it tried without a grant), its credentials and sources, and the smaller role it could live with.
 */
export function IdentityUsageTab({
  identityId,
  cluster,
  usage,
  denied,
  leastPrivilege,
  now,
}: {
  identityId: string;
  cluster: { id: string; name: string };
  usage: IdentityUsage;
  /** Refused requests of the window, per verb and resource. */
  denied: DeniedRequests[];
  /** Null when there is no audit coverage to base a role on. */
  leastPrivilege: { kept: EffectiveRule[]; removed: EffectiveRule[]; yaml: string; sharedRules: number } | null;
  now: Date;
}) {
  const { days } = usage;
  const hasEvents = usage.totals.requests > 0;
  const grid = buildUsedVsGranted(usage.matrix, usage.records, denied);
  const deniedByVerb = new Map<string, number>();
  const deniedByResource = new Map<string, number>();
  for (const d of denied) {
    deniedByVerb.set(d.verb, (deniedByVerb.get(d.verb) ?? 0) + d.count);
    deniedByResource.set(rowKeyOf(d), (deniedByResource.get(rowKeyOf(d)) ?? 0) + d.count);
  }
  const credentialRows = [
    ...usage.credentials.map((c) => ({
      key: c.id,
      kind: c.kind,
      label: `${c.namespace ? `${c.namespace}/` : ""}${c.name}`,
      lastUsedAt: c.lastUsedAt,
      // No event carried it, yet it has a last use: that came from the legacy-token label.
      requests: c.requests === 0 && c.lastUsedAt ? null : c.requests,
      deleted: !!c.deletedAt,
    })),
    // Bound tokens rotate hourly: dozens of ids, of which the latest say enough.
    ...usage.otherCredentials.slice(0, OTHER_CREDENTIALS_SHOWN).map((c) => ({ key: c.credentialRef, kind: null, label: c.credentialRef, lastUsedAt: c.lastUsedAt, requests: c.requests })),
  ];
  const otherHidden = usage.otherCredentials.length - Math.min(usage.otherCredentials.length, OTHER_CREDENTIALS_SHOWN);
  // Audit events that started arriving inside the window cover only part of it: say so before anyone acts on "unused".
  const partialWindow = usage.observedSince && usage.observedSince > usage.since ? usage.observedSince : null;
  const downloadHref = `/api/v1/identities/${identityId}/least-privilege${queryString({ format: "yaml", days })}`;

  return (
    <div className="space-y-6" data-testid="usage-tab">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <p className="text-sm text-slate-600">
          Requests from {formatDateTime(usage.since).slice(0, 10)} to today, from the cluster&apos;s audit events.
        </p>
        <WindowSelector identityId={identityId} days={days} />
      </div>

      <div className="grid grid-cols-1 gap-4 md:grid-cols-2 xl:grid-cols-4">
        <Stat label="Last used" value={<span data-testid="last-used"><LastUsed at={usage.lastUsedAt} now={now} /></span>} />
        <Stat label={`Requests, ${days} days`} value={usage.totals.requests.toLocaleString("en")} hint={`on ${usage.totals.activeDays} of ${days} days`} />
        <Stat
          label="Denied"
          value={<span className={usage.totals.denied ? "text-red-700" : undefined}>{usage.totals.denied.toLocaleString("en")}</span>}
          hint="requests the cluster refused"
        />
        <Stat
          label="Grants unused"
          value={<span className={grid.counts.unused ? "text-amber-700" : undefined}>{grid.counts.unused}</span>}
          hint={`of ${grid.counts.used + grid.counts.unused} granted verb × resource cells`}
        />
      </div>

      {partialWindow ? (
        <p className="flex items-center gap-2 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900">
          <Info className="h-4 w-4 shrink-0" aria-hidden />
          Keyward has received this cluster&apos;s audit events only since {formatDateTime(partialWindow)}: &quot;unused&quot; means unused since then.
        </p>
      ) : null}

      {!hasEvents ? (
        <EmptyState title={usage.lastUsedAt ? `No request in the last ${days} days` : "No audit events for this identity yet"}>
          <p>
            {usage.lastUsedAt ? (
              <>It was last used {formatDateTime(usage.lastUsedAt)}. Pick a longer window, or treat it as unused.</>
            ) : usage.observedSince ? (
              <>
                Keyward has received audit events from {cluster.name} since {formatDateTime(usage.observedSince)}; none came from this identity. If the
                audit policy covers it, it is unused.
              </>
            ) : (
              <>Nothing from {cluster.name} has arrived yet.</>
            )}
          </p>
          <p className="mt-2">
            Install the audit webhook or upload a log on the{" "}
            <Link href={`/clusters/${cluster.id}`} className="font-medium text-brand-700 underline">
              cluster page
            </Link>
            .
          </p>
        </EmptyState>
      ) : (
        <>
          <Card title={`Requests per day (${days} days)`}>
            <RequestsPerDayChart data={usage.daily.map((d) => ({ day: d.day, allowed: d.requests - d.denied, denied: d.denied }))} />
          </Card>
          <div className="grid grid-cols-1 gap-6 xl:grid-cols-2">
            <Card title="Top verbs">
              <RankedRequestsChart
                testId="top-verbs-chart"
                title="Top verbs"
                data={usage.topVerbs.map((v) => ({ name: v.verb, allowed: v.requests, denied: deniedByVerb.get(v.verb) ?? 0 }))}
              />
            </Card>
            <Card title="Top resources">
              <RankedRequestsChart
                testId="top-resources-chart"
                title="Top resources"
                data={usage.topResources.map((r) => ({ name: r.key, allowed: r.requests, denied: deniedByResource.get(r.key) ?? 0 }))}
              />
            </Card>
          </div>
        </>
      )}

      {hasEvents || usage.observedSince ? (
        <Card title="Used vs granted">
          <UsedVsGrantedMatrix view={grid} days={days} />
        </Card>
      ) : null}

      <div className="grid grid-cols-1 gap-6 xl:grid-cols-3">
        <Card title={`Credentials (${usage.credentials.length + usage.otherCredentials.length})`} className="xl:col-span-2">
          <CredentialUsageTable rows={credentialRows} now={now} />
          {otherHidden ? <p className="mt-2 text-xs text-slate-500">and {otherHidden} older token ids seen in its events.</p> : null}
        </Card>
        <Card title="Sources">
          <div className="space-y-5">
            <SourceList title="User agents" items={usage.sources.userAgents} testId="user-agents" />
            <SourceList title="Source IPs" items={usage.sources.sourceIps} testId="source-ips" />
            {usage.sources.impersonators.length > 0 ? (
              <SourceList title="Acted as it (impersonation)" items={usage.sources.impersonators} testId="impersonators" />
            ) : null}
          </div>
        </Card>
      </div>

      <Card
        title={
          <span className="flex items-center gap-2">
            <Activity className="h-4 w-4 text-brand-600" aria-hidden /> Least-privilege role
          </span>
        }
      >
        {leastPrivilege ? (
          <LeastPrivilegeView {...leastPrivilege} downloadHref={downloadHref} days={days} />
        ) : (
          <p className="flex items-center gap-2 text-sm text-slate-600">
            <AlertTriangle className="h-4 w-4 text-slate-400" aria-hidden /> A role is generated from audit events; none has arrived from {cluster.name} yet.
          </p>
        )}
      </Card>
    </div>
  );
}
