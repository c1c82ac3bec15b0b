// Launching: every identity in scope becomes a review item with its evidence frozen, assigned to its owner team
// (or the default reviewer). Safe to call from several replicas at once: the draft → active switch is one
// conditional UPDATE in the transaction that creates the items, so only one launch creates them.
import type { Prisma, PrismaClient } from "@/lib/db";
import { recordAudit } from "@/lib/audit/log";
import { UserFacingError } from "@/lib/auth/errors";
import { assertMayManageCampaigns, type CampaignActor, type CampaignClock } from "./access";
import { freezeClusterEvidence } from "./evidence";
import { audiencesWithPending, queueNotices } from "./notices";
import { maxSeverity, recommend, riskScore } from "./recommend";
import { campaignScopeSchema, campaignScopeWhere } from "./scope";

const DAY_MS = 86_400_000;
/** Evidence is read this many identities at a time, and items written this many per statement. */
const CHUNK = 500;

export interface LaunchOutcome {
  /** False when another launch got there first (the campaign was already active): nothing was written. */
  launched: boolean;
  items: number;
  deadline: Date | null;
}

export async function launchCampaign(
  db: PrismaClient,
  who: CampaignActor,
  campaignId: string,
  clock: CampaignClock = {},
): Promise<LaunchOutcome> {
  const now = clock.now ?? new Date();
  assertMayManageCampaigns(who.user);
  const campaign = await db.campaign.findUnique({ where: { id: campaignId } });
  if (!campaign) throw new UserFacingError("This campaign does not exist.", 404);
  if (campaign.status === "active") {
    return { launched: false, items: await db.reviewItem.count({ where: { campaignId } }), deadline: campaign.deadline };
  }
  if (campaign.status !== "draft") {
    throw new UserFacingError(`This campaign is ${campaign.status}; it cannot be launched again. Start a new one.`, 409);
  }
  const deadline = campaign.deadline ?? new Date(now.getTime() + campaign.durationDays * DAY_MS);
  if (deadline.getTime() <= now.getTime()) throw new UserFacingError("The deadline has passed; set a new one.", 422);

  const scope = campaignScopeSchema.parse(campaign.scope);
  const inScope = await db.identity.findMany({
    where: campaignScopeWhere(scope, now),
    select: { id: true, clusterId: true, ownerTeamId: true },
    orderBy: [{ clusterId: "asc" }, { id: "asc" }],
  });
  const items: Prisma.ReviewItemCreateManyInput[] = [];
  const byCluster = new Map<string, typeof inScope>();
  for (const identity of inScope) {
    const group = byCluster.get(identity.clusterId);
    if (group) group.push(identity);
    else byCluster.set(identity.clusterId, [identity]);
  }
  for (const [clusterId, identities] of byCluster) {
    for (let i = 0; i < identities.length; i += CHUNK) {
      const chunk = identities.slice(i, i + CHUNK);
      const evidence = await freezeClusterEvidence(db, clusterId, chunk.map((identity) => identity.id), now);
      for (const identity of chunk) {
        const frozen = evidence.get(identity.id);
        if (!frozen) continue; // deleted between the two reads
        const { decision, reason } = recommend(frozen, now);
        items.push({
          campaignId,
          clusterId,
          identityId: identity.id,
          // The owner team reviews; never the identity itself. No owner: the default reviewer, else security.
          reviewerTeamId: identity.ownerTeamId ?? campaign.defaultReviewerTeamId,
          severity: maxSeverity(frozen.findings),
          riskScore: riskScore(frozen.findings),
          evidence: frozen as unknown as Prisma.InputJsonObject,
          recommendation: decision,
          recommendationReason: reason,
        });
      }
    }
  }

  const launched = await db.$transaction(
    async (tx) => {
      const switched = await tx.campaign.updateMany({
        where: { id: campaignId, status: "draft" },
        data: { status: "active", launchedAt: now, deadline },
      });
      if (switched.count === 0) return false;
      for (let i = 0; i < items.length; i += CHUNK) {
        await tx.reviewItem.createMany({ data: items.slice(i, i + CHUNK), skipDuplicates: true });
      }
      return true;
    },
    { maxWait: 15_000, timeout: 120_000 },
  );
  if (!launched) {
    const current = await db.campaign.findUniqueOrThrow({ where: { id: campaignId }, select: { status: true, deadline: true } });
    if (current.status !== "active") throw new UserFacingError(`This campaign is ${current.status}; it cannot be launched.`, 409);
    return { launched: false, items: await db.reviewItem.count({ where: { campaignId } }), deadline: current.deadline };
  }
  await recordAudit(db, {
    actor: who.actor,
    action: "campaign.launch",
    target: { type: "campaign", id: campaignId },
    outcome: "success",
    details: { items: items.length, deadline: deadline.toISOString() },
  });
  const audiences = await audiencesWithPending(db, campaignId);
  await queueNotices(db, who, audiences.map((audience) => ({ kind: "launch", campaignId, audience })), clock);
  return { launched: true, items: items.length, deadline };
}
