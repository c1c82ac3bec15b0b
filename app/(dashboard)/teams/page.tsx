import type { Metadata } from "next";
import Link from "next/link";
import { requirePermission } from "@/lib/auth/session";
import { can } from "@/lib/auth/permissions";
import { getPrisma } from "@/lib/db";
import { listTeams } from "@/lib/owners/teams";
import { listOwnershipRules } from "@/lib/owners/ownership-rules";
import { Card, EmptyState, PageHeader } from "@/components/ui/card";
import { Badge } from "@/components/ui/badge";
import { timeAgo } from "@/components/ui/format";
import { AddRuleForm, CreateTeamForm, DeleteRuleButton } from "@/components/teams/team-forms";

export const metadata: Metadata = { title: "Teams" };

const th = "px-2 py-2 text-left font-medium";
const td = "px-2 py-1.5";

export default async function TeamsPage() {
  // Owners lack clusters:read: the team and rule lists span every cluster, not only their own identities.
  const user = await requirePermission("clusters:read");
  const manage = can(user.role, "inventory:manage");
  const db = getPrisma();
  const [teams, rules, clusters, ownedCounts] = await Promise.all([
    listTeams(db),
    listOwnershipRules(db),
    db.cluster.findMany({ orderBy: { name: "asc" }, select: { id: true, name: true } }),
    // Live identities only, matching what the inventory link behind the count lists.
    db.identity.groupBy({
      by: ["ownerTeamId"],
      where: { deletedAt: null, ownerTeamId: { not: null } },
      _count: { _all: true },
    }),
  ]);
  const ownedByTeam = new Map(ownedCounts.map((row) => [row.ownerTeamId, row._count._all]));
  const clusterNames = new Map(clusters.map((cluster) => [cluster.id, cluster.name]));
  const now = new Date();

  return (
    <>
      <PageHeader
        title="Teams"
        description="Teams own identities. Ownership comes from an owner annotation or label on the service account, a manual assignment, or the namespace rules below."
      />
      <div className="space-y-6">
        {manage ? (
          <Card title="New team">
            <CreateTeamForm />
          </Card>
        ) : null}
        <Card title={`${teams.length} ${teams.length === 1 ? "team" : "teams"}`}>
          {teams.length === 0 ? (
            <EmptyState title="No team yet">
              {manage ? "Create one above" : "The security team creates them"}, or annotate service accounts
              with <code>keyward.io/owner</code>: the teams they name are created at the next sync.
            </EmptyState>
          ) : (
            <table className="min-w-full text-sm" data-testid="teams">
              <thead className="border-b border-slate-200 text-xs uppercase tracking-wide text-slate-500">
                <tr>
                  <th className={th}>Team</th>
                  <th className={th}>Slug</th>
                  <th className={`${th} text-right`}>Members</th>
                  <th className={`${th} text-right`}>Owned identities</th>
                  <th className={th}>Created</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {teams.map((team) => {
                  const owned = ownedByTeam.get(team.id) ?? 0;
                  return (
                    <tr key={team.id}>
                      <td className={`${td} font-medium`}>{team.name}</td>
                      <td className={`${td} font-mono text-xs text-slate-500`}>{team.slug}</td>
                      <td className={`${td} text-right tabular-nums`}>{team._count.members}</td>
                      <td className={`${td} text-right tabular-nums`}>
                        {owned > 0 ? (
                          <Link
                            href={`/identities?owner=${encodeURIComponent(team.id)}`}
                            className="text-brand-600 hover:underline"
                          >
                            {owned}
                          </Link>
                        ) : (
                          <span className="text-slate-400">0</span>
                        )}
                      </td>
                      <td className={`${td} text-slate-600`}>{timeAgo(team.createdAt, now)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </Card>
        <Card title="Namespace rules">
          <div className="space-y-5">
            {manage ? (
              <AddRuleForm teams={teams.map(({ id, name }) => ({ id, name }))} clusters={clusters} />
            ) : null}
            {rules.length === 0 ? (
              <EmptyState title="No namespace rule">
                A rule such as <code>payments-*</code> → Payments makes a team the owner of every identity in
                matching namespaces that names no owner itself.
              </EmptyState>
            ) : (
              <table className="min-w-full text-sm" data-testid="ownership-rules">
                <thead className="border-b border-slate-200 text-xs uppercase tracking-wide text-slate-500">
                  <tr>
                    <th className={th}>Priority</th>
                    <th className={th}>Namespace pattern</th>
                    <th className={th}>Team</th>
                    <th className={th}>Cluster</th>
                    <th className={th}>Created</th>
                    {manage ? <th className={th} /> : null}
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {rules.map((rule) => (
                    <tr key={rule.id}>
                      <td className={`${td} tabular-nums`}>{rule.priority}</td>
                      <td className={`${td} font-mono text-xs`}>{rule.namespacePattern}</td>
                      <td className={td}>{rule.team.name}</td>
                      <td className={td}>
                        {rule.clusterId ? (
                          (clusterNames.get(rule.clusterId) ?? rule.clusterId)
                        ) : (
                          <Badge>all clusters</Badge>
                        )}
                      </td>
                      <td className={`${td} text-slate-600`}>{timeAgo(rule.createdAt, now)}</td>
                      {manage ? (
                        <td className={`${td} text-right`}>
                          <DeleteRuleButton id={rule.id} pattern={rule.namespacePattern} />
                        </td>
                      ) : null}
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
        </Card>
      </div>
    </>
  );
}
