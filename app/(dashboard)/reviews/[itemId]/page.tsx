import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { ArrowLeft } from "lucide-react";
import { requirePermission } from "@/lib/auth/session";
import { can } from "@/lib/auth/permissions";
import { getPrisma } from "@/lib/db";
import { compactRule } from "@/lib/findings/usage-rules";
import { currentOwnGrants, getReviewItemView } from "@/lib/campaigns/item-view";
import { getIdentityLeastPrivilege } from "@/lib/usage/queries";
import { Badge, SeverityBadge } from "@/components/ui/badge";
import { Card, PageHeader } from "@/components/ui/card";
import { formatDateTime, timeAgo } from "@/components/ui/format";
import { ChangeSetPanel } from "@/components/reviews/change-set-view";
import { ApplyButton, RetryButton, RollbackButton } from "@/components/reviews/change-set-actions";
import { DecisionPanel, type ShrinkDefault } from "@/components/reviews/decision-panel";
import { CurrentState, FrozenEvidence } from "@/components/reviews/evidence-view";
import { decisionTone, isOverdue, itemStatusTone, statusLabel } from "@/components/reviews/review-view";

export const metadata: Metadata = { title: "Review item" };

/** States a decision can be carried out from (apply-decision.ts): decided, after a failure, after a rollback. */
const CARRYABLE = new Set(["decided", "failed", "rolledBack"]);

