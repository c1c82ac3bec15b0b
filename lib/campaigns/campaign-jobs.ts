// What the campaign tick does once a minute (lib/jobs registers it): launch the schedules that came due, send
// the reminders that came due, and handle the deadlines that passed; first, mark failed the applies a dead process
// left applying. Every step is safe on several replicas at once: schedules, deadlines and interrupted applies are
// claimed with a conditional UPDATE (one worker wins), and notifications are deduplicated by the outbox.
import type { PrismaClient } from "@/lib/db";
import { recordAudit } from "@/lib/audit/log";
import { notifyCampaign } from "@/lib/notifications/notify";
import { systemCampaignActor, type CampaignClock } from "./access";
import { carryOutDecision } from "./apply-decision";
import { campaignData } from "./create-campaign";
import { decideItem } from "./decide-item";
import { DecisionConflictError } from "./errors";
import { launchCampaign } from "./launch-campaign";
import { audiencesWithPending } from "./notices";
import { recoverInterruptedApplies } from "./recover-interrupted";
import { campaignSettingsSchema, nextCronRun } from "./schemas";

const DAY_MS = 86_400_000;

export interface CampaignJobOptions extends CampaignClock {
  log?: (message: string) => void;
  /** How long an apply may go without progress before it is taken as interrupted (tests shorten it). */
  applyLeaseMs?: number;
}

/**
 * Launches each schedule that came due: claims it by moving nextRunAt from the value it read to the cron's next
 * time (only one worker's UPDATE matches), creating the campaign in the same transaction, then launches it.
 */
export async function runDueSchedules(db: PrismaClient, options: CampaignJobOptions = {}): Promise<string[]> {
  const now = options.now ?? new Date();
  const log = options.log ?? (() => undefined);
  const due = await db.campaignSchedule.findMany({ where: { enabled: true, nextRunAt: { lte: now } }, orderBy: { nextRunAt: "asc" } });
  const launched: string[] = [];
  for (const schedule of due) {
    const settings = campaignSettingsSchema.safeParse(schedule.template);
    const nextRunAt = nextCronRun(schedule.cron, now);
    const campaignId = await db.$transaction(async (tx) => {
      const claimed = await tx.campaignSchedule.updateMany({
        where: { id: schedule.id, enabled: true, nextRunAt: schedule.nextRunAt },
        data: { nextRunAt, lastRunAt: now },
      });
      if (claimed.count === 0 || !settings.success) return null;
      const campaign = await tx.campaign.create({
        data: campaignData(settings.data, schedule.createdById, { scheduleId: schedule.id }),
        select: { id: true },
      });
      return campaign.id;
    });
    if (!campaignId) {
      if (!settings.success) log(`schedule ${schedule.name}: its template is not valid; skipped until it is fixed`);
      continue;
    }
    const who = systemCampaignActor(`schedule ${schedule.name}`);
    await recordAudit(db, {
      actor: who.actor,
      action: "campaign.create",
      target: { type: "campaign", id: campaignId },
      outcome: "success",
      details: { scheduleId: schedule.id, cron: schedule.cron, nextRunAt: nextRunAt.toISOString() },
    });
    const outcome = await launchCampaign(db, who, campaignId, { now, notifications: options.notifications });
    log(`schedule ${schedule.name}: launched campaign ${campaignId} with ${outcome.items} items`);
    launched.push(campaignId);
  }
  return launched;
}

/**
 * Reminders: for each active campaign, the closest reminder day the clock has passed (one that had passed before
 * the launch is skipped: the launch notice said it all), to every team with undecided items. The outbox's dedupe
 * key (campaign, team, day) makes each reminder go out once however often the tick runs.
 */
export async function sendReminders(db: PrismaClient, options: CampaignJobOptions = {}): Promise<number> {
  const now = options.now ?? new Date();
  const campaigns = await db.campaign.findMany({
    where: { status: "active", deadline: { gt: now }, NOT: { reminderDaysBefore: { isEmpty: true } } },
    select: { id: true, deadline: true, launchedAt: true, reminderDaysBefore: true },
  });
  let queued = 0;
  for (const campaign of campaigns) {
    const deadline = campaign.deadline!.getTime();
    const launchedAt = campaign.launchedAt?.getTime() ?? 0;
    const due = campaign.reminderDaysBefore.filter((days) => {
      const at = deadline - days * DAY_MS;
      return at <= now.getTime() && at >= launchedAt;
    });
    if (due.length === 0) continue;
    const occasion = `${Math.min(...due)}d`;
    for (const audience of await audiencesWithPending(db, campaign.id)) {
      queued += await notifyCampaign(db, { kind: "reminder", campaignId: campaign.id, audience, occasion }, { config: options.notifications, now });
    }
  }
  return queued;
}

