// The access-review campaigns in /api/v1: the same use cases as the pages (lib/campaigns, lib/compliance), with the
// caller as the campaign actor, so the library's role and team checks decide exactly as they do for a session.
import { z } from "zod";
import { UserFacingError } from "@/lib/auth/errors";
import type { PrismaClient } from "@/lib/db";
import { assertMayDecide, type CampaignActor } from "@/lib/campaigns/access";
import { applyChangeSet, carryOutDecision, grantsSchema, previewDecision, type ApplyResult } from "@/lib/campaigns/apply-decision";
import { bulkApprove, bulkApproveSchema, type BulkApproveResult } from "@/lib/campaigns/bulk-approve";
import { cancelCampaign, closeCampaign } from "@/lib/campaigns/close-campaign";
import { stopCampaignSchedule } from "@/lib/campaigns/stop-schedule";
import { createCampaign } from "@/lib/campaigns/create-campaign";
import { decideItem, type DecidedItem } from "@/lib/campaigns/decide-item";
import { DecisionConflictError } from "@/lib/campaigns/errors";
import { launchCampaign } from "@/lib/campaigns/launch-campaign";
import { campaignItemsQuerySchema, campaignListQuerySchema, getCampaign, getReviewItem, listCampaignItems, listCampaigns } from "@/lib/campaigns/queries";
import { scopedCampaignProgress } from "@/lib/campaigns/report";
import { rollbackChangeSet, type RollbackResult } from "@/lib/campaigns/rollback-change-set";
import { campaignInputSchema, decisionInputSchema } from "@/lib/campaigns/schemas";
import { decisionsCsv, findingsCsv, inventoryCsv } from "@/lib/compliance/exports";
import { ApiError } from "./errors";
import { endpoint, type ApiPrincipal } from "./route";

const id = z.string().min(1).max(64);
export const campaignIdParams = z.object({ id });
export const campaignItemParams = z.object({ id, itemId: id });
export const changeSetIdParams = z.object({ id });

export const listCampaignsQuery = campaignListQuerySchema;
export const campaignItemsQuery = campaignItemsQuerySchema.extend({ cursor: campaignItemsQuerySchema.shape.cursor.describe("nextCursor of the previous page") });
export const createCampaignBody = campaignInputSchema;

/** Shrink grants and the service account's deletion only mean something when the decision is carried out. */
const carryOutOptions = {
  grants: grantsSchema.optional().describe("shrink only: the grants to keep; default the least-privilege role from usage"),
  deleteServiceAccount: z.boolean().optional().describe("revoke only: also delete the service account"),
};

export const decisionBody = z
  .object({
    decision: decisionInputSchema.shape.decision,
    comment: decisionInputSchema.shape.comment.describe("required to approve a critical item"),
    expectedVersion: decisionInputSchema.shape.expectedVersion
      .optional()
      .describe("the item version the decision was made on (a newer item refuses it with 409); omitted: the item's current version"),
    apply: z.boolean().default(false).describe("also carry the decision out on the cluster (preview, apply, verify) in this request"),
    ...carryOutOptions,
  })
  .superRefine((body, ctx) => {
    if (body.grants !== undefined && body.decision !== "shrink") ctx.addIssue({ code: "custom", path: ["grants"], message: "Grants are kept by a shrink only." });
    if (body.deleteServiceAccount && body.decision !== "revoke") {
      ctx.addIssue({ code: "custom", path: ["deleteServiceAccount"], message: "Only a revoke deletes the service account." });
    }
    if (!body.apply && (body.grants !== undefined || body.deleteServiceAccount)) {
      ctx.addIssue({ code: "custom", path: ["apply"], message: "grants and deleteServiceAccount take effect when the decision is carried out: set apply." });
    }
  });

export const previewBody = z.object(carryOutOptions).default({});
export const applyBody = z
  .object({
    changeSetId: id.optional().describe("a preview to confirm; omitted: plan, apply and verify in one step (a retry after a failure)"),
    ...carryOutOptions,
  })
  .refine((body) => !(body.changeSetId && (body.grants || body.deleteServiceAccount)), {
    message: "A preview is applied as it was planned: leave grants and deleteServiceAccount out.",
    path: ["changeSetId"],
  })
  .default({});

export const bulkApproveBody = bulkApproveSchema;

/** `?cluster=` of the inventory and findings exports: one cluster (its id or name); absent, every cluster. */
export const exportScopeQuery = z.object({ cluster: z.string().trim().min(1).max(253).optional().describe("cluster id or name; absent = every cluster") });

const actorOf = (principal: ApiPrincipal): CampaignActor => ({ actor: principal.actor, user: principal.user });