export default async function ReviewItemPage({ params }: { params: Promise<{ itemId: string }> }) {
  const user = await requirePermission("campaigns:read");
  const { itemId } = await params;
  const db = getPrisma();
  // The item is read through the viewer's scope: another team's item is not found for an owner.
  const item = await getReviewItemView(
    db,
    { actor: { type: "user", id: user.id, label: user.email }, user },
    itemId,
  );
  if (!item) notFound();
  const { evidence } = item;
  const now = new Date();
  // Auditors read everything and decide nothing (the actions refuse them whatever the page shows).
  const mayDecide = can(user.role, "campaigns:decide");
  const carryable = CARRYABLE.has(item.status);
  const decidable = item.status === "pending" && item.campaign.status === "active";
  const decisionSets = item.changeSets.filter((set) => set.rollbackOfId === null);
  const latest = decisionSets[0];
  const preview = carryable && latest?.status === "planned" ? latest : null;
  const replanned = preview
    ? decisionSets.find(
        (set) => set.failure?.reason === "replanned" && set.failure.replannedAs === preview.id,
      )
    : undefined;
  const history = item.changeSets.filter((set) => set !== preview);

  const wantsShrinkDefault =
    mayDecide && item.identityId !== null && (decidable || (carryable && item.decision === "shrink"));
  const [current, leastPrivilege] = await Promise.all([
    item.identityId ? currentOwnGrants(db, item.identityId) : null,
    wantsShrinkDefault ? getIdentityLeastPrivilege(db, item.identityId!) : null,
  ]);
  const shrink: ShrinkDefault | null = leastPrivilege
    ? {
        yaml: leastPrivilege.role.yaml,
        days: leastPrivilege.days,
        covered: leastPrivilege.covered,
        kept: leastPrivilege.kept.map(compactRule),
        removed: leastPrivilege.removed.map(compactRule),
      }
    : null;
  const mode = mayDecide && decidable ? "decide" : mayDecide && carryable ? "options" : "closed";
  const overdue = item.status === "pending" && isOverdue(item.campaign.deadline, now);

  return (
    <>
      <Link
        href="/reviews"
        className="mb-3 inline-flex items-center gap-1 text-sm text-slate-600 hover:underline"
      >
        <ArrowLeft className="h-4 w-4" aria-hidden /> Reviews
      </Link>
      <PageHeader
        title={
          evidence.identity.namespace
            ? `${evidence.identity.namespace}/${evidence.identity.name}`
            : evidence.identity.name
        }
        description={
          <span className="flex flex-wrap items-center gap-2">
            <Badge tone="blue">{evidence.identity.kind}</Badge>
            <SeverityBadge severity={item.severity} />
            <span className="font-mono text-xs">{evidence.identity.username}</span>
            <span>in {evidence.identity.clusterName}</span>
            <span data-testid="item-status">
              <Badge tone={itemStatusTone[item.status]}>{statusLabel[item.status]}</Badge>
            </span>
            <span>
              · {item.campaign.name} ({item.campaign.status}) · deadline{" "}
              <span
                className={overdue ? "font-semibold text-red-700" : ""}
                data-overdue={overdue || undefined}
              >
                {item.campaign.deadline
                  ? `${formatDateTime(item.campaign.deadline)} (${overdue ? "overdue, " : ""}${timeAgo(item.campaign.deadline, now)})`
                  : "none"}
              </span>
            </span>
          </span>
        }
      />

      <div className="space-y-6">
        <div className="grid grid-cols-1 gap-6 xl:grid-cols-3">
          <Card title="Recommendation">
            <p className="text-sm" data-testid="recommendation">
              <Badge tone={decisionTone[item.recommendation]}>{item.recommendation}</Badge>{" "}
              <span className="text-slate-700">{item.recommendationReason}</span>
            </p>
          </Card>
          <Card title="Decision">
            <div className="text-sm" data-testid="decision">
              {item.decision ? (
                <>
                  <p>
                    <Badge tone={decisionTone[item.decision]}>{item.decision}</Badge> by{" "}
                    {item.decidedBy ?? "a former user"}
                    {item.decidedAt ? ` · ${formatDateTime(item.decidedAt)}` : ""}
                  </p>
                  {item.comment ? <p className="mt-1 text-slate-700">“{item.comment}”</p> : null}
                  {item.appliedAt ? (
                    <p className="mt-1 text-xs text-slate-500">
                      Carried out {formatDateTime(item.appliedAt)}
                    </p>
                  ) : null}
                </>
              ) : (
                <p className="text-slate-600">
                  Not decided yet{item.flagged ? "; flagged: still undecided at the deadline" : ""}.
                  {item.status === "pending" && item.campaign.status !== "active"
                    ? ` The campaign is ${item.campaign.status}: decisions are closed.`
                    : ""}
                </p>
              )}
              {item.reviewerTeam ? (
                <p className="mt-1 text-xs text-slate-500">Reviewer: {item.reviewerTeam.name}</p>
              ) : (
                <p className="mt-1 text-xs text-slate-500">Reviewer: the security team</p>
              )}
            </div>
          </Card>
          <Card title="Current state">
            <CurrentState evidence={evidence} identityId={item.identityId} current={current} />
          </Card>
        </div>

        {preview ? (
          <div className="space-y-2">
            {replanned ? (
              <p
                role="status"
                className="rounded-md border border-amber-200 bg-amber-50 p-3 text-sm text-amber-900"
                data-testid="replanned"
              >
                The cluster changed since the previous preview, so nothing was applied: this preview is
                planned from the cluster as it is now. Confirm it to apply.
              </p>
            ) : null}
            <ChangeSetPanel
              set={preview}
              actions={
                mayDecide ? (
                  <ApplyButton
                    key={preview.id}
                    changeSetId={preview.id}
                    changes={preview.plan.changes.length}
                  />
                ) : undefined
              }
            />
          </div>
        ) : null}

        {mayDecide ? (
          <DecisionPanel
            title={
              mode === "decide"
                ? "Decide"
                : preview
                  ? "Preview again with other options"
                  : item.status === "failed"
                    ? "Carry the decision out with other options"
                    : "Carry the decision out"
            }
            collapsed={mode === "options" && (preview !== null || item.status === "failed")}
            itemId={item.id}
            version={item.version}
            mode={mode}
            recorded={item.decision}
            recommendation={item.recommendation}
            critical={item.severity === "critical"}
            isServiceAccount={evidence.identity.kind === "ServiceAccount"}
            shrink={shrink}
          />
        ) : null}

        {history.length > 0 ? (
          <div className="space-y-3">
            <h2 className="text-sm font-semibold text-slate-800">Carried out ({history.length})</h2>
            {history.map((set, index) => {
              const isDecision = set.rollbackOfId === null;
              const retry =
                mayDecide &&
                isDecision &&
                set === latest &&
                item.status === "failed" &&
                set.status === "failed";
              const rollback =
                mayDecide &&
                isDecision &&
                (set.status === "applied" || (set.status === "failed" && set.applied.length > 0));
              const deletesCredentials = set.applied.some(
                ({ change }) =>
                  change.op === "delete" && ["Secret", "ServiceAccount"].includes(change.before.kind),
              );
              return (
                <ChangeSetPanel
                  key={set.id}
                  set={set}
                  // The latest, and any that can still be acted on, open; older and superseded ones folded.
                  collapsed={(index > 0 || set.failure?.reason === "replanned") && !retry && !rollback}
                  actions={
                    retry || rollback ? (
                      <>
                        {retry ? <RetryButton itemId={item.id} /> : null}
                        {rollback ? (
                          <RollbackButton changeSetId={set.id} deletesCredentials={deletesCredentials} />
                        ) : null}
                      </>
                    ) : undefined
                  }
                />
              );
            })}
          </div>
        ) : null}

        <div>
          <h2 className="mb-3 text-sm font-semibold text-slate-800">Evidence frozen at launch</h2>
          <FrozenEvidence evidence={evidence} now={now} />
        </div>
      </div>
    </>
  );
}
