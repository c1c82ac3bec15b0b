import type { KubeObject } from "./types";

/** How a field selector reads one field of an object (Kubernetes supports a few per kind). */
type FieldReader = (obj: KubeObject) => string | undefined;

export interface ResourceType {
  group: string;
  version: string;
  /** Plural resource name, as in the URL. */
  resource: string;
  kind: string;
  singularName: string;
  namespaced: boolean;
  shortNames: string[];
  verbs: string[];
  subresources: string[];
  /** Extra field selectors besides metadata.name / metadata.namespace. */
  fieldSelectors: Record<string, FieldReader>;
  /** Review resources: only `create` is served and nothing is stored. */
  virtual?: boolean;
  categories?: string[];
}

const crudVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

function nested(obj: KubeObject, path: string[]): string | undefined {
  let current: unknown = obj;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  if (current === undefined || current === null) return undefined;
  return String(current);
}

function stored(
  group: string,
  resource: string,
  kind: string,
  namespaced: boolean,
  shortNames: string[],
  extra: Partial<ResourceType> = {},
): ResourceType {
  return {
    group,
    version: "v1",
    resource,
    kind,
    singularName: kind.toLowerCase(),
    namespaced,
    shortNames,
    verbs: crudVerbs,
    subresources: [],
    fieldSelectors: {},
    ...extra,
  };
}

function review(group: string, resource: string, kind: string, namespaced = false): ResourceType {
  return stored(group, resource, kind, namespaced, [], { verbs: ["create"], virtual: true });
}

export const RESOURCE_TYPES: ResourceType[] = [
  stored("", "namespaces", "Namespace", false, ["ns"], {
    subresources: ["status", "finalize"],
    fieldSelectors: { "status.phase": (o) => nested(o, ["status", "phase"]) },
    verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
  }),
  stored("", "serviceaccounts", "ServiceAccount", true, ["sa"], { subresources: ["token"] }),
  stored("", "secrets", "Secret", true, [], { fieldSelectors: { type: (o) => nested(o, ["type"]) } }),
  stored("", "pods", "Pod", true, ["po"], {
    subresources: ["status"],
    categories: ["all"],
    fieldSelectors: {
      "spec.serviceAccountName": (o) => nested(o, ["spec", "serviceAccountName"]),
      "spec.nodeName": (o) => nested(o, ["spec", "nodeName"]) ?? "",
      "spec.restartPolicy": (o) => nested(o, ["spec", "restartPolicy"]),
      "spec.schedulerName": (o) => nested(o, ["spec", "schedulerName"]),
      "status.phase": (o) => nested(o, ["status", "phase"]),
      "status.podIP": (o) => nested(o, ["status", "podIP"]),
    },
  }),
  stored("rbac.authorization.k8s.io", "roles", "Role", true, []),
  stored("rbac.authorization.k8s.io", "clusterroles", "ClusterRole", false, []),
  stored("rbac.authorization.k8s.io", "rolebindings", "RoleBinding", true, []),
  stored("rbac.authorization.k8s.io", "clusterrolebindings", "ClusterRoleBinding", false, []),
  stored("certificates.k8s.io", "certificatesigningrequests", "CertificateSigningRequest", false, ["csr"], {
    subresources: ["approval", "status"],
    fieldSelectors: { "spec.signerName": (o) => nested(o, ["spec", "signerName"]) },
  }),
  review("authorization.k8s.io", "subjectaccessreviews", "SubjectAccessReview"),
  review("authorization.k8s.io", "selfsubjectaccessreviews", "SelfSubjectAccessReview"),
  review("authorization.k8s.io", "selfsubjectrulesreviews", "SelfSubjectRulesReview"),
  review("authorization.k8s.io", "localsubjectaccessreviews", "LocalSubjectAccessReview", true),
  review("authentication.k8s.io", "selfsubjectreviews", "SelfSubjectReview"),
  review("authentication.k8s.io", "tokenreviews", "TokenReview"),
];

export function resourceKey(group: string, resource: string): string {
  return `${group}/${resource}`;
}

const byKey = new Map(RESOURCE_TYPES.map((t) => [resourceKey(t.group, t.resource), t]));
const byKind = new Map(RESOURCE_TYPES.map((t) => [`${groupVersion(t)}/${t.kind}`, t]));

export function groupVersion(type: { group: string; version: string }): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

export function findResource(group: string, version: string, resource: string): ResourceType | undefined {
  const type = byKey.get(resourceKey(group, resource));
  return type && type.version === version ? type : undefined;
}

export function findKind(apiVersion: string, kind: string): ResourceType | undefined {
  return byKind.get(`${apiVersion}/${kind}`);
}

/** Qualified resource as Kubernetes prints it in messages: `roles.rbac.authorization.k8s.io`. */
export function qualifiedResource(type: { group: string; resource: string }): string {
  return type.group ? `${type.resource}.${type.group}` : type.resource;
}

/** Qualified kind as Kubernetes prints it in validation messages: `RoleBinding.rbac.authorization.k8s.io`. */
export function qualifiedKind(type: ResourceType): string {
  return type.group ? `${type.kind}.${type.group}` : type.kind;
}

export function groupVersions(): Array<{ group: string; version: string }> {
  const seen = new Map<string, { group: string; version: string }>();
  for (const t of RESOURCE_TYPES) seen.set(groupVersion(t), { group: t.group, version: t.version });
  return [...seen.values()];
}
