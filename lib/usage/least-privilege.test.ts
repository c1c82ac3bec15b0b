// The generated role must grant what was used and nothing a near miss asks for: checked with the RBAC engine
// against the YAML as `kubectl apply` would load it, for hand-picked cases and for random usage.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { userInfoForIdentity, type PolicyIdentity } from "@/lib/permissions/cluster-policy";
import {
  RbacAuthorizer,
  type NonResourceAttributes,
  type PolicyRule,
  type RbacObjects,
  type ResourceAttributes,
} from "@/lib/rbac";
import { diffGrants, generateLeastPrivilege, leastPrivilegeName, ruleUsedBy } from "./least-privilege";
import { rbacObjectsFromYaml, yamlAuthorizer } from "./test-support/generated-rbac";
import type { UsageRecord } from "./types";

const sa = (namespace: string, name: string): PolicyIdentity => ({
  kind: "ServiceAccount",
  namespace,
  name,
  username: `system:serviceaccount:${namespace}:${name}`,
  groups: [],
});
const user = (username: string): PolicyIdentity => ({
  kind: "User",
  namespace: "",
  name: username,
  username,
  groups: [],
});
const group = (name: string): PolicyIdentity => ({
  kind: "Group",
  namespace: "",
  name,
  username: "",
  groups: [],
});
const certificateUser = (username: string, groups: string[]): PolicyIdentity => ({
  kind: "CertificateUser",
  namespace: "",
  name: username,
  username,
  groups,
});

function used(verb: string, resource: string, namespace = "", extra: Partial<UsageRecord> = {}): UsageRecord {
  const names = extra.resourceNames ?? [];
  return {
    verb,
    apiGroup: "",
    resource,
    subresource: "",
    namespace,
    path: "",
    resourceNames: names,
    resourceNamesComplete: names.length > 0,
    count: 1,
    ...extra,
  };
}
const usedPath = (verb: string, path: string): UsageRecord => used(verb, "", "", { path });

/** The rules of the generated role that applies in `namespace` (null = the ClusterRole). */
function rulesIn(result: ReturnType<typeof generateLeastPrivilege>, namespace: string | null): PolicyRule[] {
  return result.rules.filter((entry) => entry.namespace === namespace).map((entry) => entry.rule);
}

