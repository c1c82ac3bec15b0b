import { Badge, statusTone } from "@/components/ui/badge";
import { formatDateTime } from "@/components/ui/format";
import type { IngestBatchRow } from "@/lib/usage/ingest-history";

const number = new Intl.NumberFormat("en");

/** Accepted, duplicate and rejected events side by side, as shares of what the batch read. */
function CountsBar({ accepted, duplicates, rejected }: Pick<IngestBatchRow, "accepted" | "duplicates" | "rejected">) {
  const total = accepted + duplicates + rejected;
  const parts = [
    { label: "accepted", value: accepted, className: "bg-emerald-500" },
    { label: "duplicates", value: duplicates, className: "bg-slate-400" },
    { label: "rejected", value: rejected, className: "bg-red-500" },
  ];
  return (
    <div className="min-w-44">
      <p className="text-xs tabular-nums text-slate-700">
        <span className="text-emerald-700">{number.format(accepted)} accepted</span> · {number.format(duplicates)} duplicates ·{" "}
        <span className={rejected ? "text-red-700" : undefined}>{number.format(rejected)} rejected</span>
      </p>
      {total > 0 ? (
        <div className="mt-1 flex h-1.5 w-full overflow-hidden rounded-full bg-slate-100" aria-hidden>
          {parts.map((part) => (part.value ? <div key={part.label} className={part.className} style={{ width: `${(part.value / total) * 100}%` }} /> : null))}
        </div>
      ) : null}
    </div>
  );
}

/** A cluster's audit ingest batches, newest first: webhook deliveries and uploaded files, with what was counted and why lines were rejected. */
export function IngestHistoryTable({ batches }: { batches: IngestBatchRow[] }) {
  return (
    <table className="min-w-full text-sm" data-testid="ingest-history">
      <thead className="text-xs text-slate-500">
        <tr>
          <th className="py-1 text-left font-medium">When</th>
          <th className="py-1 text-left font-medium">Source</th>
          <th className="py-1 text-left font-medium">Events</th>
          <th className="py-1 text-left font-medium">Status</th>
          <th className="whitespace-nowrap py-1 text-left font-medium">Rejected lines</th>
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-100">
        {batches.map((batch) => (
          <tr key={batch.id} className="align-top" data-batch-id={batch.id}>
            <td className="whitespace-nowrap py-1.5 pr-3">{formatDateTime(batch.startedAt)}</td>
            <td className="py-1.5 pr-3">
              <Badge tone={batch.source === "webhook" ? "blue" : "gray"}>{batch.source}</Badge>
              {batch.fileName ? <span className="ml-1.5 font-mono text-xs">{batch.fileName}</span> : null}
              <span className="block text-xs text-slate-500">by {batch.actorLabel}</span>
            </td>
            <td className="py-1.5 pr-3">
              <CountsBar accepted={batch.accepted} duplicates={batch.duplicates} rejected={batch.rejected} />
            </td>
            <td className="py-1.5 pr-3">
              <Badge tone={statusTone[batch.status]}>{batch.status}</Badge>
              {batch.error ? <span className="mt-1 block max-w-xs text-xs text-red-700">{batch.error}</span> : null}
            </td>
            <td className="py-1.5">
              {batch.sampleReasons.length ? (
                <details>
                  <summary className="cursor-pointer text-xs text-slate-600">
                    {batch.sampleReasons.length < batch.rejected ? `first ${batch.sampleReasons.length} of ${number.format(batch.rejected)}` : `${batch.sampleReasons.length} ${batch.sampleReasons.length === 1 ? "reason" : "reasons"}`}
                  </summary>
                  <ul className="mt-1 max-w-md space-y-0.5 font-mono text-xs text-slate-700">
                    {batch.sampleReasons.map((r) => (
                      <li key={`${r.line}:${r.reason}`}>
                        line {r.line}: {r.reason}
                      </li>
                    ))}
                  </ul>
                </details>
              ) : (
                <span className="text-xs text-slate-400">—</span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
