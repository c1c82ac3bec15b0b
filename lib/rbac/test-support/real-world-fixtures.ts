// Loads the real-world RBAC manifests in shared/fixtures (beside the repository clone) for tests.
import fs from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import type { ClusterRole, ClusterRoleBinding, RbacObjects, Role, RoleBinding } from "../types";

const REPOSITORY_ROOT = path.resolve(import.meta.dirname, "../../..");
export const REAL_WORLD_RBAC_DIR = path.resolve(REPOSITORY_ROOT, "../shared/fixtures/real-world/rbac");

export const BOOTSTRAP_POLICY_FILES = [
  "kubernetes-bootstrap-cluster-roles.yaml",
  "kubernetes-bootstrap-cluster-role-bindings.yaml",
  "kubernetes-bootstrap-namespace-roles.yaml",
  "kubernetes-bootstrap-namespace-role-bindings.yaml",
];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function hasMetadataName(document: Record<string, unknown>): document is Record<string, unknown> & {
  metadata: { name: string; namespace?: string };
} {
  return isRecord(document.metadata) && typeof document.metadata.name === "string";
}

export function emptyRbacObjects(): RbacObjects {
  return { roles: [], clusterRoles: [], roleBindings: [], clusterRoleBindings: [] };
}

/**
 * The RBAC objects of the given fixture files, in file order. As the fixtures' README asks, namespaced objects
 * without a namespace get the add-on's name (the file name without `.yaml`).
 */
export function loadRealWorldRbac(...fileNames: string[]): RbacObjects {
  const objects = emptyRbacObjects();
  for (const fileName of fileNames) {
    const text = fs.readFileSync(path.join(REAL_WORLD_RBAC_DIR, fileName), "utf8");
    const addOnNamespace = fileName.replace(/\.ya?ml$/, "");
    for (const document of parseAllDocuments(text)) {
      if (document.errors.length > 0) throw new Error(`${fileName}: ${document.errors[0].message}`);
      const object: unknown = document.toJS();
      if (!isRecord(object) || !hasMetadataName(object)) continue;
      const namespaced = () => ({
        ...object,
        metadata: { ...object.metadata, namespace: object.metadata.namespace ?? addOnNamespace },
      });
      switch (object.kind) {
        case "Role":
          objects.roles.push(namespaced() as unknown as Role);
          break;
        case "RoleBinding":
          objects.roleBindings.push(namespaced() as unknown as RoleBinding);
          break;
        case "ClusterRole":
          objects.clusterRoles.push(object as unknown as ClusterRole);
          break;
        case "ClusterRoleBinding":
          objects.clusterRoleBindings.push(object as unknown as ClusterRoleBinding);
          break;
      }
    }
  }
  return objects;
}

export function mergeRbacObjects(...parts: RbacObjects[]): RbacObjects {
  return {
    roles: parts.flatMap((part) => part.roles),
    clusterRoles: parts.flatMap((part) => part.clusterRoles),
    roleBindings: parts.flatMap((part) => part.roleBindings),
    clusterRoleBindings: parts.flatMap((part) => part.clusterRoleBindings),
  };
}
