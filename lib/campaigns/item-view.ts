// What the review item page shows: the item as the viewer may see it, who decided it, and every change set of
// it in full (the plan and dry run of a preview, what an apply or rollback changed, its verification and failure),
// so that a reload shows exactly where carrying the decision out stands.
import "server-only";
import type { ChangeSetStatus, PrismaClient, ReviewDecision } from "@/lib/db";
import { ownGrants } from "@/lib/findings/usage-rules";
import type { AppliedChange, ChangeOutcome, CheckResult } from "@/lib/k8s/cluster-changes";
import { loadClusterPolicy } from "@/lib/permissions/cluster-policy";
import type { RemediationPlan } from "@/lib/remediation/plan";
import type { ChangeSetFailure, DecisionOptions, StoredPlan } from "./apply-decision";
import type { CampaignActor } from "./access";
import { grantsFromJson } from "./grants-yaml";
import { getReviewItem } from "./queries";

export interface ChangeSetView {
  id: string;
  decision: ReviewDecision | null;
  status: ChangeSetStatus;
  /** Set on a rollback: the change set it undoes. */
  rollbackOfId: string | null;
  createdByLabel: string;
  createdAt: Date;
  appliedAt: Date | null;
  rolledBackAt: Date | null;
  plan: RemediationPlan;
  /** The API server's dry-run answer per change (a preview; a rollback has none). */
  dryRun: ChangeOutcome[];
  applied: AppliedChange[];
  verification: CheckResult[];
  failure: ChangeSetFailure | null;
  /** A rollback: what it could not bring back (deleted credentials). */
  irreversible: string[];
  /** A decision's options as previewed (the shrink's grants, the revoke's service-account deletion). */
  options: DecisionOptions;
}

/** The change set's plan column: a decision's (apply-decision.ts) or a rollback's (rollback-change-set.ts). */
type StoredPlanColumn = Pick<StoredPlan, "plan"> &
  Partial<Pick<StoredPlan, "dryRun" | "grants" | "deleteServiceAccount">> & { irreversible?: string[] };

/** "Name <e-mail>" of a Keyward user, for who decided; null when the user is gone. */
export async function userLabel(db: PrismaClient, userId: string | null): Promise<string | null> {
  if (!userId) return null;
  const user = await db.user.findUnique({ where: { id: userId }, select: { name: true, email: true } });
  return user ? (user.name ? `${user.name} <${user.email}>` : user.email) : null;
}

/** The item with who decided it and its change sets (newest first), if `who` may see it (null otherwise). */
export async function getReviewItemView(db: PrismaClient, who: CampaignActor, itemId: string) {
  const item = await getReviewItem(db, who, itemId);
  if (!item) return null;
  const [decidedBy, rows] = await Promise.all([
    userLabel(db, item.decidedById),
    db.clusterChangeSet.findMany({
      where: { reviewItemId: item.id },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      select: {
        id: true,
        decision: true,
        status: true,
        rollbackOfId: true,
        createdByLabel: true,
        createdAt: true,
        appliedAt: true,
        rolledBackAt: true,
        plan: true,
        applied: true,
        verification: true,
        failure: true,
      },
    }),
  ]);
  const changeSets = rows.map(({ plan, applied, verification, failure, ...row }): ChangeSetView => {
    const stored = plan as unknown as StoredPlanColumn;
    return {
      ...row,
      plan: stored.plan,
      dryRun: stored.dryRun ?? [],
      applied: applied as unknown as AppliedChange[],
      verification: (verification ?? []) as unknown as CheckResult[],
      failure: (failure ?? null) as unknown as ChangeSetFailure | null,
      irreversible: stored.irreversible ?? [],
      options: {
        ...(stored.grants ? { grants: grantsFromJson(stored.grants) } : {}),
        ...(stored.deleteServiceAccount ? { deleteServiceAccount: true } : {}),
      },
    };
  });
  const { changeSets: _summaries, ...rest } = item;
  return { ...rest, decidedBy, changeSets };
}

export type ReviewItemView = NonNullable<Awaited<ReturnType<typeof getReviewItemView>>>;

/** The identity's own grants as the last sync saw them: the current state beside the frozen evidence. */
export async function currentOwnGrants(db: PrismaClient, identityId: string) {
  const identity = await db.identity.findUnique({
    where: { id: identityId },
    select: {
      clusterId: true,
      kind: true,
      namespace: true,
      name: true,
      username: true,
      groups: true,
      deletedAt: true,
    },
  });
  if (!identity || identity.deletedAt) return null;
  return ownGrants((await loadClusterPolicy(db, identity.clusterId)).effectiveRules(identity));
}

/**
 * The options to carry the item's decision out with again after a failure: those of its latest previewed
 * decision, so a retry keeps the reviewer's edited grants instead of falling back to the generated role.
 */
export function retryOptions(changeSets: readonly ChangeSetView[]): DecisionOptions {
  return changeSets.find((set) => set.rollbackOfId === null)?.options ?? {};
}
