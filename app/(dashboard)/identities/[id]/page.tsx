import type { Metadata } from "next";
import type { IdentityKind } from "@/lib/db";
import type { EffectiveRule } from "@/lib/rbac";
import Link from "next/link";
import { notFound } from "next/navigation";
import { ArrowLeft } from "lucide-react";
import { requirePermission } from "@/lib/auth/session";
import { can } from "@/lib/auth/permissions";
import { getPrisma } from "@/lib/db";
import { getIdentityDetail } from "@/lib/inventory/identity-detail";
import { getIdentityPermissions } from "@/lib/permissions/identity-permissions";
import { Card, PageHeader } from "@/components/ui/card";
import { Badge, SeverityBadge, statusTone } from "@/components/ui/badge";
import { formatDateTime, formatDuration, timeAgo } from "@/components/ui/format";
import { kindLabel, ownerSourceLabel } from "@/components/inventory/identity-table";
import { PermissionMatrixTable } from "@/components/inventory/permission-matrix";
import { AcceptRiskForm, AssignOwnerForm } from "@/components/inventory/identity-forms";
import { IdentityUsageTab } from "@/components/usage/identity-usage";
import { identityPageParamsSchema } from "@/components/usage/usage-view";
import { queryString } from "@/components/ui/format-query";
import { ownGrants } from "@/lib/findings/usage-rules";
import { diffGrants, generateLeastPrivilege } from "@/lib/usage/least-privilege";
import { getIdentityUsage } from "@/lib/usage/queries";
import { acceptFindingRisk, assignIdentityOwner } from "./actions";

export const metadata: Metadata = { title: "Identity" };

const ownerSourceHelp: Record<string, string> = {
  annotation: "from the owner annotation on the object",
  label: "from the owner label on the object",
  namespaceRule: "from a namespace ownership rule",
  manual: "assigned in Keyward",
};

function Section({ title, count, children, className = "" }: { title: string; count?: number; children: React.ReactNode; className?: string }) {
  return (
    <Card title={count === undefined ? title : `${title} (${count})`} className={className}>
      {children}
    </Card>
  );
}

const tabs = [
  { id: "overview", label: "Overview" },
  { id: "usage", label: "Usage" },
] as const;

/** Usage data for the usage tab: the summary, refused requests per verb and resource, and the least-privilege view. */
async function loadUsageTab(db: ReturnType<typeof getPrisma>, identity: { id: string; kind: IdentityKind; namespace: string; name: string; username: string; groups: string[] }, rules: EffectiveRule[], days: number | undefined) {
  const usage = await getIdentityUsage(db, identity.id, { days });
  const denied = await db.usageRollup.groupBy({
    by: ["verb", "apiGroup", "resource", "subresource"],
    where: { identityId: identity.id, day: { gte: usage.since }, deniedCount: { gt: 0 }, path: "" },
    _sum: { deniedCount: true },
  });
  // Without audit coverage there is nothing to base a role on: an empty role would read as "remove everything".
  const covered = usage.totals.requests > 0 || usage.observedSince !== null;
  const own = ownGrants(rules);
  const leastPrivilege = covered
    ? { ...diffGrants(own, usage.records), yaml: generateLeastPrivilege(identity, usage.records).yaml, sharedRules: rules.length - own.length }
    : null;
  return {
    usage,
    denied: denied.map((d) => ({ verb: d.verb, apiGroup: d.apiGroup, resource: d.resource, subresource: d.subresource, count: d._sum.deniedCount ?? 0 })),
    leastPrivilege,
  };
}

