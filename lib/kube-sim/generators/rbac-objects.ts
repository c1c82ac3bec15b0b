import type { ClusterRole, ClusterRoleBinding, RbacObjects, Role, RoleBinding } from "@/lib/rbac";
import type { KubeObject } from "../types";

/** The RBAC objects among `objects`, in the shape lib/rbac's authorizer and aggregation take. */
export function rbacObjectsOf(objects: KubeObject[]): RbacObjects {
  const ofKind = <T>(kind: string) =>
    objects.filter((object) => object.kind === kind && object.apiVersion.startsWith("rbac.authorization.k8s.io/")) as unknown as T[];
  return {
    roles: ofKind<Role>("Role"),
    clusterRoles: ofKind<ClusterRole>("ClusterRole"),
    roleBindings: ofKind<RoleBinding>("RoleBinding"),
    clusterRoleBindings: ofKind<ClusterRoleBinding>("ClusterRoleBinding"),
  };
}
