import Link from "next/link";
import type { CampaignItemRow, ItemSort, ItemTableQuery } from "@/lib/campaigns/item-table";
import { defaultDir } from "@/lib/campaigns/item-table";
import { SeverityBadge } from "@/components/ui/badge";
import { SortHeader } from "@/components/ui/sort-header";
import { kindLabel } from "@/components/inventory/identity-table";
import { statusLabel } from "@/components/reviews/review-view";
import { DecisionBadge, ItemStatusBadge } from "./campaign-ui";
import { ReassignItemForm } from "./campaign-actions";

type Params = Record<string, string | number | undefined>;
const field = "rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm";

/** The items table's filters as a GET form: a filtered view is a URL that can be shared. */
export function ItemFilters({
  basePath,
  query,
  teams,
  withoutTeam,
}: {
  basePath: string;
  query: ItemTableQuery;
  teams: { id: string; name: string }[];
  /** Some items have no reviewer team (the security team's). */
  withoutTeam: boolean;
}) {
  return (
    <form role="search" aria-label="Filter items" action={basePath} className="mb-4 flex flex-wrap items-end gap-3">
      <input type="hidden" name="sort" value={query.sort} />
      {query.dir ? <input type="hidden" name="dir" value={query.dir} /> : null}
      <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
        Status
        <select name="status" defaultValue={query.status ?? ""} className={field}>
          <option value="">Any status</option>
          {Object.entries(statusLabel).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
        Decision
        <select name="decision" defaultValue={query.decision ?? ""} className={field}>
          <option value="">Any decision</option>
          <option value="undecided">Undecided</option>
          <option value="approve">approve</option>
          <option value="shrink">shrink</option>
          <option value="revoke">revoke</option>
        </select>
      </label>
      <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
        Reviewer team
        <select name="team" defaultValue={query.team ?? ""} className={field}>
          <option value="">Any team</option>
          {withoutTeam ? <option value="none">The security team (no team)</option> : null}
          {teams.map((team) => (
            <option key={team.id} value={team.id}>
              {team.name}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" className="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-50">
        Filter
      </button>
      <Link href={basePath} className="py-1.5 text-sm text-brand-700 hover:underline">
        Reset
      </Link>
    </form>
  );
}

function ItemSortHeader({ label, column, basePath, query, params }: { label: string; column: ItemSort; basePath: string; query: ItemTableQuery; params: Params }) {
  const dir = query.dir ?? defaultDir(query.sort);
  return <SortHeader label={label} column={column} active={query.sort === column} dir={dir} firstDir={defaultDir(column)} basePath={basePath} params={params} />;
}

export function CampaignItemsTable({
  rows,
  basePath,
  query,
  params,
  reassign,
}: {
  rows: CampaignItemRow[];
  basePath: string;
  query: ItemTableQuery;
  params: Params;
  /** The teams an undecided item can go to; null when the viewer may not reassign. */
  reassign: { id: string; name: string }[] | null;
}) {
  const header = { basePath, query, params };
  return (
    <div className="overflow-x-auto">
      <table className="min-w-full divide-y divide-slate-200 text-sm" data-testid="campaign-items">
        <thead className="bg-slate-50 text-xs uppercase tracking-wide text-slate-500">
          <tr>
            <ItemSortHeader label="Identity" column="identity" {...header} />
            <ItemSortHeader label="Cluster" column="cluster" {...header} />
            <ItemSortHeader label="Namespace" column="namespace" {...header} />
            <ItemSortHeader label="Reviewer team" column="reviewer" {...header} />
            <ItemSortHeader label="Risk" column="risk" {...header} />
            <th scope="col" className="px-3 py-2 text-left font-medium">Recommendation</th>
            <ItemSortHeader label="Decision" column="decision" {...header} />
            <ItemSortHeader label="Status" column="status" {...header} />
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {rows.map((item) => (
            <tr key={item.id} data-testid="campaign-item" data-item-id={item.id} className="hover:bg-slate-50">
              <td className="px-3 py-2 align-top">
                <Link href={`/reviews/${item.id}`} className="font-medium text-brand-700 hover:underline">
                  {item.identity.name}
                </Link>
                <span className="block text-xs text-slate-500">{kindLabel[item.identity.kind] ?? item.identity.kind}</span>
              </td>
              <td className="px-3 py-2 align-top">{item.cluster.name}</td>
              <td className="px-3 py-2 align-top font-mono text-xs">{item.identity.namespace || "—"}</td>
              <td className="px-3 py-2 align-top">
                {item.reviewerTeam?.name ?? <span className="text-slate-500">security team</span>}
                {reassign && item.status === "pending" ? <ReassignItemForm itemId={item.id} version={item.version} currentTeamId={item.reviewerTeam?.id ?? null} teams={reassign} /> : null}
              </td>
              <td className="px-3 py-2 align-top">
                <SeverityBadge severity={item.severity} />
                <span className="ml-1 text-xs text-slate-500 tabular-nums">{item.riskScore}</span>
              </td>
              <td className="px-3 py-2 align-top">
                <DecisionBadge decision={item.recommendation} />
                <span className="block max-w-56 text-xs text-slate-500">{item.recommendationReason}</span>
              </td>
              <td className="px-3 py-2 align-top">
                <DecisionBadge decision={item.decision} />
              </td>
              <td className="px-3 py-2 align-top">
                <ItemStatusBadge status={item.status} flagged={item.flagged} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
