// The least-privilege role of an identity: Roles/ClusterRoles and bindings granting exactly the requests its usage
// records, one Role per namespace it worked in and one ClusterRole for cluster-scoped, all-namespace and
// non-resource requests. Always valid RBAC: resourceNames only where Kubernetes honours them for every verb of
// the rule, and only when every request of that verb named one of them.
import { stringify } from "yaml";
import type { PolicyIdentity } from "@/lib/permissions/cluster-policy";
import {
  RBAC_API_GROUP,
  rulesAllow,
  type ClusterRole,
  type ClusterRoleBinding,
  type PolicyRule,
  type Role,
  type RoleBinding,
  type Subject,
} from "@/lib/rbac";
import { recordRequests } from "./grant-usage";
import type { UsageRecord } from "./types";

// The diff against what the identity holds lives beside its matching helpers; callers import both from here.
export { diffGrants, ruleUsedBy } from "./grant-usage";

/** Verbs whose requests always carry the object's name, so a rule for them can be narrowed to names. */
const NAMEABLE_VERBS: ReadonlySet<string> = new Set(["get", "update", "patch", "delete"]);
/** The order kubectl and the built-in roles list verbs in; others follow alphabetically. */
const VERB_ORDER = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"];
const RBAC_API_VERSION = `${RBAC_API_GROUP}/v1`;
const NAME_PREFIX = "keyward-least-privilege-";
const DNS1123_LABEL_MAX = 63;
const MANAGED_BY_LABELS: Readonly<Record<string, string>> = { "app.kubernetes.io/managed-by": "keyward" };

/** One generated rule and where it applies (null = the ClusterRole, bound cluster-wide). */
export interface LeastPrivilegeRule {
  namespace: string | null;
  rule: PolicyRule;
}

export interface LeastPrivilegeRole {
  name: string;
  clusterRoles: ClusterRole[];
  roles: Role[];
  clusterRoleBindings: ClusterRoleBinding[];
  roleBindings: RoleBinding[];
  /** Every object above as multi-document YAML (`kubectl apply -f`); "" when nothing was used. */
  yaml: string;
  /** The ClusterRole's rules first, then each Role's by namespace. */
  rules: LeastPrivilegeRule[];
}

export interface LeastPrivilegeOptions {
  /** Name of every generated object (must be a valid RBAC name); default from the identity. */
  name?: string;
}

/** The used verbs of one apiGroup + resource(/subresource) in one scope, with the names when they can narrow it. */
interface ResourceUse {
  apiGroup: string;
  resource: string;
  /** verb → the names its requests asked for, or null when some request was not narrowable. */
  verbs: Map<string, Set<string> | null>;
}

/** A rule before compaction: one apiGroup, one set of resources. */
interface Grant {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames: string[];
}

