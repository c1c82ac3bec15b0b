// Carries a remediation plan out on a cluster, safely: reads the live state it is planned from, previews every
// change with server-side dry run, applies them with resourceVersion/uid preconditions (a concurrent change is a
// conflict, never overwritten), keeps what each object was before so it can be rolled back, and verifies the
// outcome with SubjectAccessReviews. Stops at the first failure and reports exactly what was applied.
import {
  AuthorizationV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  type KubeConfig,
  type KubernetesObject,
} from "@kubernetes/client-node";
import type { PolicyIdentity } from "@/lib/permissions/cluster-policy";
import { userInfoForIdentity } from "@/lib/permissions/cluster-policy";
import type { ClusterChange, ClusterObject, AccessCheck, LiveIdentityState } from "@/lib/remediation/plan";
import type { RbacObjects } from "@/lib/rbac";
import { coreApi, listAllPages } from "./client";

/** The cluster's answer to a refused request: its HTTP status and its Status message. */
export interface ClusterRefusal {
  status: number;
  reason: string;
  message: string;
}

export type ChangeOutcome = { ok: true; object: ClusterObject | null } | ({ ok: false } & ClusterRefusal);

export interface AppliedChange {
  change: ClusterChange;
  /** The object as the cluster stored it (null after a delete): what a rollback makes its conditions from. */
  result: ClusterObject | null;
}

export interface ApplyOutcome {
  applied: AppliedChange[];
  /** The change that failed and why; the ones after it were not attempted. */
  failed?: { index: number; refusal: ClusterRefusal };
}

export interface CheckResult extends AccessCheck {
  allowed: boolean;
  reason: string;
  passed: boolean;
}

const DRY_RUN_ALL = "All";

/** The Status a failed Kubernetes call carries, whatever shape the client gave it. */
export function clusterRefusal(error: unknown): ClusterRefusal {
  const apiError = error as { code?: number; body?: unknown; message?: string };
  let body: { message?: string; reason?: string; code?: number } = {};
  if (typeof apiError.body === "string") {
    try {
      body = JSON.parse(apiError.body) as typeof body;
    } catch {
      body = { message: apiError.body };
    }
  } else if (apiError.body && typeof apiError.body === "object") {
    body = apiError.body as typeof body;
  }
  return {
    status: apiError.code ?? body.code ?? 0,
    reason: body.reason ?? (apiError.code ? "Failure" : "Unreachable"),
    message: body.message ?? apiError.message ?? String(error),
  };
}

function withoutServerFields(object: ClusterObject): ClusterObject {
  const { uid: _uid, resourceVersion: _rv, ...metadata } = object.metadata as ClusterObject["metadata"] & Record<string, unknown>;
  for (const field of ["creationTimestamp", "managedFields", "generation", "selfLink", "deletionTimestamp"]) delete metadata[field];
  return { ...object, metadata } as ClusterObject;
}

async function send(api: KubernetesObjectApi, change: ClusterChange, dryRun?: string): Promise<ClusterObject | null> {
  switch (change.op) {
    case "create":
      return (await api.create(withoutServerFields(change.after) as KubernetesObject, undefined, dryRun, "keyward")) as ClusterObject;
    case "replace":
      return (await api.replace(
        { ...change.after, metadata: { ...change.after.metadata, resourceVersion: change.before.metadata.resourceVersion } } as KubernetesObject,
        undefined,
        dryRun,
        "keyward",
      )) as ClusterObject;
    case "delete":
      await api.delete(change.before as KubernetesObject, undefined, dryRun, undefined, undefined, undefined, {
        preconditions: { resourceVersion: change.before.metadata.resourceVersion, uid: change.before.metadata.uid },
      });
      return null;
    case "patch": {
      const { apiVersion, kind, metadata } = change.before;
      const patch = change.patch as { metadata?: Record<string, unknown> };
      // A resourceVersion in a merge patch is a precondition: the server refuses it if the object moved on.
      const body = { ...patch, apiVersion, kind, metadata: { ...patch.metadata, name: metadata.name, namespace: metadata.namespace, resourceVersion: metadata.resourceVersion } };
      return (await api.patch(body as KubernetesObject, undefined, dryRun, "keyward", undefined, PatchStrategy.MergePatch)) as ClusterObject;
    }
  }
}

/** Server-side dry run of every change (`dryRun=All`): what the cluster would answer, nothing persisted. */
export async function dryRunChanges(kc: KubeConfig, changes: readonly ClusterChange[]): Promise<ChangeOutcome[]> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  const outcomes: ChangeOutcome[] = [];
  for (const change of changes) {
    try {
      outcomes.push({ ok: true, object: await send(api, change, DRY_RUN_ALL) });
    } catch (error) {
      outcomes.push({ ok: false, ...clusterRefusal(error) });
    }
  }
  return outcomes;
}

/** Applies the changes in order; the first refusal stops it, and the outcome says what was applied before. */
export async function applyChanges(kc: KubeConfig, changes: readonly ClusterChange[]): Promise<ApplyOutcome> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  const applied: AppliedChange[] = [];
  for (const [index, change] of changes.entries()) {
    try {
      applied.push({ change, result: await send(api, change) });
    } catch (error) {
      return { applied, failed: { index, refusal: clusterRefusal(error) } };
    }
  }
  return { applied };
}

export interface RollbackPlan {
  changes: ClusterChange[];
  /** What no rollback can bring back, and why. */
  irreversible: string[];
}

/** Deleting these revokes credentials for good: recreated, they would be new credentials (new token, new uid). */
const IRREVERSIBLE_DELETES: Record<string, string> = {
  Secret: "its token is revoked for good; a recreated Secret would hold a new token",
  ServiceAccount: "tokens bound to it are revoked for good; a recreated service account would be a new identity (new uid)",
};

