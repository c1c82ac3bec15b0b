// Campaign notices (lib/notifications queues them in the outbox, once per occasion and recipient).
import type { PrismaClient } from "@/lib/db";
import { recordAudit } from "@/lib/audit/log";
import { notifyCampaign, type Audience, type CampaignNotification } from "@/lib/notifications/notify";
import type { CampaignActor, CampaignClock } from "./access";

/** The reviewer teams that still have undecided items ("security" for unassigned ones). */
export async function audiencesWithPending(db: PrismaClient, campaignId: string): Promise<Audience[]> {
  const groups = await db.reviewItem.groupBy({ by: ["reviewerTeamId"], where: { campaignId, status: "pending" } });
  return groups.map((group) => (group.reviewerTeamId ? { teamId: group.reviewerTeamId } : "security"));
}

/**
 * Queues notices after a change has committed: one that cannot be queued (a misconfigured channel) is recorded
 * in the audit trail as a failure rather than failing the change that already happened.
 */
export async function queueNotices(
  db: PrismaClient,
  who: CampaignActor,
  notices: readonly CampaignNotification[],
  clock: CampaignClock,
): Promise<void> {
  for (const notice of notices) {
    try {
      await notifyCampaign(db, notice, { config: clock.notifications, now: clock.now });
    } catch (error) {
      await recordAudit(db, {
        actor: who.actor,
        action: "campaign.notify",
        target: { type: "campaign", id: notice.campaignId },
        outcome: "failure",
        details: { kind: notice.kind, error: (error instanceof Error ? error.message : String(error)).slice(0, 2000) },
      });
    }
  }
}
