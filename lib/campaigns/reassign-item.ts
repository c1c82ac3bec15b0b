// Handing an undecided item to another reviewer team (the owner is wrong, or the team is away).
import type { PrismaClient } from "@/lib/db";
import { recordAudit } from "@/lib/audit/log";
import { UserFacingError } from "@/lib/auth/errors";
import { assertMayManageCampaigns, type CampaignActor } from "./access";
import { currentDecision } from "./decide-item";
import { DecisionConflictError } from "./errors";

export async function reassignItem(
  db: PrismaClient,
  who: CampaignActor,
  itemId: string,
  input: { teamId: string; expectedVersion: number },
): Promise<{ version: number }> {
  assertMayManageCampaigns(who.user);
  const item = await db.reviewItem.findUnique({
    where: { id: itemId },
    select: { reviewerTeamId: true, campaign: { select: { status: true } } },
  });
  if (!item) throw new UserFacingError("This review item does not exist.", 404);
  if (item.campaign.status !== "active") throw new UserFacingError(`The campaign is ${item.campaign.status}.`, 409);
  const team = await db.team.findUnique({ where: { id: input.teamId }, select: { id: true } });
  if (!team) throw new UserFacingError("This team does not exist.", 422);
  // Bumping the version makes a decision opened before the reassignment lose.
  const changed = await db.reviewItem.updateMany({
    where: { id: itemId, status: "pending", version: input.expectedVersion },
    data: { reviewerTeamId: team.id, version: { increment: 1 } },
  });
  if (changed.count === 0) throw new DecisionConflictError(await currentDecision(db, itemId));
  await recordAudit(db, {
    actor: who.actor,
    action: "campaign.item.reassign",
    target: { type: "reviewItem", id: itemId },
    outcome: "success",
    details: { from: item.reviewerTeamId, to: team.id },
  });
  return { version: input.expectedVersion + 1 };
}
