// Creating a campaign (a draft, or launched at once) and, for a recurring one, its schedule.
import type { Prisma, PrismaClient } from "@/lib/db";
import { recordAudit } from "@/lib/audit/log";
import { UserFacingError } from "@/lib/auth/errors";
import { assertMayManageCampaigns, type CampaignActor, type CampaignClock } from "./access";
import { launchCampaign } from "./launch-campaign";
import { campaignInputSchema, nextCronRun, type CampaignInput, type CampaignSettings } from "./schemas";

/** Refuses settings that name a team or cluster that does not exist, before anything is written. */
async function checkReferences(db: PrismaClient, settings: CampaignSettings): Promise<void> {
  if (settings.defaultReviewerTeamId) {
    const team = await db.team.findUnique({ where: { id: settings.defaultReviewerTeamId }, select: { id: true } });
    if (!team) throw new UserFacingError("The default reviewer team does not exist.", 422);
  }
  const { clusterIds } = settings.scope;
  if (clusterIds.length > 0) {
    const found = await db.cluster.count({ where: { id: { in: clusterIds } } });
    if (found !== new Set(clusterIds).size) throw new UserFacingError("The scope names a cluster that does not exist.", 422);
  }
}

/** The draft's row from settings: shared by createCampaign and the schedule's launches. */
export function campaignData(
  settings: CampaignSettings,
  createdById: string,
  extra: { deadline?: Date; scheduleId?: string } = {},
): Prisma.CampaignUncheckedCreateInput {
  return {
    name: settings.name,
    scope: settings.scope,
    durationDays: settings.durationDays,
    reminderDaysBefore: settings.reminderDaysBefore,
    escalateAfterDeadline: settings.escalateAfterDeadline,
    undecidedPolicy: settings.undecidedPolicy,
    defaultReviewerTeamId: settings.defaultReviewerTeamId ?? null,
    deadline: extra.deadline ?? null,
    scheduleId: extra.scheduleId ?? null,
    createdById,
  };
}

export interface CreatedCampaign {
  id: string;
  scheduleId: string | null;
  /** Items created by the launch (0 for a draft). */
  items: number;
}

/**
 * Creates a campaign as a draft (launched right away with `launch`). With a schedule, the settings also become
 * the template each later launch starts from; the first scheduled launch is the cron's next time.
 */
export async function createCampaign(
  db: PrismaClient,
  who: CampaignActor,
  input: CampaignInput,
  clock: CampaignClock = {},
): Promise<CreatedCampaign> {
  const now = clock.now ?? new Date();
  assertMayManageCampaigns(who.user);
  const { deadline, schedule, launch, ...settings } = campaignInputSchema.parse(input);
  if (deadline && deadline.getTime() <= now.getTime()) throw new UserFacingError("The deadline must be in the future.", 422);
  await checkReferences(db, settings);
  const created = await db.$transaction(async (tx) => {
    const scheduleRow = schedule
      ? await tx.campaignSchedule.create({
          data: {
            name: settings.name,
            cron: schedule.cron,
            template: settings,
            nextRunAt: nextCronRun(schedule.cron, now),
            createdById: who.user.id,
          },
          select: { id: true },
        })
      : null;
    const campaign = await tx.campaign.create({
      data: campaignData(settings, who.user.id, { deadline, scheduleId: scheduleRow?.id }),
      select: { id: true },
    });
    return { id: campaign.id, scheduleId: scheduleRow?.id ?? null };
  });
  await recordAudit(db, {
    actor: who.actor,
    action: "campaign.create",
    target: { type: "campaign", id: created.id },
    outcome: "success",
    details: { name: settings.name, scheduleId: created.scheduleId, cron: schedule?.cron ?? null },
  });
  const items = launch ? (await launchCampaign(db, who, created.id, { ...clock, now })).items : 0;
  return { ...created, items };
}
