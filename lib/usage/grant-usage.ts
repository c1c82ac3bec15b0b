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

/** A record with its requests worked out once, however many rules it is matched against. */
interface PreparedRecord extends RecordRequests {
  record: UsageRecord;
}

/** Records with their requests, indexed by resource: an identity may hold hundreds of rules and use thousands of shapes. */
interface PreparedUsage {
  byResource: Map<string, PreparedRecord[]>;
  resourceRecords: PreparedRecord[];
  pathRecords: PreparedRecord[];
}

function prepare(records: readonly UsageRecord[]): PreparedUsage {
  const usage: PreparedUsage = { byResource: new Map(), resourceRecords: [], pathRecords: [] };
  for (const record of records) {
    const prepared = { record, ...recordRequests(record) };
    if (record.path) {
      usage.pathRecords.push(prepared);
    } else if (record.resource) {
      usage.resourceRecords.push(prepared);
      const same = usage.byResource.get(record.resource);
      if (same) same.push(prepared);
      else usage.byResource.set(record.resource, [prepared]);
    }
    // A record naming neither a resource nor a path stands for no request RBAC could have authorized.
  }
  return usage;
}

/** The records a rule could match at all: those of its resources (every one under a wildcard) and paths. */
function candidates(rule: PolicyRule, usage: PreparedUsage): PreparedRecord[] {
  const found: PreparedRecord[] = (rule.nonResourceURLs ?? []).length > 0 ? [...usage.pathRecords] : [];
  const resources = rule.resources ?? [];
  if (resources.some((resource) => resource.startsWith("*"))) return [...found, ...usage.resourceRecords];
  for (const resource of new Set(resources.map((combined) => combined.split("/")[0]))) {
    found.push(...(usage.byResource.get(resource) ?? []));
  }
  return found;
}

/** A RoleBinding's rule (namespace set) only ever applies to resource requests in its namespace. */
function inScope(record: UsageRecord, namespace: string | null): boolean {
  return namespace === null || (!record.path && record.namespace === namespace);
}

function usedByPrepared(rule: PolicyRule, namespace: string | null, usage: PreparedUsage): boolean {
  const named = (rule.resourceNames ?? []).length > 0;
  const unnamed: PolicyRule = named ? { ...rule, resourceNames: undefined } : rule;
  return candidates(rule, usage).some(({ record, requests, namesUnknown }) => {
    if (!inScope(record, namespace)) return false;
    // Verb, group and resource first: one request of the record answers for all of them, names aside.
    if (!ruleAllows(unnamed, requests[0])) return false;
    return !named || namesUnknown || requests.some((attrs) => ruleAllows(rule, attrs));
  });
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
  return usedByPrepared(rule, namespace, prepare(records));
}

/** Splits what an identity holds into the rules its usage exercised and those it never did. */
export function diffGrants(
  effectiveRules: readonly EffectiveRule[],
  records: readonly UsageRecord[],
): { kept: EffectiveRule[]; removed: EffectiveRule[] } {
  const prepared = prepare(records);
  const kept: EffectiveRule[] = [];
  const removed: EffectiveRule[] = [];
  for (const effective of effectiveRules) {
    (usedByPrepared(effective.rule, effective.namespace, prepared) ? kept : removed).push(effective);
  }
  return { kept, removed };
}
