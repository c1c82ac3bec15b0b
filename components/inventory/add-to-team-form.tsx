"use client";

import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { addUserToTeam } from "@/app/(dashboard)/admin/users/actions";

export function AddToTeamForm({ userId, userEmail, teams }: { userId: string; userEmail: string; teams: { id: string; name: string }[] }) {
  const router = useRouter();
  const [teamId, setTeamId] = useState("");
  const add = useMutation({
    mutationFn: async () => {
      const result = await addUserToTeam({ userId, teamId });
      if (!result.ok) throw new Error(result.error);
      return result.data;
    },
    onSuccess: () => router.refresh(),
  });
  if (teams.length === 0) return null;
  return (
    <form
      className="flex items-center gap-1.5"
      onSubmit={(event) => {
        event.preventDefault();
        if (teamId) add.mutate();
      }}
    >
      <select aria-label={`Team for ${userEmail}`} value={teamId} onChange={(e) => setTeamId(e.target.value)} className="rounded border border-slate-300 px-1.5 py-0.5 text-xs">
        <option value="">Add to team…</option>
        {teams.map((t) => (
          <option key={t.id} value={t.id}>
            {t.name}
          </option>
        ))}
      </select>
      <button type="submit" disabled={!teamId || add.isPending} className="rounded bg-slate-800 px-2 py-0.5 text-xs text-white disabled:opacity-50">
        Add
      </button>
      {add.isError ? <span role="alert" className="text-xs text-red-700">{add.error.message}</span> : null}
    </form>
  );
}
