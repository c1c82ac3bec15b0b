"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { CheckCheck } from "lucide-react";
import type { BulkApproveResult } from "@/lib/campaigns/bulk-approve";
import { bulkApproveItems } from "@/app/(dashboard)/reviews/actions";
import { Badge, SeverityBadge } from "@/components/ui/badge";
import { formatDateTime, timeAgo } from "@/components/ui/format";
import {
  decisionTone,
  isOverdue,
  itemStatusTone,
  NEEDS_OWN_REVIEW,
  statusLabel,
  type ItemStatus,
} from "./review-view";

export interface InboxRow {
  id: string;
  version: number;
  status: ItemStatus;
  identity: { username: string; kind: string; namespace: string; name: string };
  clusterName: string;
  severity: string | null;
  riskScore: number;
  recommendation: string;
  recommendationReason: string;
  decision: string | null;
  flagged: boolean;
  campaign: { id: string; name: string; deadline: Date | null };
  reviewerTeam: string | null;
}

const outcomeLabel: Record<BulkApproveResult["outcome"], string> = {
  approved: "approved",
  conflict: "already decided",
  refused: "refused",
  notLowRisk: "needs its own review",
  invalid: "not approved",
};

/** The reviewer's items; the low-risk pending ones can be selected and approved together. */
export function InboxTable({ rows, mayDecide, now }: { rows: InboxRow[]; mayDecide: boolean; now: Date }) {
  const router = useRouter();
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [comment, setComment] = useState("");
  const selectable = rows.filter(
    (row) => mayDecide && row.status === "pending" && !NEEDS_OWN_REVIEW.has(row.severity ?? ""),
  );
  const labelOf = new Map(rows.map((row) => [row.id, row.identity.username]));
  const approve = useMutation({
    mutationFn: async () => {
      const items = rows
        .filter((row) => selected.has(row.id))
        .map((row) => ({ id: row.id, expectedVersion: row.version }));
      const result = await bulkApproveItems({ items, comment: comment || undefined });
      if (!result.ok) throw new Error(result.error);
      return result.data;
    },
    onSuccess: () => {
      setSelected(new Set());
      router.refresh();
    },
  });
  const toggle = (id: string, on: boolean) =>
    setSelected((current) => {
      const next = new Set(current);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  const results = approve.data ?? [];
  const approved = results.filter((result) => result.outcome === "approved").length;
  const notApproved = results.filter((result) => result.outcome !== "approved");

  return (
    <div>
      {selectable.length > 0 ? (
        <div
          className="mb-3 flex flex-wrap items-end gap-3 rounded-lg border border-slate-200 bg-slate-50 p-3"
          data-testid="bulk-approve"
        >
          <label className="flex min-w-64 flex-1 flex-col gap-1 text-xs font-medium text-slate-600">
            Comment for the approvals (optional)
            <input
              value={comment}
              onChange={(event) => setComment(event.target.value)}
              maxLength={4000}
              className="rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm"
            />
          </label>
          <button
            type="button"
            onClick={() => approve.mutate()}
            disabled={selected.size === 0 || approve.isPending}
            className="inline-flex items-center gap-1.5 rounded-md bg-brand-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-brand-700 disabled:opacity-60"
          >
            <CheckCheck className="h-4 w-4" aria-hidden />
            {approve.isPending ? "Approving…" : `Approve selected (${selected.size})`}
          </button>
          <p className="w-full text-xs text-slate-500">
            Only pending items below high risk can be approved in bulk; high and critical ones need a look of
            their own.
          </p>
        </div>
      ) : null}
      {approve.isError ? (
        <p role="alert" className="mb-3 text-sm text-red-700">
          {approve.error.message}
        </p>
      ) : null}
      {approve.isSuccess ? (
        <div
          role="status"
          className="mb-3 rounded-md border border-slate-200 p-3 text-sm"
          data-testid="bulk-results"
        >
          <p className="text-emerald-700">
            Approved {approved} of {results.length}.
          </p>
          {notApproved.length > 0 ? (
            <ul className="mt-1 space-y-1">
              {notApproved.map((result) => (
                <li key={result.id} data-outcome={result.outcome} className="text-amber-800">
                  <span className="font-mono text-xs">{labelOf.get(result.id) ?? result.id}</span>:{" "}
                  {outcomeLabel[result.outcome]} — {"message" in result ? result.message : ""}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      <div className="overflow-x-auto">
        <table className="min-w-full text-sm" data-testid="inbox">
          <thead className="text-xs text-slate-500">
            <tr>
              {mayDecide ? (
                <th className="w-8 py-2 text-left font-medium">
                  <input
                    type="checkbox"
                    aria-label="Select all low-risk pending items"
                    disabled={selectable.length === 0}
                    checked={selectable.length > 0 && selectable.every((row) => selected.has(row.id))}
                    onChange={(event) =>
                      setSelected(new Set(event.target.checked ? selectable.map((row) => row.id) : []))
                    }
                  />
                </th>
              ) : null}
              <th className="py-2 text-left font-medium">Identity</th>
              <th className="py-2 text-left font-medium">Cluster / namespace</th>
              <th className="py-2 text-left font-medium">Risk</th>
              <th className="py-2 text-left font-medium">Recommendation</th>
              <th className="py-2 text-left font-medium">Deadline</th>
              <th className="py-2 text-left font-medium">Status</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {rows.map((row) => {
              const overdue = row.status === "pending" && isOverdue(row.campaign.deadline, now);
              const canSelect = selectable.includes(row);
              return (
                <tr
                  key={row.id}
                  data-testid="inbox-row"
                  data-item-id={row.id}
                  data-status={row.status}
                  className={overdue ? "bg-red-50/60" : undefined}
                >
                  {mayDecide ? (
                    <td className="py-2 align-top">
                      <input
                        type="checkbox"
                        aria-label={`Select ${row.identity.username}`}
                        disabled={!canSelect}
                        title={
                          canSelect
                            ? undefined
                            : row.status !== "pending"
                              ? "Already decided"
                              : `A ${row.severity} item is approved on its own`
                        }
                        checked={selected.has(row.id)}
                        onChange={(event) => toggle(row.id, event.target.checked)}
                      />
                    </td>
                  ) : null}
                  <td className="py-2 pr-3 align-top">
                    <Link href={`/reviews/${row.id}`} className="font-medium text-brand-700 hover:underline">
                      {row.identity.namespace ? `${row.identity.namespace}/` : ""}
                      {row.identity.name}
                    </Link>
                    <span className="block font-mono text-xs text-slate-500">{row.identity.username}</span>
                    <span className="text-xs text-slate-500">
                      {row.identity.kind} · {row.campaign.name}
                      {row.reviewerTeam ? ` · ${row.reviewerTeam}` : ""}
                    </span>
                  </td>
                  <td className="py-2 pr-3 align-top">
                    {row.clusterName}
                    <span className="block text-xs text-slate-500">
                      {row.identity.namespace || "cluster-wide"}
                    </span>
                  </td>
                  <td className="py-2 pr-3 align-top">
                    <SeverityBadge severity={row.severity} />
                    <span className="ml-1 text-xs tabular-nums text-slate-500" title="Risk score (0–100)">
                      {row.riskScore}
                    </span>
                  </td>
                  <td className="py-2 pr-3 align-top" data-testid="inbox-recommendation">
                    <Badge tone={decisionTone[row.recommendation]}>{row.recommendation}</Badge>
                    <span className="block text-xs text-slate-600">{row.recommendationReason}</span>
                  </td>
                  <td className="py-2 pr-3 align-top" data-overdue={overdue || undefined}>
                    {row.campaign.deadline ? (
                      <>
                        <span className={overdue ? "font-semibold text-red-700" : ""}>
                          {overdue ? "overdue " : ""}
                          {timeAgo(row.campaign.deadline, now)}
                        </span>
                        <span className="block text-xs text-slate-500">
                          {formatDateTime(row.campaign.deadline)}
                        </span>
                      </>
                    ) : (
                      "—"
                    )}
                  </td>
                  <td className="py-2 align-top">
                    <Badge tone={itemStatusTone[row.status]}>{statusLabel[row.status]}</Badge>
                    {row.decision ? (
                      <span className="ml-1">
                        <Badge tone={decisionTone[row.decision]}>{row.decision}</Badge>
                      </span>
                    ) : null}
                    {row.flagged ? (
                      <span className="ml-1">
                        <Badge tone="amber">flagged</Badge>
                      </span>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}
