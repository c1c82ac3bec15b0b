// What kube-controller-manager's clusterrole-aggregation controller converges to
// (pkg/controller/clusterroleaggregation): an aggregated ClusterRole's rules become the deduplicated union of the
// rules of the ClusterRoles its selectors select, selector by selector, selected roles sorted by name.
import { labelSelectorError, labelSelectorMatches } from "./label-selector";
import type { ClusterRole, PolicyRule } from "./types";

const RULE_LIST_FIELDS = ["verbs", "apiGroups", "resources", "resourceNames", "nonResourceURLs"] as const;

function stringListsEqual(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const left = a ?? [];
  const right = b ?? [];
  return left.length === right.length && left.every((value, index) => value === right[index]);
}

/** equality.Semantic.DeepEqual on PolicyRules: order matters, a missing list equals an empty one. */
export function policyRuleEqual(a: PolicyRule, b: PolicyRule): boolean {
  return RULE_LIST_FIELDS.every((field) => stringListsEqual(a[field], b[field]));
}

export function policyRulesEqual(
  a: readonly PolicyRule[] | null | undefined,
  b: readonly PolicyRule[] | null | undefined,
): boolean {
  const left = a ?? [];
  const right = b ?? [];
  return left.length === right.length && left.every((rule, index) => policyRuleEqual(rule, right[index]));
}

/** Whether aggregation changed a ClusterRole's rules (i.e. the controller would write it). */
export function clusterRoleRulesChanged(before: ClusterRole, after: ClusterRole): boolean {
  return !policyRulesEqual(before.rules, after.rules);
}

function clonePolicyRule(rule: PolicyRule): PolicyRule {
  const copy: PolicyRule = { verbs: [...rule.verbs] };
  for (const field of RULE_LIST_FIELDS) {
    const values = rule[field];
    if (field !== "verbs" && values !== undefined) copy[field] = [...values];
  }
  return copy;
}

function byName(a: ClusterRole, b: ClusterRole): number {
  const left = a.metadata.name;
  const right = b.metadata.name;
  return left < right ? -1 : left > right ? 1 : 0;
}

/** One controller sync of `role` against the current rules of every ClusterRole; null if a selector is invalid. */
function aggregatedRules(role: ClusterRole, current: readonly ClusterRole[]): PolicyRule[] | null {
  const selectors = role.aggregationRule?.clusterRoleSelectors ?? [];
  if (selectors.some((selector) => labelSelectorError(selector) !== null)) return null;
  const union: PolicyRule[] = [];
  for (const selector of selectors) {
    const selected = current
      .filter((candidate) => labelSelectorMatches(selector, candidate.metadata.labels))
      .sort(byName);
    for (const candidate of selected) {
      if (candidate.metadata.name === role.metadata.name) continue;
      for (const rule of candidate.rules ?? []) {
        if (!union.some((existing) => policyRuleEqual(existing, rule))) union.push(clonePolicyRule(rule));
      }
    }
  }
  return union;
}

/**
 * Returns the ClusterRoles as the aggregation controller leaves them: every ClusterRole with an aggregationRule is
 * a new object whose rules are the union described above (aggregated roles that select other aggregated roles,
 * like admin → edit → view, are resolved to the fixed point the controller reaches); a role whose selectors are
 * invalid keeps its rules (the controller fails to sync it). ClusterRoles without an aggregationRule are returned
 * as the same objects.
 */
export function aggregateClusterRoles(clusterRoles: ClusterRole[]): ClusterRole[] {
  const current = clusterRoles.map((role) =>
    role.aggregationRule
      ? { ...role, rules: role.rules ? role.rules.map(clonePolicyRule) : role.rules }
      : role,
  );
  const aggregatedInSyncOrder = current.filter((role) => role.aggregationRule).sort(byName);
  // Each pass syncs every aggregated role once against the others' current rules, as the controller's queue does;
  // a chain of N aggregated roles settles within N passes (the cap only guards against selector cycles).
  for (let pass = 0; pass <= aggregatedInSyncOrder.length; pass++) {
    let changed = false;
    for (const role of aggregatedInSyncOrder) {
      const rules = aggregatedRules(role, current);
      if (rules === null || policyRulesEqual(rules, role.rules)) continue;
      role.rules = rules;
      changed = true;
    }
    if (!changed) break;
  }
  return current;
}
