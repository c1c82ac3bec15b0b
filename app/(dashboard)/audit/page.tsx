import type { Metadata } from "next";
import { requirePermission } from "@/lib/auth/session";
import { listRecentAuditEntries } from "@/lib/audit/queries";
import { verifyAuditChain } from "@/lib/audit/log";
import { getPrisma } from "@/lib/db";
import { Card, EmptyState, PageHeader } from "@/components/ui/card";
import { Badge, statusTone } from "@/components/ui/badge";
import { formatDateTime } from "@/components/ui/format";

export const metadata: Metadata = { title: "Audit trail" };

export default async function AuditPage() {
  await requirePermission("audit:read");
  const [entries, chain] = await Promise.all([listRecentAuditEntries(100), verifyAuditChain(getPrisma())]);
  return (
    <>
      <PageHeader
        title="Audit trail"
        description="Every sign-in, action and refusal in Keyward, append-only and hash-chained."
        action={
          <span data-testid="chain-status">
            {chain.ok ? (
              <Badge tone="green">Chain intact · {chain.entries} entries</Badge>
            ) : (
              <Badge tone="red">Chain broken at #{chain.brokenAtSeq.toString()}: {chain.reason}</Badge>
            )}
          </span>
        }
      />
      <Card title="Latest 100 entries">
        {entries.length === 0 ? (
          <EmptyState title="Nothing recorded yet">Entries appear as people sign in and act.</EmptyState>
        ) : (
          <table className="min-w-full text-sm" data-testid="audit-entries">
            <thead className="border-b border-slate-200 text-xs uppercase tracking-wide text-slate-500">
              <tr>
                <th className="px-2 py-2 text-left font-medium">#</th>
                <th className="px-2 py-2 text-left font-medium">When</th>
                <th className="px-2 py-2 text-left font-medium">Who</th>
                <th className="px-2 py-2 text-left font-medium">Action</th>
                <th className="px-2 py-2 text-left font-medium">Target</th>
                <th className="px-2 py-2 text-left font-medium">Outcome</th>
                <th className="px-2 py-2 text-left font-medium">Hash</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {entries.map((e) => (
                <tr key={e.seq.toString()}>
                  <td className="px-2 py-1.5 text-slate-500">{e.seq.toString()}</td>
                  <td className="px-2 py-1.5">{formatDateTime(e.at)}</td>
                  <td className="px-2 py-1.5">{e.actorLabel}</td>
                  <td className="px-2 py-1.5 font-mono text-xs">{e.action}</td>
                  <td className="px-2 py-1.5 text-slate-600">{e.targetType ? `${e.targetType}/${e.targetId}` : "—"}</td>
                  <td className="px-2 py-1.5">
                    <Badge tone={statusTone[e.outcome]}>{e.outcome}</Badge>
                  </td>
                  <td className="px-2 py-1.5 font-mono text-xs text-slate-400">{e.hash.slice(0, 12)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}
