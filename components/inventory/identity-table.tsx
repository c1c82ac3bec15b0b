import Link from "next/link";
import { KeyRound } from "lucide-react";
import type { IdentityListItem } from "@/lib/inventory/list-identities";
import type { identitySortKeys } from "@/lib/inventory/filters";
import { Badge, SeverityBadge } from "@/components/ui/badge";
import { formatDateTime, timeAgo } from "@/components/ui/format";
import { SortHeader } from "@/components/ui/sort-header";

type SortKey = (typeof identitySortKeys)[number];
type Params = Record<string, string | number | boolean | undefined>;

export const kindLabel: Record<string, string> = { ServiceAccount: "ServiceAccount", CertificateUser: "Certificate user", User: "User", Group: "Group" };
export const ownerSourceLabel: Record<string, string> = { annotation: "annotation", label: "label", namespaceRule: "namespace rule", manual: "assigned" };

/** Columns whose natural first order is the largest (riskiest, oldest) first. */
const descendingFirst = new Set<SortKey>(["severity", "findings", "credentialAge"]);

function IdentitySortHeader({ label, column, sort, dir, params }: { label: string; column: SortKey; sort: SortKey; dir: "asc" | "desc"; params: Params }) {
  const firstDir = descendingFirst.has(column) ? "desc" : "asc";
  return <SortHeader label={label} column={column} active={sort === column} dir={dir} firstDir={firstDir} basePath="/identities" params={params} />;
}

export function IdentityTable({ rows, sort, dir, params, now }: { rows: IdentityListItem[]; sort: SortKey; dir: "asc" | "desc"; params: Params; now: Date }) {
  const header = { sort, dir, params };
  return (
    <div className="overflow-x-auto">
      <table className="min-w-full divide-y divide-slate-200 text-sm" data-testid="identities">
        <thead className="bg-slate-50 text-xs uppercase tracking-wide text-slate-500">
          <tr>
            <IdentitySortHeader label="Risk" column="severity" {...header} />
            <IdentitySortHeader label="Namespace" column="namespace" {...header} />
            <IdentitySortHeader label="Name" column="name" {...header} />
            <IdentitySortHeader label="Kind" column="kind" {...header} />
            <th scope="col" className="px-3 py-2 text-left font-medium">Owner</th>
            <IdentitySortHeader label="Findings" column="findings" {...header} />
            <IdentitySortHeader label="Oldest credential" column="credentialAge" {...header} />
            <IdentitySortHeader label="Cluster" column="cluster" {...header} />
            <IdentitySortHeader label="Last seen" column="lastSeen" {...header} />
            <IdentitySortHeader label="Last used" column="lastUsed" {...header} />
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {rows.map((r) => (
            <tr key={r.id} className={`hover:bg-slate-50 ${r.deletedAt ? "text-slate-400" : ""}`}>
              <td className="px-3 py-2">
                <SeverityBadge severity={r.maxSeverity} />
              </td>
              <td className="px-3 py-2 font-mono text-xs">{r.namespace || "—"}</td>
              <td className="px-3 py-2">
                <Link href={`/identities/${r.id}`} className="font-medium text-brand-700 hover:underline">
                  {r.name}
                </Link>
                {r.hasLegacyToken ? (
                  <span className="ml-2" title="Has a long-lived legacy token Secret">
                    <Badge tone="amber">
                      <KeyRound className="mr-1 h-3 w-3" aria-hidden />
                      legacy token
                    </Badge>
                  </span>
                ) : null}
                {r.deletedAt ? <span className="ml-2"><Badge>deleted {timeAgo(r.deletedAt, now)}</Badge></span> : null}
              </td>
              <td className="px-3 py-2">
                <Badge tone={r.kind === "ServiceAccount" ? "gray" : "blue"}>{kindLabel[r.kind]}</Badge>
              </td>
              <td className="px-3 py-2">
                {r.ownerTeam ? (
                  <span>
                    {r.ownerTeam.name} <span className="text-xs text-slate-500">({ownerSourceLabel[r.ownerSource ?? "manual"]})</span>
                  </span>
                ) : (
                  <span className="text-amber-700">unowned</span>
                )}
              </td>
              <td className="px-3 py-2 tabular-nums">{r.openFindingCount}</td>
              <td className="px-3 py-2 text-slate-600">{r.oldestCredentialAt ? timeAgo(r.oldestCredentialAt, now) : "none"}</td>
              <td className="px-3 py-2 text-slate-600">{r.cluster.name}</td>
              <td className="px-3 py-2 text-slate-600">{timeAgo(r.lastSeenAt, now)}</td>
              <td className="px-3 py-2 text-slate-600">
                {r.lastUsedAt ? (
                  <Link href={`/identities/${r.id}?tab=usage`} title={formatDateTime(r.lastUsedAt)} className="hover:underline">
                    {timeAgo(r.lastUsedAt, now)}
                  </Link>
                ) : (
                  <span className="text-slate-400">never seen</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
