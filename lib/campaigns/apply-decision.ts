// Carries a review decision out on the cluster with its remediation identity: a preview (the plan from the live
// objects, dry-run by the API server) the reviewer confirms, then an apply that re-plans first (a concurrent change
// supersedes the preview instead of being overwritten), writes with preconditions, records every change as it
// lands, proves the outcome with SubjectAccessReviews, and writes each step to the audit trail.
import "server-only";
import { isDeepStrictEqual } from "node:util";
import type { KubeConfig } from "@kubernetes/client-node";
import { z } from "zod";
import { recordAudit, type Actor } from "@/lib/audit/log";
import { UserFacingError } from "@/lib/auth/errors";
import type { Prisma, PrismaClient, ReviewDecision } from "@/lib/db";
import {
  applyChanges,
  dryRunChanges,
  readLiveIdentityState,
  verifyAccess,
  type AppliedChange,
  type ChangeOutcome,
  type CheckResult,
  type ClusterRefusal,
} from "@/lib/k8s/cluster-changes";
import { userInfoForIdentity, type PolicyIdentity } from "@/lib/permissions/cluster-policy";
import { RBAC_API_GROUP, RbacAuthorizer, subjectAppliesTo } from "@/lib/rbac";
import {
  planApprove,
  planRevoke,
  planShrink,
  type AccessCheck,
  type ClusterChange,
  type Grants,
  type LiveIdentityState,
  type RemediationPlan,
} from "@/lib/remediation/plan";
import { generateLeastPrivilege } from "@/lib/usage/least-privilege";
import { getIdentityUsage } from "@/lib/usage/queries";
import { assertMayDecide, type CampaignActor } from "./access";
import type { PlannedChangeState } from "./recover-interrupted";
import { remediationKubeConfig } from "./remediation-client";

const objectName = z.string().min(1).max(253).regex(/^[a-z0-9]([-a-z0-9.:]*[a-z0-9])?$/, "a Kubernetes object name");
const metadata = <N extends z.ZodType>(namespace: N) =>
  z.object({ name: objectName, namespace, labels: z.record(z.string(), z.string().max(63)).optional(), annotations: z.record(z.string(), z.string()).optional() });
const rule = z.object({
  verbs: z.array(z.string().min(1)).min(1),
  apiGroups: z.array(z.string()).optional(),
  resources: z.array(z.string().min(1)).optional(),
  resourceNames: z.array(z.string().min(1)).optional(),
  nonResourceURLs: z.array(z.string().startsWith("/")).optional(),
});
const subject = z.object({ kind: z.enum(["ServiceAccount", "User", "Group"]), name: z.string().min(1), namespace: z.string().optional(), apiGroup: z.string().optional() });
const roleRef = z.object({ apiGroup: z.literal(RBAC_API_GROUP), kind: z.enum(["Role", "ClusterRole"]), name: objectName });
const MAX_GRANT_OBJECTS = 100;

/**
 * Shrink grants as a reviewer may edit them: plain roles and bindings only (an aggregationRule would pull in other
 * roles' rules, so it is not accepted); what they may grant, and to whom, is checked against the live cluster.
 */
export const grantsSchema = z.object({
  roles: z.array(z.object({ metadata: metadata(objectName), rules: z.array(rule) })).max(MAX_GRANT_OBJECTS),
  // A cluster-wide object has no namespace (zod 4 wants `.optional()` for a key that may be left out).
  clusterRoles: z.array(z.object({ metadata: metadata(z.undefined().optional()), rules: z.array(rule) })).max(MAX_GRANT_OBJECTS),
  roleBindings: z.array(z.object({ metadata: metadata(objectName), roleRef, subjects: z.array(subject).min(1) })).max(MAX_GRANT_OBJECTS),
  clusterRoleBindings: z.array(z.object({ metadata: metadata(z.undefined().optional()), roleRef, subjects: z.array(subject).min(1) })).max(MAX_GRANT_OBJECTS),
});

export const decisionOptionsSchema = z.object({ grants: grantsSchema.optional(), deleteServiceAccount: z.boolean().optional() });

export interface DecisionOptions {
  /** Shrink only: the grants to keep (default: the least-privilege role generated from the usage window). */
  grants?: Grants;
  /** Revoke only: also delete the service account. */
  deleteServiceAccount?: boolean;
}