describe("generateLeastPrivilege: rules", () => {
  it("merges verbs per resource and resources with the same verbs, and apiGroups with the same resources", () => {
    const result = generateLeastPrivilege(sa("shop", "api"), [
      used("list", "pods", "shop"),
      used("get", "pods", "shop", { resourceNamesComplete: false }),
      used("watch", "pods", "shop"),
      used("list", "configmaps", "shop"),
      used("watch", "configmaps", "shop"),
      used("get", "configmaps", "shop", { resourceNamesComplete: false }),
      used("list", "secrets", "shop"),
      used("list", "deployments", "shop", { apiGroup: "apps" }),
      used("list", "deployments", "shop", { apiGroup: "extensions" }),
      // The same request on two days: two records, one rule.
      used("list", "secrets", "shop"),
    ]);
    expect(rulesIn(result, "shop")).toEqual([
      { apiGroups: [""], resources: ["configmaps", "pods"], verbs: ["get", "list", "watch"] },
      { apiGroups: [""], resources: ["secrets"], verbs: ["list"] },
      { apiGroups: ["apps", "extensions"], resources: ["deployments"], verbs: ["list"] },
    ]);
    expect(rulesIn(result, null)).toEqual([]);
    expect(result.clusterRoles).toEqual([]);
  });

  it("narrows get/update/patch/delete to names only when every request named one, and splits named from unnamed", () => {
    const result = generateLeastPrivilege(sa("shop", "api"), [
      used("get", "configmaps", "shop", { resourceNames: ["settings", "flags"] }),
      used("update", "configmaps", "shop", { resourceNames: ["flags"] }),
      used("patch", "configmaps", "shop", { resourceNames: ["flags"] }),
      used("list", "configmaps", "shop"),
      // Names capped (or a request without one): the verb cannot be narrowed.
      used("get", "secrets", "shop", { resourceNames: ["a"], resourceNamesComplete: false }),
      // A second record of the same verb that is incomplete makes the verb unnamed as a whole.
      used("delete", "pods", "shop", { resourceNames: ["p1"] }),
      used("delete", "pods", "shop", { resourceNames: ["p2"], resourceNamesComplete: false }),
      used("get", "leases", "shop", { apiGroup: "coordination.k8s.io", resourceNames: ["lock"] }),
      used("update", "leases", "shop", { apiGroup: "coordination.k8s.io", resourceNames: ["lock"] }),
    ]);
    expect(rulesIn(result, "shop")).toEqual([
      { apiGroups: [""], resources: ["configmaps"], verbs: ["list"] },
      { apiGroups: [""], resources: ["configmaps"], resourceNames: ["flags"], verbs: ["update", "patch"] },
      { apiGroups: [""], resources: ["configmaps"], resourceNames: ["flags", "settings"], verbs: ["get"] },
      { apiGroups: [""], resources: ["pods"], verbs: ["delete"] },
      { apiGroups: [""], resources: ["secrets"], verbs: ["get"] },
      {
        apiGroups: ["coordination.k8s.io"],
        resources: ["leases"],
        resourceNames: ["lock"],
        verbs: ["get", "update"],
      },
    ]);
  });

  it("never puts resourceNames on create, list, watch or deletecollection, even when the records carry names", () => {
    const result = generateLeastPrivilege(sa("shop", "api"), [
      used("create", "pods", "shop", { resourceNames: ["web-1"] }),
      used("create", "pods", "shop", { subresource: "eviction", resourceNames: ["web-1"] }),
      used("list", "pods", "shop", { resourceNames: ["web-1"] }),
      used("watch", "pods", "shop", { resourceNames: ["web-1"] }),
      used("deletecollection", "pods", "shop", { resourceNames: ["web-1"] }),
      used("get", "pods", "shop", { resourceNames: ["web-1"] }),
    ]);
    const rules = rulesIn(result, "shop");
    for (const rule of rules) {
      if (rule.resourceNames)
        expect(rule.verbs.every((verb) => ["get", "update", "patch", "delete"].includes(verb))).toBe(true);
    }
    expect(rules).toEqual([
      { apiGroups: [""], resources: ["pods"], verbs: ["list", "watch", "create", "deletecollection"] },
      { apiGroups: [""], resources: ["pods"], resourceNames: ["web-1"], verbs: ["get"] },
      { apiGroups: [""], resources: ["pods/eviction"], verbs: ["create"] },
    ]);
  });

  it("keeps subresources apart from their resource", () => {
    const result = generateLeastPrivilege(user("dev"), [
      used("get", "pods", "shop", { subresource: "log", resourceNames: ["web-1"] }),
      used("create", "pods", "shop", { subresource: "exec", resourceNames: ["web-1"] }),
      used("patch", "deployments", "shop", {
        apiGroup: "apps",
        subresource: "scale",
        resourceNames: ["web"],
      }),
    ]);
    expect(rulesIn(result, "shop")).toEqual([
      { apiGroups: [""], resources: ["pods/exec"], verbs: ["create"] },
      { apiGroups: [""], resources: ["pods/log"], resourceNames: ["web-1"], verbs: ["get"] },
      { apiGroups: ["apps"], resources: ["deployments/scale"], resourceNames: ["web"], verbs: ["patch"] },
    ]);
    const allows = yamlAuthorizer(result.yaml, userInfoForIdentity(user("dev")));
    const logOf = (name: string): ResourceAttributes => ({
      verb: "get",
      resource: "pods",
      subresource: "log",
      namespace: "shop",
      name,
    });
    expect(allows(logOf("web-1"))).toBe(true);
    expect(allows({ verb: "get", resource: "pods", namespace: "shop", name: "web-1" })).toBe(false);
    expect(allows(logOf("web-2"))).toBe(false);
  });

  it("grants non-resource URLs, cluster-scoped resources and cross-namespace requests in the ClusterRole", () => {
    const result = generateLeastPrivilege(sa("monitoring", "prometheus"), [
      usedPath("get", "/metrics"),
      usedPath("get", "/healthz"),
      usedPath("post", "/healthz"),
      used("list", "nodes"),
      used("get", "nodes", "", { subresource: "proxy", resourceNames: ["node-1"] }),
      used("list", "pods"),
      used("watch", "pods"),
      // Covered by the cluster-wide list: no Role for it.
      used("list", "pods", "shop"),
      // Not covered: a Role in its namespace.
      used("get", "pods", "shop", { resourceNames: ["web-1"] }),
    ]);
    expect(rulesIn(result, null)).toEqual([
      { apiGroups: [""], resources: ["nodes"], verbs: ["list"] },
      { apiGroups: [""], resources: ["nodes/proxy"], resourceNames: ["node-1"], verbs: ["get"] },
      { apiGroups: [""], resources: ["pods"], verbs: ["list", "watch"] },
      { nonResourceURLs: ["/healthz"], verbs: ["get", "post"] },
      { nonResourceURLs: ["/metrics"], verbs: ["get"] },
    ]);
    expect(rulesIn(result, "shop")).toEqual([
      { apiGroups: [""], resources: ["pods"], resourceNames: ["web-1"], verbs: ["get"] },
    ]);
    expect(result.roles.map((role) => role.metadata.namespace)).toEqual(["shop"]);
    const allows = yamlAuthorizer(result.yaml, userInfoForIdentity(sa("monitoring", "prometheus")));
    expect(allows({ verb: "list", resource: "pods", namespace: "shop" })).toBe(true);
    expect(allows({ verb: "list", resource: "pods", namespace: "" })).toBe(true);
    expect(allows({ verb: "post", path: "/metrics" })).toBe(false);
    expect(allows({ verb: "get", path: "/version" })).toBe(false);
  });

  it("grants `get namespaces foo` with a Role in foo: RBAC authorizes it with the request's namespace", () => {
    const identity = user("ns-reader");
    // RequestInfo sets the namespace of /api/v1/namespaces/foo to "foo", and the audit objectRef carries it.
    const result = generateLeastPrivilege(identity, [
      used("get", "namespaces", "foo", { resourceNames: ["foo"] }),
    ]);
    expect(result.clusterRoles).toEqual([]);
    expect(rulesIn(result, "foo")).toEqual([
      { apiGroups: [""], resources: ["namespaces"], resourceNames: ["foo"], verbs: ["get"] },
    ]);
    const allows = yamlAuthorizer(result.yaml, userInfoForIdentity(identity));
    expect(allows({ verb: "get", resource: "namespaces", namespace: "foo", name: "foo" })).toBe(true);
    expect(allows({ verb: "get", resource: "namespaces", namespace: "bar", name: "bar" })).toBe(false);
    expect(allows({ verb: "list", resource: "namespaces", namespace: "" })).toBe(false);
  });

  it("grants nothing for nothing used, and skips records that name neither a resource nor a path", () => {
    const result = generateLeastPrivilege(user("idle"), [used("get", "", "shop")]);
    expect(result).toMatchObject({
      clusterRoles: [],
      roles: [],
      clusterRoleBindings: [],
      roleBindings: [],
      rules: [],
      yaml: "",
    });
  });
});

