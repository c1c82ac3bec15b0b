import Link from "next/link";
import { queryString } from "@/components/ui/format-query";

export interface UnusedAccessRow {
  identityId: string;
  label: string;
  cluster: string;
  owner: string | null;
  /** Granted rules not used in the window. */
  unused: number;
  /** All granted rules. */
  granted: number;
}

/** Identities holding the most access they never use, worst first; each opens its usage tab. */
export function MostUnusedAccess({ rows, days }: { rows: UnusedAccessRow[]; days?: number }) {
  const max = Math.max(1, ...rows.map((r) => r.granted));
  return (
    <ol className="space-y-2.5 text-sm" data-testid="most-unused-access">
      {rows.map((r) => (
        <li key={r.identityId}>
          <span className="flex items-baseline justify-between gap-3">
            <Link prefetch={false} href={`/identities/${r.identityId}${queryString({ tab: "usage", days })}`} className="min-w-0 truncate font-medium text-brand-700 hover:underline">
              {r.label}
            </Link>
            <span className="shrink-0 tabular-nums text-slate-600">
              <span className="font-semibold text-amber-700">{r.unused}</span> of {r.granted} rules unused
            </span>
          </span>
          <span className="block text-xs text-slate-500">
            {r.cluster} · {r.owner ?? <span className="text-amber-700">unowned</span>}
          </span>
          {/* Amber = unused, green = used: the share of its access it could give up. */}
          <span className="mt-1 flex h-1.5 overflow-hidden rounded bg-slate-100" aria-hidden>
            <span className="bg-amber-500" style={{ width: `${(r.unused / max) * 100}%` }} />
            <span className="bg-emerald-400" style={{ width: `${((r.granted - r.unused) / max) * 100}%` }} />
          </span>
        </li>
      ))}
    </ol>
  );
}
