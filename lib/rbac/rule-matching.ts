// Request-to-rule matching, as in pkg/apis/rbac/v1/evaluation_helpers.go and RuleAllows in the RBAC authorizer.
import type { NonResourceAttributes, PolicyRule, ResourceAttributes } from "./types";

export const VERB_ALL = "*";
export const API_GROUP_ALL = "*";
export const RESOURCE_ALL = "*";
export const NON_RESOURCE_ALL = "*";

export function isNonResourceAttributes(
  attrs: ResourceAttributes | NonResourceAttributes,
): attrs is NonResourceAttributes {
  return "path" in attrs && !("resource" in attrs);
}

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((ruleVerb) => ruleVerb === VERB_ALL || ruleVerb === verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((ruleGroup) => ruleGroup === API_GROUP_ALL || ruleGroup === group);
}

/** `combinedResource` is `resource` or `resource/subresource`; `*\/subresource` matches any resource's subresource. */
export function resourceMatches(rule: PolicyRule, combinedResource: string, subresource: string): boolean {
  return (rule.resources ?? []).some(
    (ruleResource) =>
      ruleResource === RESOURCE_ALL ||
      ruleResource === combinedResource ||
      (subresource.length > 0 && ruleResource === `*/${subresource}`),
  );
}

/** No resourceNames = every name; otherwise the request must name one of them (a request without a name does not). */
export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  return (rule.nonResourceURLs ?? []).some((ruleURL) => nonResourceURLCovers(ruleURL, path));
}

/** Exact match, or a trailing `*` matching any path with that prefix (`*` alone matches every path). */
export function nonResourceURLCovers(ruleURL: string, path: string): boolean {
  if (ruleURL === path) return true;
  return ruleURL.endsWith("*") && path.startsWith(ruleURL.replace(/\*+$/, ""));
}

export function combinedResourceName(attrs: Pick<ResourceAttributes, "resource" | "subresource">): string {
  return attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
}

export function ruleAllows(rule: PolicyRule, attrs: ResourceAttributes | NonResourceAttributes): boolean {
  if (isNonResourceAttributes(attrs)) {
    return verbMatches(rule, attrs.verb) && nonResourceURLMatches(rule, attrs.path);
  }
  const subresource = attrs.subresource ?? "";
  return (
    verbMatches(rule, attrs.verb) &&
    apiGroupMatches(rule, attrs.group ?? "") &&
    resourceMatches(rule, combinedResourceName(attrs), subresource) &&
    resourceNameMatches(rule, attrs.name ?? "")
  );
}

export function rulesAllow(
  rules: readonly PolicyRule[],
  attrs: ResourceAttributes | NonResourceAttributes,
): boolean {
  return rules.some((rule) => ruleAllows(rule, attrs));
}