async function requireCampaign(db: PrismaClient, who: CampaignActor, campaignId: string) {
  // Scoped: a campaign holding none of an owner's items is answered exactly like one that does not exist.
  const campaign = await getCampaign(db, who, campaignId);
  if (!campaign) throw new ApiError("not_found", "No such campaign.");
  return campaign;
}

/**
 * The item, looked up from the path pair: an item of another campaign is not found. Deliberately not narrowed to
 * the caller's items: whether the caller may decide it is the library's check, which answers 403 and changes nothing.
 */
async function requireItemOfCampaign(db: PrismaClient, params: z.output<typeof campaignItemParams>) {
  const item = await db.reviewItem.findFirst({ where: { id: params.itemId, campaignId: params.id }, select: { id: true, version: true, reviewerTeamId: true } });
  if (!item) throw new ApiError("not_found", "No such item in this campaign.");
  return item;
}

/** For preview and apply: refused before the library looks at the item's state, so a refusal tells nothing of it. */
async function requireDecidableItem(db: PrismaClient, who: CampaignActor, params: z.output<typeof campaignItemParams>) {
  const item = await requireItemOfCampaign(db, params);
  await assertMayDecide(db, who.user, item.reviewerTeamId);
  return item;
}

type Campaign = Awaited<ReturnType<typeof listCampaigns>>["campaigns"][number];

function campaignJson(campaign: Campaign) {
  return {
    id: campaign.id,
    name: campaign.name,
    status: campaign.status,
    scope: campaign.scope,
    durationDays: campaign.durationDays,
    deadline: campaign.deadline,
    reminderDaysBefore: campaign.reminderDaysBefore,
    escalateAfterDeadline: campaign.escalateAfterDeadline,
    undecidedPolicy: campaign.undecidedPolicy,
    defaultReviewerTeamId: campaign.defaultReviewerTeamId,
    schedule: campaign.schedule,
    createdById: campaign.createdById,
    createdAt: campaign.createdAt,
    launchedAt: campaign.launchedAt,
    closedAt: campaign.closedAt,
    cancelledAt: campaign.cancelledAt,
  };
}

type Item = Awaited<ReturnType<typeof listCampaignItems>>["items"][number];

/** An item with the identity as frozen at launch (the identity row may be gone since: identityId is then null). */
function itemJson(item: Item) {
  const frozen = item.evidence.identity;
  return {
    id: item.id,
    campaignId: item.campaignId,
    identityId: item.identityId,
    identity: {
      username: frozen.username,
      kind: frozen.kind,
      namespace: frozen.namespace,
      name: frozen.name,
      groups: frozen.groups,
      cluster: frozen.clusterName,
      clusterId: item.clusterId,
      ownerTeam: frozen.ownerTeam,
    },
    status: item.status,
    severity: item.severity,
    riskScore: item.riskScore,
    recommendation: item.recommendation,
    recommendationReason: item.recommendationReason,
    reviewerTeam: item.reviewerTeam,
    decision: item.decision,
    comment: item.comment,
    decidedById: item.decidedById,
    decidedAt: item.decidedAt,
    appliedAt: item.appliedAt,
    flagged: item.flagged,
    version: item.version,
  };
}

/** `undefined` → null, so the JSON always carries every documented field. */
function applyResultJson(result: ApplyResult) {
  if (result.status === "replanned") return result;
  return { ...result, failure: result.failure ?? null };
}

function rollbackResultJson(result: RollbackResult) {
  return { ...result, failure: result.failure ?? null };
}

/** A decision that lost a race: 409 with the decision that stands. */
function conflictWithCurrent(error: unknown): never {
  if (error instanceof DecisionConflictError) throw new ApiError("conflict", error.message, undefined, error.current);
  throw error;
}

/** The decision is recorded whatever happens next: a carry-out the library refuses says so, and how to retry. */
async function carryOut(decided: DecidedItem, path: string, run: () => Promise<ApplyResult>): Promise<ApplyResult> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof UserFacingError)) throw error;
    throw new UserFacingError(
      `The ${decided.decision} decision is recorded (version ${decided.version}) but was not carried out: ${error.message} Retry with POST ${path}/apply.`,
      error.status,
    );
  }
}

export const listCampaignsEndpoint = endpoint({
  name: "campaign.list",
  permission: "campaigns:read",
  query: listCampaignsQuery,
  async handler({ query, principal, db }) {
    const { total, campaigns } = await listCampaigns(db, actorOf(principal), query);
    return { items: campaigns.map(campaignJson), page: query.page, pageSize: query.pageSize, total };
  },
});

