import Link from "next/link";
import { Search } from "lucide-react";
import type { IdentityFilter } from "@/lib/inventory/filters";
import { identityKinds, severities } from "@/lib/inventory/filters";

const field = "rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm";

/**
 * The inventory's filters as a plain GET form: every filter lives in the URL, so a filtered view can be
 * bookmarked and shared, and works without JavaScript.
 */
export function IdentityFilters({
  filter,
  options,
}: {
  filter: IdentityFilter;
  options: { clusters: { id: string; name: string }[]; teams: { id: string; name: string; slug: string }[]; findingTypes: { type: string; title: string }[] };
}) {
  return (
    <form role="search" aria-label="Filter identities" className="grid grid-cols-2 gap-3 md:grid-cols-4 xl:grid-cols-6" action="/identities">
      <label className="col-span-2 flex flex-col gap-1 text-xs font-medium text-slate-600">
        Search
        <input name="q" defaultValue={filter.q} placeholder="Name, namespace or username" className={field} />
      </label>
      <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
        Cluster
        <select name="cluster" defaultValue={filter.cluster ?? ""} className={field}>
          <option value="">All clusters</option>
          {options.clusters.map((c) => (
            <option key={c.id} value={c.name}>
              {c.name}
            </option>
          ))}
        </select>
      </label>
      <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
        Namespace
        <input name="namespace" defaultValue={filter.namespace} placeholder="Any" className={field} />
      </label>
      <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
        Kind
        <select name="kind" defaultValue={filter.kind ?? ""} className={field}>
          <option value="">All kinds</option>
          {identityKinds.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
      </label>
      <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
        Owner
        <select name="owner" defaultValue={filter.owner ?? ""} className={field}>
          <option value="">Any owner</option>
          <option value="unowned">Unowned</option>
          {options.teams.map((t) => (
            <option key={t.id} value={t.slug}>
              {t.name}
            </option>
          ))}
        </select>
      </label>
      <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
        Risk at least
        <select name="severity" defaultValue={filter.severity ?? ""} className={field}>
          <option value="">Any</option>
          {[...severities].reverse().map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
        Finding
        <select name="findingType" defaultValue={filter.findingType ?? ""} className={field}>
          <option value="">Any finding</option>
          {options.findingTypes.map((f) => (
            <option key={f.type} value={f.type}>
              {f.title}
            </option>
          ))}
        </select>
      </label>
      <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
        Credential older than
        <select name="credentialAgeDays" defaultValue={filter.credentialAgeDays?.toString() ?? ""} className={field}>
          <option value="">Any age</option>
          <option value="30">30 days</option>
          <option value="90">90 days</option>
          <option value="365">1 year</option>
        </select>
      </label>
      <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
        Legacy token
        <select name="hasLegacyToken" defaultValue={filter.hasLegacyToken === undefined ? "" : String(filter.hasLegacyToken)} className={field}>
          <option value="">Either</option>
          <option value="true">Has one</option>
          <option value="false">Has none</option>
        </select>
      </label>
      <label className="flex items-end gap-2 pb-2 text-xs font-medium text-slate-600">
        <input type="checkbox" name="includeDeleted" value="true" defaultChecked={filter.includeDeleted ?? false} />
        Include deleted
      </label>
      {filter.sort ? <input type="hidden" name="sort" value={filter.sort} /> : null}
      {filter.dir ? <input type="hidden" name="dir" value={filter.dir} /> : null}
      <div className="flex items-end gap-2">
        <button type="submit" className="inline-flex items-center gap-1.5 rounded-md bg-slate-800 px-3 py-1.5 text-sm font-medium text-white hover:bg-slate-700">
          <Search className="h-4 w-4" aria-hidden /> Apply filters
        </button>
        <Link href="/identities" className="px-2 py-1.5 text-sm text-slate-600 hover:underline">
          Reset
        </Link>
      </div>
    </form>
  );
}
