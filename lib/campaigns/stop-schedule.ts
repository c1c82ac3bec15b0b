// A recurring campaign's schedule runs until someone stops it: closing or cancelling one launch leaves the next
// ones coming. Stopping is final for the schedule (create a new campaign with a schedule to start again); the
// campaigns it launched are untouched.
import type { PrismaClient } from "@/lib/db";
import { recordAudit } from "@/lib/audit/log";
import { UserFacingError } from "@/lib/auth/errors";
import { assertMayManageCampaigns, type CampaignActor } from "./access";

export async function stopCampaignSchedule(db: PrismaClient, who: CampaignActor, campaignId: string): Promise<void> {
  assertMayManageCampaigns(who.user);
  const campaign = await db.campaign.findUnique({ where: { id: campaignId }, select: { scheduleId: true } });
  if (!campaign) throw new UserFacingError("This campaign does not exist.", 404);
  if (!campaign.scheduleId) throw new UserFacingError("This campaign has no schedule.", 409);
  // Conditional, as the tick's claim is: a launch racing the stop either happened before it or not at all.
  const stopped = await db.campaignSchedule.updateMany({ where: { id: campaign.scheduleId, enabled: true }, data: { enabled: false } });
  if (stopped.count === 0) throw new UserFacingError("This schedule is already stopped.", 409);
  await recordAudit(db, {
    actor: who.actor,
    action: "campaign.schedule.stop",
    target: { type: "campaignSchedule", id: campaign.scheduleId },
    outcome: "success",
    details: { campaignId },
  });
}