describe("generateLeastPrivilege: objects", () => {
  it("binds each kind of identity as the subject the API server authenticates it as", () => {
    const records = [used("list", "pods", "shop"), used("list", "nodes")];
    const subjects = (identity: PolicyIdentity) => {
      const result = generateLeastPrivilege(identity, records);
      expect(result.clusterRoleBindings[0].subjects).toEqual(result.roleBindings[0].subjects);
      return result.roleBindings[0].subjects;
    };
    expect(subjects(sa("shop", "api"))).toEqual([{ kind: "ServiceAccount", name: "api", namespace: "shop" }]);
    expect(subjects(user("alice@example.com"))).toEqual([
      { kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "alice@example.com" },
    ]);
    expect(subjects(certificateUser("robot", ["ops"]))).toEqual([
      { kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "robot" },
    ]);
    expect(subjects(group("ops"))).toEqual([
      { kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "ops" },
    ]);

    // A Group identity's role lets its members through, and nobody else.
    const allows = yamlAuthorizer(generateLeastPrivilege(group("ops"), records).yaml, {
      username: "carol",
      groups: ["ops", "system:authenticated"],
    });
    expect(allows({ verb: "list", resource: "pods", namespace: "shop" })).toBe(true);
    const outsider = yamlAuthorizer(generateLeastPrivilege(group("ops"), records).yaml, {
      username: "ops",
      groups: ["system:authenticated"],
    });
    expect(outsider({ verb: "list", resource: "pods", namespace: "shop" })).toBe(false);
  });

  it("names every object after the identity as a DNS-1123 label, distinct per identity, with managed-by labels", () => {
    const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
    expect(leastPrivilegeName(user("bob"))).toBe("keyward-least-privilege-bob");
    const names = [
      leastPrivilegeName(user("Bob")),
      leastPrivilegeName(user("bob@example.com")),
      leastPrivilegeName(user("bob-example-com")),
      leastPrivilegeName(group("bob")),
      leastPrivilegeName(sa("shop", "default")),
      leastPrivilegeName(sa("billing", "default")),
      leastPrivilegeName(user(`system:serviceaccount:shop:${"x".repeat(200)}`)),
      leastPrivilegeName(user("system:node:ip-10-0-0-1.ec2.internal")),
      leastPrivilegeName(user("bob")),
      leastPrivilegeName(user("!!!")),
    ];
    for (const name of names) {
      expect(name).toMatch(label);
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name.startsWith("keyward-least-privilege-")).toBe(true);
    }
    expect(new Set(names).size).toBe(names.length);
    expect(leastPrivilegeName(sa("shop", "default"))).toMatch(
      /^keyward-least-privilege-shop-default-[0-9a-f]{8}$/,
    );

    const result = generateLeastPrivilege(sa("shop", "api"), [
      used("list", "pods", "shop"),
      used("list", "nodes"),
    ]);
    const objects = [
      ...result.clusterRoles,
      ...result.roles,
      ...result.clusterRoleBindings,
      ...result.roleBindings,
    ];
    expect(objects).toHaveLength(4);
    for (const object of objects) {
      expect(object.metadata.name).toBe(result.name);
      expect(object.metadata.labels).toEqual({ "app.kubernetes.io/managed-by": "keyward" });
    }
    expect(result.roleBindings[0].roleRef).toEqual({
      apiGroup: "rbac.authorization.k8s.io",
      kind: "Role",
      name: result.name,
    });
    expect(result.clusterRoleBindings[0].roleRef).toEqual({
      apiGroup: "rbac.authorization.k8s.io",
      kind: "ClusterRole",
      name: result.name,
    });
    expect(
      generateLeastPrivilege(sa("shop", "api"), [used("list", "pods", "shop")], { name: "shop-api-slim" })
        .roles[0].metadata.name,
    ).toBe("shop-api-slim");
  });

  it("renders roles before bindings as YAML that loads back into the same objects", () => {
    const result = generateLeastPrivilege(sa("shop", "api"), [
      used("list", "pods", "shop"),
      used("get", "secrets", "billing", { resourceNames: ["stripe"] }),
      usedPath("get", "/healthz"),
    ]);
    const documents = result.yaml.split(/^---\n/m).map((text) => parse(text) as { kind: string });
    expect(documents.map((document) => document.kind)).toEqual([
      "ClusterRole",
      "Role",
      "Role",
      "ClusterRoleBinding",
      "RoleBinding",
      "RoleBinding",
    ]);
    const expected: RbacObjects = {
      roles: result.roles,
      clusterRoles: result.clusterRoles,
      roleBindings: result.roleBindings,
      clusterRoleBindings: result.clusterRoleBindings,
    };
    expect(rbacObjectsFromYaml(result.yaml)).toEqual(expected);
    expect(result.roles.map((role) => role.metadata.namespace)).toEqual(["billing", "shop"]);
    // The same usage in another order renders the same bytes.
    const again = generateLeastPrivilege(sa("shop", "api"), [
      usedPath("get", "/healthz"),
      used("get", "secrets", "billing", { resourceNames: ["stripe"] }),
      used("list", "pods", "shop"),
    ]);
    expect(again.yaml).toBe(result.yaml);
  });
});

