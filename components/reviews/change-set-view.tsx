import type { ReactNode } from "react";
import type { ChangeSetFailure } from "@/lib/campaigns/apply-decision";
import type { ChangeSetView } from "@/lib/campaigns/item-view";
import type { ChangeOutcome } from "@/lib/k8s/cluster-changes";
import type { AccessCheck, ClusterChange } from "@/lib/remediation/plan";
import { Badge } from "@/components/ui/badge";
import { formatDateTime } from "@/components/ui/format";
import { changeDiff } from "./change-diff";
import { changeSetStatusTone, decisionTone } from "./review-view";

/** Beyond this many, access checks are summarised: the counts still cover them all. */
const SHOWN_CHECKS = 60;

export function describeAccess(attributes: AccessCheck["attributes"]): string {
  if ("path" in attributes) return `${attributes.verb} ${attributes.path}`;
  const resource = `${attributes.group || "core"}/${attributes.resource}${attributes.subresource ? `/${attributes.subresource}` : ""}`;
  return `${attributes.verb} ${resource}${attributes.name ? ` [${attributes.name}]` : ""} ${attributes.namespace ? `in ${attributes.namespace}` : "cluster-wide"}`;
}

function failureText(failure: ChangeSetFailure): ReactNode {
  switch (failure.reason) {
    case "refused":
    case "dryRunRefused": {
      const { change, cluster } = failure;
      const target = `${change.op} ${change.kind} ${change.namespace ? `${change.namespace}/` : ""}${change.name}`;
      return (
        <>
          {failure.reason === "dryRunRefused" ? "The cluster refused the dry run of" : "The cluster refused"}{" "}
          change {failure.index + 1} ({target})
          {failure.reason === "dryRunRefused"
            ? ": nothing was applied."
            : "; the changes before it are applied."}
          <span className="mt-1 block font-mono text-xs" data-testid="cluster-answer">
            HTTP {cluster.status} {cluster.reason}: {cluster.message}
          </span>
        </>
      );
    }
    default:
      return failure.message;
  }
}

function ChangeBlock({ change, state }: { change: ClusterChange; state: ReactNode }) {
  const diff = changeDiff(change);
  return (
    <li className="rounded-md border border-slate-200" data-testid="change" data-op={diff.op}>
      <div className="flex flex-wrap items-center gap-2 border-b border-slate-100 px-3 py-2 text-sm">
        <Badge tone={diff.op === "create" ? "green" : diff.op === "delete" ? "red" : "amber"}>
          {diff.op === "replace" ? "replace" : diff.op}
        </Badge>
        <span className="font-mono text-xs">
          {diff.kind} {diff.namespace ? `${diff.namespace}/` : ""}
          {diff.name}
        </span>
        <span className="text-xs text-slate-600">{diff.reason}</span>
        <span className="ml-auto">{state}</span>
      </div>
      <pre
        className="max-h-80 overflow-auto bg-slate-900 py-2 text-xs leading-relaxed"
        aria-label={`${diff.kind} ${diff.name}: before → after`}
      >
        {diff.lines.map((line, index) =>
          line.type === "folded" ? (
            <div key={index} data-line="folded" className="px-3 text-slate-500">
              ⋯ {line.count} unchanged {line.count === 1 ? "line" : "lines"}
            </div>
          ) : (
            <div
              key={index}
              data-line={line.type}
              className={`px-3 ${line.type === "added" ? "bg-emerald-900/60 text-emerald-100" : line.type === "removed" ? "bg-red-900/60 text-red-100" : "text-slate-300"}`}
            >
              {line.type === "added" ? "+ " : line.type === "removed" ? "- " : "  "}
              {line.text}
            </div>
          ),
        )}
      </pre>
    </li>
  );
}

function dryRunState(outcome: ChangeOutcome | undefined): ReactNode {
  if (!outcome) return null;
  return outcome.ok ? (
    <Badge tone="green">dry run ok</Badge>
  ) : (
    <span title={outcome.message}>
      <Badge tone="red">
        dry run refused: {outcome.status} {outcome.reason}
      </Badge>
    </span>
  );
}