export const createCampaignEndpoint = endpoint({
  name: "campaign.create",
  permission: "campaigns:manage",
  body: createCampaignBody,
  successStatus: 201,
  target: ({ body }) => ({ type: "campaign", id: body.name }),
  async handler({ body, principal, db }) {
    // createCampaign validates its input itself: hand it the input form again (the deadline as ISO 8601).
    const created = await createCampaign(db, actorOf(principal), { ...body, deadline: body.deadline?.toISOString() });
    return { id: created.id, status: body.launch ? ("active" as const) : ("draft" as const), scheduleId: created.scheduleId, items: created.items };
  },
});

export const getCampaignEndpoint = endpoint({
  name: "campaign.get",
  permission: "campaigns:read",
  params: campaignIdParams,
  async handler({ params, principal, db }) {
    const who = actorOf(principal);
    const campaign = await requireCampaign(db, who, params.id);
    // An owner sees the progress of its own teams, not how the other teams are doing.
    const progress = await scopedCampaignProgress(db, who, campaign.id);
    return { ...campaignJson(campaign), defaultReviewerTeam: campaign.defaultReviewerTeam, progress };
  },
});

export const launchCampaignEndpoint = endpoint({
  name: "campaign.launch",
  permission: "campaigns:manage",
  params: campaignIdParams,
  target: ({ params }) => ({ type: "campaign", id: params.id }),
  async handler({ params, principal, db }) {
    return launchCampaign(db, actorOf(principal), params.id);
  },
});

export const closeCampaignEndpoint = endpoint({
  name: "campaign.close",
  permission: "campaigns:manage",
  params: campaignIdParams,
  target: ({ params }) => ({ type: "campaign", id: params.id }),
  async handler({ params, principal, db }) {
    await closeCampaign(db, actorOf(principal), params.id);
    return { id: params.id, status: "closed" as const };
  },
});

export const cancelCampaignEndpoint = endpoint({
  name: "campaign.cancel",
  permission: "campaigns:manage",
  params: campaignIdParams,
  target: ({ params }) => ({ type: "campaign", id: params.id }),
  async handler({ params, principal, db }) {
    await cancelCampaign(db, actorOf(principal), params.id);
    return { id: params.id, status: "cancelled" as const };
  },
});

export const stopCampaignScheduleEndpoint = endpoint({
  name: "campaign.schedule.stop",
  permission: "campaigns:manage",
  params: campaignIdParams,
  target: ({ params }) => ({ type: "campaign", id: params.id }),
  async handler({ params, principal, db }) {
    await stopCampaignSchedule(db, actorOf(principal), params.id);
    return { id: params.id, scheduleStopped: true as const };
  },
});

export const listCampaignItemsEndpoint = endpoint({
  name: "campaign.items",
  permission: "campaigns:read",
  params: campaignIdParams,
  query: campaignItemsQuery,
  async handler({ params, query, principal, db }) {
    const who = actorOf(principal);
    await requireCampaign(db, who, params.id);
    const page = await listCampaignItems(db, who, params.id, query);
    return { items: page.items.map(itemJson), nextCursor: page.nextCursor ?? null };
  },
});

export const getCampaignItemEndpoint = endpoint({
  name: "campaign.item",
  permission: "campaigns:read",
  params: campaignItemParams,
  async handler({ params, principal, db }) {
    // Scoped: another team's item is answered to an owner exactly like one that does not exist.
    const item = await getReviewItem(db, actorOf(principal), params.itemId);
    if (!item || item.campaignId !== params.id) throw new ApiError("not_found", "No such item in this campaign.");
    return { ...itemJson(item), campaign: item.campaign, evidence: item.evidence, changeSets: item.changeSets };
  },
});

export const decideItemEndpoint = endpoint({
  name: "campaign.item.decide",
  permission: "campaigns:decide",
  params: campaignItemParams,
  body: decisionBody,
  target: ({ params }) => ({ type: "reviewItem", id: params.itemId }),
  async handler({ params, body, principal, db }) {
    const who = actorOf(principal);
    const item = await requireItemOfCampaign(db, params);
    const decided = await decideItem(db, who, item.id, {
      decision: body.decision,
      comment: body.comment,
      expectedVersion: body.expectedVersion ?? item.version,
    }).catch(conflictWithCurrent);
    const decision = { itemId: decided.id, decision: decided.decision, comment: body.comment ?? null, version: decided.version };
    if (!body.apply) return { decision, carriedOut: null };
    const path = `/api/v1/campaigns/${params.id}/items/${item.id}`;
    const result = await carryOut(decided, path, () => carryOutDecision(db, who, item.id, { grants: body.grants, deleteServiceAccount: body.deleteServiceAccount }));
    return { decision, carriedOut: applyResultJson(result) };
  },
});

