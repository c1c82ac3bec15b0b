import type { PermissionMatrixRow } from "@/lib/permissions/identity-permissions";
import { PermissionMatrixTable, grantedCell } from "@/components/inventory/permission-matrix";
import { usageCellKey, type UsageCellState, type UsedVsGranted } from "./usage-view";

const tone: Record<UsageCellState, string> = {
  used: "bg-emerald-100 text-emerald-800",
  unused: "bg-amber-100 text-amber-900 ring-1 ring-inset ring-amber-400",
  denied: "bg-red-100 text-red-800 ring-1 ring-inset ring-red-400",
};

/**
 * The permission matrix with each cell marked by the audit events of the window: used in green, granted but
 * never used in amber (what least privilege removes), requested and refused in red.
 */
export function UsedVsGrantedMatrix({ view, days }: { view: UsedVsGranted; days: number }) {
  const renderCell = (row: PermissionMatrixRow, verb: string) => {
    const cell = view.cells.get(usageCellKey(row.key, verb));
    if (!cell) return <td className="px-2 py-1.5 text-center text-slate-300">·</td>;
    const grant = grantedCell(row, verb);
    const where = grant ? (grant.clusterWide ? "granted cluster-wide" : `granted in ${grant.namespaces.join(", ")}`) : "not granted";
    const label = cell.state === "unused" ? "unused" : cell.state === "denied" ? `${cell.denied} denied` : cell.allowed.toLocaleString("en");
    const title =
      cell.state === "unused"
        ? `${verb} ${row.key}: ${where}, never used in ${days} days`
        : `${verb} ${row.key}: ${where}; ${cell.allowed} allowed, ${cell.denied} denied in ${days} days`;
    return (
      <td className="px-1 py-1 text-center">
        <span className={`inline-block rounded px-1.5 py-0.5 tabular-nums ${tone[cell.state]}`} title={title} data-usage={cell.state}>
          {label}
        </span>
      </td>
    );
  };
  return (
    <div>
      <p className="mb-3 flex flex-wrap gap-x-5 gap-y-1 text-sm" data-testid="used-vs-granted-counts">
        <span>
          <span className={`rounded px-1.5 font-semibold ${tone.used}`}>{view.counts.used}</span> granted and used
        </span>
        <span>
          <span className={`rounded px-1.5 font-semibold ${tone.unused}`}>{view.counts.unused}</span> granted, never used in {days} days: can be removed
        </span>
        <span>
          <span className={`rounded px-1.5 font-semibold ${tone.denied}`}>{view.counts.denied}</span> requested and denied
        </span>
      </p>
      {/* A wide role (edit, cluster-admin) makes hundreds of rows: scroll inside, the busiest rows come first. */}
      <div className="max-h-[36rem] overflow-y-auto rounded-md border border-slate-100">
        <PermissionMatrixTable
          matrix={view.matrix}
          renderCell={renderCell}
          legend={null}
          testId="used-vs-granted"
          empty="It holds no RBAC grant and made no resource request in the window."
        />
      </div>
    </div>
  );
}
