// Escalation prevention: does one set of rules cover another? As in
// k8s.io/component-helpers/auth/rbac/validation/policy_comparator.go (Covers, BreakdownRule).
import { API_GROUP_ALL, RESOURCE_ALL, VERB_ALL, nonResourceURLCovers } from "./rule-matching";
import type { PolicyRule } from "./types";

/** Splits a rule into rules of one apiGroup, resource, verb and (if any) resourceName; or one nonResourceURL and verb. */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const subrules: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs) {
        const names = rule.resourceNames ?? [];
        if (names.length > 0) {
          for (const resourceName of names) {
            subrules.push({
              apiGroups: [group],
              resources: [resource],
              verbs: [verb],
              resourceNames: [resourceName],
            });
          }
        } else {
          subrules.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
        }
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? []) {
    for (const verb of rule.verbs) subrules.push({ nonResourceURLs: [url], verbs: [verb] });
  }
  return subrules;
}

function hasAll(set: readonly string[], wanted: readonly string[]): boolean {
  const owned = new Set(set);
  return wanted.every((element) => owned.has(element));
}

function resourcesCoverAll(owner: readonly string[], wanted: readonly string[]): boolean {
  if (owner.includes(RESOURCE_ALL) || hasAll(owner, wanted)) return true;
  return wanted.every((path) => {
    if (owner.includes(path)) return true;
    const slash = path.indexOf("/");
    // Only `*/subresource` widens coverage; `resource/*` is not a wildcard in RBAC.
    return slash >= 0 && owner.includes(`*/${path.slice(slash + 1)}`);
  });
}

function nonResourceURLsCoverAll(owner: readonly string[], wanted: readonly string[]): boolean {
  return wanted.every((path) => owner.some((ownerPath) => nonResourceURLCovers(ownerPath, path)));
}

/** Whether ownerRule covers a subrule (at most one verb, group, resource, name, URL each). */
export function ruleCovers(ownerRule: PolicyRule, subrule: PolicyRule): boolean {
  const ownerNames = ownerRule.resourceNames ?? [];
  const subNames = subrule.resourceNames ?? [];
  const resourceNamesMatch = ownerNames.length === 0 || (subNames.length > 0 && hasAll(ownerNames, subNames));
  return (
    (ownerRule.verbs.includes(VERB_ALL) || hasAll(ownerRule.verbs, subrule.verbs)) &&
    ((ownerRule.apiGroups ?? []).includes(API_GROUP_ALL) ||
      hasAll(ownerRule.apiGroups ?? [], subrule.apiGroups ?? [])) &&
    resourcesCoverAll(ownerRule.resources ?? [], subrule.resources ?? []) &&
    resourceNamesMatch &&
    nonResourceURLsCoverAll(ownerRule.nonResourceURLs ?? [], subrule.nonResourceURLs ?? [])
  );
}

/** The broken-down parts of servantRules that no owner rule covers; empty when ownerRules cover them all. */
export function uncoveredSubrules(
  ownerRules: readonly PolicyRule[],
  servantRules: readonly PolicyRule[],
): PolicyRule[] {
  return servantRules
    .flatMap(breakdownRule)
    .filter((subrule) => !ownerRules.some((ownerRule) => ruleCovers(ownerRule, subrule)));
}