export interface DecisionPreview {
  changeSetId: string;
  plan: RemediationPlan;
  /** The API server's dry-run answer to each change, in plan order. */
  dryRun: ChangeOutcome[];
}

/** Why a change set did not reach `applied`: the cluster's answer and where it came. */
export type ChangeSetFailure =
  /** The cluster refused change `index` (in the apply, or already in the preview's dry run: then nothing ran). */
  | { reason: "refused" | "dryRunRefused"; index: number; change: ChangeSummary; cluster: ClusterRefusal }
  | { reason: "verificationFailed"; message: string; failedChecks: number }
  | { reason: "verificationUnavailable"; message: string }
  /**
   * Keyward stopped mid-way (not the cluster's refusal); the applied list shows what reached the cluster. When the
   * process died, the campaign tick's recovery adds what the cluster showed of each planned change.
   */
  | { reason: "interrupted"; message: string; changes?: PlannedChangeState[] }
  | { reason: "replanned"; message: string; replannedAs: string };

export type ApplyResult =
  | {
      status: "applied" | "failed";
      changeSetId: string;
      plan: RemediationPlan;
      applied: AppliedChange[];
      failure?: ChangeSetFailure;
      verification: CheckResult[];
    }
  /** The cluster changed since the preview: nothing was applied; confirm the new preview instead. */
  | { status: "replanned"; changeSetId: string; preview: DecisionPreview };

/** What a change set's `plan` column holds: the plan and everything needed to plan it again identically. */
export interface StoredPlan {
  identityId: string;
  identity: PolicyIdentity;
  decision: ReviewDecision;
  grants: Grants | null;
  deleteServiceAccount: boolean;
  /** The approve annotation's date: the decision's time, so a re-plan is identical. */
  reviewedAt: string;
  /** Approve only: false once the cluster refused the annotation (the remediation identity may not patch it). */
  annotate: boolean;
  plan: RemediationPlan;
  dryRun: ChangeOutcome[];
}

export interface ChangeSummary {
  op: ClusterChange["op"];
  kind: string;
  namespace: string;
  name: string;
}

export class ReviewItemNotFoundError extends UserFacingError {
  constructor() {
    super("This review item does not exist.", 404);
  }
}

/** The item or change set is not in a state this step can start from (already applied, in progress, ...). */
export class RemediationStateError extends UserFacingError {
  constructor(message: string) {
    super(message, 409);
    this.name = "RemediationStateError";
  }
}

/** The requested grants cannot be planned (nothing to shrink to, another subject, more than it holds). */
export class InvalidGrantsError extends UserFacingError {
  constructor(message: string) {
    super(message, 422);
    this.name = "InvalidGrantsError";
  }
}

const ANNOTATION_FORBIDDEN_NOTE =
  "The remediation identity may not annotate the service account: the approval is recorded in Keyward only.";

/** Item states a decision can be carried out from: decided, a failed attempt (retry), or after a rollback. */
const CARRYABLE = ["decided", "failed", "rolledBack"] as const;

/** Plain JSON, as Postgres stores it: what plans are compared and stored as. */
export function toJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export function asInputJson(value: unknown): Prisma.InputJsonValue {
  return toJson(value) as Prisma.InputJsonValue;
}

export function summarizeChange(change: ClusterChange): ChangeSummary {
  const object = change.op === "create" ? change.after : change.before;
  return { op: change.op, kind: object.kind, namespace: object.metadata.namespace ?? "", name: object.metadata.name };
}

function isEmpty(grants: Grants): boolean {
  return grants.roles.length + grants.clusterRoles.length + grants.roleBindings.length + grants.clusterRoleBindings.length === 0;
}

/**
 * Explicit grants run with the remediation identity's power, so they must stay the identity's own and smaller:
 * bindings name only the identity, refer only to roles given with them, and grant nothing it does not hold now.
 */
