import type { Metadata } from "next";
import { requirePermission } from "@/lib/auth/session";
import { listUsers } from "@/lib/users/queries";
import { roleLabels } from "@/lib/auth/permissions";
import { Card, PageHeader } from "@/components/ui/card";
import { Badge } from "@/components/ui/badge";
import { timeAgo } from "@/components/ui/format";
import { can } from "@/lib/auth/permissions";
import { getPrisma } from "@/lib/db";
import { AddToTeamForm } from "@/components/inventory/add-to-team-form";

export const metadata: Metadata = { title: "Users" };

export default async function UsersPage() {
  const viewer = await requirePermission("users:read");
  const db = getPrisma();
  const [users, teams, memberships] = await Promise.all([
    listUsers(),
    db.team.findMany({ orderBy: { name: "asc" }, select: { id: true, name: true } }),
    db.teamMember.findMany({ select: { userId: true, team: { select: { id: true, name: true } } } }),
  ]);
  const teamsOf = new Map<string, { id: string; name: string }[]>();
  for (const m of memberships) teamsOf.set(m.userId, [...(teamsOf.get(m.userId) ?? []), m.team]);
  const mayManage = can(viewer.role, "users:manage");
  const now = new Date();
  return (
    <>
      <PageHeader title="Users" description="People who can sign in to Keyward, and their roles." />
      <Card>
        <table className="min-w-full text-sm" data-testid="users">
          <thead className="border-b border-slate-200 text-xs uppercase tracking-wide text-slate-500">
            <tr>
              <th className="px-2 py-2 text-left font-medium">Name</th>
              <th className="px-2 py-2 text-left font-medium">E-mail</th>
              <th className="px-2 py-2 text-left font-medium">Role</th>
              <th className="px-2 py-2 text-left font-medium">Teams</th>
              <th className="px-2 py-2 text-left font-medium">Last sign-in</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {users.map((u) => (
              <tr key={u.id}>
                <td className="px-2 py-1.5 font-medium">{u.name}</td>
                <td className="px-2 py-1.5">{u.email}</td>
                <td className="px-2 py-1.5">
                  <Badge tone={u.role === "admin" ? "red" : u.role === "security" ? "blue" : "gray"}>{roleLabels[u.role]}</Badge>
                  {u.disabled ? <Badge tone="amber">disabled</Badge> : null}
                </td>
                <td className="px-2 py-1.5">
                  <span className="flex flex-wrap items-center gap-1">
                    {(teamsOf.get(u.id) ?? []).map((t) => (
                      <Badge key={t.id} tone="blue">{t.name}</Badge>
                    ))}
                    {mayManage ? (
                      <AddToTeamForm userId={u.id} userEmail={u.email} teams={teams.filter((t) => !(teamsOf.get(u.id) ?? []).some((m) => m.id === t.id))} />
                    ) : null}
                  </span>
                </td>
                <td className="px-2 py-1.5 text-slate-600">{timeAgo(u.lastLoginAt, now)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
    </>
  );
}