export interface DeadlineOutcome {
  campaignId: string;
  undecided: number;
  flagged: number;
  /** Items the revoke policy decided, and those whose revocation was carried out on the cluster. */
  revoked: number;
  applied: number;
  /** Items whose revocation could not be carried out (left decided or failed, with the reason). */
  failures: { itemId: string; error: string }[];
}

/** Revoke policy: decide each undecided item "revoke" as Keyward, then carry it out on the cluster. */
async function revokeUndecided(db: PrismaClient, campaignId: string, now: Date, outcome: DeadlineOutcome): Promise<void> {
  const who = systemCampaignActor("campaign deadline");
  const items = await db.reviewItem.findMany({ where: { campaignId, status: "pending" }, select: { id: true, version: true }, orderBy: { id: "asc" } });
  for (const item of items) {
    try {
      await decideItem(db, who, item.id, { decision: "revoke", comment: "Undecided at the deadline: the campaign's policy revokes.", expectedVersion: item.version }, now);
    } catch (error) {
      // A reviewer decided at the last moment: their decision stands.
      if (error instanceof DecisionConflictError) continue;
      throw error;
    }
    outcome.revoked += 1;
    try {
      const result = await carryOutDecision(db, who, item.id);
      if (result.status === "applied") outcome.applied += 1;
      else outcome.failures.push({ itemId: item.id, error: result.status === "failed" ? (result.failure?.reason ?? "failed") : "replanned" });
    } catch (error) {
      // The decision stands and the item shows it was not carried out; the security team retries from there.
      outcome.failures.push({ itemId: item.id, error: error instanceof Error ? error.message : String(error) });
    }
  }
}

/**
 * Deadlines that passed, each handled exactly once: the worker whose UPDATE sets deadlineHandledAt (still null)
 * handles it; any other sees no row to claim. Keep: undecided items are flagged; revoke: they are revoked.
 * Either way the security team is told when anything was left undecided (unless escalation is off).
 */
export async function handleDeadlines(db: PrismaClient, options: CampaignJobOptions = {}): Promise<DeadlineOutcome[]> {
  const now = options.now ?? new Date();
  const due = await db.campaign.findMany({
    where: { status: "active", deadline: { lte: now }, deadlineHandledAt: null },
    select: { id: true, undecidedPolicy: true, escalateAfterDeadline: true },
  });
  const outcomes: DeadlineOutcome[] = [];
  for (const campaign of due) {
    const claimed = await db.campaign.updateMany({
      where: { id: campaign.id, status: "active", deadlineHandledAt: null },
      data: { deadlineHandledAt: now },
    });
    if (claimed.count === 0) continue;
    const undecided = await db.reviewItem.count({ where: { campaignId: campaign.id, status: "pending" } });
    const outcome: DeadlineOutcome = { campaignId: campaign.id, undecided, flagged: 0, revoked: 0, applied: 0, failures: [] };
    if (campaign.escalateAfterDeadline && undecided > 0) {
      await notifyCampaign(db, { kind: "escalation", campaignId: campaign.id, audience: "security" }, { config: options.notifications, now });
    }
    if (campaign.undecidedPolicy === "keep") {
      outcome.flagged = (await db.reviewItem.updateMany({ where: { campaignId: campaign.id, status: "pending" }, data: { flagged: true } })).count;
    } else {
      await revokeUndecided(db, campaign.id, now, outcome);
    }
    await recordAudit(db, {
      actor: systemCampaignActor("campaign deadline").actor,
      action: "campaign.deadline",
      target: { type: "campaign", id: campaign.id },
      outcome: outcome.failures.length === 0 ? "success" : "failure",
      details: {
        policy: campaign.undecidedPolicy,
        undecided,
        flagged: outcome.flagged,
        revoked: outcome.revoked,
        applied: outcome.applied,
        failures: outcome.failures.slice(0, 50),
      },
    });
    outcomes.push(outcome);
  }
  return outcomes;
}

/** One tick: interrupted applies first (their items can be retried), then schedules, reminders and deadlines. */
export async function runCampaignTick(db: PrismaClient, options: CampaignJobOptions = {}) {
  const recovered = await recoverInterruptedApplies(db, { now: options.now, leaseMs: options.applyLeaseMs, log: options.log });
  const launched = await runDueSchedules(db, options);
  const reminders = await sendReminders(db, options);
  const deadlines = await handleDeadlines(db, options);
  return { recovered, launched, reminders, deadlines };
}
