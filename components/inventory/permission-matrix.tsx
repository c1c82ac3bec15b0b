import type { PermissionMatrix } from "@/lib/permissions/identity-permissions";

/**
 * Resources × verbs. A filled cell says where the verb is granted: everywhere (cluster-wide, through a
 * ClusterRoleBinding) or in the listed namespaces; "named" when only specific objects are allowed.
 */
export function PermissionMatrixTable({ matrix }: { matrix: PermissionMatrix }) {
  if (matrix.rows.length === 0 && matrix.nonResourceUrls.length === 0) {
    return <p className="text-sm text-slate-600">No RBAC rule grants this identity anything.</p>;
  }
  return (
    <div className="overflow-x-auto">
      <table className="min-w-full text-xs" data-testid="permission-matrix">
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
              {matrix.verbs.map((verb) => {
                const cell = row.cells[verb] ?? row.cells["*"];
                if (!cell) return <td key={verb} className="px-2 py-1.5 text-center text-slate-300">·</td>;
                const where = cell.clusterWide ? "cluster-wide" : cell.namespaces.join(", ");
                const tone = cell.clusterWide ? "bg-red-100 text-red-800" : "bg-amber-50 text-amber-800";
                return (
                  <td key={verb} className="px-1 py-1 text-center">
                    <span
                      className={`inline-block max-w-40 truncate rounded px-1.5 py-0.5 ${tone}`}
                      title={`${verb} ${row.key}: ${where}${cell.limitedByResourceNames ? ` (only ${cell.resourceNames.join(", ")})` : ""}`}
                    >
                      {cell.clusterWide ? "all" : cell.namespaces.length === 1 ? cell.namespaces[0] : `${cell.namespaces.length} ns`}
                      {cell.limitedByResourceNames ? " · named" : ""}
                    </span>
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      {matrix.nonResourceUrls.length ? (
        <p className="mt-2 text-xs text-slate-600">
          Non-resource URLs: {matrix.nonResourceUrls.map((u) => `${u.path} (${u.verbs.join(",")})`).join("; ")}
        </p>
      ) : null}
      <p className="mt-2 flex gap-3 text-xs text-slate-500">
        <span><span className="rounded bg-red-100 px-1 text-red-800">all</span> cluster-wide</span>
        <span><span className="rounded bg-amber-50 px-1 text-amber-800">ns</span> in those namespaces only</span>
        <span>named: only specific objects</span>
      </p>
    </div>
  );
}
