// The pieces of kube-apiserver's RBAC escalation prevention (pkg/registry/rbac/escalation_check.go,
// pkg/registry/rbac/validation/rule.go ConfirmNoEscalation, policy_compact.go) that need no cluster state.
import { RBAC_API_GROUP, SYSTEM_MASTERS } from "./identity";
import type { PolicyRule, ResourceAttributes, RoleRef, UserInfo } from "./types";

/** What setting an aggregationRule requires the user to hold: `*` on everything. */
export const FULL_AUTHORITY: readonly PolicyRule[] = [
  { verbs: ["*"], apiGroups: ["*"], resources: ["*"] },
  { verbs: ["*"], nonResourceURLs: ["*"] },
];

export const AGGREGATION_RULE_FORBIDDEN_MESSAGE =
  "must have cluster-admin privileges to use the aggregationRule";

/** kube-apiserver lets members of system:masters create any Role or binding without the escalation check. */
export function escalationAllowed(user: UserInfo): boolean {
  return user.groups.includes(SYSTEM_MASTERS);
}

/**
 * RoleEscalationAuthorized's request: the `escalate` verb on the roles/clusterroles being written. `name` is the
 * request's name: "" on create (a POST to the collection), so `escalate` limited by resourceNames only helps updates.
 */
export function escalateAttributes(
  kind: "Role" | "ClusterRole",
  name: string,
  namespace: string,
): ResourceAttributes {
  return {
    verb: "escalate",
    group: RBAC_API_GROUP,
    version: "*",
    resource: kind === "Role" ? "roles" : "clusterroles",
    name,
    namespace,
  };
}

/** BindingAuthorized's request: the `bind` verb on the referenced role, in the binding's namespace ("" for a ClusterRoleBinding). */
export function bindAttributes(roleRef: RoleRef, bindingNamespace: string): ResourceAttributes | null {
  if (roleRef.kind !== "Role" && roleRef.kind !== "ClusterRole") return null;
  return {
    verb: "bind",
    group: roleRef.apiGroup,
    resource: roleRef.kind === "Role" ? "roles" : "clusterroles",
    name: roleRef.name,
    namespace: bindingNamespace,
  };
}

/** Go's %q of a []string: `["a" "b"]`. */
function goQuotedList(values: readonly string[]): string {
  return `[${values.map((value) => JSON.stringify(value)).join(" ")}]`;
}

/** rbacv1helpers.CompactString: `{APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}`. */
export function compactRuleString(rule: PolicyRule): string {
  const parts: string[] = [];
  if (rule.apiGroups?.length) parts.push(`APIGroups:${goQuotedList(rule.apiGroups)}`);
  if (rule.resources?.length) parts.push(`Resources:${goQuotedList(rule.resources)}`);
  if (rule.nonResourceURLs?.length) parts.push(`NonResourceURLs:${goQuotedList(rule.nonResourceURLs)}`);
  if (rule.resourceNames?.length) parts.push(`ResourceNames:${goQuotedList(rule.resourceNames)}`);
  if (rule.verbs.length) parts.push(`Verbs:${goQuotedList(rule.verbs)}`);
  return `{${parts.join(", ")}}`;
}

/** CompactRules: rules of one apiGroup and one resource (nothing else) merge their verbs; others stay as they are. */
export function compactRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const compacted: PolicyRule[] = [];
  const simpleByGroupResource = new Map<string, PolicyRule>();
  for (const rule of rules) {
    const isSimple =
      !rule.resourceNames?.length &&
      !rule.nonResourceURLs?.length &&
      rule.apiGroups?.length === 1 &&
      rule.resources?.length === 1;
    if (!isSimple) {
      compacted.push(rule);
      continue;
    }
    const key = `${rule.apiGroups?.[0]}\u0000${rule.resources?.[0]}`;
    const existing = simpleByGroupResource.get(key);
    if (existing) existing.verbs.push(...rule.verbs);
    else
      simpleByGroupResource.set(key, {
        apiGroups: [...(rule.apiGroups ?? [])],
        resources: [...(rule.resources ?? [])],
        verbs: [...rule.verbs],
      });
  }
  return [...compacted, ...simpleByGroupResource.values()];
}

/** ConfirmNoEscalation's error text for the rules `user` lacks (the text inside the 403 Forbidden). */
export function escalationErrorMessage(
  user: UserInfo,
  missing: readonly PolicyRule[],
  resolutionError?: string,
): string {
  const lines = [...new Set(compactRules(missing).map(compactRuleString))].sort();
  let message = `user ${JSON.stringify(user.username)} (groups=${goQuotedList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${lines.join("\n")}`;
  if (resolutionError) message += `; resolution errors: [${resolutionError}]`;
  return message;
}
