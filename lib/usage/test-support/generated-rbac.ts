// Test support: what the API server would enforce after `kubectl apply -f` of a generated least-privilege YAML.
import { parseAllDocuments } from "yaml";
import {
  RbacAuthorizer,
  isNonResourceAttributes,
  type NonResourceAttributes,
  type RbacObjects,
  type ResourceAttributes,
  type UserInfo,
} from "@/lib/rbac";

/** The RBAC objects of a multi-document YAML, rejecting anything a generated role should not contain. */
export function rbacObjectsFromYaml(yaml: string): RbacObjects {
  const objects: RbacObjects = { roles: [], clusterRoles: [], roleBindings: [], clusterRoleBindings: [] };
  for (const document of parseAllDocuments(yaml)) {
    if (document.errors.length > 0) throw new Error(document.errors[0].message);
    const object = document.toJS() as { apiVersion?: string; kind?: string };
    if (object.apiVersion !== "rbac.authorization.k8s.io/v1")
      throw new Error(`unexpected apiVersion ${object.apiVersion}`);
    switch (object.kind) {
      case "Role":
        objects.roles.push(object as RbacObjects["roles"][number]);
        break;
      case "ClusterRole":
        objects.clusterRoles.push(object as RbacObjects["clusterRoles"][number]);
        break;
      case "RoleBinding":
        objects.roleBindings.push(object as RbacObjects["roleBindings"][number]);
        break;
      case "ClusterRoleBinding":
        objects.clusterRoleBindings.push(object as RbacObjects["clusterRoleBindings"][number]);
        break;
      default:
        throw new Error(`unexpected kind ${object.kind}`);
    }
  }
  return objects;
}

/** Allows or denies a request of `user` under the generated YAML alone. */
export function yamlAuthorizer(yaml: string, user: UserInfo) {
  const authorizer = new RbacAuthorizer(rbacObjectsFromYaml(yaml));
  return (attrs: ResourceAttributes | NonResourceAttributes): boolean =>
    authorizer.authorize(
      isNonResourceAttributes(attrs)
        ? { user, nonResourceAttributes: attrs }
        : { user, resourceAttributes: attrs },
    ).allowed;
}