export const previewDecisionEndpoint = endpoint({
  name: "campaign.item.preview",
  permission: "campaigns:decide",
  params: campaignItemParams,
  body: previewBody,
  target: ({ params }) => ({ type: "reviewItem", id: params.itemId }),
  async handler({ params, body, principal, db }) {
    const who = actorOf(principal);
    const item = await requireDecidableItem(db, who, params);
    return previewDecision(db, who, item.id, body);
  },
});

export const applyDecisionEndpoint = endpoint({
  name: "campaign.item.apply",
  permission: "campaigns:decide",
  params: campaignItemParams,
  body: applyBody,
  target: ({ params }) => ({ type: "reviewItem", id: params.itemId }),
  async handler({ params, body, principal, db }) {
    const who = actorOf(principal);
    const item = await requireDecidableItem(db, who, params);
    if (!body.changeSetId) return applyResultJson(await carryOutDecision(db, who, item.id, body));
    const changeSet = await db.clusterChangeSet.findFirst({ where: { id: body.changeSetId, reviewItemId: item.id }, select: { id: true } });
    if (!changeSet) throw new ApiError("not_found", "No such preview of this item.");
    return applyResultJson(await applyChangeSet(db, who, changeSet.id));
  },
});

export const bulkApproveEndpoint = endpoint({
  name: "campaign.items.bulk_approve",
  permission: "campaigns:decide",
  params: campaignIdParams,
  body: bulkApproveBody,
  target: ({ params }) => ({ type: "campaign", id: params.id }),
  async handler({ params, body, principal, db }) {
    // Only this campaign's items: an id of another campaign is answered per item, never decided.
    const inCampaign = new Set(
      (await db.reviewItem.findMany({ where: { campaignId: params.id, id: { in: body.items.map((item) => item.id) } }, select: { id: true } })).map((item) => item.id),
    );
    const own = body.items.filter((item) => inCampaign.has(item.id));
    const decided = new Map(own.length > 0 ? (await bulkApprove(db, actorOf(principal), { items: own, comment: body.comment })).map((result) => [result.id, result]) : []);
    const results: BulkApproveResult[] = body.items.map(
      (item) => decided.get(item.id) ?? { id: item.id, outcome: "invalid", message: "No such item in this campaign." },
    );
    return { results };
  },
});

export const rollbackChangeSetEndpoint = endpoint({
  name: "campaign.change.rollback",
  permission: "campaigns:decide",
  params: changeSetIdParams,
  target: ({ params }) => ({ type: "clusterChangeSet", id: params.id }),
  async handler({ params, principal, db }) {
    const changeSet = await db.clusterChangeSet.findUnique({ where: { id: params.id }, select: { id: true } });
    if (!changeSet) throw new ApiError("not_found", "No such change set.");
    return rollbackResultJson(await rollbackChangeSet(db, actorOf(principal), changeSet.id));
  },
});

function csvDownload(stream: ReadableStream<Uint8Array>, fileName: string): Response {
  return new Response(stream, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${fileName}"`,
      "cache-control": "no-store",
    },
  });
}

const fileSafe = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "campaign";
const today = () => new Date().toISOString().slice(0, 10);

export const campaignExportEndpoint = endpoint({
  name: "campaign.export",
  permission: "campaigns:export",
  params: campaignIdParams,
  async handler({ params, principal, db }) {
    const campaign = await requireCampaign(db, actorOf(principal), params.id);
    return csvDownload(decisionsCsv(db, campaign.id), `${fileSafe(campaign.name)}-decisions-${today()}.csv`);
  },
});

async function exportScope(db: PrismaClient, cluster: string | undefined): Promise<{ clusterId?: string; label: string }> {
  if (!cluster) return { label: "all-clusters" };
  const found = await db.cluster.findFirst({ where: { OR: [{ id: cluster }, { name: cluster }] }, select: { id: true, name: true } });
  if (!found) throw new ApiError("not_found", `No cluster "${cluster}".`);
  return { clusterId: found.id, label: fileSafe(found.name) };
}

export const inventoryExportEndpoint = endpoint({
  name: "export.inventory",
  permission: "campaigns:export",
  query: exportScopeQuery,
  async handler({ query, db }) {
    const { clusterId, label } = await exportScope(db, query.cluster);
    return csvDownload(inventoryCsv(db, { clusterId }), `inventory-${label}-${today()}.csv`);
  },
});

export const findingsExportEndpoint = endpoint({
  name: "export.findings",
  permission: "campaigns:export",
  query: exportScopeQuery,
  async handler({ query, db }) {
    const { clusterId, label } = await exportScope(db, query.cluster);
    return csvDownload(findingsCsv(db, { clusterId }), `findings-${label}-${today()}.csv`);
  },
});
