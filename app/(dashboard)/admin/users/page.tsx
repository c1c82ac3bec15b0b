import type { Metadata } from "next";
import { requirePermission } from "@/lib/auth/session";
import { listUsers } from "@/lib/users/queries";
import { roleLabels } from "@/lib/auth/permissions";
import { Card, PageHeader } from "@/components/ui/card";
import { Badge } from "@/components/ui/badge";
import { timeAgo } from "@/components/ui/format";

export const metadata: Metadata = { title: "Users" };

export default async function UsersPage() {
  await requirePermission("users:read");
  const users = await listUsers();
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
                <td className="px-2 py-1.5 text-slate-600">{timeAgo(u.lastLoginAt, now)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
    </>
  );
}
