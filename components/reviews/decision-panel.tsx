"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { Eye } from "lucide-react";
import { decideAndPreview } from "@/app/(dashboard)/reviews/actions";
import type { DecideResult } from "@/app/(dashboard)/reviews/definitions";
import { Badge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { formatDateTime } from "@/components/ui/format";
import { decisionTone } from "./review-view";

type Decision = "approve" | "shrink" | "revoke";

export interface ShrinkDefault {
  /** The least-privilege role generated from usage, as YAML ("" when nothing was used). */
  yaml: string;
  days: number;
  /** False when Keyward has no usage to base a role on. */
  covered: boolean;
  kept: string[];
  removed: string[];
}

const choices: { value: Decision; label: string; help: string }[] = [
  {
    value: "approve",
    label: "Approve",
    help: "Keep its access as it is; the certification is recorded (and the service account marked reviewed where Keyward may).",
  },
  {
    value: "shrink",
    label: "Shrink",
    help: "Replace its grants with a smaller set: a new role and binding; the subject leaves the old bindings, other subjects keep theirs.",
  },
  {
    value: "revoke",
    label: "Revoke",
    help: "Take the subject out of every binding that grants it access and delete its legacy token Secrets.",
  },
];

const field = "rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm";

/**
 * Deciding an item and previewing its carry-out. "decide": a pending item, any decision; "options": the decision
 * stands, its options can change before a new preview; "closed": nothing to decide here, but a lost race (someone
 * else decided first) stays shown after the page refreshes to their decision.
 */
export function DecisionPanel({
  title,
  collapsed,
  itemId,
  version,
  mode,
  recorded,
  recommendation,
  critical,
  isServiceAccount,
  shrink,
}: {
  title: string;
  /** Folded behind a summary: a preview (or a failure's retry) is the next step, other options a second thought. */
  collapsed: boolean;
  itemId: string;
  version: number;
  mode: "decide" | "options" | "closed";
  recorded: Decision | null;
  recommendation: Decision;
  critical: boolean;
  isServiceAccount: boolean;
  shrink: ShrinkDefault | null;
}) {
  const router = useRouter();
  const [decision, setDecision] = useState<Decision>(recorded ?? recommendation);
  const [comment, setComment] = useState("");
  const [grantsYaml, setGrantsYaml] = useState(shrink?.yaml ?? "");
  const [deleteServiceAccount, setDeleteServiceAccount] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [conflict, setConflict] = useState<Extract<DecideResult, { outcome: "conflict" }> | null>(null);
  const chosen = mode === "options" && recorded ? recorded : decision;
  const commentRequired = mode === "decide" && chosen === "approve" && critical;

  const submit = useMutation({
    mutationFn: async () => {
      const result = await decideAndPreview({
        itemId,
        decision: chosen,
        expectedVersion: version,
        comment: mode === "decide" ? comment : undefined,
        grantsYaml: chosen === "shrink" ? grantsYaml : undefined,
        deleteServiceAccount: chosen === "revoke" ? deleteServiceAccount : undefined,
      });
      if (!result.ok)
        throw new Error([result.error, ...Object.values(result.fieldErrors ?? {}).flat()].join(" "));
      return result.data;
    },
    onSuccess: (data) => {
      if (data.outcome === "conflict") setConflict(data);
      if (data.outcome === "decided")
        setProblem(
          `Your decision (${chosen}) is recorded, but it could not be previewed: ${data.previewError}`,
        );
      router.refresh();
    },
    onError: (error) => setProblem(error.message),
  });

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setProblem(null);
    setConflict(null);
    if (commentRequired && !comment.trim()) {
      setProblem("Approving a critical identity needs a comment saying why its access is right.");
      return;
    }
    submit.mutate();
  };

  const conflictBox = conflict ? (
    <div
      role="alert"
      className="rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900"
      data-testid="conflict"
    >
      <p className="font-medium">{conflict.message}</p>
      <p className="mt-1">
        {conflict.current.decision ? (
          <>
            Decision:{" "}
            <Badge tone={decisionTone[conflict.current.decision]}>{conflict.current.decision}</Badge> by{" "}
            {conflict.current.decidedBy ?? "another reviewer"}
            {conflict.current.decidedAt ? ` at ${formatDateTime(conflict.current.decidedAt)}` : ""}
            {conflict.current.comment ? `: “${conflict.current.comment}”` : ""}. The page now shows it.
          </>
        ) : (
          <>The item is now {conflict.current.status}. The page now shows it as it is.</>
        )}
      </p>
    </div>
  ) : null;

  const form = (
    <form onSubmit={onSubmit} className="space-y-4" data-testid="decision-form" aria-label="Decide">
      {mode === "decide" ? (
        <fieldset>
          <legend className="mb-2 text-sm font-medium text-slate-800">Decision</legend>
          <div className="grid gap-2 md:grid-cols-3">
            {choices.map((choice) => (
              <label
                key={choice.value}
                className={`flex cursor-pointer gap-2 rounded-md border p-3 text-sm ${decision === choice.value ? "border-brand-600 bg-brand-50" : "border-slate-200"}`}
              >
                <input
                  type="radio"
                  name="decision"
                  value={choice.value}
                  checked={decision === choice.value}
                  onChange={() => setDecision(choice.value)}
                  // Named by the choice alone; the card's text describes it.
                  aria-label={choice.label}
                  aria-describedby={`decision-help-${choice.value}`}
                />
                <span>
                  <span className="font-medium">{choice.label}</span>
                  {choice.value === recommendation ? (
                    <span className="ml-1">
                      <Badge tone="blue">recommended</Badge>
                    </span>
                  ) : null}
                  <span id={`decision-help-${choice.value}`} className="mt-0.5 block text-xs text-slate-600">
                    {choice.value === recommendation ? "Recommended. " : ""}
                    {choice.help}
                  </span>
                </span>
              </label>
            ))}
          </div>
        </fieldset>
      ) : (
        <p className="text-sm">
          Decision: <Badge tone={decisionTone[chosen]}>{chosen}</Badge>{" "}
          <span className="text-slate-600">(recorded; preview it with these options)</span>
        </p>
      )}

      {mode === "decide" ? (
        <label className="flex flex-col gap-1 text-sm font-medium text-slate-700">
          Comment{commentRequired ? " (required)" : ""}
          <textarea
            value={comment}
            onChange={(event) => setComment(event.target.value)}
            maxLength={4000}
            rows={2}
            required={commentRequired}
            aria-describedby={critical ? "comment-rule" : undefined}
            className={field}
          />
          {critical ? (
            <span id="comment-rule" className="text-xs font-normal text-slate-600" data-testid="comment-rule">
              This item is critical: approving it needs a comment saying why its access is right.
            </span>
          ) : null}
        </label>
      ) : null}

      {chosen === "shrink" ? (
        <div className="grid gap-4 xl:grid-cols-2">
          <label className="flex flex-col gap-1 text-sm font-medium text-slate-700">
            Grants to keep (YAML)
            <textarea
              value={grantsYaml}
              onChange={(event) => setGrantsYaml(event.target.value)}
              rows={16}
              spellCheck={false}
              className={`${field} font-mono text-xs`}
              placeholder="Roles, ClusterRoles and their bindings to the identity, as kubectl apply takes them"
            />
            <span className="text-xs font-normal text-slate-600">
              Default: the least-privilege role generated from its usage. Edit it to keep more or less; it can
              only keep access the identity holds now.
            </span>
          </label>
          <div className="text-sm" data-testid="shrink-default">
            {shrink && shrink.covered ? (
              <>
                <p>
                  Generated from the last {shrink.days} days of usage:{" "}
                  <span className="font-semibold text-emerald-700">{shrink.kept.length}</span> of its rules
                  stay, <span className="font-semibold text-red-700">{shrink.removed.length}</span> go.
                </p>
                <ul
                  className="mt-2 max-h-80 overflow-y-auto rounded-md border border-slate-200 font-mono text-xs"
                  aria-label="Rules kept and removed"
                >
                  {shrink.removed.map((rule) => (
                    <li key={`-${rule}`} className="bg-red-50 px-2 py-1 text-red-900" data-change="removed">
                      − {rule}
                    </li>
                  ))}
                  {shrink.kept.map((rule) => (
                    <li
                      key={`+${rule}`}
                      className="bg-emerald-50 px-2 py-1 text-emerald-900"
                      data-change="kept"
                    >
                      + {rule}
                    </li>
                  ))}
                </ul>
              </>
            ) : (
              <p className="text-amber-800">
                No usage recorded for it, so no role can be generated: write the grants to keep, or revoke
                instead.
              </p>
            )}
          </div>
        </div>
      ) : null}

      {chosen === "revoke" && isServiceAccount ? (
        <label className="flex items-center gap-2 text-sm">
          <input
            type="checkbox"
            checked={deleteServiceAccount}
            onChange={(event) => setDeleteServiceAccount(event.target.checked)}
          />
          Also delete the service account
          <span className="text-xs text-slate-500">
            (its tokens are revoked for good; a rollback cannot bring it back)
          </span>
        </label>
      ) : null}

      {problem ? (
        <p role="alert" className="text-sm text-red-700">
          {problem}
        </p>
      ) : null}
      <div className="flex items-center gap-3">
        <button
          type="submit"
          disabled={submit.isPending}
          className="inline-flex items-center gap-1.5 rounded-md bg-brand-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-brand-700 disabled:opacity-60"
        >
          <Eye className="h-4 w-4" aria-hidden /> {submit.isPending ? "Previewing…" : "Preview"}
        </button>
        <span className="text-xs text-slate-500">
          {mode === "decide" ? "Records your decision, then" : "Nothing changes on the cluster:"} a
          server-side dry run shows the exact changes before you apply them.
        </span>
      </div>
      {submit.isPending ? (
        <p role="status" className="text-sm text-brand-700" data-testid="progress">
          Asking the API server for a dry run…
        </p>
      ) : null}
    </form>
  );

  // The panel stays in place whatever the mode, so a conflict it showed survives the refresh that closes or folds
  // the form: it is shown outside the form.
  if (mode === "closed") return conflictBox;

  return (
    <Card title={title}>
      {conflictBox ? <div className="mb-4">{conflictBox}</div> : null}
      {collapsed ? (
        <details>
          <summary className="cursor-pointer text-sm text-brand-700">
            Change the options and preview again
          </summary>
          <div className="mt-3">{form}</div>
        </details>
      ) : (
        form
      )}
    </Card>
  );
}
