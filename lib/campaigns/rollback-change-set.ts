// Undoes a carried-out decision in one step: the objects come back as they were before (from the snapshots the
// change set kept), as a change set of its own, with the same preconditions, audit trail and verification.
import "server-only";
import { recordAudit } from "@/lib/audit/log";
import { Prisma, type PrismaClient } from "@/lib/db";
import { rollbackChangesFor, type AppliedChange, type CheckResult } from "@/lib/k8s/cluster-changes";
import type { PolicyIdentity } from "@/lib/permissions/cluster-policy";
import type { AccessCheck, RemediationPlan } from "@/lib/remediation/plan";
import { applyRecorded, asInputJson, RemediationStateError, resyncCluster, summarizeChange, toJson, verifyOutcome, type ChangeSetFailure } from "./apply-decision";
import { assertMayDecide, type CampaignActor } from "./access";
import { remediationKubeConfig } from "./remediation-client";

export interface RollbackResult {
  status: "applied" | "failed";
  /** The rollback's own change set (rollbackOfId = the original). */
  changeSetId: string;
  applied: AppliedChange[];
  /** What no rollback brings back (deleted credentials), and why. */
  irreversible: string[];
  failure?: ChangeSetFailure;
  verification: CheckResult[];
}

/** What the original plan stored that a rollback needs. */
interface OriginalPlan {
  identity: PolicyIdentity;
  plan: RemediationPlan;
}

/** Access the decision took away must be back; access it only added is not checked (it is gone with its role). */
function restoredChecks(checks: readonly AccessCheck[]): AccessCheck[] {
  return checks.filter((check) => check.because !== "kept").map((check) => ({ ...check, expected: "allowed" }));
}

/** Rolls back what a change set applied (all of it, or what a failed one got to) and marks the item rolled back. */
export async function rollbackChangeSet(db: PrismaClient, who: CampaignActor, changeSetId: string): Promise<RollbackResult> {
  const actor = who.actor;
  const original = await db.clusterChangeSet.findUnique({
    where: { id: changeSetId },
    select: {
      id: true,
      clusterId: true,
      reviewItemId: true,
      decision: true,
      status: true,
      rollbackOfId: true,
      plan: true,
      applied: true,
      reviewItem: { select: { reviewerTeamId: true } },
    },
  });
  if (!original || original.rollbackOfId) throw new RemediationStateError("Only a carried-out decision can be rolled back.");
  // The item's reviewers or the security team; a change set whose item is gone, the security team only.
  await assertMayDecide(db, who.user, original.reviewItem?.reviewerTeamId ?? null);
  const applied = original.applied as unknown as AppliedChange[];
  if (!(original.status === "applied" || (original.status === "failed" && applied.length > 0))) {
    throw new RemediationStateError(`This change set is ${original.status}: there is nothing of it to roll back.`);
  }
  const { identity, plan } = original.plan as unknown as OriginalPlan;
  const kc = await remediationKubeConfig(db, original.clusterId);
  const rollback = rollbackChangesFor(applied);
  const checks = restoredChecks(plan.checks);

  // One rollback per change set (rollbackOfId is unique); a failed one is resumed where it stopped, since the
  // rollback changes are planned from the original's applied list, which does not change.
  const existing = await db.clusterChangeSet.findUnique({ where: { rollbackOfId: original.id }, select: { id: true, status: true, applied: true } });
  let changeSet: { id: string; clusterId: string };
  let prior: AppliedChange[] = [];
  if (existing) {
    const resumed = await db.clusterChangeSet.updateMany({ where: { id: existing.id, status: "failed" }, data: { status: "applying", startedAt: new Date() } });
    if (resumed.count !== 1) throw new RemediationStateError(`This change set is already rolled back (${existing.status}).`);
    changeSet = { id: existing.id, clusterId: original.clusterId };
    prior = existing.applied as unknown as AppliedChange[];
  } else {
    try {
      changeSet = await db.clusterChangeSet.create({
        data: {
          clusterId: original.clusterId,
          reviewItemId: original.reviewItemId,
          rollbackOfId: original.id,
          decision: original.decision,
          status: "applying",
          startedAt: new Date(),
          plan: asInputJson({ identity, plan: { decision: plan.decision, changes: rollback.changes, checks, notes: rollback.irreversible }, irreversible: rollback.irreversible }),
          createdByLabel: actor.label,
        },
        select: { id: true, clusterId: true },
      });
    } catch (error) {
      if ((error as { code?: string }).code === "P2002") throw new RemediationStateError("This change set is already being rolled back.");
      throw error;
    }
  }

  const run = await applyRecorded(db, actor, kc, changeSet, rollback.changes.slice(prior.length), prior);
  let failure: ChangeSetFailure | undefined;
  let verification: CheckResult[] = [];
  if (run.failed) {
    const { index, refusal } = run.failed;
    failure = { reason: "refused", index, change: summarizeChange(rollback.changes[index]), cluster: refusal };
  } else {
    ({ verification, failure } = await verifyOutcome(kc, identity, checks));
  }

  const now = new Date();
  const status = failure ? "failed" : "applied";
  await db.$transaction([
    db.clusterChangeSet.update({
      where: { id: changeSet.id },
      data: {
        status,
        applied: asInputJson(run.applied),
        verification: asInputJson(verification),
        failure: failure ? asInputJson(failure) : Prisma.DbNull,
        appliedAt: run.applied.length > 0 ? now : null,
      },
    }),
    // Once every change is back, the original and its item are rolled back (a failed verification still shows on
    // this change set); a partial rollback leaves them as they were.
    ...(!run.failed
      ? [
          db.clusterChangeSet.update({ where: { id: original.id }, data: { status: "rolledBack", rolledBackAt: now } }),
          ...(original.reviewItemId ? [db.reviewItem.update({ where: { id: original.reviewItemId }, data: { status: "rolledBack" } })] : []),
        ]
      : []),
  ]);
  await recordAudit(db, {
    actor,
    action: "campaign.change.rollback",
    target: { type: "clusterChangeSet", id: original.id },
    outcome: failure ? "failure" : "success",
    details: toJson({
      rollbackChangeSetId: changeSet.id,
      clusterId: original.clusterId,
      reviewItemId: original.reviewItemId,
      applied: run.applied.length,
      planned: rollback.changes.length,
      irreversible: rollback.irreversible,
      verification: { checks: verification.length, passed: verification.filter((result) => result.passed).length },
      ...(failure ? { failure } : {}),
    }) as Prisma.InputJsonObject,
  });
  if (run.applied.length > 0) await resyncCluster(original.clusterId);
  return { status, changeSetId: changeSet.id, applied: toJson(run.applied), irreversible: rollback.irreversible, failure, verification };
}
