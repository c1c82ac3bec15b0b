"use client";

import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { Plus } from "lucide-react";
import {
  createOwnershipRuleServerAction,
  createTeamServerAction,
  deleteOwnershipRuleServerAction,
} from "@/app/(dashboard)/teams/actions";
import type { ActionResult } from "@/lib/auth/action";

const inputClass = "rounded-md border border-slate-300 px-2 py-1.5 text-sm";
const labelClass = "flex flex-col gap-1 text-xs font-medium text-slate-600";
const submitClass =
  "inline-flex items-center gap-1.5 rounded-md bg-brand-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-brand-700 disabled:opacity-60";

/** A failed action's message, with its field errors when the input was refused. */
function unwrap<T>(result: ActionResult<T>): T {
  if (!result.ok)
    throw new Error(
      result.fieldErrors
        ? Object.entries(result.fieldErrors)
            .map(([field, messages]) => `${field}: ${messages.join(", ")}`)
            .join("; ")
        : result.error,
    );
  return result.data;
}

function ErrorLine({ error }: { error: Error | null }) {
  return error ? (
    <p role="alert" className="mt-2 text-sm text-red-700">
      {error.message}
    </p>
  ) : null;
}

export function CreateTeamForm() {
  const router = useRouter();
  const create = useMutation({
    mutationFn: async (form: FormData) =>
      unwrap(await createTeamServerAction({ name: String(form.get("name") ?? "") })),
    onSuccess: () => router.refresh(),
  });
  return (
    <div>
      <form
        className="flex flex-wrap items-end gap-3"
        onSubmit={(event) => {
          event.preventDefault();
          const form = event.currentTarget;
          create.mutate(new FormData(form), { onSuccess: () => form.reset() });
        }}
      >
        <label className={labelClass}>
          Team name
          <input name="name" required maxLength={100} placeholder="e.g. Payments" className={inputClass} />
        </label>
        <button type="submit" disabled={create.isPending} className={submitClass}>
          <Plus className="h-4 w-4" aria-hidden />
          {create.isPending ? "Creating…" : "Create team"}
        </button>
      </form>
      <ErrorLine error={create.error} />
    </div>
  );
}

export function AddRuleForm({
  teams,
  clusters,
}: {
  teams: { id: string; name: string }[];
  clusters: { id: string; name: string }[];
}) {
  const router = useRouter();
  const add = useMutation({
    mutationFn: async (form: FormData) =>
      unwrap(
        await createOwnershipRuleServerAction({
          namespacePattern: String(form.get("namespacePattern") ?? ""),
          teamId: String(form.get("teamId") ?? ""),
          clusterId: String(form.get("clusterId") ?? "") || null,
          priority: Number(form.get("priority") ?? 100),
        }),
      ),
    onSuccess: () => router.refresh(),
  });
  if (teams.length === 0)
    return <p className="text-sm text-slate-600">Create a team first: a rule hands a namespace to a team.</p>;
  return (
    <div>
      <form
        className="flex flex-wrap items-end gap-3"
        data-testid="add-rule-form"
        onSubmit={(event) => {
          event.preventDefault();
          const form = event.currentTarget;
          add.mutate(new FormData(form), { onSuccess: () => form.reset() });
        }}
      >
        <label className={labelClass}>
          Namespace pattern
          <input
            name="namespacePattern"
            required
            maxLength={253}
            pattern="[a-z0-9*?\-]+"
            placeholder="payments-*"
            className={`${inputClass} w-40`}
          />
        </label>
        <label className={labelClass}>
          Team
          <select name="teamId" required className={inputClass}>
            {teams.map((team) => (
              <option key={team.id} value={team.id}>
                {team.name}
              </option>
            ))}
          </select>
        </label>
        <label className={labelClass}>
          Cluster
          <select name="clusterId" defaultValue="" className={inputClass}>
            <option value="">All clusters</option>
            {clusters.map((cluster) => (
              <option key={cluster.id} value={cluster.id}>
                {cluster.name}
              </option>
            ))}
          </select>
        </label>
        <label className={labelClass}>
          Priority
          <input
            name="priority"
            type="number"
            required
            min={0}
            max={10000}
            defaultValue={100}
            className={`${inputClass} w-24`}
          />
        </label>
        <button type="submit" disabled={add.isPending} className={submitClass}>
          <Plus className="h-4 w-4" aria-hidden />
          {add.isPending ? "Adding and re-analysing…" : "Add rule"}
        </button>
      </form>
      <p className="mt-2 text-xs text-slate-500">
        <code>*</code> matches any run of characters, <code>?</code> one. Lower priority numbers are tried
        first; an owner annotation or label on the service account, or a manual assignment, wins over any
        rule.
      </p>
      <ErrorLine error={add.error} />
    </div>
  );
}

export function DeleteRuleButton({ id, pattern }: { id: string; pattern: string }) {
  const router = useRouter();
  const remove = useMutation({
    mutationFn: async () => unwrap(await deleteOwnershipRuleServerAction({ id })),
    onSuccess: () => router.refresh(),
  });
  return (
    <span className="inline-flex items-center gap-2">
      {remove.isError ? (
        <span role="alert" className="text-xs text-red-700">
          {remove.error.message}
        </span>
      ) : null}
      <button
        type="button"
        disabled={remove.isPending}
        aria-label={`Remove rule ${pattern}`}
        onClick={() => {
          if (window.confirm(`Remove the rule "${pattern}"? Identities it assigned lose that owner.`))
            remove.mutate();
        }}
        className="rounded-md border border-red-200 px-2 py-1 text-xs font-medium text-red-700 hover:bg-red-50 disabled:opacity-60"
      >
        {remove.isPending ? "Removing…" : "Remove"}
      </button>
    </span>
  );
}
