import { Fragment, type ReactNode } from "react";
import type { PermissionCell, PermissionMatrix, PermissionMatrixRow } from "@/lib/permissions/identity-permissions";

/** The grant of `verb` on `row`: its own cell, or the row's `*` verb. */
export function grantedCell(row: PermissionMatrixRow, verb: string): PermissionCell | undefined {
  return row.cells[verb] ?? row.cells["*"];
}

/** Where a verb is granted: red cluster-wide, amber in some namespaces; "named" when limited to objects. */
function GrantCell({ row, verb }: { row: PermissionMatrixRow; verb: string }) {
  const cell = grantedCell(row, verb);
  if (!cell) return <td className="px-2 py-1.5 text-center text-slate-300">·</td>;
  const where = cell.clusterWide ? "cluster-wide" : cell.namespaces.join(", ");
  const tone = cell.clusterWide ? "bg-red-100 text-red-800" : "bg-amber-50 text-amber-800";
  return (
    <td className="px-1 py-1 text-center">
      <span
        className={`inline-block max-w-40 truncate rounded px-1.5 py-0.5 ${tone}`}
        title={`${verb} ${row.key}: ${where}${cell.limitedByResourceNames ? ` (only ${cell.resourceNames.join(", ")})` : ""}`}
      >
        {cell.clusterWide ? "all" : cell.namespaces.length === 1 ? cell.namespaces[0] : `${cell.namespaces.length} ns`}
        {cell.limitedByResourceNames ? " · named" : ""}
      </span>
    </td>
  );
}

const grantLegend = (
  <>
    <span><span className="rounded bg-red-100 px-1 text-red-800">all</span> cluster-wide</span>
    <span><span className="rounded bg-amber-50 px-1 text-amber-800">ns</span> in those namespaces only</span>
    <span>named: only specific objects</span>
  </>
);

/**
 * Resources × verbs. A filled cell says where the verb is granted: everywhere (cluster-wide, through a
 * ClusterRoleBinding) or in the listed namespaces; "named" when only specific objects are allowed.
 * Other views of the same grid (used vs granted) pass their own `renderCell` (a `<td>`) and `legend`.
 */
export function PermissionMatrixTable({
  matrix,
  renderCell,
  legend = grantLegend,
  empty = "No RBAC rule grants this identity anything.",
  testId = "permission-matrix",
}: {
  matrix: PermissionMatrix;
  renderCell?: (row: PermissionMatrixRow, verb: string) => ReactNode;
  /** Below the grid; null for none (a caller that shows its own). */
  legend?: ReactNode;
  empty?: string;
  testId?: string;
}) {
  if (matrix.rows.length === 0 && matrix.nonResourceUrls.length === 0) {
    return <p className="text-sm text-slate-600">{empty}</p>;
  }
  return (
    <div className="overflow-x-auto">
      <table className="min-w-full text-xs" data-testid={testId}>
        <thead className="bg-slate-50 text-slate-500">
          <tr>
            <th scope="col" className="px-2 py-1.5 text-left font-medium">Resource</th>
            {matrix.verbs.map((verb) => (
              <th key={verb} scope="col" className="px-2 py-1.5 text-center font-medium">{verb}</th>
            ))}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {matrix.rows.map((row) => (
            <tr key={row.key}>
              <th scope="row" className="whitespace-nowrap px-2 py-1.5 text-left font-mono font-normal">
                {row.resource}
                {row.subresource ? `/${row.subresource}` : ""} <span className="text-slate-400">{row.apiGroup || "core"}</span>
              </th>
              {matrix.verbs.map((verb) => (renderCell ? <Fragment key={verb}>{renderCell(row, verb)}</Fragment> : <GrantCell key={verb} row={row} verb={verb} />))}
            </tr>
          ))}
        </tbody>
      </table>
      {matrix.nonResourceUrls.length ? (
        <p className="mt-2 text-xs text-slate-600">
          Non-resource URLs: {matrix.nonResourceUrls.map((u) => `${u.path} (${u.verbs.join(",")})`).join("; ")}
        </p>
      ) : null}
      {legend ? <p className="mt-2 flex flex-wrap gap-3 text-xs text-slate-500">{legend}</p> : null}
    </div>
  );
}
