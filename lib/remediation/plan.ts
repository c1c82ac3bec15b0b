// Plans a review decision as the exact changes to a cluster's objects, from the live objects (with their
// resourceVersions, which become preconditions), plus the access checks that prove afterwards that it took effect.
// Pure: the cluster is read and written by lib/k8s/cluster-changes.ts.
import { userInfoForIdentity, type PolicyIdentity } from "@/lib/permissions/cluster-policy";
import {
  RBAC_API_GROUP,
  RbacAuthorizer,
  SYSTEM_AUTHENTICATED,
  SYSTEM_MASTERS,
  SYSTEM_SERVICE_ACCOUNTS,
  SYSTEM_UNAUTHENTICATED,
  SERVICE_ACCOUNT_GROUP_PREFIX,
  breakdownRule,
  subjectAppliesTo,
  type ClusterRole,
  type ClusterRoleBinding,
  type EffectiveRule,
  type NonResourceAttributes,
  type PolicyRule,
  type RbacObjects,
  type ResourceAttributes,
  type Role,
  type RoleBinding,
  type UserInfo,
} from "@/lib/rbac";

export const REVIEWED_AT_ANNOTATION = "keyward.io/last-reviewed";
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
/** Beyond this many, access checks are sampled: the note says so. */
const MAX_CHECKS = 200;

export interface ClusterObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/** One write to the cluster. `before` carries the resourceVersion the write is conditional on. */
export type ClusterChange =
  | { op: "create"; after: ClusterObject; reason: string }
  | { op: "replace"; before: ClusterObject; after: ClusterObject; reason: string }
  | { op: "delete"; before: ClusterObject; reason: string }
  /** A JSON merge patch, conditional on before's resourceVersion (for identities Keyward may patch but not update). */
  | { op: "patch"; before: ClusterObject; patch: Record<string, unknown>; reason: string };

export interface AccessCheck {
  attributes: ResourceAttributes | NonResourceAttributes;
  /** What the cluster must answer once the plan is applied. */
  expected: "allowed" | "denied";
  because: "removed" | "kept" | "still-granted";
}

export type Decision = "approve" | "shrink" | "revoke";

export interface RemediationPlan {
  decision: Decision;
  changes: ClusterChange[];
  checks: AccessCheck[];
  /** What the reviewer must know: access Kubernetes cannot take away here, and why. */
  notes: string[];
}

/** The identity's part of the cluster as it is now. */
export interface LiveIdentityState {
  rbac: RbacObjects;
  /** The service account's legacy token Secrets. */
  legacyTokenSecrets: ClusterObject[];
  serviceAccount?: ClusterObject;
  /** A certificate user's certificate expiry, when known (Kubernetes cannot revoke the certificate). */
  certificateExpiresAt?: Date;
}

/** Groups whose bindings are shared by everyone in them: Keyward never edits them for one identity. */
function isSharedGroup(group: string): boolean {
  return (
    group === SYSTEM_AUTHENTICATED ||
    group === SYSTEM_UNAUTHENTICATED ||
    group === SYSTEM_MASTERS ||
    group === SYSTEM_SERVICE_ACCOUNTS ||
    group.startsWith(SERVICE_ACCOUNT_GROUP_PREFIX)
  );
}

/** The names that are the identity's own: its username and, for certificate users and groups, its own groups. */
function ownNames(identity: PolicyIdentity): UserInfo {
  const user = userInfoForIdentity(identity);
  const ownGroups = identity.kind === "CertificateUser" || identity.kind === "Group" ? user.groups.filter((g) => !isSharedGroup(g)) : [];
  return { username: user.username, groups: ownGroups };
}

function bindingObject(binding: RoleBinding | ClusterRoleBinding, kind: "RoleBinding" | "ClusterRoleBinding"): ClusterObject {
  return { apiVersion: `${RBAC_API_GROUP}/v1`, ...binding, kind } as ClusterObject;
}