// ---- Property check: random usage, every request allowed, every near miss denied ----

const NAMEABLE = ["get", "update", "patch", "delete"];
const VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"];
const RESOURCES: Array<[string, string]> = [
  ["", "pods"],
  ["", "configmaps"],
  ["", "secrets"],
  ["", "namespaces"],
  ["", "nodes"],
  ["apps", "deployments"],
  ["coordination.k8s.io", "leases"],
];
const SUBRESOURCES = ["", "", "", "log", "status"];
const NAMESPACES = ["", "shop", "billing", "kube-system"];
const NAMES = ["a", "b", "c", "d"];
const PATHS = ["/api", "/apis", "/healthz", "/metrics", "/version"];

/** A reproducible stream of numbers in [0, 1) from a seed. */
function seededRandom(seed: string): () => number {
  let counter = 0;
  return () => createHash("sha256").update(`${seed}:${counter++}`).digest().readUInt32BE(0) / 2 ** 32;
}

function randomUsage(random: () => number): { identity: PolicyIdentity; records: UsageRecord[] } {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
  const identity = pick([sa("shop", "api"), user("alice"), certificateUser("robot", ["ops"]), group("ops")]);
  const records: UsageRecord[] = [];
  const count = 1 + Math.floor(random() * 12);
  for (let index = 0; index < count; index++) {
    if (random() < 0.15) {
      records.push(usedPath(pick(["get", "post"]), pick(PATHS)));
      continue;
    }
    const [apiGroup, resource] = pick(RESOURCES);
    const verb = pick(VERBS);
    const names = NAMES.filter(() => random() < 0.4);
    records.push(
      used(verb, resource, pick(NAMESPACES), {
        apiGroup,
        subresource: pick(SUBRESOURCES),
        resourceNames: names,
        resourceNamesComplete: names.length > 0 && random() < 0.7,
        count: 1 + Math.floor(random() * 100),
      }),
    );
  }
  return { identity, records };
}