function checkGrants(identity: PolicyIdentity, grants: Grants, live: LiveIdentityState): void {
  const user = userInfoForIdentity(identity);
  const own = identity.kind === "Group" ? { username: "", groups: [identity.name] } : { username: user.username, groups: [] };
  const roleNames = new Set([
    ...grants.clusterRoles.map((role) => `ClusterRole/${role.metadata.name}`),
    ...grants.roles.map((role) => `Role/${role.metadata.namespace ?? ""}/${role.metadata.name}`),
  ]);
  const bindings = [
    ...grants.clusterRoleBindings.map((binding) => ({ binding, namespace: "" })),
    ...grants.roleBindings.map((binding) => ({ binding, namespace: binding.metadata.namespace ?? "" })),
  ];
  for (const { binding, namespace } of bindings) {
    const subjects = binding.subjects ?? [];
    if (subjects.length === 0 || !subjects.every((subject) => subjectAppliesTo(subject, namespace, own))) {
      throw new InvalidGrantsError(`Binding ${binding.metadata.name} must name only the reviewed identity.`);
    }
    const ref = binding.roleRef.kind === "ClusterRole" ? `ClusterRole/${binding.roleRef.name}` : `Role/${namespace}/${binding.roleRef.name}`;
    if (!roleNames.has(ref)) throw new InvalidGrantsError(`Binding ${binding.metadata.name} must refer to a role given with the grants.`);
  }
  const held = new RbacAuthorizer(live.rbac);
  for (const rule of new RbacAuthorizer(grants).effectiveRules(user)) {
    if (held.uncoveredRules(user, rule.namespace ?? "", [rule.rule]).length > 0) {
      throw new InvalidGrantsError("A shrink keeps a subset of the identity's access: the grants include permissions it does not hold.");
    }
  }
}

function plan(stored: Omit<StoredPlan, "plan" | "dryRun">, live: LiveIdentityState): RemediationPlan {
  switch (stored.decision) {
    case "approve": {
      const approval = planApprove(stored.identity, live, new Date(stored.reviewedAt));
      if (stored.annotate || approval.changes.length === 0) return approval;
      return { ...approval, changes: [], notes: [...approval.notes, ANNOTATION_FORBIDDEN_NOTE] };
    }
    case "revoke":
      return planRevoke(stored.identity, live, { deleteServiceAccount: stored.deleteServiceAccount });
    case "shrink":
      return planShrink(stored.identity, live, stored.grants!);
  }
}

/** The identity's legacy token Secrets as the last sync saw them (the remediation identity never reads Secrets). */
async function legacyTokens(db: PrismaClient, identityId: string) {
  return db.credential.findMany({
    where: { identityId, kind: "legacyTokenSecret", deletedAt: null },
    orderBy: { name: "asc" },
    select: { name: true, uid: true },
  });
}

async function readLive(db: PrismaClient, kc: KubeConfig, stored: Pick<StoredPlan, "identityId" | "identity">): Promise<LiveIdentityState> {
  return readLiveIdentityState(kc, stored.identity, await legacyTokens(db, stored.identityId));
}

async function loadItem(db: PrismaClient, itemId: string) {
  const item = await db.reviewItem.findUnique({
    where: { id: itemId },
    select: {
      id: true,
      clusterId: true,
      status: true,
      decision: true,
      decidedAt: true,
      reviewerTeamId: true,
      identity: { select: { id: true, kind: true, namespace: true, name: true, username: true, groups: true } },
    },
  });
  if (!item) throw new ReviewItemNotFoundError();
  if (!item.decision) throw new RemediationStateError("The item has no decision to carry out yet.");
  if (!(CARRYABLE as readonly string[]).includes(item.status)) {
    throw new RemediationStateError(`The item is ${item.status}: its decision cannot be carried out again now.`);
  }
  if (!item.identity) throw new RemediationStateError("The identity is no longer in the inventory: sync the cluster and review it again.");
  return { ...item, decision: item.decision, identity: item.identity };
}

/** Plans from the live state, dry-runs it and stores it as a planned change set. */
async function preview(
  db: PrismaClient,
  actor: Actor,
  kc: KubeConfig,
  itemId: string,
  clusterId: string,
  planned: Omit<StoredPlan, "plan" | "dryRun">,
): Promise<DecisionPreview> {
  let base = planned;
  const live = await readLive(db, kc, base);
  if (base.grants) checkGrants(base.identity, base.grants, live);
  let remediationPlan = plan(base, live);
  let dryRun = await dryRunChanges(kc, remediationPlan.changes);
  // Approve only marks the service account where the remediation identity may: a refusal is a note, not a failure.
  if (base.decision === "approve" && dryRun.some((outcome) => !outcome.ok && outcome.status === 403)) {
    base = { ...base, annotate: false };
    remediationPlan = plan(base, live);
    dryRun = [];
  }
  const stored: StoredPlan = { ...base, plan: remediationPlan, dryRun };
  const changeSet = await db.clusterChangeSet.create({
    data: {
      clusterId,
      reviewItemId: itemId,
      decision: base.decision,
      status: "planned",
      plan: asInputJson(stored),
      createdByLabel: actor.label,
    },
    select: { id: true },
  });
  return { changeSetId: changeSet.id, plan: toJson(remediationPlan), dryRun: toJson(dryRun) };
}

