import { Badge } from "@/components/ui/badge";
import { formatDateTime, timeAgo } from "@/components/ui/format";

/** "3 days ago" with the exact UTC time under it; "never" in amber when there is no use on record. */
export function LastUsed({ at, now, never = "never" }: { at: Date | null; now: Date; never?: string }) {
  if (!at) return <span className="text-amber-700">{never}</span>;
  return (
    <time dateTime={at.toISOString()} title={formatDateTime(at)}>
      {timeAgo(at, now)}
      <span className="block text-xs text-slate-500">{formatDateTime(at)}</span>
    </time>
  );
}

export interface CredentialUsageRow {
  key: string;
  /** Credential kind (legacyTokenSecret, boundToken, clientCertificate…), or null for an id Keyward never synced. */
  kind: string | null;
  /** Secret or certificate name when synced; otherwise the credential id from the audit events (JTI=…, X509SHA256=…). */
  label: string;
  lastUsedAt: Date | null;
  /** Requests seen with it; null when the last use comes only from the legacy-token label. */
  requests: number | null;
  deleted?: boolean;
}

/** Each credential of the identity with its own last use, so a stale token stands out from a busy one. */
export function CredentialUsageTable({ rows, now }: { rows: CredentialUsageRow[]; now: Date }) {
  if (rows.length === 0) {
    return <p className="text-sm text-slate-600">No credential seen: no token Secret, no certificate and no credential id in its audit events.</p>;
  }
  return (
    <table className="min-w-full text-sm" data-testid="credential-usage">
      <thead className="text-xs text-slate-500">
        <tr>
          <th scope="col" className="py-1 text-left font-medium">Kind</th>
          <th scope="col" className="py-1 text-left font-medium">Credential</th>
          <th scope="col" className="py-1 text-left font-medium">Last used</th>
          <th scope="col" className="py-1 text-right font-medium">Requests</th>
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-100">
        {rows.map((c) => (
          <tr key={c.key} className={c.deleted ? "text-slate-400" : ""}>
            <td className="py-1.5 pr-2 align-top">
              {c.kind ? <Badge tone={c.kind === "legacyTokenSecret" ? "amber" : "gray"}>{c.kind}</Badge> : <Badge tone="blue">seen in events</Badge>}
            </td>
            <td className="max-w-xs break-all py-1.5 pr-2 align-top font-mono text-xs">
              {c.label}
              {c.deleted ? " (deleted)" : ""}
            </td>
            <td className="py-1.5 pr-2 align-top">
              <LastUsed at={c.lastUsedAt} now={now} />
            </td>
            <td className="py-1.5 text-right align-top tabular-nums">{c.requests === null ? <span className="text-xs text-slate-500">label only</span> : c.requests.toLocaleString("en")}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