function requestsOf(record: UsageRecord): Array<ResourceAttributes | NonResourceAttributes> {
  if (record.path) return [{ verb: record.verb, path: record.path }];
  const base = {
    verb: record.verb,
    group: record.apiGroup,
    resource: record.resource,
    subresource: record.subresource,
    namespace: record.namespace,
  };
  const named =
    record.verb === "create" && !record.subresource
      ? []
      : record.resourceNames.map((name) => ({ ...base, name }));
  if (record.resourceNamesComplete && named.length > 0) return named;
  // Incomplete: some requests named nothing, or named objects beyond the cap that are not listed.
  return [...named, { ...base, name: "" }, { ...base, name: "unlisted" }];
}

/**
 * Whether RBAC's granularity forces a role granting `records` to allow `request` too: the same verb on the same
 * resource, granted cluster-wide (a request without a namespace) or in the request's namespace, and either
 * not narrowable to names (another verb than get/update/patch/delete, or names incomplete) or one of its names.
 */
function forcedBy(
  records: readonly UsageRecord[],
  request: ResourceAttributes | NonResourceAttributes,
): boolean {
  if ("path" in request)
    return records.some((record) => record.path === request.path && record.verb === request.verb);
  const same = records.filter(
    (record) =>
      !record.path &&
      record.verb === request.verb &&
      record.apiGroup === request.group &&
      record.resource === request.resource &&
      record.subresource === request.subresource &&
      (record.namespace === "" || record.namespace === request.namespace),
  );
  const unnarrowable = (record: UsageRecord) =>
    !NAMEABLE.includes(record.verb) || !record.resourceNamesComplete || record.resourceNames.length === 0;
  // Names narrow a verb in one scope only when every record of it there named its objects.
  const scopes = new Map<string, UsageRecord[]>();
  for (const record of same) scopes.set(record.namespace, [...(scopes.get(record.namespace) ?? []), record]);
  return [...scopes.values()].some(
    (scoped) =>
      scoped.some(unnarrowable) || scoped.some((record) => record.resourceNames.includes(request.name ?? "")),
  );
}

function nearMisses(record: UsageRecord): Array<ResourceAttributes | NonResourceAttributes> {
  if (record.path) {
    return [
      { verb: record.verb === "get" ? "post" : "get", path: record.path },
      { verb: record.verb, path: `${record.path}/never-used` },
      { verb: record.verb, path: "/never-used" },
    ];
  }
  const [request] = requestsOf(record) as ResourceAttributes[];
  const misses: ResourceAttributes[] = [
    ...VERBS.filter((verb) => verb !== record.verb).map((verb) => ({ ...request, verb })),
    { ...request, resource: "never-used" },
    { ...request, group: "never.used.example.com" },
    { ...request, subresource: record.subresource ? "" : "never-used" },
  ];
  if (record.namespace) misses.push({ ...request, namespace: "never-used" }, { ...request, namespace: "" });
  if (NAMEABLE.includes(record.verb) && record.resourceNamesComplete && record.resourceNames.length > 0) {
    misses.push({ ...request, name: "never-used" }, { ...request, name: "" });
  }
  return misses;
}

