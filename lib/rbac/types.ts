// Shapes of the rbac.authorization.k8s.io/v1 objects and of authorization requests, as plain data.
// Optional/nullable fields follow what real manifests contain (`rules: null`, missing `subjects`).

export interface LabelSelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface RbacObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
  resourceVersion?: string;
}

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: "User" | "Group" | "ServiceAccount";
  name: string;
  namespace?: string;
  apiGroup?: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: "Role" | "ClusterRole";
  name: string;
}

export interface Role {
  apiVersion?: string;
  kind?: "Role";
  metadata: RbacObjectMeta;
  rules?: PolicyRule[] | null;
}

export interface ClusterRole {
  apiVersion?: string;
  kind?: "ClusterRole";
  metadata: RbacObjectMeta;
  rules?: PolicyRule[] | null;
  aggregationRule?: { clusterRoleSelectors?: LabelSelector[] } | null;
}

export interface RoleBinding {
  apiVersion?: string;
  kind?: "RoleBinding";
  metadata: RbacObjectMeta;
  subjects?: Subject[] | null;
  roleRef: RoleRef;
}

export interface ClusterRoleBinding {
  apiVersion?: string;
  kind?: "ClusterRoleBinding";
  metadata: RbacObjectMeta;
  subjects?: Subject[] | null;
  roleRef: RoleRef;
}

export interface RbacObjects {
  roles: Role[];
  clusterRoles: ClusterRole[];
  roleBindings: RoleBinding[];
  clusterRoleBindings: ClusterRoleBinding[];
}

export interface UserInfo {
  username: string;
  groups: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

export interface ResourceAttributes {
  verb: string;
  group?: string;
  version?: string;
  resource: string;
  subresource?: string;
  name?: string;
  /** "" or undefined = a cluster-scoped resource, or a request across all namespaces. */
  namespace?: string;
}

export interface NonResourceAttributes {
  verb: string;
  path: string;
}

export type AuthorizationRequest = { user: UserInfo } & (
  { resourceAttributes: ResourceAttributes } | { nonResourceAttributes: NonResourceAttributes }
);

export interface RuleSource {
  binding: { kind: "RoleBinding" | "ClusterRoleBinding"; namespace?: string; name: string };
  role: { kind: "Role" | "ClusterRole"; namespace?: string; name: string };
}

export interface Decision {
  allowed: boolean;
  /**
   * The reason the kube-apiserver's authorizer gives: `RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y"
   * to Group "z"` when allowed; `""` when denied, or `RBAC: <errors>` when bindings that apply to the user
   * point to roles that do not exist. Members of a privileged group get `""` (as from kube-apiserver).
   */
  reason: string;
  source?: RuleSource & { rule: PolicyRule };
  /** Set when the request was allowed because the user is in a privileged group (e.g. system:masters). */
  privilegedGroup?: string;
}

export interface EffectiveRule extends RuleSource {
  rule: PolicyRule;
  /** null = cluster-wide (ClusterRoleBinding); otherwise the RoleBinding's namespace. */
  namespace: string | null;
  viaSubject: Subject;
}

export interface SubjectGrant {
  subject: Subject;
  via: RuleSource[];
}