/**
 * The changes that undo `applied`, last first: a created object is deleted (if it is still the one Keyward made),
 * a replaced or patched one gets its old content back (if nobody changed it since), a deleted binding or role is
 * created again. Deleted credentials are not brought back.
 */
export function rollbackChangesFor(applied: readonly AppliedChange[]): RollbackPlan {
  const changes: ClusterChange[] = [];
  const irreversible: string[] = [];
  for (const { change, result } of [...applied].reverse()) {
    switch (change.op) {
      case "create":
        changes.push({ op: "delete", before: result ?? change.after, reason: "rollback: remove what the change created" });
        break;
      case "replace":
        changes.push({
          op: "replace",
          before: result ?? change.after,
          after: { ...change.before, metadata: { ...change.before.metadata, resourceVersion: result?.metadata.resourceVersion } },
          reason: "rollback: restore the object as it was",
        });
        break;
      case "patch":
        changes.push({ op: "patch", before: result ?? change.before, patch: reversePatch(change.before, change.patch), reason: "rollback: restore the object as it was" });
        break;
      case "delete": {
        const why = IRREVERSIBLE_DELETES[change.before.kind];
        if (why) irreversible.push(`${change.before.kind} ${change.before.metadata.namespace ? `${change.before.metadata.namespace}/` : ""}${change.before.metadata.name}: ${why}`);
        else changes.push({ op: "create", after: withoutServerFields(change.before), reason: "rollback: recreate what the change deleted" });
        break;
      }
    }
  }
  return { changes, irreversible };
}

/** The merge patch that puts back what `patch` changed in `before` (null removes what it added). */
function reversePatch(before: unknown, patch: Record<string, unknown>): Record<string, unknown> {
  const original = (before ?? {}) as Record<string, unknown>;
  const reverse: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch)) {
    const old = original[key];
    reverse[key] =
      value && typeof value === "object" && !Array.isArray(value) && old && typeof old === "object" && !Array.isArray(old)
        ? reversePatch(old, value as Record<string, unknown>)
        : (old ?? null);
  }
  return reverse;
}

/** Asks the cluster, one SubjectAccessReview per check, whether the identity can do each thing now. */
export async function verifyAccess(kc: KubeConfig, identity: PolicyIdentity, checks: readonly AccessCheck[]): Promise<CheckResult[]> {
  const api = kc.makeApiClient(AuthorizationV1Api);
  const user = userInfoForIdentity(identity);
  const results: CheckResult[] = [];
  for (const check of checks) {
    const attributes = check.attributes;
    const review = await api.createSubjectAccessReview({
      body: {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
          user: user.username || undefined,
          groups: user.groups,
          ...("path" in attributes
            ? { nonResourceAttributes: { verb: attributes.verb, path: attributes.path } }
            : {
                resourceAttributes: {
                  verb: attributes.verb,
                  group: attributes.group,
                  resource: attributes.resource,
                  subresource: attributes.subresource,
                  name: attributes.name,
                  namespace: attributes.namespace || undefined,
                },
              }),
        },
      },
    });
    const allowed = review.status?.allowed === true;
    results.push({ ...check, allowed, reason: review.status?.reason ?? "", passed: allowed === (check.expected === "allowed") });
  }
  return results;
}

function typed<T extends object>(items: T[], apiVersion: string, kind: string): T[] {
  return items.map((item) => ({ ...item, apiVersion, kind }));
}

/** A legacy token Secret as the sync saw it: Keyward's remediation identity may delete Secrets but never read them. */
export interface KnownSecret {
  name: string;
  uid: string | null;
}

/**
 * Reads what a plan for this identity starts from: all RBAC objects and the service account. Legacy token
 * Secrets come from the synced inventory (names and uids; the uid is the delete's precondition).
 */
export async function readLiveIdentityState(kc: KubeConfig, identity: PolicyIdentity, legacyTokens: readonly KnownSecret[] = []): Promise<LiveIdentityState> {
  const rbacApi = kc.makeApiClient(RbacAuthorizationV1Api);
  const [roles, clusterRoles, roleBindings, clusterRoleBindings] = await Promise.all([
    listAllPages((page) => rbacApi.listRoleForAllNamespaces(page)),
    listAllPages((page) => rbacApi.listClusterRole(page)),
    listAllPages((page) => rbacApi.listRoleBindingForAllNamespaces(page)),
    listAllPages((page) => rbacApi.listClusterRoleBinding(page)),
  ]);
  const group = "rbac.authorization.k8s.io/v1";
  const rbac = {
    roles: typed(roles, group, "Role"),
    clusterRoles: typed(clusterRoles, group, "ClusterRole"),
    roleBindings: typed(roleBindings, group, "RoleBinding"),
    clusterRoleBindings: typed(clusterRoleBindings, group, "ClusterRoleBinding"),
  } as unknown as RbacObjects;
  if (identity.kind !== "ServiceAccount") return { rbac, legacyTokenSecrets: [] };

  let serviceAccount: ClusterObject | undefined;
  try {
    serviceAccount = { ...(await coreApi(kc).readNamespacedServiceAccount({ name: identity.name, namespace: identity.namespace })), apiVersion: "v1", kind: "ServiceAccount" } as ClusterObject;
  } catch (error) {
    if (clusterRefusal(error).status !== 404) throw error;
  }
  const legacyTokenSecrets = legacyTokens.map(
    (secret): ClusterObject => ({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: secret.name, namespace: identity.namespace, ...(secret.uid ? { uid: secret.uid } : {}), annotations: { "kubernetes.io/service-account.name": identity.name } },
      type: "kubernetes.io/service-account-token",
    }),
  );
  return { rbac, legacyTokenSecrets, serviceAccount };
}
