// Applies a dead process left behind. An apply records each change as it lands (bumping the change set's
// updatedAt), so a change set still `applying` with no write for a lease was stopped, not slow. The campaign tick
// marks it failed, "interrupted", with what the cluster shows of each planned change (a change can have landed
// just before the crash, unrecorded): the item then offers the retry, which plans again from the live state and so
// carries out only what is left; a rollback is resumed the same way by running it again.
import "server-only";
import { isDeepStrictEqual } from "node:util";
import type { KubeConfig } from "@kubernetes/client-node";
import { recordAudit } from "@/lib/audit/log";
import type { Prisma, PrismaClient } from "@/lib/db";
import { dryRunChanges, readLiveIdentityState, type AppliedChange } from "@/lib/k8s/cluster-changes";
import type { PolicyIdentity } from "@/lib/permissions/cluster-policy";
import type { ClusterChange, ClusterObject, LiveIdentityState } from "@/lib/remediation/plan";
import { systemCampaignActor } from "./access";
import { asInputJson, resyncCluster, summarizeChange, toJson, type ChangeSetFailure, type ChangeSummary } from "./apply-decision";
import { remediationKubeConfig } from "./remediation-client";

/** No write for this long while applying: the process carrying it out is taken to have stopped. */
export const DEFAULT_APPLY_LEASE_MS = 10 * 60_000;

/**
 * What the cluster shows of one planned change: in effect, not (the object is still as planned from), changed by
 * someone else since the plan, or unknown (the cluster could not be read, or Keyward may not read the object).
 */
export type ChangeState = "inEffect" | "notInEffect" | "changedElsewhere" | "unknown";

export interface PlannedChangeState extends ChangeSummary {
  index: number;
  state: ChangeState;
}

export interface RecoveryOptions {
  now?: Date;
  leaseMs?: number;
  log?: (message: string) => void;
}

/** Both plan shapes: a decision's (StoredPlan) and a rollback's keep the identity and the planned changes. */
interface PlannedChanges {
  identity: PolicyIdentity;
  plan: { changes: ClusterChange[] };
}

const key = (kind: string, namespace: string | undefined, name: string) => `${kind}/${namespace ?? ""}/${name}`;
const objectKey = (object: ClusterObject) => key(object.kind, object.metadata.namespace, object.metadata.name);

/** The objects a live read returns, by kind/namespace/name; anything else (Secrets) is not read. */
function liveObjects(live: LiveIdentityState): Map<string, ClusterObject> {
  const objects = new Map<string, ClusterObject>();
  const lists: [string, readonly unknown[]][] = [
    ["Role", live.rbac.roles],
    ["ClusterRole", live.rbac.clusterRoles],
    ["RoleBinding", live.rbac.roleBindings],
    ["ClusterRoleBinding", live.rbac.clusterRoleBindings],
  ];
  for (const [kind, list] of lists) {
    for (const object of list as ClusterObject[]) objects.set(key(kind, object.metadata.namespace, object.metadata.name), object);
  }
  if (live.serviceAccount) objects.set(objectKey(live.serviceAccount), live.serviceAccount);
  return objects;
}

/** The live object holds what `want` sets: its content fields, labels and annotations (server fields aside). */
function holds(live: ClusterObject, want: ClusterObject): boolean {
  const { apiVersion: _apiVersion, kind: _kind, metadata, ...content } = toJson(want);
  const current = toJson(live);
  const subset = (wanted: Record<string, string> | undefined, have: Record<string, string> | undefined) =>
    Object.entries(wanted ?? {}).every(([name, value]) => have?.[name] === value);
  return (
    Object.entries(content).every(([field, value]) => isDeepStrictEqual(current[field], value)) &&
    subset(metadata.labels, current.metadata.labels) &&
    subset(metadata.annotations, current.metadata.annotations)
  );
}

/** The live value carries the merge patch (null: the field is gone). */
function carriesPatch(live: unknown, patch: Record<string, unknown>): boolean {
  const current = (live ?? {}) as Record<string, unknown>;
  return Object.entries(patch).every(([field, value]) => {
    if (value === null) return current[field] === undefined || current[field] === null;
    if (typeof value === "object" && !Array.isArray(value)) return carriesPatch(current[field], value as Record<string, unknown>);
    return isDeepStrictEqual(current[field], value);
  });
}

/** Compares one planned change with the object as the cluster has it now (undefined: absent). */
function stateFromLive(change: ClusterChange, live: ClusterObject | undefined): ChangeState {
  if (change.op === "create") return !live ? "notInEffect" : holds(live, change.after) ? "inEffect" : "changedElsewhere";
  const before = change.before.metadata;
  // Gone, or another object under the name: the one the change deleted is no longer there.
  if (change.op === "delete") return !live || (before.uid && live.metadata.uid !== before.uid) ? "inEffect" : live.metadata.resourceVersion === before.resourceVersion ? "notInEffect" : "changedElsewhere";
  if (!live) return "changedElsewhere";
  if (live.metadata.resourceVersion === before.resourceVersion) return "notInEffect";
  const applied = change.op === "replace" ? holds(live, change.after) : carriesPatch(live, change.patch);
  return applied ? "inEffect" : "changedElsewhere";
}

/**
 * What the cluster shows of each planned change, with the live object (for the applied list). Objects the live
 * read does not cover (legacy token Secrets, which the remediation identity may delete but not read) are asked
 * with a dry run of the delete: accepted means still there, 404 gone, 409 changed since.
 */
