// A reviewer's decision on one item. Optimistic: the decision names the version the reviewer saw, and only a
// pending item at that version takes it, so of two reviewers deciding at once one wins and the other is told
// whose decision stands. Carrying it out on the cluster is apply-decision.ts's job.
import type { PrismaClient, ReviewDecision } from "@/lib/db";
import { recordAudit } from "@/lib/audit/log";
import { UserFacingError } from "@/lib/auth/errors";
import { assertMayDecide, type CampaignActor } from "./access";
import { CampaignAccessError, DecisionConflictError, type CurrentDecision } from "./errors";
import { decisionInputSchema, type DecisionInput } from "./schemas";

export interface DecidedItem {
  id: string;
  decision: ReviewDecision;
  version: number;
}

export async function decideItem(
  db: PrismaClient,
  who: CampaignActor,
  itemId: string,
  input: DecisionInput,
  now: Date = new Date(),
): Promise<DecidedItem> {
  const { decision, comment, expectedVersion } = decisionInputSchema.parse(input);
  const item = await db.reviewItem.findUnique({
    where: { id: itemId },
    select: { reviewerTeamId: true, severity: true, campaign: { select: { status: true } } },
  });
  if (!item) throw new UserFacingError("This review item does not exist.", 404);
  try {
    await assertMayDecide(db, who.user, item.reviewerTeamId);
  } catch (error) {
    if (error instanceof CampaignAccessError) {
      await recordAudit(db, {
        actor: who.actor,
        action: "campaign.item.decide",
        target: { type: "reviewItem", id: itemId },
        outcome: "denied",
        details: { decision, role: who.user.role },
      });
    }
    throw error;
  }
  if (item.campaign.status !== "active") throw new UserFacingError(`The campaign is ${item.campaign.status}: decisions are closed.`, 409);
  if (decision === "approve" && item.severity === "critical" && !comment) {
    throw new UserFacingError("Approving a critical identity needs a comment saying why its access is right.", 422);
  }
  const won = await db.reviewItem.updateMany({
    where: { id: itemId, status: "pending", version: expectedVersion },
    data: {
      status: "decided",
      decision,
      comment: comment ?? null,
      decidedById: who.user.id,
      decidedAt: now,
      flagged: false,
      version: { increment: 1 },
    },
  });
  if (won.count === 0) throw new DecisionConflictError(await currentDecision(db, itemId));
  await recordAudit(db, {
    actor: who.actor,
    action: "campaign.item.decide",
    target: { type: "reviewItem", id: itemId },
    outcome: "success",
    details: { decision, comment: comment ?? null, version: expectedVersion + 1 },
  });
  return { id: itemId, decision, version: expectedVersion + 1 };
}

/** The item's decision as it stands, for the loser of a race. */
export async function currentDecision(db: PrismaClient, itemId: string): Promise<CurrentDecision> {
  return db.reviewItem.findUniqueOrThrow({
    where: { id: itemId },
    select: { status: true, decision: true, comment: true, decidedById: true, decidedAt: true, version: true },
  });
}
