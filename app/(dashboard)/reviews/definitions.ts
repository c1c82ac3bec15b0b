import { z } from "zod";
import type { ActionDefinition } from "@/lib/auth/action";
import { UserFacingError } from "@/lib/auth/errors";
import { getPrisma, type ChangeSetStatus } from "@/lib/db";
import type { CampaignActor } from "@/lib/campaigns/access";
import { applyChangeSet, previewDecision, type ChangeSetFailure } from "@/lib/campaigns/apply-decision";
import { bulkApprove, bulkApproveSchema, type BulkApproveResult } from "@/lib/campaigns/bulk-approve";
import { decideItem } from "@/lib/campaigns/decide-item";
import { DecisionConflictError, type CurrentDecision } from "@/lib/campaigns/errors";
import { parseGrantsYaml } from "@/lib/campaigns/grants-yaml";
import { getReviewItemView, retryOptions, userLabel } from "@/lib/campaigns/item-view";
import { rollbackChangeSet } from "@/lib/campaigns/rollback-change-set";
import { decisionInputSchema } from "@/lib/campaigns/schemas";

// The reviewer's actions, apart from actions.ts ("use server" files may export only functions) so they can be
// tested. Which item, team and cluster an action touches is always read from the item or change set itself: the
// library functions check that the user may decide it.

const id = z.string().min(1).max(64);
const whoFor = (ctx: { user: CampaignActor["user"]; actor: CampaignActor["actor"] }): CampaignActor => ({
  actor: ctx.actor,
  user: ctx.user,
});

export const bulkApproveAction: ActionDefinition<typeof bulkApproveSchema, BulkApproveResult[]> = {
  name: "campaign.items.bulk_approve",
  permission: "campaigns:decide",
  input: bulkApproveSchema,
  handler: (input, ctx) => bulkApprove(getPrisma(), whoFor(ctx), input),
};

const decideInput = decisionInputSchema.extend({
  itemId: id,
  /** Shrink: the grants to keep as YAML; empty keeps the least-privilege role generated from usage. */
  grantsYaml: z.string().max(500_000).optional(),
  /** Revoke: also delete the service account. */
  deleteServiceAccount: z.boolean().optional(),
});

export type DecideResult =
  /** Planned and dry-run: the page shows the preview to confirm. */
  | { outcome: "preview"; changeSetId: string }
  /** The decision is recorded, but the cluster could not preview it (e.g. no remediation identity). */
  | { outcome: "decided"; previewError: string }
  /** Someone else decided first (or the item changed): nothing was written; this is what stands. */
  | { outcome: "conflict"; message: string; current: CurrentDecision & { decidedBy: string | null } };

export const decideAction: ActionDefinition<typeof decideInput, DecideResult> = {
  name: "campaign.item.decide_preview",
  permission: "campaigns:decide",
  input: decideInput,
  target: (input) => ({ type: "reviewItem", id: input.itemId }),
  async handler({ itemId, decision, comment, expectedVersion, grantsYaml, deleteServiceAccount }, ctx) {
    const db = getPrisma();
    const who = whoFor(ctx);
    // Invalid grants are refused before anything is recorded.
    const grants = decision === "shrink" && grantsYaml?.trim() ? parseGrantsYaml(grantsYaml) : undefined;
    const item = await db.reviewItem.findUnique({
      where: { id: itemId },
      select: { status: true, version: true },
    });
    if (!item) throw new UserFacingError("This review item does not exist.", 404);
    // A pending item takes the decision; one decided on the version the reviewer saw goes on to its preview; anything
    // else (decided by someone else meanwhile) is the conflict decideItem reports.
    const deciding = item.status === "pending" || item.version !== expectedVersion;
    if (deciding) {
      try {
        await decideItem(db, who, itemId, { decision, comment, expectedVersion });
      } catch (error) {
        if (!(error instanceof DecisionConflictError)) throw error;
        return {
          outcome: "conflict",
          message: error.message,
          current: { ...error.current, decidedBy: await userLabel(db, error.current.decidedById) },
        };
      }
    }
    try {
      const preview = await previewDecision(db, who, itemId, {
        grants,
        deleteServiceAccount: decision === "revoke" && deleteServiceAccount === true,
      });
      return { outcome: "preview", changeSetId: preview.changeSetId };
    } catch (error) {
      // The decision stands whatever the cluster says: the page shows it decided, with why it has no preview.
      if (deciding && error instanceof UserFacingError && error.status !== 403)
        return { outcome: "decided", previewError: error.message };
      throw error;
    }
  },
};

const changeSetInput = z.object({ changeSetId: id });

export interface ApplySummary {
  status: ChangeSetStatus | "replanned";
  failure?: ChangeSetFailure;
}

export const applyAction: ActionDefinition<typeof changeSetInput, ApplySummary> = {
  name: "campaign.decision.apply_confirmed",
  permission: "campaigns:decide",
  input: changeSetInput,
  target: (input) => ({ type: "clusterChangeSet", id: input.changeSetId }),
  async handler({ changeSetId }, ctx) {
    const result = await applyChangeSet(getPrisma(), whoFor(ctx), changeSetId);
    return result.status === "replanned"
      ? { status: "replanned" }
      : { status: result.status, failure: result.failure };
  },
};

const itemInput = z.object({ itemId: id });

export const retryAction: ActionDefinition<typeof itemInput, { changeSetId: string }> = {
  name: "campaign.decision.retry",
  permission: "campaigns:decide",
  input: itemInput,
  target: (input) => ({ type: "reviewItem", id: input.itemId }),
  async handler({ itemId }, ctx) {
    const db = getPrisma();
    const who = whoFor(ctx);
    const view = await getReviewItemView(db, who, itemId);
    if (!view) throw new UserFacingError("This review item does not exist.", 404);
    // A fresh preview of the same decision with the options it was previewed with, planned from the cluster as it is now.
    const preview = await previewDecision(db, who, itemId, retryOptions(view.changeSets));
    return { changeSetId: preview.changeSetId };
  },
};

export const rollbackAction: ActionDefinition<
  typeof changeSetInput,
  ApplySummary & { irreversible: string[] }
> = {
  name: "campaign.change.rollback_confirmed",
  permission: "campaigns:decide",
  input: changeSetInput,
  target: (input) => ({ type: "clusterChangeSet", id: input.changeSetId }),
  async handler({ changeSetId }, ctx) {
    const result = await rollbackChangeSet(getPrisma(), whoFor(ctx), changeSetId);
    return { status: result.status, failure: result.failure, irreversible: result.irreversible };
  },
};