async function changeStates(kc: KubeConfig, planned: PlannedChanges): Promise<{ state: ChangeState; live?: ClusterObject }[]> {
  const objects = liveObjects(await readLiveIdentityState(kc, planned.identity));
  const readable = (change: ClusterChange) => ["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ServiceAccount"].includes(summarizeChange(change).kind);
  const unread = planned.plan.changes.filter((change) => !readable(change) && change.op === "delete");
  const dryRuns = new Map(unread.map((change, index) => [change, index]));
  const answers = await dryRunChanges(kc, unread);
  return planned.plan.changes.map((change) => {
    if (readable(change)) {
      const live = objects.get(objectKey(change.op === "create" ? change.after : change.before));
      return { state: stateFromLive(change, live), live };
    }
    const index = dryRuns.get(change);
    if (index === undefined) return { state: "unknown" };
    const answer = answers[index];
    if (answer.ok) return { state: "notInEffect" };
    return { state: answer.status === 404 ? "inEffect" : answer.status === 409 ? "changedElsewhere" : "unknown" };
  });
}

function minutes(ms: number): string {
  const value = Math.round(ms / 60_000);
  return `${value} minute${value === 1 ? "" : "s"}`;
}

/**
 * Marks each change set left applying with no write for the lease as failed, interrupted, and its item failed
 * (a rollback's item keeps its status: the rollback is resumed by running it again). Safe on several workers:
 * the update only matches the change set as it was read (still applying, same updatedAt), so one worker wins and
 * an apply that made progress meanwhile is left alone. Returns the ids of the change sets it recovered.
 */
export async function recoverInterruptedApplies(db: PrismaClient, options: RecoveryOptions = {}): Promise<string[]> {
  const now = options.now ?? new Date();
  const leaseMs = options.leaseMs ?? DEFAULT_APPLY_LEASE_MS;
  const log = options.log ?? (() => undefined);
  const stale = await db.clusterChangeSet.findMany({
    where: { status: "applying", updatedAt: { lt: new Date(now.getTime() - leaseMs) } },
    select: { id: true, clusterId: true, reviewItemId: true, rollbackOfId: true, plan: true, applied: true, startedAt: true, createdAt: true, updatedAt: true },
    orderBy: { updatedAt: "asc" },
  });
  const actor = systemCampaignActor("apply recovery").actor;
  const recovered: string[] = [];
  for (const set of stale) {
    const planned = set.plan as unknown as PlannedChanges;
    const recorded = set.applied as unknown as AppliedChange[];
    const changes = planned.plan.changes;
    let states: { state: ChangeState; live?: ClusterObject }[];
    let unreadable = "";
    try {
      states = await changeStates(await remediationKubeConfig(db, set.clusterId), planned);
    } catch (error) {
      states = changes.map(() => ({ state: "unknown" }));
      unreadable = ` The cluster could not be read to see which changes are in effect (${error instanceof Error ? error.message : String(error)}).`;
    }
    // Changes land in order, so one found in effect right after the recorded ones is this apply's, unrecorded
    // because the process stopped before storing it: it joins the applied list, so a rollback undoes it too.
    const applied = [...recorded];
    for (let index = recorded.length; index < changes.length && states[index].state === "inEffect"; index++) {
      const change = changes[index];
      applied.push({ change, result: change.op === "delete" ? null : (states[index].live ?? null) });
    }
    const inEffect = states.filter(({ state }) => state === "inEffect").length;
    const started = set.startedAt ?? set.createdAt;
    const next = set.rollbackOfId ? "run the rollback again to complete it" : "retry to carry out the rest";
    const failure: ChangeSetFailure = {
      reason: "interrupted",
      message:
        `The apply started ${started.toISOString()} stopped without finishing: no progress for ${minutes(now.getTime() - set.updatedAt.getTime())} (the process carrying it out stopped). ` +
        (unreadable ? `${applied.length} of ${changes.length} changes were recorded as applied.${unreadable}` : `${inEffect} of ${changes.length} planned changes are in effect on the cluster; ${next}.`),
      changes: changes.map((change, index) => ({ index, ...summarizeChange(change), state: states[index].state })),
    };
    const claimed = await db.$transaction(async (tx) => {
      const claim = await tx.clusterChangeSet.updateMany({
        where: { id: set.id, status: "applying", updatedAt: set.updatedAt },
        data: { status: "failed", failure: asInputJson(failure), applied: asInputJson(applied), appliedAt: applied.length > 0 ? now : null },
      });
      if (claim.count !== 1) return false;
      if (set.reviewItemId && !set.rollbackOfId) {
        await tx.reviewItem.updateMany({ where: { id: set.reviewItemId, status: "applying" }, data: { status: "failed" } });
      }
      return true;
    });
    if (!claimed) continue;
    await recordAudit(db, {
      actor,
      action: set.rollbackOfId ? "campaign.change.rollback" : "campaign.decision.apply",
      // Where the apply or rollback itself would have recorded its outcome.
      target: set.rollbackOfId
        ? { type: "clusterChangeSet", id: set.rollbackOfId }
        : set.reviewItemId
          ? { type: "reviewItem", id: set.reviewItemId }
          : { type: "clusterChangeSet", id: set.id },
      outcome: "failure",
      details: asInputJson({ changeSetId: set.id, clusterId: set.clusterId, applied: applied.length, planned: changes.length, failure }) as Prisma.InputJsonObject,
    });
    if (applied.length > 0) await resyncCluster(set.clusterId);
    log(`change set ${set.id}: interrupted apply marked failed (${inEffect} of ${changes.length} changes in effect)`);
    recovered.push(set.id);
  }
  return recovered;
}