function compareVerbs(a: string, b: string): number {
  const rank = (verb: string) => {
    const index = VERB_ORDER.indexOf(verb);
    return index < 0 ? VERB_ORDER.length : index;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** FNV-1a (32-bit): a short, stable suffix that keeps sanitised names of different identities apart. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

/**
 * `keyward-least-privilege-<name>` as a DNS-1123 label. A user whose name survives sanitising keeps it as is; any
 * other identity gets a hash suffix of its kind and full name, because ClusterRoles are cluster-wide: service
 * accounts of one name in two namespaces, a user and a group of one name, or `Bob` and `bob` must not share (and
 * overwrite) one another's generated role.
 */
export function leastPrivilegeName(identity: PolicyIdentity): string {
  const isUser = identity.kind === "User" || identity.kind === "CertificateUser";
  const raw = isUser
    ? identity.username
    : identity.kind === "ServiceAccount"
      ? `${identity.namespace}-${identity.name}`
      : identity.name;
  const sanitised =
    raw
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/-+/g, "-")
      .replace(/^-|-$/g, "") || "identity";
  const room = DNS1123_LABEL_MAX - NAME_PREFIX.length;
  if (isUser && sanitised === raw && raw.length <= room) return NAME_PREFIX + raw;
  const suffix = fnv1a(
    `${identity.kind}\u0000${identity.namespace}\u0000${identity.name}\u0000${identity.username}`,
  );
  const kept = sanitised.slice(0, room - suffix.length - 1).replace(/-$/, "");
  return `${NAME_PREFIX}${kept}-${suffix}`;
}

function subjectFor(identity: PolicyIdentity): Subject {
  switch (identity.kind) {
    case "ServiceAccount":
      return { kind: "ServiceAccount", name: identity.name, namespace: identity.namespace };
    case "Group":
      return { kind: "Group", apiGroup: RBAC_API_GROUP, name: identity.name };
    case "User":
    case "CertificateUser":
      return { kind: "User", apiGroup: RBAC_API_GROUP, name: identity.username };
  }
}

/** Merges grants that differ in one dimension only, so the result grants exactly the union of the inputs. */
function mergeAlong(grants: Grant[], field: "resources" | "apiGroups"): Grant[] {
  const merged = new Map<string, Grant>();
  for (const grant of grants) {
    const { [field]: values, ...rest } = grant;
    const key = JSON.stringify(rest);
    const existing = merged.get(key);
    if (existing) existing[field] = [...new Set([...existing[field], ...values])].sort(byText);
    else merged.set(key, { ...grant, [field]: [...values].sort(byText) });
  }
  return [...merged.values()];
}

function toRule(grant: Grant): PolicyRule {
  return {
    apiGroups: grant.apiGroups,
    resources: grant.resources,
    ...(grant.resourceNames.length > 0 ? { resourceNames: grant.resourceNames } : {}),
    verbs: grant.verbs,
  };
}

/**
 * Compact rules granting exactly `uses`: a resource's unnamed verbs in one rule, its named verbs grouped by
 * identical name sets (so `get a,b` and `delete a` do not become `get,delete a,b`); then resources with the same
 * verbs and names share a rule, and apiGroups with the same resources, verbs and names too.
 */
function resourceRules(uses: Iterable<ResourceUse>): PolicyRule[] {
  const grants: Grant[] = [];
  for (const use of uses) {
    const unnamed: string[] = [];
    const byNames = new Map<string, { names: string[]; verbs: string[] }>();
    for (const [verb, names] of use.verbs) {
      if (names === null) {
        unnamed.push(verb);
        continue;
      }
      const sorted = [...names].sort(byText);
      const key = JSON.stringify(sorted);
      const group = byNames.get(key);
      if (group) group.verbs.push(verb);
      else byNames.set(key, { names: sorted, verbs: [verb] });
    }
    const base = { apiGroups: [use.apiGroup], resources: [use.resource] };
    if (unnamed.length > 0) grants.push({ ...base, verbs: unnamed.sort(compareVerbs), resourceNames: [] });
    for (const { names, verbs } of byNames.values()) {
      grants.push({ ...base, verbs: verbs.sort(compareVerbs), resourceNames: names });
    }
  }
  return mergeAlong(mergeAlong(grants, "resources"), "apiGroups")
    .sort(
      (a, b) =>
        byText(a.apiGroups.join(","), b.apiGroups.join(",")) ||
        byText(a.resources.join(","), b.resources.join(",")) ||
        a.resourceNames.length - b.resourceNames.length ||
        byText(a.resourceNames.join(","), b.resourceNames.join(",")) ||
        byText(a.verbs.join(","), b.verbs.join(",")),
    )
    .map(toRule);
}

/** One rule per set of verbs, listing every path used with exactly those verbs. */
function nonResourceRules(verbsByPath: Map<string, Set<string>>): PolicyRule[] {
  const pathsByVerbs = new Map<string, { verbs: string[]; paths: string[] }>();
  for (const [path, verbSet] of verbsByPath) {
    const verbs = [...verbSet].sort(compareVerbs);
    const key = verbs.join(",");
    const entry = pathsByVerbs.get(key);
    if (entry) entry.paths.push(path);
    else pathsByVerbs.set(key, { verbs, paths: [path] });
  }
  return [...pathsByVerbs.values()]
    .map(({ verbs, paths }) => ({ nonResourceURLs: paths.sort(byText), verbs }))
    .sort((a, b) => byText(a.nonResourceURLs.join(","), b.nonResourceURLs.join(",")));
}

/** Adds a record's requests to the uses of its scope. */
function addUse(uses: Map<string, ResourceUse>, record: UsageRecord): void {
  const resource = record.subresource ? `${record.resource}/${record.subresource}` : record.resource;
  const key = `${record.apiGroup}\u0000${resource}`;
  let use = uses.get(key);
  if (!use) {
    use = { apiGroup: record.apiGroup, resource, verbs: new Map() };
    uses.set(key, use);
  }
  const names = recordRequests(record).requests.map((request) =>
    "name" in request ? (request.name ?? "") : "",
  );
  const narrowable = NAMEABLE_VERBS.has(record.verb) && names.length > 0 && names.every(Boolean);
  const previous = use.verbs.get(record.verb);
  if (!narrowable || previous === null) use.verbs.set(record.verb, null);
  else use.verbs.set(record.verb, new Set([...(previous ?? []), ...names]));
}

function metadata(name: string, namespace?: string) {
  return { name, ...(namespace !== undefined ? { namespace } : {}), labels: { ...MANAGED_BY_LABELS } };
}

export function generateLeastPrivilege(
  identity: PolicyIdentity,
  records: readonly UsageRecord[],
  options: LeastPrivilegeOptions = {},
): LeastPrivilegeRole {
  const name = options.name ?? leastPrivilegeName(identity);
  const subject = subjectFor(identity);

  // Records without a namespace, and non-resource paths, can only be granted cluster-wide.
  const clusterUses = new Map<string, ResourceUse>();
  const verbsByPath = new Map<string, Set<string>>();
  const namespaced: UsageRecord[] = [];
  for (const record of records) {
    if (record.path) {
      const verbs = verbsByPath.get(record.path) ?? new Set<string>();
      verbsByPath.set(record.path, verbs.add(record.verb));
    } else if (!record.resource) {
      continue; // neither a resource nor a path: nothing RBAC could grant
    } else if (!record.namespace) {
      addUse(clusterUses, record);
    } else {
      namespaced.push(record);
    }
  }
  const clusterRules = [...resourceRules(clusterUses.values()), ...nonResourceRules(verbsByPath)];

  // A ClusterRoleBinding applies in every namespace: requests its rules already allow need no Role.
  const usesByNamespace = new Map<string, Map<string, ResourceUse>>();
  for (const record of namespaced) {
    if (recordRequests(record).requests.every((attrs) => rulesAllow(clusterRules, attrs))) continue;
    const uses = usesByNamespace.get(record.namespace) ?? new Map<string, ResourceUse>();
    usesByNamespace.set(record.namespace, uses);
    addUse(uses, record);
  }

  const roleRef = (kind: "Role" | "ClusterRole") => ({ apiGroup: RBAC_API_GROUP, kind, name });
  const clusterRoles: ClusterRole[] = [];
  const clusterRoleBindings: ClusterRoleBinding[] = [];
  const rules: LeastPrivilegeRule[] = [];
  if (clusterRules.length > 0) {
    clusterRoles.push({
      apiVersion: RBAC_API_VERSION,
      kind: "ClusterRole",
      metadata: metadata(name),
      rules: clusterRules,
    });
    clusterRoleBindings.push({
      apiVersion: RBAC_API_VERSION,
      kind: "ClusterRoleBinding",
      metadata: metadata(name),
      roleRef: roleRef("ClusterRole"),
      subjects: [subject],
    });
    rules.push(...clusterRules.map((rule) => ({ namespace: null, rule })));
  }
  const roles: Role[] = [];
  const roleBindings: RoleBinding[] = [];
  for (const namespace of [...usesByNamespace.keys()].sort(byText)) {
    const namespaceRules = resourceRules(usesByNamespace.get(namespace)!.values());
    roles.push({
      apiVersion: RBAC_API_VERSION,
      kind: "Role",
      metadata: metadata(name, namespace),
      rules: namespaceRules,
    });
    roleBindings.push({
      apiVersion: RBAC_API_VERSION,
      kind: "RoleBinding",
      metadata: metadata(name, namespace),
      roleRef: roleRef("Role"),
      subjects: [subject],
    });
    rules.push(...namespaceRules.map((rule) => ({ namespace, rule })));
  }

  // Roles before their bindings, so `kubectl apply -f` never binds a role that does not exist yet.
  const documents = [...clusterRoles, ...roles, ...clusterRoleBindings, ...roleBindings];
  const yaml = documents.map((document) => stringify(document)).join("---\n");
  return { name, clusterRoles, roles, clusterRoleBindings, roleBindings, yaml, rules };
}
