// The end of a campaign: closed when the review is done, cancelled when it should not have run. Both are final:
// a closed or cancelled campaign never becomes active again (start a new one).
import type { CampaignStatus, PrismaClient } from "@/lib/db";
import { recordAudit } from "@/lib/audit/log";
import { UserFacingError } from "@/lib/auth/errors";
import { assertMayManageCampaigns, type CampaignActor, type CampaignClock } from "./access";
import { queueNotices } from "./notices";

async function finish(
  db: PrismaClient,
  who: CampaignActor,
  campaignId: string,
  to: "closed" | "cancelled",
  from: CampaignStatus[],
  clock: CampaignClock,
): Promise<void> {
  const now = clock.now ?? new Date();
  assertMayManageCampaigns(who.user);
  // Conditional: of two concurrent calls, or a close racing a cancel, exactly one changes the status.
  const changed = await db.campaign.updateMany({
    where: { id: campaignId, status: { in: from } },
    data: to === "closed" ? { status: "closed", closedAt: now } : { status: "cancelled", cancelledAt: now },
  });
  if (changed.count === 0) {
    const campaign = await db.campaign.findUnique({ where: { id: campaignId }, select: { status: true } });
    if (!campaign) throw new UserFacingError("This campaign does not exist.", 404);
    throw new UserFacingError(`This campaign is ${campaign.status}; it cannot be ${to}.`, 409);
  }
  const pending = await db.reviewItem.count({ where: { campaignId, status: "pending" } });
  await recordAudit(db, {
    actor: who.actor,
    action: to === "closed" ? "campaign.close" : "campaign.cancel",
    target: { type: "campaign", id: campaignId },
    outcome: "success",
    details: { undecidedItems: pending },
  });
  // The security team hears of a close (with how much was decided); a cancelled review needs no notice.
  if (to === "closed") await queueNotices(db, who, [{ kind: "close", campaignId, audience: "security" }], clock);
}

/** active → closed. Undecided items stay undecided: the evidence shows what was and was not reviewed. */
export function closeCampaign(db: PrismaClient, who: CampaignActor, campaignId: string, clock: CampaignClock = {}): Promise<void> {
  return finish(db, who, campaignId, "closed", ["active"], clock);
}

/** draft or active → cancelled. */
export function cancelCampaign(db: PrismaClient, who: CampaignActor, campaignId: string, clock: CampaignClock = {}): Promise<void> {
  return finish(db, who, campaignId, "cancelled", ["draft", "active"], clock);
}