describe("generateLeastPrivilege: property", () => {
  it("allows every used request and denies every near miss RBAC granularity does not force, for random usage", () => {
    let checkedDenials = 0;
    for (let run = 0; run < 300; run++) {
      const { identity, records } = randomUsage(seededRandom(`least-privilege-${run}`));
      const result = generateLeastPrivilege(identity, records);
      const allows = yamlAuthorizer(result.yaml, userInfoForIdentity(identity));
      const context = `run ${run}: ${JSON.stringify(records)}\n${result.yaml}`;

      for (const { rule } of result.rules) {
        if (!rule.resourceNames) continue;
        expect(
          rule.verbs.every((verb) => NAMEABLE.includes(verb)),
          context,
        ).toBe(true);
        expect(rule.resourceNames.every(Boolean), context).toBe(true);
      }
      for (const record of records) {
        for (const request of requestsOf(record)) {
          expect(allows(request), `${context}\nused: ${JSON.stringify(request)}`).toBe(true);
        }
        for (const miss of nearMisses(record)) {
          if (forcedBy(records, miss)) continue;
          expect(allows(miss), `${context}\nnear miss: ${JSON.stringify(miss)}`).toBe(false);
          checkedDenials++;
        }
      }
    }
    expect(checkedDenials).toBeGreaterThan(5000);
  });
});

// ---- What the identity holds today vs what it used ----