/** The grants a shrink keeps: the reviewer's, or the least-privilege role generated from the usage window. */
async function shrinkGrants(db: PrismaClient, identityId: string, identity: PolicyIdentity, explicit: Grants | undefined): Promise<Grants> {
  let grants = explicit;
  if (!grants) {
    const { records } = await getIdentityUsage(db, identityId);
    const role = generateLeastPrivilege(identity, records);
    grants = { roles: role.roles, clusterRoles: role.clusterRoles, roleBindings: role.roleBindings, clusterRoleBindings: role.clusterRoleBindings };
  }
  if (isEmpty(grants)) {
    throw new InvalidGrantsError(
      explicit
        ? "A shrink needs at least one grant to keep; to take all access away, revoke."
        : "No recorded usage to shrink to: connect the cluster's audit events or give the grants to keep.",
    );
  }
  return grants;
}

/** Previews carrying out the item's decision: the exact changes and the cluster's dry-run answer, stored as planned. */
export async function previewDecision(db: PrismaClient, who: CampaignActor, itemId: string, input: DecisionOptions = {}): Promise<DecisionPreview> {
  const parsed = decisionOptionsSchema.safeParse(input);
  if (!parsed.success) throw new InvalidGrantsError(`The grants are not valid RBAC objects: ${z.prettifyError(parsed.error)}`);
  const options = parsed.data;
  const item = await loadItem(db, itemId);
  // Carrying a decision out takes the same right as making it: the item's reviewers, or the security team.
  await assertMayDecide(db, who.user, item.reviewerTeamId);
  // First: without a remediation identity there is nothing to preview, and nothing changes.
  const kc = await remediationKubeConfig(db, item.clusterId);
  const identity: PolicyIdentity = item.identity;
  const grants = item.decision === "shrink" ? await shrinkGrants(db, item.identity.id, identity, options.grants) : null;
  return preview(db, who.actor, kc, item.id, item.clusterId, {
    identityId: item.identity.id,
    identity: { kind: identity.kind, namespace: identity.namespace, name: identity.name, username: identity.username, groups: [...identity.groups] },
    decision: item.decision,
    grants,
    deleteServiceAccount: item.decision === "revoke" && options.deleteServiceAccount === true,
    reviewedAt: (item.decidedAt ?? new Date()).toISOString(),
    annotate: item.decision === "approve",
  });
}

async function auditChange(db: PrismaClient, actor: Actor, changeSetId: string, clusterId: string, change: ClusterChange, response: ChangeOutcome) {
  await recordAudit(db, {
    actor,
    action: "cluster.change",
    target: { type: "clusterChangeSet", id: changeSetId },
    outcome: response.ok ? "success" : "failure",
    details: asInputJson({
      clusterId,
      request: summarizeChange(change),
      response: response.ok ? { ok: true } : { ok: false, status: response.status, reason: response.reason, message: response.message },
    }) as Prisma.InputJsonObject,
  });
}

export interface AppliedRun {
  applied: AppliedChange[];
  failed?: { index: number; refusal: ClusterRefusal };
}

/**
 * Applies the changes one at a time, storing the applied list after each, so that even a crash mid-way leaves
 * the change set showing what reached the cluster; every change and the cluster's answer goes to the audit trail.
 * `changes` continue after `prior` (a resumed run): indexes in the outcome count from the first of `prior`.
 */