function roleObject(role: Role | ClusterRole, kind: "Role" | "ClusterRole"): ClusterObject {
  return { apiVersion: `${RBAC_API_GROUP}/v1`, ...role, kind } as ClusterObject;
}

/** Removes the identity's own subjects from every binding: a binding left with no subject is deleted. */
function subjectRemovals(identity: PolicyIdentity, rbac: RbacObjects, skip: ReadonlySet<string>): ClusterChange[] {
  const own = ownNames(identity);
  const changes: ClusterChange[] = [];
  const visit = (binding: RoleBinding | ClusterRoleBinding, kind: "RoleBinding" | "ClusterRoleBinding") => {
    const namespace = binding.metadata.namespace ?? "";
    if (skip.has(objectKey(kind, namespace, binding.metadata.name))) return;
    const subjects = binding.subjects ?? [];
    const kept = subjects.filter((subject) => !subjectAppliesTo(subject, namespace, own));
    if (kept.length === subjects.length) return;
    const before = bindingObject(binding, kind);
    if (kept.length === 0) {
      changes.push({ op: "delete", before, reason: `${kind} ${describe(namespace, binding.metadata.name)} has no other subject` });
    } else {
      changes.push({
        op: "replace",
        before,
        after: { ...before, subjects: kept },
        reason: `remove the subject from ${kind} ${describe(namespace, binding.metadata.name)}; its ${kept.length} other subject(s) keep their access`,
      });
    }
  };
  for (const binding of rbac.clusterRoleBindings) visit(binding, "ClusterRoleBinding");
  for (const binding of rbac.roleBindings) visit(binding, "RoleBinding");
  return changes;
}