function Checks({ set }: { set: ChangeSetView }) {
  const planned = set.status === "planned";
  if (planned) {
    const checks = set.plan.checks;
    if (checks.length === 0) return null;
    return (
      <div>
        <h4 className="mb-1 text-xs font-semibold uppercase tracking-wide text-slate-500">
          Access checks after applying ({checks.length})
        </h4>
        <ul className="space-y-0.5 text-xs" data-testid="planned-checks">
          {checks.slice(0, SHOWN_CHECKS).map((check, index) => (
            <li key={index} className="font-mono">
              {describeAccess(check.attributes)} →{" "}
              <span className={check.expected === "denied" ? "text-red-700" : "text-emerald-700"}>
                {check.expected}
              </span>{" "}
              <span className="text-slate-500">({check.because})</span>
            </li>
          ))}
        </ul>
        {checks.length > SHOWN_CHECKS ? (
          <p className="text-xs text-slate-500">and {checks.length - SHOWN_CHECKS} more</p>
        ) : null}
      </div>
    );
  }
  const results = set.verification;
  if (results.length === 0) return null;
  const failed = results.filter((result) => !result.passed);
  // Failures first: they are what needs looking at.
  const shown = [...failed, ...results.filter((result) => result.passed)].slice(0, SHOWN_CHECKS);
  return (
    <div>
      <h4 className="mb-1 text-xs font-semibold uppercase tracking-wide text-slate-500">
        Verification (SubjectAccessReview):{" "}
        <span
          className={failed.length ? "text-red-700" : "text-emerald-700"}
          data-testid="verification-summary"
        >
          {results.length - failed.length} of {results.length} passed
        </span>
      </h4>
      <table className="min-w-full text-xs" data-testid="verification">
        <thead className="text-slate-500">
          <tr>
            <th className="py-1 pr-3 text-left font-medium">Result</th>
            <th className="py-1 pr-3 text-left font-medium">Access</th>
            <th className="py-1 pr-3 text-left font-medium">Expected</th>
            <th className="py-1 pr-3 text-left font-medium">Cluster answered</th>
            <th className="py-1 text-left font-medium">Why checked</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {shown.map((result, index) => (
            <tr key={index} data-passed={result.passed}>
              <td className="py-1 pr-3">
                {result.passed ? <Badge tone="green">pass</Badge> : <Badge tone="red">fail</Badge>}
              </td>
              <td className="py-1 pr-3 font-mono">{describeAccess(result.attributes)}</td>
              <td className="py-1 pr-3">{result.expected}</td>
              <td className="py-1 pr-3">
                {result.allowed ? "allowed" : "denied"}
                {result.reason ? <span className="block text-slate-500">{result.reason}</span> : null}
              </td>
              {/* A rollback checks that what the decision took away is back. */}
              <td className="py-1 text-slate-600">{set.rollbackOfId ? "restored" : result.because}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {results.length > SHOWN_CHECKS ? (
        <p className="text-xs text-slate-500">and {results.length - SHOWN_CHECKS} more (all counted above)</p>
      ) : null}
    </div>
  );
}

const titles: Record<string, string> = {
  planned: "Preview",
  applying: "Applying",
  applied: "Applied",
  failed: "Failed",
  rolledBack: "Rolled back",
};

/** One change set: its changes as diffs (with the dry run's answer, or whether each was applied), its checks or verification, and its failure. */
export function ChangeSetPanel({
  set,
  actions,
  collapsed = false,
}: {
  set: ChangeSetView;
  actions?: ReactNode;
  collapsed?: boolean;
}) {
  const isRollback = set.rollbackOfId !== null;
  const planned = set.status === "planned";
  const appliedCount = set.applied.length;
  const changes: { change: ClusterChange; state: ReactNode }[] = planned
    ? set.plan.changes.map((change, index) => ({ change, state: dryRunState(set.dryRun[index]) }))
    : [
        ...set.applied.map(({ change }) => ({ change, state: <Badge tone="green">applied</Badge> })),
        ...set.plan.changes
          .slice(appliedCount)
          .map((change) => ({ change, state: <Badge>not applied</Badge> })),
      ];
  const details = (
    <>
      <div>
        <h4 className="mb-1 text-xs font-semibold uppercase tracking-wide text-slate-500">
          {planned
            ? `Changes to apply (${changes.length})`
            : `Changes: ${appliedCount} of ${set.plan.changes.length} applied`}
        </h4>
        {changes.length === 0 ? (
          <p className="text-sm text-slate-600">No change to the cluster.</p>
        ) : (
          <ol className="space-y-2" data-testid="changes">
            {changes.map(({ change, state }, index) => (
              <ChangeBlock key={index} change={change} state={state} />
            ))}
          </ol>
        )}
      </div>
      <Checks set={set} />
    </>
  );
  return (
    <section
      className="rounded-xl border border-slate-200 bg-white shadow-sm"
      data-testid={isRollback ? "rollback-set" : "change-set"}
      data-status={set.status}
      data-change-set-id={set.id}
    >
      <header className="flex flex-wrap items-center gap-2 border-b border-slate-100 px-5 py-3">
        <h3 className="text-sm font-semibold text-slate-800">
          {isRollback ? "Rollback" : planned ? "Preview" : titles[set.status]}
        </h3>
        <Badge tone={changeSetStatusTone[set.status]}>
          {set.status === "rolledBack" ? "rolled back" : set.status}
        </Badge>
        {set.decision ? <Badge tone={decisionTone[set.decision]}>{set.decision}</Badge> : null}
        <span className="text-xs text-slate-500">
          by {set.createdByLabel} · {formatDateTime(set.createdAt)}
          {set.appliedAt ? ` · applied ${formatDateTime(set.appliedAt)}` : ""}
          {set.rolledBackAt ? ` · rolled back ${formatDateTime(set.rolledBackAt)}` : ""}
        </span>
      </header>
      <div className="space-y-4 p-5">
        {set.failure ? (
          <div
            role="alert"
            className="rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-800"
            data-testid="failure"
            data-reason={set.failure.reason}
          >
            {failureText(set.failure)}
          </div>
        ) : null}
        {set.plan.notes.length > 0 && !isRollback ? (
          <ul className="list-disc space-y-1 pl-5 text-sm text-amber-800" data-testid="plan-notes">
            {set.plan.notes.map((note) => (
              <li key={note}>{note}</li>
            ))}
          </ul>
        ) : null}
        {set.irreversible.length > 0 ? (
          <div
            className="rounded-md border border-amber-200 bg-amber-50 p-3 text-sm text-amber-900"
            data-testid="irreversible"
          >
            <p className="font-medium">Not brought back by the rollback:</p>
            <ul className="mt-1 list-disc pl-5">
              {set.irreversible.map((text) => (
                <li key={text}>{text}</li>
              ))}
            </ul>
          </div>
        ) : null}
        {collapsed ? (
          <details>
            <summary className="cursor-pointer text-sm text-brand-700">Show its changes and checks</summary>
            <div className="mt-3 space-y-4">{details}</div>
          </details>
        ) : (
          details
        )}
        {actions}
      </div>
    </section>
  );
}
