import { describe, expect, it } from "vitest";
import {
  RbacAuthorizer,
  SYSTEM_AUTHENTICATED,
  SYSTEM_MASTERS,
  escalationAllowed,
  userInfoForServiceAccount,
} from "./index";
import type {
  NonResourceAttributes,
  PolicyRule,
  RbacObjects,
  ResourceAttributes,
  RoleRef,
  Subject,
  UserInfo,
} from "./index";

const getListPods: PolicyRule = { apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] };
const getPodLogs: PolicyRule = { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] };
const getSecrets: PolicyRule = { apiGroups: [""], resources: ["secrets"], verbs: ["get"] };
const readNodes: PolicyRule = { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list"] };
const getMetrics: PolicyRule = { nonResourceURLs: ["/metrics"], verbs: ["get"] };
const getPods: PolicyRule = { apiGroups: [""], resources: ["pods"], verbs: ["get"] };
const getHealthz: PolicyRule = { nonResourceURLs: ["/healthz"], verbs: ["get"] };

const clusterRoleRef = (name: string): RoleRef => ({
  apiGroup: "rbac.authorization.k8s.io",
  kind: "ClusterRole",
  name,
});
const roleRef = (name: string): RoleRef => ({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name });
const user = (name: string): Subject => ({ kind: "User", name, apiGroup: "rbac.authorization.k8s.io" });
const group = (name: string): Subject => ({ kind: "Group", name, apiGroup: "rbac.authorization.k8s.io" });
const serviceAccount = (name: string, namespace?: string): Subject =>
  namespace === undefined ? { kind: "ServiceAccount", name } : { kind: "ServiceAccount", name, namespace };

const objects: RbacObjects = {
  roles: [
    { metadata: { name: "pod-reader", namespace: "team-a" }, rules: [getListPods] },
    { metadata: { name: "pod-reader", namespace: "team-b" }, rules: [getPodLogs] },
    { metadata: { name: "empty", namespace: "team-a" }, rules: null },
  ],
  clusterRoles: [
    { metadata: { name: "secret-reader" }, rules: [getSecrets] },
    { metadata: { name: "node-reader" }, rules: [readNodes] },
    { metadata: { name: "metrics" }, rules: [getMetrics] },
    { metadata: { name: "basics" }, rules: [getPods, getHealthz] },
  ],
  roleBindings: [
    {
      metadata: { name: "read-pods", namespace: "team-a" },
      roleRef: roleRef("pod-reader"),
      subjects: [group("devs"), user("alice"), serviceAccount("builder")],
    },
    {
      metadata: { name: "secrets", namespace: "team-a" },
      roleRef: clusterRoleRef("secret-reader"),
      subjects: [serviceAccount("deployer", "team-b")],
    },
    {
      metadata: { name: "nodes", namespace: "team-a" },
      roleRef: clusterRoleRef("node-reader"),
      subjects: [user("alice")],
    },
    {
      metadata: { name: "metrics", namespace: "team-a" },
      roleRef: clusterRoleRef("metrics"),
      subjects: [user("alice")],
    },
    {
      metadata: { name: "missing", namespace: "team-a" },
      roleRef: roleRef("does-not-exist"),
      subjects: [user("bob")],
    },
    {
      metadata: { name: "logs", namespace: "team-b" },
      roleRef: roleRef("pod-reader"),
      subjects: [user("alice"), user("alice")],
    },
    {
      metadata: { name: "no-subjects", namespace: "team-b" },
      roleRef: clusterRoleRef("secret-reader"),
      subjects: null,
    },
    {
      metadata: { name: "sa-as-user", namespace: "team-c" },
      roleRef: clusterRoleRef("secret-reader"),
      subjects: [user("system:serviceaccount:team-a:builder")],
    },
    {
      metadata: { name: "all-sas", namespace: "team-c" },
      roleRef: clusterRoleRef("node-reader"),
      subjects: [group("system:serviceaccounts")],
    },
  ],
  clusterRoleBindings: [
    { metadata: { name: "nodes-for-ops" }, roleRef: clusterRoleRef("node-reader"), subjects: [group("ops")] },
    { metadata: { name: "prometheus" }, roleRef: clusterRoleRef("metrics"), subjects: [user("prom")] },
    {
      metadata: { name: "ghost" },
      roleRef: clusterRoleRef("secret-reader"),
      subjects: [serviceAccount("ghost")],
    },
    { metadata: { name: "missing-cluster-role" }, roleRef: clusterRoleRef("nope"), subjects: [group("ops")] },
    { metadata: { name: "role-kind" }, roleRef: roleRef("pod-reader"), subjects: [user("carol")] },
    {
      metadata: { name: "authenticated" },
      roleRef: clusterRoleRef("basics"),
      subjects: [group(SYSTEM_AUTHENTICATED)],
    },
  ],
};

const authorizer = new RbacAuthorizer(objects);
const alice: UserInfo = { username: "alice", groups: ["devs", SYSTEM_AUTHENTICATED] };
const bob: UserInfo = { username: "bob", groups: [] };
const carolInOps: UserInfo = { username: "carol", groups: ["ops"] };
const builder = userInfoForServiceAccount("team-a", "builder");
const deployer = userInfoForServiceAccount("team-b", "deployer");
const anonymousOps: UserInfo = { username: "dave", groups: ["ops"] };

type Attrs = ResourceAttributes | NonResourceAttributes;
const authorize = (who: UserInfo, attrs: Attrs) =>
  authorizer.authorize(
    "path" in attrs ? { user: who, nonResourceAttributes: attrs } : { user: who, resourceAttributes: attrs },
  );

const cases: Array<[string, UserInfo, Attrs, boolean, string]> = [
  [
    "RoleBinding to a Role, in its namespace",
    { username: "alice", groups: [SYSTEM_AUTHENTICATED] },
    { verb: "list", resource: "pods", namespace: "team-a" },
    true,
    'RBAC: allowed by RoleBinding "read-pods/team-a" of Role "pod-reader" to User "alice"',
  ],
  [
    "RoleBinding does not reach another namespace",
    alice,
    { verb: "list", resource: "pods", namespace: "team-c" },
    false,
    "",
  ],
  ["RoleBinding does not grant across all namespaces", alice, { verb: "list", resource: "pods" }, false, ""],
  [
    "the first listed subject that applies is named",
    { username: "alice", groups: ["devs"] },
    { verb: "get", resource: "pods", namespace: "team-a" },
    true,
    'RBAC: allowed by RoleBinding "read-pods/team-a" of Role "pod-reader" to Group "devs"',
  ],
  [
    "a Role is looked up in the binding's namespace",
    alice,
    { verb: "get", resource: "pods", subresource: "log", namespace: "team-b" },
    true,
    'RBAC: allowed by RoleBinding "logs/team-b" of Role "pod-reader" to User "alice"',
  ],
  [
    "the same Role name in another namespace grants its own rules",
    alice,
    { verb: "list", resource: "pods", namespace: "team-b" },
    false,
    "",
  ],
  [
    "SA subject without namespace means the binding's namespace",
    builder,
    { verb: "list", resource: "pods", namespace: "team-a" },
    true,
    'RBAC: allowed by RoleBinding "read-pods/team-a" of Role "pod-reader" to ServiceAccount "builder/team-a"',
  ],
  [
    "SA subject with its own namespace",
    deployer,
    { verb: "get", resource: "secrets", name: "db", namespace: "team-a" },
    true,
    'RBAC: allowed by RoleBinding "secrets/team-a" of ClusterRole "secret-reader" to ServiceAccount "deployer/team-b"',
  ],
  [
    "SA subject namespace must match",
    userInfoForServiceAccount("team-a", "deployer"),
    { verb: "get", resource: "secrets", namespace: "team-a" },
    false,
    "",
  ],
  [
    "a User subject named like an SA matches the SA",
    builder,
    { verb: "get", resource: "secrets", namespace: "team-c" },
    true,
    'RBAC: allowed by RoleBinding "sa-as-user/team-c" of ClusterRole "secret-reader" to User "system:serviceaccount:team-a:builder"',
  ],
  [
    "a Group subject matches a group the user has",
    builder,
    { verb: "list", resource: "nodes", namespace: "team-c" },
    true,
    'RBAC: allowed by RoleBinding "all-sas/team-c" of ClusterRole "node-reader" to Group "system:serviceaccounts"',
  ],
  [
    "groups are not added by the authorizer",
    { username: builder.username, groups: [] },
    { verb: "list", resource: "nodes", namespace: "team-c" },
    false,
    "",
  ],
  [
    "RoleBinding never grants cluster-scoped resources",
    alice,
    { verb: "get", resource: "nodes", name: "node-1" },
    false,
    "",
  ],
  ["RoleBinding never grants nonResourceURLs", alice, { verb: "get", path: "/metrics" }, false, ""],
  [
    "ClusterRoleBinding grants cluster-scoped resources",
    anonymousOps,
    { verb: "list", resource: "nodes" },
    true,
    'RBAC: allowed by ClusterRoleBinding "nodes-for-ops" of ClusterRole "node-reader" to Group "ops"',
  ],
  [
    "ClusterRoleBinding grants in every namespace",
    anonymousOps,
    { verb: "get", resource: "nodes", namespace: "anything" },
    true,
    'RBAC: allowed by ClusterRoleBinding "nodes-for-ops" of ClusterRole "node-reader" to Group "ops"',
  ],
  [
    "ClusterRoleBinding grants nonResourceURLs",
    { username: "prom", groups: [] },
    { verb: "get", path: "/metrics" },
    true,
    'RBAC: allowed by ClusterRoleBinding "prometheus" of ClusterRole "metrics" to User "prom"',
  ],
  [
    "verb of a nonResourceURL",
    { username: "prom", groups: [] },
    { verb: "post", path: "/metrics" },
    false,
    "",
  ],
  [
    "system:authenticated binding",
    { username: "eve", groups: [SYSTEM_AUTHENTICATED] },
    { verb: "get", path: "/healthz" },
    true,
    'RBAC: allowed by ClusterRoleBinding "authenticated" of ClusterRole "basics" to Group "system:authenticated"',
  ],
  [
    "CRB SA subject without namespace matches nobody",
    userInfoForServiceAccount("default", "ghost"),
    { verb: "get", resource: "secrets", namespace: "default" },
    false,
    "",
  ],
  [
    "a missing Role grants nothing and says why",
    bob,
    { verb: "get", resource: "pods", namespace: "team-a" },
    false,
    'RBAC: role.rbac.authorization.k8s.io "does-not-exist" not found',
  ],
  [
    "missing roles are only reported for bindings that apply",
    bob,
    { verb: "get", resource: "pods", namespace: "team-b" },
    false,
    "",
  ],
  [
    "several resolution errors are aggregated in visit order",
    carolInOps,
    { verb: "delete", resource: "pods", namespace: "team-a" },
    false,
    'RBAC: [clusterrole.rbac.authorization.k8s.io "nope" not found, role.rbac.authorization.k8s.io "pod-reader" not found]',
  ],
  [
    "an allowed request ignores the errors",
    carolInOps,
    { verb: "list", resource: "nodes" },
    true,
    'RBAC: allowed by ClusterRoleBinding "nodes-for-ops" of ClusterRole "node-reader" to Group "ops"',
  ],
  [
    "nobody",
    { username: "mallory", groups: [] },
    { verb: "get", resource: "pods", namespace: "team-a" },
    false,
    "",
  ],
];

describe("RbacAuthorizer.authorize", () => {
  it.each(cases)("%s", (_name, who, attrs, allowed, reason) => {
    const decision = authorize(who, attrs);
    expect(decision.allowed).toBe(allowed);
    expect(decision.reason).toBe(reason);
    expect(decision.source === undefined).toBe(!allowed);
  });

  it("reports the granting binding, role and rule", () => {
    expect(authorize(deployer, { verb: "get", resource: "secrets", namespace: "team-a" }).source).toEqual({
      binding: { kind: "RoleBinding", namespace: "team-a", name: "secrets" },
      role: { kind: "ClusterRole", name: "secret-reader" },
      rule: getSecrets,
    });
    expect(
      authorize(alice, { verb: "get", resource: "pods", subresource: "log", namespace: "team-b" }).source
        ?.role,
    ).toEqual({
      kind: "Role",
      namespace: "team-b",
      name: "pod-reader",
    });
  });

  it("always allows privileged groups, like kube-apiserver", () => {
    const admin: UserInfo = { username: "kubernetes-admin", groups: [SYSTEM_MASTERS, SYSTEM_AUTHENTICATED] };
    expect(authorize(admin, { verb: "delete", resource: "nodes", name: "n1" })).toEqual({
      allowed: true,
      reason: "",
      privilegedGroup: SYSTEM_MASTERS,
    });
    expect(authorize(admin, { verb: "post", path: "/anything" }).allowed).toBe(true);
    const strict = new RbacAuthorizer(objects, { privilegedGroups: [] });
    expect(
      strict.authorize({ user: admin, resourceAttributes: { verb: "delete", resource: "nodes" } }).allowed,
    ).toBe(false);
    const custom = new RbacAuthorizer(objects, { privilegedGroups: ["breakglass"] });
    expect(
      custom.authorize({
        user: { username: "x", groups: ["breakglass"] },
        nonResourceAttributes: { verb: "get", path: "/" },
      }).privilegedGroup,
    ).toBe("breakglass");
  });
});

describe("RbacAuthorizer.rulesFor", () => {
  it("lists cluster-wide rules then the namespace's RoleBinding rules, as SelfSubjectRulesReview does", () => {
    const review = authorizer.rulesFor(alice, "team-a");
    expect(review.resourceRules).toEqual([
      { verbs: ["get"], apiGroups: [""], resources: ["pods"] },
      { verbs: ["get", "list"], apiGroups: [""], resources: ["pods"] },
      { verbs: ["get", "list"], apiGroups: [""], resources: ["nodes"] },
    ]);
    expect(review.nonResourceRules).toEqual([getHealthz, getMetrics]);
    expect(review.incomplete).toBe(false);
    expect(review.evaluationError).toBeUndefined();
  });

  it("has only cluster-wide rules without a namespace", () => {
    expect(authorizer.rulesFor(alice, "")).toEqual({
      resourceRules: [{ verbs: ["get"], apiGroups: [""], resources: ["pods"] }],
      nonResourceRules: [getHealthz],
      incomplete: false,
    });
  });

  it("reports roleRefs to missing roles in evaluationError", () => {
    const review = authorizer.rulesFor(bob, "team-a");
    expect(review.resourceRules).toEqual([]);
    expect(review.evaluationError).toBe('role.rbac.authorization.k8s.io "does-not-exist" not found');
  });

  it("keeps resourceNames", () => {
    const named = new RbacAuthorizer({
      ...objects,
      clusterRoleBindings: [
        { metadata: { name: "x" }, roleRef: clusterRoleRef("named"), subjects: [user("u")] },
      ],
      clusterRoles: [
        {
          metadata: { name: "named" },
          rules: [{ apiGroups: [""], resources: ["configmaps"], resourceNames: ["cfg"], verbs: ["get"] }],
        },
      ],
    });
    expect(named.rulesFor({ username: "u", groups: [] }, "").resourceRules).toEqual([
      { verbs: ["get"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["cfg"] },
    ]);
  });
});

describe("RbacAuthorizer.effectiveRules", () => {
  it("lists every grant with its scope and provenance", () => {
    const rules = authorizer.effectiveRules(alice);
    expect(
      rules.map((grant) => [grant.binding.name, grant.namespace, grant.viaSubject.name, grant.rule]),
    ).toEqual([
      ["authenticated", null, SYSTEM_AUTHENTICATED, getPods],
      ["authenticated", null, SYSTEM_AUTHENTICATED, getHealthz],
      ["read-pods", "team-a", "devs", getListPods],
      ["nodes", "team-a", "alice", readNodes],
      // The "metrics" RoleBinding's nonResourceURL rule grants nothing and is left out.
      ["logs", "team-b", "alice", getPodLogs],
    ]);
    expect(rules[2].role).toEqual({ kind: "Role", namespace: "team-a", name: "pod-reader" });
  });

  it("names the SA subject with the namespace it applies in", () => {
    const rules = authorizer.effectiveRules(builder);
    expect(rules.find((grant) => grant.binding.name === "read-pods")?.viaSubject).toEqual({
      kind: "ServiceAccount",
      name: "builder",
      namespace: "team-a",
    });
    expect(rules.map((grant) => grant.binding.name)).toEqual([
      "authenticated",
      "authenticated",
      "read-pods",
      "sa-as-user",
      "all-sas",
    ]);
  });

  it("agrees with authorize on every namespaced grant", () => {
    for (const who of [alice, builder, deployer, carolInOps]) {
      for (const grant of authorizer.effectiveRules(who)) {
        const rule = grant.rule;
        const attrs: ResourceAttributes = {
          verb: rule.verbs[0],
          group: rule.apiGroups?.[0],
          resource: (rule.resources?.[0] ?? "").split("/")[0],
          subresource: (rule.resources?.[0] ?? "").split("/")[1],
          namespace: grant.namespace ?? "some-namespace",
        };
        if (!rule.resources?.length) continue;
        expect(authorize(who, attrs).allowed).toBe(true);
      }
    }
  });
});

describe("RbacAuthorizer.subjectsWhoCan", () => {
  const summary = (attrs: ResourceAttributes) =>
    authorizer
      .subjectsWhoCan(attrs)
      .map((grant) => [
        `${grant.subject.kind}:${grant.subject.namespace ? grant.subject.namespace + "/" : ""}${grant.subject.name}`,
        grant.via.map((source) => source.binding.name),
      ]);

  it("finds the subjects of ClusterRoleBindings and of the namespace's RoleBindings", () => {
    expect(summary({ verb: "get", resource: "pods", namespace: "team-a" })).toEqual([
      ["Group:system:authenticated", ["authenticated"]],
      ["Group:devs", ["read-pods"]],
      ["User:alice", ["read-pods"]],
      ["ServiceAccount:team-a/builder", ["read-pods"]],
    ]);
  });

  it("only looks at ClusterRoleBindings without a namespace", () => {
    expect(summary({ verb: "list", resource: "pods" })).toEqual([]);
    expect(summary({ verb: "list", resource: "nodes" })).toEqual([["Group:ops", ["nodes-for-ops"]]]);
  });

  it("skips subjects that can match nobody and bindings to missing roles", () => {
    expect(summary({ verb: "get", resource: "secrets", namespace: "team-a" })).toEqual([
      ["ServiceAccount:team-b/deployer", ["secrets"]],
    ]);
  });

  it("every subject it names is allowed by authorize", () => {
    const attrs: ResourceAttributes = { verb: "get", resource: "pods", namespace: "team-a" };
    for (const { subject } of authorizer.subjectsWhoCan(attrs)) {
      const who: UserInfo =
        subject.kind === "User"
          ? { username: subject.name, groups: [] }
          : subject.kind === "Group"
            ? { username: "someone", groups: [subject.name] }
            : userInfoForServiceAccount(subject.namespace ?? "", subject.name);
      expect(authorize(who, attrs).allowed).toBe(true);
    }
  });
});

describe("RbacAuthorizer.uncoveredRules", () => {
  it("is empty when the user holds the requested rules in that namespace", () => {
    expect(
      authorizer.uncoveredRules(alice, "team-a", [
        getListPods,
        { apiGroups: [""], resources: ["nodes"], verbs: ["list"] },
      ]),
    ).toEqual([]);
  });

  it("returns the broken-down rules the user does not hold", () => {
    expect(
      authorizer.uncoveredRules(alice, "team-a", [
        { apiGroups: [""], resources: ["pods", "secrets"], verbs: ["list"] },
      ]),
    ).toEqual([{ apiGroups: [""], resources: ["secrets"], verbs: ["list"] }]);
  });

  it("counts only cluster-wide rules for cluster-wide roles", () => {
    expect(authorizer.uncoveredRules(alice, "", [getListPods])).toEqual([
      { apiGroups: [""], resources: ["pods"], verbs: ["list"] },
    ]);
  });

  it("counts nonResourceURLs the user holds, even through a RoleBinding (as Kubernetes does)", () => {
    expect(authorizer.uncoveredRules(alice, "team-a", [getMetrics])).toEqual([]);
    expect(authorizer.uncoveredRules(alice, "", [getMetrics])).toEqual([getMetrics]);
  });

  it("does not exempt system:masters itself (escalationAllowed does)", () => {
    const admin: UserInfo = { username: "root", groups: [SYSTEM_MASTERS] };
    expect(authorizer.uncoveredRules(admin, "team-a", [getSecrets])).toEqual([getSecrets]);
    expect(escalationAllowed(admin)).toBe(true);
    expect(escalationAllowed(alice)).toBe(false);
  });
});

describe("RbacAuthorizer.danglingBindings", () => {
  it("lists bindings whose role does not exist", () => {
    expect(
      authorizer
        .danglingBindings()
        .map((dangling) => [dangling.binding.kind, dangling.binding.name, dangling.error]),
    ).toEqual([
      [
        "ClusterRoleBinding",
        "missing-cluster-role",
        'clusterrole.rbac.authorization.k8s.io "nope" not found',
      ],
      ["ClusterRoleBinding", "role-kind", 'role.rbac.authorization.k8s.io "pod-reader" not found'],
      ["RoleBinding", "missing", 'role.rbac.authorization.k8s.io "does-not-exist" not found'],
    ]);
  });
});