function describe(namespace: string, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

function objectKey(kind: string, namespace: string, name: string): string {
  return `${kind}\u0000${namespace}\u0000${name}`;
}

function keyOf(object: ClusterObject): string {
  return objectKey(object.kind, object.metadata.namespace ?? "", object.metadata.name);
}

/** Every object, as a typed cluster object: roles first, then the bindings that refer to them. */
function rbacObjectList(rbac: RbacObjects): ClusterObject[] {
  return [
    ...rbac.clusterRoles.map((r) => roleObject(r, "ClusterRole")),
    ...rbac.roles.map((r) => roleObject(r, "Role")),
    ...rbac.clusterRoleBindings.map((b) => bindingObject(b, "ClusterRoleBinding")),
    ...rbac.roleBindings.map((b) => bindingObject(b, "RoleBinding")),
  ];
}

/** The RBAC objects as they will be once `changes` are applied. */
export function applyChangesToRbac(rbac: RbacObjects, changes: readonly ClusterChange[]): RbacObjects {
  const byKind: Record<string, keyof RbacObjects> = {
    Role: "roles",
    ClusterRole: "clusterRoles",
    RoleBinding: "roleBindings",
    ClusterRoleBinding: "clusterRoleBindings",
  };
  const next: Record<keyof RbacObjects, ClusterObject[]> = { roles: [], clusterRoles: [], roleBindings: [], clusterRoleBindings: [] };
  for (const object of rbacObjectList(rbac)) next[byKind[object.kind]].push(object);
  for (const change of changes) {
    // Patches only annotate: they change no grant.
    if (change.op === "patch") continue;
    const object = change.op === "delete" ? change.before : change.after;
    const list = byKind[object.kind];
    if (!list) continue;
    const key = keyOf(object);
    const rest = next[list].filter((o) => keyOf(o) !== key);
    next[list] = change.op === "delete" ? rest : [...rest, change.after];
  }
  return next as unknown as RbacObjects;
}

function attributesOf(subrule: PolicyRule, namespace: string | null): ResourceAttributes | NonResourceAttributes {
  const [path] = subrule.nonResourceURLs ?? [];
  if (path !== undefined) return { verb: subrule.verbs[0], path };
  const [resource, subresource] = (subrule.resources?.[0] ?? "").split("/", 2);
  return {
    verb: subrule.verbs[0],
    group: subrule.apiGroups?.[0] ?? "",
    resource,
    ...(subresource ? { subresource } : {}),
    ...(subrule.resourceNames?.[0] ? { name: subrule.resourceNames[0] } : {}),
    namespace: namespace ?? "",
  };
}

function checkKey(attributes: ResourceAttributes | NonResourceAttributes): string {
  return JSON.stringify(attributes);
}

/**
 * The checks that prove the outcome: every atomic permission the changed bindings granted must be denied
 * afterwards (or, when another grant keeps it, allowed and said so), and every permission meant to stay, allowed.
 */
function accessChecks(
  identity: PolicyIdentity,
  before: RbacObjects,
  after: RbacObjects,
  changedBindings: ReadonlySet<string>,
  keep: readonly EffectiveRule[],
  notes: string[],
): AccessCheck[] {
  const user = userInfoForIdentity(identity);
  const afterAuthorizer = new RbacAuthorizer(after);
  const checks = new Map<string, AccessCheck>();
  const stillGranted = new Set<string>();
  const add = (rule: EffectiveRule, because: "removed" | "kept") => {
    for (const subrule of breakdownRule(rule.rule)) {
      const attributes = attributesOf(subrule, rule.namespace);
      const key = checkKey(attributes);
      if (checks.has(key)) continue;
      const decision = afterAuthorizer.authorize(
        "path" in attributes ? { user, nonResourceAttributes: attributes } : { user, resourceAttributes: attributes },
      );
      if (because === "removed" && decision.allowed) {
        checks.set(key, { attributes, expected: "allowed", because: "still-granted" });
        stillGranted.add(decision.privilegedGroup ? `membership of ${decision.privilegedGroup}` : decision.reason.replace(/^RBAC: allowed by /, ""));
      } else {
        checks.set(key, { attributes, expected: because === "removed" ? "denied" : "allowed", because });
      }
    }
  };
  for (const rule of keep) add(rule, "kept");
  for (const rule of new RbacAuthorizer(before).effectiveRules(user)) {
    const binding = rule.binding;
    if (changedBindings.has(objectKey(binding.kind, binding.namespace ?? "", binding.name))) add(rule, "removed");
  }
  for (const grant of stillGranted) notes.push(`Still granted after the change, through ${grant}: Keyward does not edit bindings shared by a whole group.`);
  const all = [...checks.values()];
  if (all.length > MAX_CHECKS) {
    notes.push(`${all.length} permissions change; ${MAX_CHECKS} of them are verified.`);
    const removed = all.filter((c) => c.because !== "kept");
    const kept = all.filter((c) => c.because === "kept");
    return [...removed.slice(0, MAX_CHECKS - Math.min(kept.length, MAX_CHECKS / 2)), ...kept.slice(0, MAX_CHECKS / 2)].slice(0, MAX_CHECKS);
  }
  return all;
}

function certificateNotes(identity: PolicyIdentity, live: LiveIdentityState): string[] {
  const notes: string[] = [];
  if (identity.kind === "CertificateUser") {
    const until = live.certificateExpiresAt ? ` until ${live.certificateExpiresAt.toISOString().slice(0, 10)}` : "";
    notes.push(
      `Kubernetes cannot revoke a client certificate: it still authenticates${until}. Keyward removes every grant to its username and its own groups.`,
    );
  }
  if (identity.groups.includes(SYSTEM_MASTERS)) {
    notes.push("Member of system:masters, which bypasses RBAC: no binding change can restrict it; rotate the cluster CA or let the certificate expire.");
  }
  return notes;
}

function changedBindingKeys(changes: readonly ClusterChange[]): Set<string> {
  const keys = new Set<string>();
  for (const change of changes) {
    const object = change.op === "create" ? change.after : change.before;
    if (object.kind === "RoleBinding" || object.kind === "ClusterRoleBinding") keys.add(keyOf(object));
  }
  return keys;
}

export interface RevokeOptions {
  deleteServiceAccount?: boolean;
}

/** Revoke: the identity's subjects leave every binding, its legacy token Secrets go, and optionally the SA. */
export function planRevoke(identity: PolicyIdentity, live: LiveIdentityState, options: RevokeOptions = {}): RemediationPlan {
  const changes = subjectRemovals(identity, live.rbac, new Set());
  for (const secret of live.legacyTokenSecrets) {
    changes.push({ op: "delete", before: secret, reason: "legacy long-lived token of the service account" });
  }
  if (options.deleteServiceAccount && live.serviceAccount) {
    changes.push({ op: "delete", before: live.serviceAccount, reason: "service account deleted on revoke" });
  }
  const notes = certificateNotes(identity, live);
  const after = applyChangesToRbac(live.rbac, changes);
  const checks = accessChecks(identity, live.rbac, after, changedBindingKeys(changes), [], notes);
  return { decision: "revoke", changes, checks, notes };
}

/** Grants to put in place of the current ones (by default the least-privilege role generated from usage). */
export type Grants = RbacObjects;

function sameContent(a: ClusterObject, b: ClusterObject): boolean {
  const strip = ({ metadata, ...rest }: ClusterObject) => ({ ...rest, labels: metadata.labels ?? {}, kind: a.kind });
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

/** Creates (or brings up to date) the grants, unless the cluster already holds them exactly. */
function grantChanges(grants: Grants, live: RbacObjects): ClusterChange[] {
  const existing = new Map(rbacObjectList(live).map((object) => [keyOf(object), object]));
  // Roles before the bindings that refer to them.
  const wanted = rbacObjectList(grants);
  const changes: ClusterChange[] = [];
  for (const object of wanted) {
    const found = existing.get(keyOf(object));
    if (!found) changes.push({ op: "create", after: object, reason: `grant exactly what was used (${object.kind})` });
    else if (!sameContent(found, object)) {
      changes.push({
        op: "replace",
        before: found,
        after: { ...object, metadata: { ...object.metadata, resourceVersion: found.metadata.resourceVersion } },
        reason: `bring ${object.kind} ${describe(object.metadata.namespace ?? "", object.metadata.name)} to the reviewed grants`,
      });
    }
  }
  return changes;
}

/**
 * Shrink: roleRef is immutable, so the smaller grants come as new roles and bindings, created first (no gap in
 * access), then the identity leaves every other binding.
 */
export function planShrink(identity: PolicyIdentity, live: LiveIdentityState, grants: Grants): RemediationPlan {
  const create = grantChanges(grants, live.rbac);
  const own = new Set<string>([
    ...grants.roleBindings.map((b) => objectKey("RoleBinding", b.metadata.namespace ?? "", b.metadata.name)),
    ...grants.clusterRoleBindings.map((b) => objectKey("ClusterRoleBinding", "", b.metadata.name)),
  ]);
  const removals = subjectRemovals(identity, live.rbac, own);
  const changes = [...create, ...removals];
  const notes = certificateNotes(identity, live).filter((note) => !note.startsWith("Kubernetes cannot revoke"));
  const after = applyChangesToRbac(live.rbac, changes);
  const keep = new RbacAuthorizer(applyChangesToRbac(grants, [])).effectiveRules(userInfoForIdentity(identity));
  const checks = accessChecks(identity, live.rbac, after, changedBindingKeys(removals), keep, notes);
  return { decision: "shrink", changes, checks, notes };
}

/** Approve: access stays; a service account is marked with the review date where the remediation identity may. */
export function planApprove(identity: PolicyIdentity, live: LiveIdentityState, reviewedAt: Date): RemediationPlan {
  const changes: ClusterChange[] = [];
  const sa = live.serviceAccount;
  if (identity.kind === "ServiceAccount" && sa) {
    changes.push({
      op: "patch",
      before: sa,
      patch: { metadata: { annotations: { [REVIEWED_AT_ANNOTATION]: reviewedAt.toISOString() } } },
      reason: "record the review date on the service account",
    });
  }
  return { decision: "approve", changes, checks: [], notes: [] };
}