describe("diffGrants", () => {
  const identity = sa("shop", "api");
  const objects: RbacObjects = {
    clusterRoles: [
      {
        metadata: { name: "reader" },
        rules: [
          { apiGroups: [""], resources: ["pods", "pods/log"], verbs: ["get", "list", "watch"] },
          { apiGroups: ["apps"], resources: ["*"], verbs: ["*"] },
          { nonResourceURLs: ["/healthz", "/metrics"], verbs: ["get"] },
          { nonResourceURLs: ["/debug/*"], verbs: ["get"] },
        ],
      },
      {
        metadata: { name: "config-writer" },
        rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["update"] }],
      },
    ],
    roles: [
      {
        metadata: { name: "secrets", namespace: "shop" },
        rules: [
          { apiGroups: [""], resources: ["secrets"], resourceNames: ["stripe"], verbs: ["get"] },
          { apiGroups: [""], resources: ["secrets"], resourceNames: ["paypal"], verbs: ["get"] },
          { apiGroups: [""], resources: ["events"], verbs: ["create"] },
        ],
      },
    ],
    clusterRoleBindings: [
      {
        metadata: { name: "reader" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "reader" },
        subjects: [{ kind: "ServiceAccount", name: "api", namespace: "shop" }],
      },
    ],
    roleBindings: [
      {
        metadata: { name: "secrets", namespace: "shop" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "secrets" },
        subjects: [{ kind: "ServiceAccount", name: "api" }],
      },
      {
        // A ClusterRole bound in one namespace: its rules count only for requests there.
        metadata: { name: "config-writer", namespace: "billing" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "config-writer" },
        subjects: [{ kind: "ServiceAccount", name: "api", namespace: "shop" }],
      },
    ],
  };
  const effective = new RbacAuthorizer(objects).effectiveRules(userInfoForIdentity(identity));

  it("keeps the rules some used request falls under and removes the others, by scope and name", () => {
    const records = [
      used("list", "pods", "billing"),
      used("get", "secrets", "shop", { resourceNames: ["stripe"] }),
      used("update", "configmaps", "shop", { resourceNames: ["flags"] }),
      usedPath("get", "/debug/pprof/heap"),
      // A create is authorized before its name is known: the name in the audit event matches no resourceNames.
      used("create", "events", "shop", { resourceNames: ["web-1.17a"] }),
    ];
    const { kept, removed } = diffGrants(effective, records);
    const summary = (rules: typeof kept) =>
      rules.map((entry) => `${entry.namespace ?? "*"} ${JSON.stringify(entry.rule)}`).sort();
    expect(summary(kept)).toEqual(
      [
        `* ${JSON.stringify({ apiGroups: [""], resources: ["pods", "pods/log"], verbs: ["get", "list", "watch"] })}`,
        `* ${JSON.stringify({ nonResourceURLs: ["/debug/*"], verbs: ["get"] })}`,
        `shop ${JSON.stringify({ apiGroups: [""], resources: ["secrets"], resourceNames: ["stripe"], verbs: ["get"] })}`,
        `shop ${JSON.stringify({ apiGroups: [""], resources: ["events"], verbs: ["create"] })}`,
      ].sort(),
    );
    expect(summary(removed)).toEqual(
      [
        `* ${JSON.stringify({ apiGroups: ["apps"], resources: ["*"], verbs: ["*"] })}`,
        `* ${JSON.stringify({ nonResourceURLs: ["/healthz", "/metrics"], verbs: ["get"] })}`,
        // configmaps were updated in shop, but this grant applies in billing only.
        `billing ${JSON.stringify({ apiGroups: [""], resources: ["configmaps"], verbs: ["update"] })}`,
        `shop ${JSON.stringify({ apiGroups: [""], resources: ["secrets"], resourceNames: ["paypal"], verbs: ["get"] })}`,
      ].sort(),
    );
    expect(kept.length + removed.length).toBe(effective.length);
    expect(kept[0]).toHaveProperty("binding");
  });

  it("counts a named rule as used when the record's names were capped, since the unlisted ones may match it", () => {
    const paypal: PolicyRule = {
      apiGroups: [""],
      resources: ["secrets"],
      resourceNames: ["paypal"],
      verbs: ["get"],
    };
    const capped = used("get", "secrets", "shop", {
      resourceNames: ["s1", "s2"],
      resourceNamesComplete: false,
    });
    const complete = used("get", "secrets", "shop", { resourceNames: ["s1", "s2"] });
    expect(ruleUsedBy(paypal, "shop", [capped])).toBe(true);
    expect(ruleUsedBy(paypal, "shop", [complete])).toBe(false);
    // A list names nothing: it never falls under a rule narrowed to names.
    expect(ruleUsedBy({ ...paypal, verbs: ["list"] }, "shop", [used("list", "secrets", "shop")])).toBe(false);
    // Subresources and wildcards are matched as RBAC matches them.
    const log = used("get", "pods", "shop", { subresource: "log", resourceNames: ["web-1"] });
    expect(ruleUsedBy({ apiGroups: [""], resources: ["pods/log"], verbs: ["get"] }, "shop", [log])).toBe(
      true,
    );
    expect(ruleUsedBy({ apiGroups: [""], resources: ["pods"], verbs: ["get"] }, "shop", [log])).toBe(false);
    expect(ruleUsedBy({ apiGroups: ["*"], resources: ["*/log"], verbs: ["get"] }, null, [log])).toBe(true);
    expect(ruleUsedBy({ apiGroups: ["*"], resources: ["*/exec"], verbs: ["*"] }, null, [log])).toBe(false);
    // A record naming neither a resource nor a path is no request at all, not even under `*`.
    expect(ruleUsedBy({ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }, null, [used("get", "")])).toBe(
      false,
    );
    // RoleBinding rules never cover cluster-wide or non-resource requests.
    expect(
      ruleUsedBy({ apiGroups: [""], resources: ["nodes"], verbs: ["list"] }, "shop", [used("list", "nodes")]),
    ).toBe(false);
    expect(
      ruleUsedBy({ apiGroups: [""], resources: ["nodes"], verbs: ["list"] }, null, [used("list", "nodes")]),
    ).toBe(true);
  });

  it("keeps every rule of the generated role for the usage it was generated from", () => {
    for (let run = 0; run < 100; run++) {
      const { identity: generatedFor, records } = randomUsage(seededRandom(`diff-${run}`));
      const result = generateLeastPrivilege(generatedFor, records);
      const held = new RbacAuthorizer(rbacObjectsFromYaml(result.yaml)).effectiveRules(
        userInfoForIdentity(generatedFor),
      );
      const { removed } = diffGrants(held, records);
      expect(removed, `run ${run}\n${result.yaml}`).toEqual([]);
    }
  });
});
