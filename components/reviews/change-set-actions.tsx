"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { Loader2, Play, RotateCcw, Undo2 } from "lucide-react";
import { applyDecision, retryDecision, rollbackDecision } from "@/app/(dashboard)/reviews/actions";

const primary =
  "inline-flex items-center gap-1.5 rounded-md bg-brand-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-brand-700 disabled:opacity-60";
const secondary =
  "inline-flex items-center gap-1.5 rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium hover:bg-slate-50 disabled:opacity-60";
const danger =
  "inline-flex items-center gap-1.5 rounded-md bg-red-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-red-700 disabled:opacity-60";

async function unwrap<T>(result: { ok: true; data: T } | { ok: false; error: string }): Promise<T> {
  if (!result.ok) throw new Error(result.error);
  return result.data;
}

function Progress({ children }: { children: string }) {
  return (
    <p role="status" className="flex items-center gap-2 text-sm text-brand-700" data-testid="progress">
      <Loader2 className="h-4 w-4 animate-spin" aria-hidden /> {children}
    </p>
  );
}

/** Apply a confirmed preview; what it changed and its verification show once the page refreshes. */
export function ApplyButton({ changeSetId, changes }: { changeSetId: string; changes: number }) {
  const router = useRouter();
  const apply = useMutation({
    mutationFn: async () => unwrap(await applyDecision({ changeSetId })),
    onSettled: () => router.refresh(),
  });
  return (
    <div className="space-y-2 border-t border-slate-100 pt-4">
      <p className="text-sm text-slate-700">
        Apply applies exactly these {changes} {changes === 1 ? "change" : "changes"}, each conditional on the
        object being as previewed, then checks the result with SubjectAccessReviews. If the cluster changed
        meanwhile nothing is applied and a new preview is shown.
      </p>
      <button type="button" className={primary} disabled={apply.isPending} onClick={() => apply.mutate()}>
        <Play className="h-4 w-4" aria-hidden /> {apply.isPending ? "Applying…" : "Apply"}
      </button>
      {apply.isPending ? <Progress>Applying the changes to the cluster and verifying them…</Progress> : null}
      {apply.isError ? (
        <p role="alert" className="text-sm text-red-700">
          {apply.error.message}
        </p>
      ) : null}
    </div>
  );
}

/** After a failure: preview the same decision again from the cluster as it is now. */
export function RetryButton({ itemId }: { itemId: string }) {
  const router = useRouter();
  const retry = useMutation({
    mutationFn: async () => unwrap(await retryDecision({ itemId })),
    onSettled: () => router.refresh(),
  });
  return (
    <div className="space-y-2 border-t border-slate-100 pt-4">
      <p className="text-sm text-slate-700">
        Retry previews the same decision again from the cluster as it is now; you confirm the new preview
        before anything is applied.
      </p>
      <button type="button" className={secondary} disabled={retry.isPending} onClick={() => retry.mutate()}>
        <RotateCcw className="h-4 w-4" aria-hidden /> {retry.isPending ? "Previewing…" : "Retry"}
      </button>
      {retry.isPending ? <Progress>Asking the cluster for a new dry run…</Progress> : null}
      {retry.isError ? (
        <p role="alert" className="text-sm text-red-700">
          {retry.error.message}
        </p>
      ) : null}
    </div>
  );
}

/** Restore what the change set changed, after a confirmation that says what cannot come back. */
export function RollbackButton({
  changeSetId,
  deletesCredentials,
}: {
  changeSetId: string;
  deletesCredentials: boolean;
}) {
  const router = useRouter();
  const [confirming, setConfirming] = useState(false);
  const rollback = useMutation({
    mutationFn: async () => unwrap(await rollbackDecision({ changeSetId })),
    onSettled: () => {
      setConfirming(false);
      router.refresh();
    },
  });
  return (
    <div className="space-y-2 border-t border-slate-100 pt-4">
      {confirming ? (
        <div
          className="rounded-md border border-amber-200 bg-amber-50 p-3 text-sm text-amber-900"
          role="group"
          aria-label="Confirm the rollback"
        >
          <p>
            Roll back puts every changed object back as it was before, on the same preconditions.
            {deletesCredentials
              ? " Deleted token Secrets and service accounts cannot be brought back: their tokens stay revoked."
              : ""}
          </p>
          <div className="mt-2 flex gap-2">
            <button
              type="button"
              className={danger}
              disabled={rollback.isPending}
              onClick={() => rollback.mutate()}
            >
              <Undo2 className="h-4 w-4" aria-hidden />{" "}
              {rollback.isPending ? "Rolling back…" : "Confirm roll back"}
            </button>
            <button
              type="button"
              className={secondary}
              disabled={rollback.isPending}
              onClick={() => setConfirming(false)}
            >
              Cancel
            </button>
          </div>
        </div>
      ) : (
        <button type="button" className={secondary} onClick={() => setConfirming(true)}>
          <Undo2 className="h-4 w-4" aria-hidden /> Roll back
        </button>
      )}
      {rollback.isPending ? (
        <Progress>Restoring the objects and verifying the access is back…</Progress>
      ) : null}
      {rollback.isError ? (
        <p role="alert" className="text-sm text-red-700">
          {rollback.error.message}
        </p>
      ) : null}
    </div>
  );
}
