"use client";

import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import {
  cancelCampaignServerAction,
  closeCampaignServerAction,
  launchCampaignServerAction,
  reassignItemServerAction,
  stopScheduleServerAction,
} from "@/app/(dashboard)/campaigns/actions";
import type { ActionResult } from "@/lib/auth/action";
import type { CampaignStatus } from "@/lib/db";

const buttonClass = "rounded-md border px-3 py-1.5 text-sm font-medium disabled:opacity-60";
const tones = {
  primary: "border-brand-600 bg-brand-600 text-white hover:bg-brand-700",
  neutral: "border-slate-300 bg-white text-slate-700 hover:bg-slate-50",
  danger: "border-red-600 bg-red-600 text-white hover:bg-red-700",
};

function unwrap<T>(result: ActionResult<T>): T {
  if (!result.ok) throw new Error(result.error);
  return result.data;
}

type Step = "launch" | "close" | "cancel" | "stopSchedule";

const steps: Record<Step, { button: string; confirm: string; question: string; tone: keyof typeof tones; run: (input: { campaignId: string }) => Promise<ActionResult<unknown>> }> = {
  launch: {
    button: "Launch campaign",
    confirm: "Yes, launch",
    question: "Launch now? Every identity in scope becomes a review item with its evidence frozen, and the reviewers are notified.",
    tone: "primary",
    run: launchCampaignServerAction,
  },
  close: {
    button: "Close campaign",
    confirm: "Yes, close",
    question: "Close the campaign? Undecided items stay undecided, and no one can decide them afterwards. A closed campaign cannot be reopened.",
    tone: "neutral",
    run: closeCampaignServerAction,
  },
  cancel: {
    button: "Cancel campaign",
    confirm: "Yes, cancel",
    question: "Cancel the campaign? Nothing more can be decided in it and no one is notified. A cancelled campaign cannot be reopened.",
    tone: "danger",
    run: cancelCampaignServerAction,
  },
  stopSchedule: {
    button: "Stop schedule",
    confirm: "Yes, stop it",
    question: "Stop the schedule? No further campaign is launched from it; this one and the ones it launched stay as they are. A stopped schedule cannot be restarted.",
    tone: "neutral",
    run: stopScheduleServerAction,
  },
};

/** Launch a draft, close an active campaign, cancel either, stop a running schedule: each after a confirmation. */
export function CampaignLifecycleActions({ campaignId, status, scheduleRunning }: { campaignId: string; status: CampaignStatus; scheduleRunning: boolean }) {
  const router = useRouter();
  const [asking, setAsking] = useState<Step | null>(null);
  const run = useMutation({
    mutationFn: async (step: Step) => unwrap(await steps[step].run({ campaignId })),
    onSettled: () => {
      setAsking(null);
      router.refresh();
    },
  });
  const available: Step[] = [
    ...(status === "draft" ? (["launch", "cancel"] as const) : status === "active" ? (["close", "cancel"] as const) : []),
    ...(scheduleRunning ? (["stopSchedule"] as const) : []),
  ];
  if (available.length === 0) return null;
  return (
    <div className="flex flex-col items-end gap-2" data-testid="campaign-actions">
      {asking ? (
        <div role="alertdialog" aria-label={steps[asking].button} className="max-w-md rounded-lg border border-slate-300 bg-white p-3 text-sm shadow-sm">
          <p>{steps[asking].question}</p>
          <div className="mt-3 flex justify-end gap-2">
            <button type="button" className={`${buttonClass} ${tones.neutral}`} onClick={() => setAsking(null)} disabled={run.isPending}>
              Back
            </button>
            <button type="button" className={`${buttonClass} ${tones[steps[asking].tone]}`} onClick={() => run.mutate(asking)} disabled={run.isPending}>
              {run.isPending ? "Working…" : steps[asking].confirm}
            </button>
          </div>
        </div>
      ) : (
        <div className="flex gap-2">
          {available.map((step) => (
            <button key={step} type="button" className={`${buttonClass} ${tones[steps[step].tone]}`} onClick={() => setAsking(step)}>
              {steps[step].button}
            </button>
          ))}
        </div>
      )}
      {run.error ? (
        <p role="alert" className="text-sm text-red-700">
          {run.error.message}
        </p>
      ) : null}
    </div>
  );
}

/** Hands an undecided item to another team. */
export function ReassignItemForm({
  itemId,
  version,
  currentTeamId,
  teams,
}: {
  itemId: string;
  version: number;
  currentTeamId: string | null;
  teams: { id: string; name: string }[];
}) {
  const router = useRouter();
  const others = teams.filter((team) => team.id !== currentTeamId);
  const [teamId, setTeamId] = useState(others[0]?.id ?? "");
  const reassign = useMutation({
    mutationFn: async () => unwrap(await reassignItemServerAction({ itemId, teamId, expectedVersion: version })),
    onSettled: () => router.refresh(),
  });
  if (others.length === 0) return null;
  return (
    <details className="text-xs">
      <summary className="cursor-pointer text-brand-700 hover:underline">Change reviewer</summary>
      <form
        className="mt-1 flex items-center gap-1"
        onSubmit={(event) => {
          event.preventDefault();
          reassign.mutate();
        }}
      >
        <label htmlFor={`reassign-${itemId}`} className="sr-only">
          Reassign to
        </label>
        <select id={`reassign-${itemId}`} value={teamId} onChange={(e) => setTeamId(e.target.value)} className="rounded border border-slate-300 px-1 py-0.5 text-xs">
          {others.map((team) => (
            <option key={team.id} value={team.id}>
              {team.name}
            </option>
          ))}
        </select>
        <button type="submit" disabled={reassign.isPending} className="rounded bg-slate-800 px-2 py-0.5 text-xs text-white disabled:opacity-60">
          {reassign.isPending ? "…" : "Reassign"}
        </button>
      </form>
      {reassign.error ? (
        <p role="alert" className="mt-1 text-red-700">
          {reassign.error.message}
        </p>
      ) : null}
    </details>
  );
}
