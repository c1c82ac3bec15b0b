import Link from "next/link";
import { Search } from "lucide-react";
import type { WhoCanParams } from "./query";

const inputClass = "rounded-md border border-slate-300 px-2 py-1.5 text-sm";
const labelClass = "flex flex-col gap-1 text-xs font-medium text-slate-600";

/** A plain GET form: the question lands in the URL, so it works without JavaScript and can be shared. */
export function WhoCanForm({
  values,
  clusters,
}: {
  values: Partial<WhoCanParams>;
  clusters: { id: string; name: string }[];
}) {
  return (
    <form
      method="get"
      action="/who-can"
      className="flex flex-wrap items-end gap-3"
      data-testid="who-can-form"
    >
      <label className={labelClass}>
        Cluster
        <select name="cluster" defaultValue={values.cluster ?? ""} className={inputClass}>
          <option value="">All clusters</option>
          {clusters.map((cluster) => (
            <option key={cluster.id} value={cluster.id}>
              {cluster.name}
            </option>
          ))}
        </select>
      </label>
      <label className={labelClass}>
        Verb
        <input
          name="verb"
          required
          defaultValue={values.verb ?? ""}
          placeholder="get"
          list="who-can-verbs"
          className={`${inputClass} w-28`}
        />
      </label>
      <label className={labelClass}>
        API group
        <input
          name="group"
          defaultValue={values.group ?? ""}
          placeholder="core (empty)"
          className={`${inputClass} w-36`}
        />
      </label>
      <label className={labelClass}>
        Resource
        <input
          name="resource"
          required
          defaultValue={values.resource ?? ""}
          placeholder="secrets"
          className={`${inputClass} w-36`}
        />
      </label>
      <label className={labelClass}>
        Subresource
        <input
          name="subresource"
          defaultValue={values.subresource ?? ""}
          placeholder="exec"
          className={`${inputClass} w-28`}
        />
      </label>
      <label className={labelClass}>
        Namespace
        <input
          name="namespace"
          defaultValue={values.namespace ?? ""}
          placeholder="cluster-wide"
          className={`${inputClass} w-36`}
        />
      </label>
      <datalist id="who-can-verbs">
        {[
          "get",
          "list",
          "watch",
          "create",
          "update",
          "patch",
          "delete",
          "deletecollection",
          "impersonate",
          "bind",
          "escalate",
          "approve",
          "*",
        ].map((verb) => (
          <option key={verb} value={verb} />
        ))}
      </datalist>
      <button
        type="submit"
        className="inline-flex items-center gap-1.5 rounded-md bg-brand-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-brand-700"
      >
        <Search className="h-4 w-4" aria-hidden />
        Ask
      </button>
      <Link href="/who-can" className="py-1.5 text-sm text-slate-500 hover:text-slate-800">
        Clear
      </Link>
    </form>
  );
}
