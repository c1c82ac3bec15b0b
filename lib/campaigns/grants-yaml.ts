// A shrink's grants as the reviewer edits them: multi-document YAML (what `kubectl apply -f` takes and what the
// least-privilege generator writes), read back into the grants a preview accepts. Only RBAC kinds are accepted.
import "server-only";
import { parseAllDocuments } from "yaml";
import type { Grants } from "@/lib/remediation/plan";
import { grantsSchema, InvalidGrantsError } from "./apply-decision";

const LIST_OF_KIND = {
  Role: "roles",
  ClusterRole: "clusterRoles",
  RoleBinding: "roleBindings",
  ClusterRoleBinding: "clusterRoleBindings",
} as const;

/** The grants in `text`; throws InvalidGrantsError saying which document is wrong and why. */
export function parseGrantsYaml(text: string): Grants {
  const lists: Record<(typeof LIST_OF_KIND)[keyof typeof LIST_OF_KIND], unknown[]> = {
    roles: [],
    clusterRoles: [],
    roleBindings: [],
    clusterRoleBindings: [],
  };
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents)) throw new InvalidGrantsError("The grants are not YAML documents.");
  documents.forEach((document, index) => {
    const [error] = document.errors;
    if (error) throw new InvalidGrantsError(`Document ${index + 1} is not valid YAML: ${error.message}`);
    const object: unknown = document.toJS();
    // An empty document (a trailing `---`) holds nothing.
    if (object === null || object === undefined) return;
    const kind =
      typeof object === "object" && !Array.isArray(object) ? (object as { kind?: unknown }).kind : undefined;
    const list =
      typeof kind === "string" && Object.hasOwn(LIST_OF_KIND, kind)
        ? LIST_OF_KIND[kind as keyof typeof LIST_OF_KIND]
        : undefined;
    if (!list)
      throw new InvalidGrantsError(
        `Document ${index + 1} must be a Role, ClusterRole, RoleBinding or ClusterRoleBinding.`,
      );
    lists[list].push(object);
  });
  return grantsFromJson(lists);
}

/** Grants from plain JSON (the YAML above, or as a change set stored them); throws InvalidGrantsError. */
export function grantsFromJson(value: { clusterRoles?: unknown; clusterRoleBindings?: unknown }): Grants {
  const parsed = grantsSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidGrantsError(
      `The grants are not valid RBAC objects: ${issue.path.join(".")}: ${issue.message}`,
    );
  }
  return parsed.data as Grants;
}