export async function applyRecorded(
  db: PrismaClient,
  actor: Actor,
  kc: KubeConfig,
  changeSet: { id: string; clusterId: string },
  changes: readonly ClusterChange[],
  prior: readonly AppliedChange[] = [],
): Promise<AppliedRun> {
  const applied: AppliedChange[] = [...prior];
  for (const change of changes) {
    const outcome = await applyChanges(kc, [change]);
    if (outcome.failed) {
      await auditChange(db, actor, changeSet.id, changeSet.clusterId, change, { ok: false, ...outcome.failed.refusal });
      return { applied, failed: { index: applied.length, refusal: outcome.failed.refusal } };
    }
    applied.push(...outcome.applied);
    await db.clusterChangeSet.update({ where: { id: changeSet.id }, data: { applied: asInputJson(applied) } });
    await auditChange(db, actor, changeSet.id, changeSet.clusterId, change, { ok: true, object: outcome.applied[0]?.result ?? null });
  }
  return { applied };
}

/** Asks for a sync, so the inventory shows the change; the periodic sync catches up if the queue is unavailable. */
export async function resyncCluster(clusterId: string): Promise<void> {
  try {
    const { enqueueClusterSync } = await import("@/lib/jobs");
    await enqueueClusterSync(clusterId, "remediation");
  } catch (error) {
    console.warn(`could not queue a sync of cluster ${clusterId} after remediation:`, error instanceof Error ? error.message : error);
  }
}

/** Proves the outcome; a cluster that cannot answer leaves the failure saying so (the changes stay applied). */
export async function verifyOutcome(
  kc: KubeConfig,
  identity: PolicyIdentity,
  checks: readonly AccessCheck[],
): Promise<{ verification: CheckResult[]; failure?: ChangeSetFailure }> {
  try {
    const verification = await verifyAccess(kc, identity, checks);
    const failedChecks = verification.filter((result) => !result.passed).length;
    return failedChecks === 0
      ? { verification }
      : { verification, failure: { reason: "verificationFailed", message: `${failedChecks} access check(s) did not give the expected answer.`, failedChecks } };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { verification: [], failure: { reason: "verificationUnavailable", message: `Applied, but the cluster could not verify it: ${message}` } };
  }
}

/**
 * Applies a previewed change set. The live state is read and planned again first: if anything the plan depends on
 * changed, nothing is applied, the preview is superseded and a new one returned for the reviewer to confirm.
 */
