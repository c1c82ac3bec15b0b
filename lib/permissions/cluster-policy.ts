// One cluster's RBAC policy, rebuilt from the live RbacRole/RbacBinding rows with the same authorizer the
// simulator uses (lib/rbac), so Keyward's answers are the Kubernetes authorizer's answers.
import {
  RbacAuthorizer,
  SYSTEM_AUTHENTICATED,
  aggregateClusterRoles,
  serviceAccountUsername,
  serviceAccountGroups,
  type ClusterRole,
  type ClusterRoleBinding,
  type Decision,
  type EffectiveRule,
  type LabelSelector,
  type NonResourceAttributes,
  type PolicyRule,
  type RbacObjects,
  type ResourceAttributes,
  type Role,
  type RoleBinding,
  type RoleRef,
  type Subject,
  type SubjectGrant,
  type UserInfo,
} from "@/lib/rbac";
import type { IdentityKind, PrismaClient, RbacBinding, RbacRole } from "@/lib/db";

/** What the policy needs to know of an identity to find the bindings that apply to it. */
export interface PolicyIdentity {
  kind: IdentityKind;
  namespace: string;
  name: string;
  username: string;
  groups: readonly string[];
}

export type RoleRow = Pick<RbacRole, "kind" | "namespace" | "name" | "labels" | "rules" | "aggregationRule">;
export type BindingRow = Pick<
  RbacBinding,
  "kind" | "namespace" | "name" | "labels" | "roleRefKind" | "roleRefName" | "subjects"
>;

export interface ClusterPolicy {
  readonly authorizer: RbacAuthorizer;
  /** Every rule the identity holds, with the binding and role it comes from and its scope (null = cluster-wide). */
  effectiveRules(identity: PolicyIdentity): EffectiveRule[];
  authorize(identity: PolicyIdentity, attrs: ResourceAttributes | NonResourceAttributes): Decision;
  /** The subjects of the bindings that grant `attrs` (no namespace = cluster-wide grants only), like `kubectl who-can`. */
  whoCan(attrs: ResourceAttributes): SubjectGrant[];
}

function jsonArray<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

function jsonRecord(value: unknown): Record<string, string> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, string>)
    : {};
}

/** The Kubernetes objects the rows were synced from (only the fields RBAC evaluation reads). */
export function rbacObjectsFromRows(roles: readonly RoleRow[], bindings: readonly BindingRow[]): RbacObjects {
  const objects: RbacObjects = { roles: [], clusterRoles: [], roleBindings: [], clusterRoleBindings: [] };
  for (const row of roles) {
    const metadata = { name: row.name, labels: jsonRecord(row.labels) };
    const rules = jsonArray<PolicyRule>(row.rules);
    if (row.kind === "Role") {
      objects.roles.push({ metadata: { ...metadata, namespace: row.namespace }, rules } satisfies Role);
    } else {
      const aggregation = row.aggregationRule as { clusterRoleSelectors?: LabelSelector[] } | null;
      objects.clusterRoles.push({ metadata, rules, aggregationRule: aggregation ?? undefined } satisfies ClusterRole);
    }
  }
  for (const row of bindings) {
    const roleRef: RoleRef = { apiGroup: "rbac.authorization.k8s.io", kind: row.roleRefKind, name: row.roleRefName };
    const subjects = jsonArray<Subject>(row.subjects);
    if (row.kind === "RoleBinding") {
      objects.roleBindings.push({
        metadata: { name: row.name, namespace: row.namespace, labels: jsonRecord(row.labels) },
        roleRef,
        subjects,
      } satisfies RoleBinding);
    } else {
      objects.clusterRoleBindings.push({
        metadata: { name: row.name, labels: jsonRecord(row.labels) },
        roleRef,
        subjects,
      } satisfies ClusterRoleBinding);
    }
  }
  return objects;
}

/**
 * The user the API server authenticates the identity as. A Group identity is the group alone: its username can
 * match no User subject (an empty name is not a valid subject).
 */
export function userInfoForIdentity(identity: PolicyIdentity): UserInfo {
  switch (identity.kind) {
    case "ServiceAccount":
      return {
        username: serviceAccountUsername(identity.namespace, identity.name),
        groups: [...serviceAccountGroups(identity.namespace), SYSTEM_AUTHENTICATED],
      };
    case "CertificateUser":
      return { username: identity.username, groups: [...new Set([...identity.groups, SYSTEM_AUTHENTICATED])] };
    case "User":
      return { username: identity.username, groups: [SYSTEM_AUTHENTICATED] };
    case "Group":
      return { username: "", groups: [identity.name] };
  }
}

export function buildClusterPolicy(roles: readonly RoleRow[], bindings: readonly BindingRow[]): ClusterPolicy {
  const objects = rbacObjectsFromRows(roles, bindings);
  // Stored rules may predate the aggregation controller's last pass: recompute the union as it would converge.
  objects.clusterRoles = aggregateClusterRoles(objects.clusterRoles);
  const authorizer = new RbacAuthorizer(objects);
  return {
    authorizer,
    effectiveRules: (identity) => authorizer.effectiveRules(userInfoForIdentity(identity)),
    authorize: (identity, attrs) => {
      const user = userInfoForIdentity(identity);
      return authorizer.authorize(
        "path" in attrs && !("resource" in attrs)
          ? { user, nonResourceAttributes: attrs }
          : { user, resourceAttributes: attrs as ResourceAttributes },
      );
    },
    whoCan: (attrs) => authorizer.subjectsWhoCan(attrs),
  };
}

export async function loadClusterRbacRows(
  db: PrismaClient,
  clusterId: string,
): Promise<{ roles: RoleRow[]; bindings: BindingRow[] }> {
  const [roles, bindings] = await Promise.all([
    db.rbacRole.findMany({
      where: { clusterId, deletedAt: null },
      select: { kind: true, namespace: true, name: true, labels: true, rules: true, aggregationRule: true },
      orderBy: [{ kind: "asc" }, { namespace: "asc" }, { name: "asc" }],
    }),
    db.rbacBinding.findMany({
      where: { clusterId, deletedAt: null },
      select: {
        kind: true,
        namespace: true,
        name: true,
        labels: true,
        roleRefKind: true,
        roleRefName: true,
        subjects: true,
      },
      orderBy: [{ kind: "asc" }, { namespace: "asc" }, { name: "asc" }],
    }),
  ]);
  return { roles, bindings };
}

export async function loadClusterPolicy(db: PrismaClient, clusterId: string): Promise<ClusterPolicy> {
  const { roles, bindings } = await loadClusterRbacRows(db, clusterId);
  return buildClusterPolicy(roles, bindings);
}
