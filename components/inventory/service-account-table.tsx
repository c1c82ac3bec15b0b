import Link from "next/link";
import { ArrowDown, ArrowUp } from "lucide-react";
import { timeAgo } from "@/components/ui/format";

export interface ServiceAccountRow {
  id: string;
  namespace: string;
  name: string;
  createdInClusterAt: Date | null;
  lastSeenAt: Date;
  owner: string | null;
  cluster: string;
}

type SortKey = "name" | "namespace" | "createdInClusterAt" | "lastSeenAt";

function SortHeader({ label, column, sort, dir, params }: { label: string; column: SortKey; sort: SortKey; dir: "asc" | "desc"; params: Record<string, string | undefined> }) {
  const nextDir = sort === column && dir === "asc" ? "desc" : "asc";
  const sp = new URLSearchParams(Object.entries({ ...params, sort: column, dir: nextDir, page: undefined }).filter((e): e is [string, string] => !!e[1]));
  const Arrow = dir === "asc" ? ArrowUp : ArrowDown;
  return (
    <th scope="col" className="px-3 py-2 text-left font-medium" aria-sort={sort === column ? (dir === "asc" ? "ascending" : "descending") : "none"}>
      <Link href={`?${sp.toString()}`} className="inline-flex items-center gap-1 hover:text-slate-900">
        {label}
        {sort === column ? <Arrow className="h-3 w-3" aria-hidden /> : null}
      </Link>
    </th>
  );
}

export function ServiceAccountTable({ rows, sort, dir, params, now }: { rows: ServiceAccountRow[]; sort: SortKey; dir: "asc" | "desc"; params: Record<string, string | undefined>; now: Date }) {
  return (
    <div className="overflow-x-auto">
      <table className="min-w-full text-sm" data-testid="service-accounts">
        <thead className="border-b border-slate-200 text-xs uppercase tracking-wide text-slate-500">
          <tr>
            <SortHeader label="Namespace" column="namespace" sort={sort} dir={dir} params={params} />
            <SortHeader label="Service account" column="name" sort={sort} dir={dir} params={params} />
            <th scope="col" className="px-3 py-2 text-left font-medium">Owner</th>
            <th scope="col" className="px-3 py-2 text-left font-medium">Cluster</th>
            <SortHeader label="Created" column="createdInClusterAt" sort={sort} dir={dir} params={params} />
            <SortHeader label="Last synced" column="lastSeenAt" sort={sort} dir={dir} params={params} />
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {rows.map((r) => (
            <tr key={r.id} className="hover:bg-slate-50">
              <td className="px-3 py-2 font-mono text-xs text-slate-600">{r.namespace}</td>
              <td className="px-3 py-2 font-medium">{r.name}</td>
              <td className="px-3 py-2">{r.owner ?? <span className="text-amber-700">unowned</span>}</td>
              <td className="px-3 py-2 text-slate-600">{r.cluster}</td>
              <td className="px-3 py-2 text-slate-600">{timeAgo(r.createdInClusterAt, now)}</td>
              <td className="px-3 py-2 text-slate-600">{timeAgo(r.lastSeenAt, now)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