export async function applyChangeSet(db: PrismaClient, who: CampaignActor, changeSetId: string): Promise<ApplyResult> {
  const actor = who.actor;
  const changeSet = await db.clusterChangeSet.findUnique({
    where: { id: changeSetId },
    select: { id: true, clusterId: true, reviewItemId: true, status: true, rollbackOfId: true, plan: true, reviewItem: { select: { reviewerTeamId: true } } },
  });
  if (!changeSet || !changeSet.reviewItemId || !changeSet.reviewItem || changeSet.rollbackOfId) throw new RemediationStateError("This change set is not a previewed decision.");
  await assertMayDecide(db, who.user, changeSet.reviewItem.reviewerTeamId);
  if (changeSet.status !== "planned") throw new RemediationStateError(`This change set is ${changeSet.status}: preview the decision again.`);
  const itemId = changeSet.reviewItemId;
  const stored = changeSet.plan as unknown as StoredPlan;
  const kc = await remediationKubeConfig(db, changeSet.clusterId);

  const current = plan(stored, await readLive(db, kc, stored));
  if (!isDeepStrictEqual(toJson(current), stored.plan)) {
    return supersede(db, actor, kc, changeSet.id, itemId, changeSet.clusterId, stored);
  }

  // Claim the change set and the item together: a second apply, or one of another preview, finds them taken.
  await db.$transaction(async (tx) => {
    const set = await tx.clusterChangeSet.updateMany({ where: { id: changeSet.id, status: "planned" }, data: { status: "applying", startedAt: new Date() } });
    const item = await tx.reviewItem.updateMany({ where: { id: itemId, status: { in: [...CARRYABLE] } }, data: { status: "applying" } });
    if (set.count !== 1 || item.count !== 1) throw new RemediationStateError("The decision is already being carried out.");
  });

  const refusedIndex = stored.dryRun.findIndex((outcome) => !outcome.ok);
  let run: AppliedRun = { applied: [] };
  let failure: ChangeSetFailure | undefined;
  let verification: CheckResult[] = [];
  if (refusedIndex >= 0) {
    // The cluster already said no in the preview: apply nothing rather than half of it.
    const { status, reason, message } = stored.dryRun[refusedIndex] as Extract<ChangeOutcome, { ok: false }>;
    failure = { reason: "dryRunRefused", index: refusedIndex, change: summarizeChange(current.changes[refusedIndex]), cluster: { status, reason, message } };
  } else {
    try {
      run = await applyRecorded(db, actor, kc, changeSet, current.changes);
    } catch (error) {
      // Keyward itself failed mid-way (not the cluster): what reached the cluster is the list stored so far.
      const saved = await db.clusterChangeSet.findUniqueOrThrow({ where: { id: changeSet.id }, select: { applied: true } });
      run = { applied: saved.applied as unknown as AppliedChange[] };
      failure = { reason: "interrupted", message: `Stopped after ${run.applied.length} of ${current.changes.length} changes: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (run.failed) {
      const { index, refusal } = run.failed;
      failure = { reason: "refused", index, change: summarizeChange(current.changes[index]), cluster: refusal };
    } else if (!failure) {
      ({ verification, failure } = await verifyOutcome(kc, stored.identity, current.checks));
    }
  }

  const now = new Date();
  const status = failure ? "failed" : "applied";
  await db.$transaction([
    db.clusterChangeSet.update({
      where: { id: changeSet.id },
      data: {
        status,
        applied: asInputJson(run.applied),
        verification: asInputJson(verification),
        ...(failure ? { failure: asInputJson(failure) } : {}),
        appliedAt: run.applied.length > 0 ? now : null,
      },
    }),
    db.reviewItem.update({ where: { id: itemId }, data: { status, ...(status === "applied" ? { appliedAt: now } : {}) } }),
  ]);
  await recordAudit(db, {
    actor,
    action: "campaign.decision.apply",
    target: { type: "reviewItem", id: itemId },
    outcome: failure ? "failure" : "success",
    details: asInputJson({
      changeSetId: changeSet.id,
      clusterId: changeSet.clusterId,
      decision: stored.decision,
      identity: stored.identity.username || stored.identity.name,
      applied: run.applied.length,
      planned: current.changes.length,
      verification: { checks: verification.length, passed: verification.filter((result) => result.passed).length },
      ...(failure ? { failure } : {}),
    }) as Prisma.InputJsonObject,
  });
  if (run.applied.length > 0) await resyncCluster(changeSet.clusterId);
  return { status, changeSetId: changeSet.id, plan: toJson(current), applied: toJson(run.applied), failure, verification };
}

async function supersede(
  db: PrismaClient,
  actor: Actor,
  kc: KubeConfig,
  changeSetId: string,
  itemId: string,
  clusterId: string,
  stored: StoredPlan,
): Promise<ApplyResult> {
  const { plan: _plan, dryRun: _dryRun, ...base } = stored;
  const next = await preview(db, actor, kc, itemId, clusterId, base);
  const failure: ChangeSetFailure = {
    reason: "replanned",
    message: "The cluster changed since the preview: nothing was applied; confirm the new preview.",
    replannedAs: next.changeSetId,
  };
  const superseded = await db.clusterChangeSet.updateMany({ where: { id: changeSetId, status: "planned" }, data: { status: "failed", failure: asInputJson(failure) } });
  if (superseded.count !== 1) throw new RemediationStateError("This change set was applied or superseded meanwhile.");
  await recordAudit(db, {
    actor,
    action: "campaign.decision.apply",
    target: { type: "reviewItem", id: itemId },
    outcome: "failure",
    details: asInputJson({ changeSetId, clusterId, decision: stored.decision, failure }) as Prisma.InputJsonObject,
  });
  return { status: "replanned", changeSetId, preview: next };
}

/** How often a one-step carry-out follows a re-plan before it hands the latest preview back. */
const CARRY_OUT_ATTEMPTS = 3;

/**
 * Preview and apply in one step: the API's `apply: true`, and the deadline job's revoke of undecided items. No one
 * confirms a particular preview here, so a re-plan (the cluster changed meanwhile) is applied in turn: it was planned
 * from the new live state, so the concurrent change is kept, never overwritten.
 */
export async function carryOutDecision(db: PrismaClient, who: CampaignActor, itemId: string, options: DecisionOptions = {}): Promise<ApplyResult> {
  let { changeSetId } = await previewDecision(db, who, itemId, options);
  for (let attempt = 1; ; attempt++) {
    const result = await applyChangeSet(db, who, changeSetId);
    if (result.status !== "replanned" || attempt === CARRY_OUT_ATTEMPTS) return result;
    changeSetId = result.preview.changeSetId;
  }
}
