import Link from "next/link";
import type { WhoCanSubject } from "@/lib/permissions/who-can";
import { Badge, type Tone } from "@/components/ui/badge";

const kindTone: Record<WhoCanSubject["kind"], Tone> = {
  ServiceAccount: "blue",
  User: "gray",
  Group: "amber",
};

function qualified(object: { namespace?: string; name: string }): string {
  return object.namespace ? `${object.namespace}/${object.name}` : object.name;
}

/** One row per subject and cluster, with every binding → role pair that grants the access. */
export function WhoCanResults({
  subjects,
  clusterNames,
}: {
  subjects: WhoCanSubject[];
  clusterNames: Map<string, string>;
}) {
  const manyClusters = new Set(subjects.map((subject) => subject.clusterId)).size > 1;
  return (
    <div className="overflow-x-auto">
      <table className="min-w-full text-sm" data-testid="who-can-results">
        <thead className="border-b border-slate-200 text-xs uppercase tracking-wide text-slate-500">
          <tr>
            {manyClusters ? <th className="px-2 py-2 text-left font-medium">Cluster</th> : null}
            <th className="px-2 py-2 text-left font-medium">Kind</th>
            <th className="px-2 py-2 text-left font-medium">Subject</th>
            <th className="px-2 py-2 text-left font-medium">Username</th>
            <th className="px-2 py-2 text-left font-medium">Granted by (binding → role)</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {subjects.map((subject) => (
            <tr
              key={`${subject.clusterId}\u0000${subject.kind}\u0000${subject.username}`}
              className="align-top"
            >
              {manyClusters ? (
                <td className="px-2 py-1.5 text-slate-600">
                  {clusterNames.get(subject.clusterId) ?? subject.clusterId}
                </td>
              ) : null}
              <td className="px-2 py-1.5">
                <Badge tone={kindTone[subject.kind]}>{subject.kind}</Badge>
              </td>
              <td className="px-2 py-1.5 font-medium">
                {subject.identityId ? (
                  <Link href={`/identities/${subject.identityId}`} className="text-brand-600 hover:underline">
                    {qualified(subject)}
                  </Link>
                ) : (
                  <span title="Not in the inventory: no synced identity has this name">
                    {qualified(subject)}
                  </span>
                )}
              </td>
              <td className="px-2 py-1.5 font-mono text-xs text-slate-600">{subject.username}</td>
              <td className="px-2 py-1.5">
                <ul className="space-y-0.5">
                  {subject.via.map((source) => (
                    <li
                      key={`${source.binding.kind}/${qualified(source.binding)}→${source.role.kind}/${qualified(source.role)}`}
                      className="text-xs text-slate-700"
                    >
                      <span className="text-slate-500">{source.binding.kind}</span>{" "}
                      {qualified(source.binding)} → <span className="text-slate-500">{source.role.kind}</span>{" "}
                      <span
                        className={
                          source.role.kind === "ClusterRole" && source.role.name === "cluster-admin"
                            ? "font-semibold text-red-700"
                            : undefined
                        }
                      >
                        {qualified(source.role)}
                      </span>
                    </li>
                  ))}
                </ul>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
