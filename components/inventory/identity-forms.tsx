"use client";

import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { ShieldCheck, UserCog } from "lucide-react";
import type { ActionResult } from "@/lib/auth/action";

/** Runs a server action, refreshes the server-rendered page after it, and shows what happened. */
function useServerAction<I, T>(action: (input: I) => Promise<ActionResult<T>>) {
  const router = useRouter();
  return useMutation({
    mutationFn: async (input: I) => {
      const result = await action(input);
      if (!result.ok) throw new Error(result.fieldErrors ? `${result.error} ${Object.values(result.fieldErrors).flat().join(" ")}` : result.error);
      return result.data;
    },
    onSuccess: () => router.refresh(),
  });
}

function Outcome({ error, success }: { error: Error | null; success: string | null }) {
  if (error) return <p role="alert" className="text-sm text-red-700">{error.message}</p>;
  if (success) return <p role="status" className="text-sm text-emerald-700">{success}</p>;
  return null;
}

export function AssignOwnerForm({
  identityId,
  currentTeamId,
  teams,
  assign,
}: {
  identityId: string;
  currentTeamId: string | null;
  teams: { id: string; name: string }[];
  assign: (input: { identityId: string; teamId: string | null }) => Promise<ActionResult<{ owner: string | null }>>;
}) {
  const [teamId, setTeamId] = useState(currentTeamId ?? "");
  const mutation = useServerAction(assign);
  return (
    <form
      className="mt-4 flex flex-wrap items-end gap-2"
      onSubmit={(event) => {
        event.preventDefault();
        mutation.mutate({ identityId, teamId: teamId || null });
      }}
    >
      <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
        Assign owner
        <select value={teamId} onChange={(e) => setTeamId(e.target.value)} className="rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm">
          <option value="">No owner</option>
          {teams.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={mutation.isPending} className="inline-flex items-center gap-1.5 rounded-md bg-brand-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-brand-700 disabled:opacity-60">
        <UserCog className="h-4 w-4" aria-hidden /> {mutation.isPending ? "Saving…" : "Save owner"}
      </button>
      <Outcome error={mutation.error} success={mutation.isSuccess ? `Owner set to ${mutation.data.owner ?? "nobody"}.` : null} />
    </form>
  );
}

export function AcceptRiskForm({
  findingId,
  title,
  minDate,
  accept,
}: {
  findingId: string;
  title: string;
  /** The earliest expiry the form offers (tomorrow, from the server's clock). */
  minDate: string;
  accept: (input: { findingId: string; reason: string; expiresAt: string }) => Promise<ActionResult<{ acceptedUntil: string }>>;
}) {
  const [open, setOpen] = useState(false);
  const mutation = useServerAction(accept);
  if (!open) {
    return (
      <button type="button" onClick={() => setOpen(true)} className="inline-flex items-center gap-1 text-xs font-medium text-brand-700 hover:underline" aria-label={`Accept risk: ${title}`}>
        <ShieldCheck className="h-3.5 w-3.5" aria-hidden /> Accept risk
      </button>
    );
  }
  return (
    <form
      aria-label={`Accept risk: ${title}`}
      className="flex flex-col gap-2"
      onSubmit={(event) => {
        event.preventDefault();
        const data = new FormData(event.currentTarget);
        mutation.mutate({ findingId, reason: String(data.get("reason") ?? ""), expiresAt: String(data.get("expiresAt") ?? "") });
      }}
    >
      <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
        Reason
        <textarea name="reason" required minLength={10} maxLength={2000} rows={2} className="rounded-md border border-slate-300 px-2 py-1 text-sm" />
      </label>
      <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
        Accepted until
        <input type="date" name="expiresAt" required min={minDate} className="rounded-md border border-slate-300 px-2 py-1 text-sm" />
      </label>
      <div className="flex items-center gap-2">
        <button type="submit" disabled={mutation.isPending} className="rounded-md bg-slate-800 px-3 py-1 text-xs font-medium text-white disabled:opacity-60">
          {mutation.isPending ? "Saving…" : "Accept until this date"}
        </button>
        <button type="button" onClick={() => setOpen(false)} className="text-xs text-slate-600 hover:underline">
          Cancel
        </button>
      </div>
      <Outcome error={mutation.error} success={mutation.isSuccess ? `Accepted until ${mutation.data.acceptedUntil.slice(0, 10)}.` : null} />
    </form>
  );
}
