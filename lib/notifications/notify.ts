// Campaign notifications as use cases raise them: what to say (messages.ts), to whom (recipients.ts), on which
// configured channels, queued in the outbox once per occasion. A job that runs twice, or on two replicas, queues
// nothing new the second time: the dedupe key names the campaign, the occasion, the channel and the recipient.
import type { PrismaClient } from "@/lib/db";
import { notificationConfig, type NotificationConfig } from "./config";
import { campaignMessage, type NotificationKind } from "./messages";
import { enqueueNotification } from "./outbox";
import { securityRecipients, teamRecipients } from "./recipients";

/** A reviewer team (its members), or the security team (security and admin users). */
export type Audience = { teamId: string } | "security";

export interface CampaignNotification {
  kind: NotificationKind;
  campaignId: string;
  audience: Audience;
  /** Tells repeated notifications of one kind apart, e.g. "7d" for the reminder seven days before the deadline. */
  occasion?: string;
}

/** Queues the notification on every configured channel; returns how many were new. */
export async function notifyCampaign(
  db: PrismaClient,
  notification: CampaignNotification,
  options: { config?: NotificationConfig; now?: Date } = {},
): Promise<number> {
  const config = options.config ?? notificationConfig();
  if (!config.email && !config.webhook) return 0;
  const { kind, campaignId, audience } = notification;
  const teamId = audience === "security" ? null : audience.teamId;
  const campaign = await db.campaign.findUniqueOrThrow({
    where: { id: campaignId },
    select: { name: true, deadline: true, undecidedPolicy: true },
  });
  const items = teamId ? { campaignId, reviewerTeamId: teamId } : { campaignId };
  const [team, pending, total, emails] = await Promise.all([
    teamId ? db.team.findUniqueOrThrow({ where: { id: teamId }, select: { name: true } }) : null,
    db.reviewItem.count({ where: { ...items, status: "pending" } }),
    db.reviewItem.count({ where: items }),
    config.email ? (teamId ? teamRecipients(db, teamId) : securityRecipients(db)) : [],
  ]);
  const content = campaignMessage(
    kind,
    {
      campaignId,
      campaignName: campaign.name,
      deadline: campaign.deadline,
      teamName: team?.name ?? null,
      pending,
      total,
      undecidedPolicy: campaign.undecidedPolicy,
    },
    config.linkBase,
    options.now,
  );
  const base = [kind, campaignId, teamId ? `team:${teamId}` : "security", notification.occasion ?? "-"].join(
    ":",
  );
  const body = { text: content.text, link: content.link };
  let queued = 0;
  for (const recipient of emails) {
    const added = await enqueueNotification(db, {
      kind,
      channel: "email",
      recipient,
      subject: content.subject,
      body,
      dedupeKey: `${base}:email:${recipient.toLowerCase()}`,
    });
    if (added) queued += 1;
  }
  if (config.webhook) {
    const added = await enqueueNotification(db, {
      kind,
      channel: "webhook",
      recipient: "webhook",
      subject: content.subject,
      body,
      dedupeKey: `${base}:webhook`,
    });
    if (added) queued += 1;
  }
  return queued;
}