export default async function IdentityPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requirePermission("inventory:read");
  const { id } = await params;
  const { tab, days } = identityPageParamsSchema.parse(await searchParams);
  const identity = await getIdentityDetail(user, id);
  if (!identity) notFound();
  const db = getPrisma();
  const mayManage = can(user.role, "inventory:manage");
  const [permissions, teams] = await Promise.all([
    getIdentityPermissions(db, identity.id),
    mayManage && tab === "overview" ? db.team.findMany({ orderBy: { name: "asc" }, select: { id: true, name: true } }) : [],
  ]);
  const usageTab = tab === "usage" ? await loadUsageTab(db, identity, permissions?.rules ?? [], days) : null;
  const now = new Date();
  // One line per binding → role, with how many rules it contributes.
  const grants = new Map<string, { binding: string; role: string; namespace: string | null; via: string; rules: number }>();
  for (const r of permissions?.rules ?? []) {
    const key = `${r.binding.kind}/${r.binding.namespace ?? ""}/${r.binding.name}`;
    const entry = grants.get(key) ?? {
      binding: `${r.binding.kind} ${r.binding.namespace ? `${r.binding.namespace}/` : ""}${r.binding.name}`,
      role: `${r.role.kind} ${r.role.namespace ? `${r.role.namespace}/` : ""}${r.role.name}`,
      namespace: r.namespace,
      via: `${r.viaSubject.kind} ${r.viaSubject.name}`,
      rules: 0,
    };
    entry.rules += 1;
    grants.set(key, entry);
  }
  const tomorrow = new Date(now.getTime() + 86_400_000).toISOString().slice(0, 10);
  const openFindings = identity.findings.filter((f) => f.state === "open");

  return (
    <>
      <Link href="/identities" className="mb-3 inline-flex items-center gap-1 text-sm text-slate-600 hover:underline">
        <ArrowLeft className="h-4 w-4" aria-hidden /> Inventory
      </Link>
      <PageHeader
        title={identity.namespace ? `${identity.namespace}/${identity.name}` : identity.name}
        description={
          <span className="flex flex-wrap items-center gap-2">
            <Badge tone="blue">{kindLabel[identity.kind]}</Badge>
            <SeverityBadge severity={identity.maxSeverity} />
            <span className="font-mono text-xs">{identity.username}</span>
            <span>
              in <Link href={`/clusters/${identity.cluster.id}`} className="text-brand-700 hover:underline">{identity.cluster.name}</Link>
            </span>
            {identity.hasLegacyToken ? <Badge tone="amber">legacy token</Badge> : null}
            {identity.deletedAt ? <Badge tone="red">deleted {timeAgo(identity.deletedAt, now)}</Badge> : null}
          </span>
        }
      />
      <nav aria-label="Identity sections" className="mb-6 flex gap-1 border-b border-slate-200">
        {tabs.map((t) => (
          <Link
            key={t.id}
            href={`/identities/${identity.id}${queryString({ tab: t.id === "overview" ? undefined : t.id, days: t.id === "usage" ? days : undefined })}`}
            aria-current={t.id === tab ? "page" : undefined}
            className={`-mb-px border-b-2 px-4 py-2 text-sm font-medium ${t.id === tab ? "border-brand-600 text-brand-700" : "border-transparent text-slate-600 hover:text-slate-900"}`}
          >
            {t.label}
          </Link>
        ))}
      </nav>
      {usageTab ? (
        <IdentityUsageTab identityId={identity.id} cluster={identity.cluster} {...usageTab} now={now} />
      ) : (
        <div className="grid grid-cols-1 gap-6 xl:grid-cols-3">
          <Section title="Owner">
            <div data-testid="owner">
              {identity.ownerTeam ? (
                <p>
                  <span className="text-lg font-semibold">{identity.ownerTeam.name}</span>
                  <span className="ml-2"><Badge>{ownerSourceLabel[identity.ownerSource ?? "manual"]}</Badge></span>
                  <span className="mt-1 block text-xs text-slate-500">{ownerSourceHelp[identity.ownerSource ?? "manual"]}</span>
                </p>
              ) : (
                <p className="text-amber-700">Nobody owns this identity yet.</p>
              )}
            </div>
            {mayManage ? <AssignOwnerForm identityId={identity.id} currentTeamId={identity.ownerTeam?.id ?? null} teams={teams} assign={assignIdentityOwner} /> : null}
          </Section>
          <Section title="History">
            <dl className="grid grid-cols-2 gap-2 text-sm">
              <dt className="text-slate-500">Created in cluster</dt>
              <dd>{formatDateTime(identity.createdInClusterAt)}</dd>
              <dt className="text-slate-500">First seen</dt>
              <dd>{formatDateTime(identity.firstSeenAt)}</dd>
              <dt className="text-slate-500">Last seen</dt>
              <dd>{formatDateTime(identity.lastSeenAt)}</dd>
              <dt className="text-slate-500">Deleted</dt>
              <dd>{identity.deletedAt ? formatDateTime(identity.deletedAt) : "no"}</dd>
            </dl>
            <h3 className="mt-4 text-xs font-semibold uppercase tracking-wide text-slate-500">Syncs of its cluster since</h3>
            <ul className="mt-1 space-y-1 text-xs">
              {identity.syncRuns.map((run) => (
                <li key={run.id} className="flex items-center gap-2">
                  <Badge tone={statusTone[run.status]}>{run.status}</Badge> {formatDateTime(run.startedAt)} · {run.trigger} · {formatDuration(run.durationMs)}
                </li>
              ))}
            </ul>
          </Section>
          <Section title="Details">
            <dl className="grid grid-cols-2 gap-2 text-sm">
              <dt className="text-slate-500">Automount token</dt>
              <dd>{identity.automountToken === null ? "default (yes)" : identity.automountToken ? "yes" : "no"}</dd>
              {identity.groups.length ? (
                <>
                  <dt className="text-slate-500">Groups</dt>
                  <dd className="font-mono text-xs">{identity.groups.join(", ")}</dd>
                </>
              ) : null}
              <dt className="text-slate-500">Annotations</dt>
              <dd className="break-all font-mono text-xs">
                {Object.entries(identity.annotations as Record<string, string>)
                  .map(([k, v]) => `${k}=${v}`)
                  .join("\n") || "—"}
              </dd>
            </dl>
          </Section>

          <Section title="Findings" count={identity.findings.length} className="xl:col-span-3">
            {identity.findings.length === 0 ? (
              <p className="text-sm text-slate-600">Nothing risky found about this identity.</p>
            ) : (
              <table className="min-w-full text-sm" data-testid="findings">
                <thead className="text-xs text-slate-500">
                  <tr>
                    <th className="py-1 text-left font-medium">Severity</th>
                    <th className="py-1 text-left font-medium">Finding</th>
                    <th className="py-1 text-left font-medium">OWASP NHI</th>
                    <th className="py-1 text-left font-medium">NIST CSF</th>
                    <th className="py-1 text-left font-medium">State</th>
                    <th className="py-1 text-left font-medium">First seen</th>
                    {mayManage ? <th className="py-1 text-left font-medium">Action</th> : null}
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {identity.findings.map((f) => (
                    <tr key={f.id} className={f.state === "open" ? "" : "text-slate-500"}>
                      <td className="py-2 pr-2 align-top"><SeverityBadge severity={f.severity} /></td>
                      <td className="py-2 pr-2 align-top">
                        <span className="font-medium">{f.title}</span> <span className="text-xs text-slate-500">({f.type})</span>
                      </td>
                      <td className="py-2 pr-2 align-top"><span className="flex flex-wrap gap-1">{f.owasp.map((o) => <Badge key={o} tone="blue">{o}</Badge>)}</span></td>
                      <td className="py-2 pr-2 align-top"><span className="flex flex-wrap gap-1">{f.csf.map((c) => <Badge key={c}>{c}</Badge>)}</span></td>
                      <td className="py-2 pr-2 align-top">
                        {f.state === "accepted" ? (
                          <span>
                            <Badge tone="green">accepted until {f.acceptedUntil?.toISOString().slice(0, 10)}</Badge>
                            {f.acceptances[0] ? (
                              <span className="mt-1 block text-xs text-slate-500">
                                “{f.acceptances[0].reason}” by {f.acceptances[0].acceptedBy?.name ?? "a former user"}
                              </span>
                            ) : null}
                          </span>
                        ) : f.state === "resolved" ? (
                          <Badge>resolved {timeAgo(f.resolvedAt, now)}</Badge>
                        ) : (
                          <Badge tone="red">open</Badge>
                        )}
                      </td>
                      <td className="py-2 pr-2 align-top text-slate-600">{timeAgo(f.firstSeenAt, now)}</td>
                      {mayManage ? (
                        <td className="py-2 align-top">{f.state === "open" ? <AcceptRiskForm findingId={f.id} title={f.title} minDate={tomorrow} accept={acceptFindingRisk} /> : null}</td>
                      ) : null}
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {openFindings.length === 0 && identity.findings.length > 0 ? <p className="mt-2 text-sm text-emerald-700">No open finding.</p> : null}
          </Section>

          <Section title="Effective permissions" className="xl:col-span-3">
            {permissions ? <PermissionMatrixTable matrix={permissions.matrix} /> : <p className="text-sm text-slate-600">Not computed yet.</p>}
          </Section>

          <Section title="Bindings and roles" count={grants.size} className="xl:col-span-3">
            {grants.size === 0 ? (
              <p className="text-sm text-slate-600">No binding names this identity or one of its groups.</p>
            ) : (
              <table className="min-w-full text-sm" data-testid="bindings">
                <thead className="text-xs text-slate-500">
                  <tr>
                    <th className="py-1 text-left font-medium">Binding</th>
                    <th className="py-1 text-left font-medium">Role</th>
                    <th className="py-1 text-left font-medium">Scope</th>
                    <th className="py-1 text-left font-medium">Through</th>
                    <th className="py-1 text-left font-medium">Rules</th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {[...grants.values()].map((g) => (
                    <tr key={g.binding}>
                      <td className="py-1.5 font-mono text-xs">{g.binding}</td>
                      <td className="py-1.5 font-mono text-xs">{g.role}</td>
                      <td className="py-1.5">{g.namespace === null ? <Badge tone="red">cluster-wide</Badge> : <Badge>{g.namespace}</Badge>}</td>
                      <td className="py-1.5 text-xs text-slate-600">{g.via}</td>
                      <td className="py-1.5 tabular-nums">{g.rules}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Section>

          <Section title="Credentials" count={identity.credentials.length} className="xl:col-span-2">
            {identity.credentials.length === 0 ? (
              <p className="text-sm text-slate-600">No credential seen (no token Secret, no certificate).</p>
            ) : (
              <table className="min-w-full text-sm" data-testid="credentials">
                <thead className="text-xs text-slate-500">
                  <tr>
                    <th className="py-1 text-left font-medium">Kind</th>
                    <th className="py-1 text-left font-medium">Name</th>
                    <th className="py-1 text-left font-medium">Age</th>
                    <th className="py-1 text-left font-medium">Expires</th>
                    <th className="py-1 text-left font-medium">Last used</th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {identity.credentials.map((c) => (
                    <tr key={c.id} className={c.deletedAt ? "text-slate-400" : ""}>
                      <td className="py-1.5"><Badge tone={c.kind === "legacyTokenSecret" ? "amber" : "gray"}>{c.kind}</Badge></td>
                      <td className="py-1.5 font-mono text-xs">{c.namespace ? `${c.namespace}/` : ""}{c.name}{c.deletedAt ? " (deleted)" : ""}</td>
                      <td className="py-1.5">{c.issuedAt ? timeAgo(c.issuedAt, now).replace(" ago", " old") : "unknown"}</td>
                      <td className="py-1.5">
                        {c.expiresAt ? (
                          <span className={c.expiresAt < now ? "text-red-700" : ""}>{c.expiresAt < now ? "expired " : ""}{timeAgo(c.expiresAt, now)}</span>
                        ) : (
                          <span className="text-amber-700">never</span>
                        )}
                      </td>
                      <td className="py-1.5 text-slate-600">{timeAgo(c.lastUsedAt, now)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Section>

          <Section title="Workloads using it" count={identity._count.workloads}>
            {identity.workloads.length === 0 ? (
              <p className="text-sm text-slate-600">No running pod uses this identity.</p>
            ) : (
              <ul className="space-y-1 text-sm" data-testid="workloads">
                {identity.workloads.map((w) => (
                  <li key={w.id} className="flex flex-wrap items-center gap-2">
                    <span className="font-mono text-xs">{w.namespace}/{w.name}</span>
                    {w.ownerKind ? <Badge>{w.ownerKind} {w.ownerName}</Badge> : null}
                    {w.automountToken === false ? <Badge tone="green">no automount</Badge> : null}
                  </li>
                ))}
              </ul>
            )}
          </Section>
        </div>
      )}
    </>
  );
}
