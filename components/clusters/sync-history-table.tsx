import { Badge, statusTone } from "@/components/ui/badge";
import { formatDateTime, formatDuration } from "@/components/ui/format";

export interface SyncRunRow {
  id: string;
  trigger: string;
  status: string;
  startedAt: Date;
  durationMs: number | null;
  counts: unknown;
  error: string | null;
}

/** A cluster's sync runs, newest first: when, why, outcome with the cluster's error, duration, objects per kind. */
export function SyncHistoryTable({ runs, className = "" }: { runs: SyncRunRow[]; className?: string }) {
  if (runs.length === 0) return <p className={`text-sm text-slate-600 ${className}`}>No sync yet.</p>;
  return (
    <table className={`min-w-full text-sm ${className}`} data-testid="sync-history">
      <thead className="text-xs text-slate-500">
        <tr>
          <th className="py-1 text-left font-medium">Started</th>
          <th className="py-1 text-left font-medium">Trigger</th>
          <th className="py-1 text-left font-medium">Status</th>
          <th className="py-1 text-left font-medium">Duration</th>
          <th className="py-1 text-left font-medium">Objects</th>
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-100">
        {runs.map((run) => (
          <tr key={run.id} className="align-top">
            <td className="whitespace-nowrap py-1.5">{formatDateTime(run.startedAt)}</td>
            <td className="py-1.5">{run.trigger}</td>
            <td className="py-1.5">
              <Badge tone={statusTone[run.status]}>{run.status}</Badge>
              {run.error ? <span className="mt-1 block max-w-xl text-xs text-red-700">{run.error}</span> : null}
            </td>
            <td className="py-1.5">{formatDuration(run.durationMs)}</td>
            <td className="py-1.5 text-xs text-slate-600">
              {Object.entries((run.counts ?? {}) as Record<string, number>)
                .map(([k, v]) => `${v} ${k}`)
                .join(", ") || "—"}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
