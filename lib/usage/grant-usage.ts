// Which granted rules an identity's usage actually exercised: the "rules kept / rules removed" half of the
// least-privilege view, and what the unused-permission finding reads. Matching is lib/rbac's, not a second copy.
import {
  ruleAllows,
  type EffectiveRule,
  type NonResourceAttributes,
  type PolicyRule,
  type ResourceAttributes,
} from "@/lib/rbac";
import type { UsageRecord } from "./types";

/** The authorization requests a record stands for, as the API server's authorizer saw them. */
export interface RecordRequests {
  requests: Array<ResourceAttributes | NonResourceAttributes>;
  /** Some requests named objects that are not listed (names were capped): any name may have been asked for. */
  namesUnknown: boolean;
}

export function recordRequests(record: UsageRecord): RecordRequests {
  if (record.path) return { requests: [{ verb: record.verb, path: record.path }], namesUnknown: false };
  const base: ResourceAttributes = {
    verb: record.verb,
    group: record.apiGroup,
    resource: record.resource,
    subresource: record.subresource,
    namespace: record.namespace,
  };
  // A create is authorized before its body is read: objectRef.name (filled in from the response) was not part of
  // the request RBAC saw. Subresource creates (pods/eviction, serviceaccounts/token) name their parent in the URL.
  if (record.verb === "create" && !record.subresource) {
    return { requests: [{ ...base, name: "" }], namesUnknown: false };
  }
  const named = record.resourceNames.map((name) => ({ ...base, name }));
  if (record.resourceNamesComplete && named.length > 0) return { requests: named, namesUnknown: false };
  // Incomplete: some requests named no object (list, deletecollection…) or their names were capped.
  return { requests: [...named, { ...base, name: "" }], namesUnknown: record.resourceNames.length > 0 };
}

/** A RoleBinding's rule (namespace set) only ever applies to resource requests in its namespace. */
function inScope(record: UsageRecord, namespace: string | null): boolean {
  return namespace === null || (!record.path && record.namespace === namespace);
}

/**
 * Whether some request of `records` falls under `rule` granted in `namespace` (null = cluster-wide). When names
 * were capped the unlisted ones may match a rule's resourceNames: such a rule counts as used rather than be
 * reported removable on a guess.
 */
export function ruleUsedBy(
  rule: PolicyRule,
  namespace: string | null,
  records: readonly UsageRecord[],
): boolean {
  const unnamed: PolicyRule = { ...rule, resourceNames: undefined };
  return records.some((record) => {
    if (!inScope(record, namespace)) return false;
    const { requests, namesUnknown } = recordRequests(record);
    return requests.some((attrs) => ruleAllows(namesUnknown ? unnamed : rule, attrs));
  });
}

/** Splits what an identity holds into the rules its usage exercised and those it never did. */
export function diffGrants(
  effectiveRules: readonly EffectiveRule[],
  records: readonly UsageRecord[],
): { kept: EffectiveRule[]; removed: EffectiveRule[] } {
  const kept: EffectiveRule[] = [];
  const removed: EffectiveRule[] = [];
  for (const effective of effectiveRules) {
    (ruleUsedBy(effective.rule, effective.namespace, records) ? kept : removed).push(effective);
  }
  return { kept, removed };
}
