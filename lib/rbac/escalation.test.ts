import { describe, expect, it } from "vitest";
import {
  AGGREGATION_RULE_FORBIDDEN_MESSAGE,
  RbacAuthorizer,
  SYSTEM_AUTHENTICATED,
  SYSTEM_MASTERS,
  aggregateClusterRoles,
  bindAttributes,
  compactRuleString,
  compactRules,
  escalateAttributes,
  escalationErrorMessage,
  userInfoForServiceAccount,
} from "./index";
import type { PolicyRule, RbacObjects, RoleRef, UserInfo } from "./index";
import {
  BOOTSTRAP_POLICY_FILES,
  loadRealWorldRbac,
  mergeRbacObjects,
} from "./test-support/real-world-fixtures";

const clusterRoleRef = (name: string): RoleRef => ({
  apiGroup: "rbac.authorization.k8s.io",
  kind: "ClusterRole",
  name,
});

describe("escalation error text", () => {
  it.each<[PolicyRule, string]>([
    [
      { apiGroups: ["apps"], resources: ["deployments"], verbs: ["create", "get"] },
      '{APIGroups:["apps"], Resources:["deployments"], Verbs:["create" "get"]}',
    ],
    [
      { apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"], verbs: ["get"] },
      '{APIGroups:[""], Resources:["configmaps"], ResourceNames:["a"], Verbs:["get"]}',
    ],
    [{ nonResourceURLs: ["/metrics"], verbs: ["get"] }, '{NonResourceURLs:["/metrics"], Verbs:["get"]}'],
  ])("CompactString %#", (rule, expected) => {
    expect(compactRuleString(rule)).toBe(expected);
  });

  it("CompactRules merges the verbs of single group/resource rules only", () => {
    expect(
      compactRules([
        { apiGroups: [""], resources: ["pods"], verbs: ["get"] },
        { apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"], verbs: ["get"] },
        { apiGroups: [""], resources: ["pods"], verbs: ["list"] },
        { apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"], verbs: ["list"] },
      ]),
    ).toEqual([
      { apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"], verbs: ["get"] },
      { apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"], verbs: ["list"] },
      { apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] },
    ]);
  });

  it("reads like the apiserver's, lines sorted", () => {
    const user: UserInfo = { username: "alice", groups: ["devs", SYSTEM_AUTHENTICATED] };
    const missing: PolicyRule[] = [
      { apiGroups: [""], resources: ["secrets"], verbs: ["get"] },
      { apiGroups: [""], resources: ["pods"], verbs: ["delete"] },
      { apiGroups: [""], resources: ["secrets"], verbs: ["list"] },
    ];
    expect(escalationErrorMessage(user, missing)).toBe(
      'user "alice" (groups=["devs" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n' +
        '{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}\n' +
        '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}',
    );
    expect(
      escalationErrorMessage(user, missing.slice(0, 1), 'roles.rbac.authorization.k8s.io "x" not found'),
    ).toMatch(/; resolution errors: \[roles\.rbac\.authorization\.k8s\.io "x" not found\]$/);
  });

  it("builds the escalate and bind requests", () => {
    expect(escalateAttributes("Role", "", "team-a")).toMatchObject({
      verb: "escalate",
      group: "rbac.authorization.k8s.io",
      resource: "roles",
      name: "",
      namespace: "team-a",
    });
    expect(bindAttributes(clusterRoleRef("edit"), "team-a")).toEqual({
      verb: "bind",
      group: "rbac.authorization.k8s.io",
      resource: "clusterroles",
      name: "edit",
      namespace: "team-a",
    });
    expect(
      bindAttributes({ apiGroup: "rbac.authorization.k8s.io", kind: "Bogus" as "Role", name: "x" }, ""),
    ).toBeNull();
  });
});

describe("checkRoleWrite / checkBindingWrite on the bootstrap policy", () => {
  const owner = userInfoForServiceAccount("team-a", "owner");
  const deployer = userInfoForServiceAccount("team-a", "deployer");
  const roleAdmin = userInfoForServiceAccount("team-a", "role-admin");
  const base = loadRealWorldRbac(...BOOTSTRAP_POLICY_FILES);
  const extra: RbacObjects = {
    roles: [],
    clusterRoles: [
      {
        metadata: { name: "escalate-and-bind" },
        rules: [
          { apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles"], verbs: ["escalate"] },
          {
            apiGroups: ["rbac.authorization.k8s.io"],
            resources: ["clusterroles"],
            verbs: ["bind"],
            resourceNames: ["view"],
          },
        ],
      },
    ],
    roleBindings: [
      {
        metadata: { name: "owner", namespace: "team-a" },
        roleRef: clusterRoleRef("admin"),
        subjects: [{ kind: "ServiceAccount", name: "owner", namespace: "team-a" }],
      },
      {
        metadata: { name: "deployer", namespace: "team-a" },
        roleRef: clusterRoleRef("edit"),
        subjects: [{ kind: "ServiceAccount", name: "deployer", namespace: "team-a" }],
      },
      {
        metadata: { name: "role-admin", namespace: "team-a" },
        roleRef: clusterRoleRef("escalate-and-bind"),
        subjects: [{ kind: "ServiceAccount", name: "role-admin", namespace: "team-a" }],
      },
      {
        metadata: { name: "dangling", namespace: "team-a" },
        roleRef: clusterRoleRef("gone"),
        subjects: [{ kind: "ServiceAccount", name: "deployer", namespace: "team-a" }],
      },
    ],
    clusterRoleBindings: [],
  };
  const objects = mergeRbacObjects(base, extra);
  const authorizer = new RbacAuthorizer({
    ...objects,
    clusterRoles: aggregateClusterRoles(objects.clusterRoles),
  });
  const secretsReader: PolicyRule[] = [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"] }];
  const nodesReader: PolicyRule[] = [{ apiGroups: [""], resources: ["nodes"], verbs: ["list"] }];

  it("lets admin write Roles with rules it holds in its namespace", () => {
    expect(
      authorizer.checkRoleWrite(owner, {
        kind: "Role",
        name: "r",
        namespace: "team-a",
        rules: secretsReader,
        operation: "create",
      }),
    ).toEqual({ allowed: true, via: "covered" });
  });

  it("forbids rules held only in another namespace, or cluster-scoped ones, with the apiserver's message", () => {
    const elsewhere = authorizer.checkRoleWrite(owner, {
      kind: "Role",
      name: "r",
      namespace: "team-b",
      rules: secretsReader,
      operation: "create",
    });
    expect(elsewhere).toMatchObject({ allowed: false, status: "Forbidden" });
    if (elsewhere.allowed) throw new Error("unreachable");
    expect(elsewhere.uncovered).toHaveLength(2);
    expect(elsewhere.message).toBe(
      `user "${owner.username}" (groups=["system:serviceaccounts" "system:serviceaccounts:team-a" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n` +
        '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}',
    );
    expect(
      authorizer.checkRoleWrite(owner, {
        kind: "ClusterRole",
        name: "c",
        rules: nodesReader,
        operation: "create",
      }).allowed,
    ).toBe(false);
  });

  it("lets holders of escalate write any Role there", () => {
    expect(
      authorizer.checkRoleWrite(roleAdmin, {
        kind: "Role",
        name: "r",
        namespace: "team-a",
        rules: nodesReader,
        operation: "create",
      }),
    ).toEqual({ allowed: true, via: "escalate" });
    expect(
      authorizer.checkRoleWrite(roleAdmin, {
        kind: "Role",
        name: "r",
        namespace: "team-b",
        rules: nodesReader,
        operation: "create",
      }).allowed,
    ).toBe(false);
  });

  it("needs full authority for an aggregationRule (whoever holds it also holds escalate)", () => {
    const clusterAdminSa = userInfoForServiceAccount("ops", "root");
    const withRoot = new RbacAuthorizer({
      ...objects,
      clusterRoles: aggregateClusterRoles(objects.clusterRoles),
      clusterRoleBindings: [
        ...objects.clusterRoleBindings,
        {
          metadata: { name: "root" },
          roleRef: clusterRoleRef("cluster-admin"),
          subjects: [{ kind: "ServiceAccount", name: "root", namespace: "ops" }],
        },
      ],
    });
    expect(
      withRoot.checkRoleWrite(clusterAdminSa, {
        kind: "ClusterRole",
        name: "agg",
        rules: [],
        operation: "create",
        hasAggregationRule: true,
      }),
    ).toEqual({ allowed: true, via: "escalate" });
    const discoveryOnly: UserInfo = { username: "carol", groups: [SYSTEM_AUTHENTICATED] };
    const denied = withRoot.checkRoleWrite(discoveryOnly, {
      kind: "ClusterRole",
      name: "agg",
      rules: [],
      operation: "create",
      hasAggregationRule: true,
    });
    expect(denied).toMatchObject({
      allowed: false,
      status: "Forbidden",
      message: AGGREGATION_RULE_FORBIDDEN_MESSAGE,
    });
  });

  it("always lets system:masters write", () => {
    const admin: UserInfo = { username: "kubernetes-admin", groups: [SYSTEM_MASTERS] };
    expect(
      authorizer.checkRoleWrite(admin, {
        kind: "ClusterRole",
        name: "x",
        rules: nodesReader,
        operation: "create",
        hasAggregationRule: true,
      }),
    ).toEqual({ allowed: true, via: "system:masters" });
    expect(
      authorizer.checkBindingWrite(admin, { kind: "ClusterRoleBinding", roleRef: clusterRoleRef("missing") }),
    ).toEqual({ allowed: true, via: "system:masters" });
  });

  it("lets a binding grant a role whose rules the writer holds", () => {
    // admin ⊇ edit ⊇ view in team-a, but not cluster-admin.
    expect(
      authorizer.checkBindingWrite(owner, {
        kind: "RoleBinding",
        namespace: "team-a",
        roleRef: clusterRoleRef("edit"),
      }),
    ).toEqual({ allowed: true, via: "covered" });
    expect(
      authorizer.checkBindingWrite(deployer, {
        kind: "RoleBinding",
        namespace: "team-a",
        roleRef: clusterRoleRef("view"),
      }),
    ).toEqual({ allowed: true, via: "covered" });
    const adminByEdit = authorizer.checkBindingWrite(deployer, {
      kind: "RoleBinding",
      namespace: "team-a",
      roleRef: clusterRoleRef("admin"),
    });
    expect(adminByEdit).toMatchObject({ allowed: false, status: "Forbidden" });
    if (adminByEdit.allowed) throw new Error("unreachable");
    // The deployer's dangling binding shows up as a resolution error, in the storage's wording.
    expect(adminByEdit.message).toMatch(
      /; resolution errors: \[clusterroles\.rbac\.authorization\.k8s\.io "gone" not found\]$/,
    );
    expect(
      authorizer.checkBindingWrite(owner, { kind: "ClusterRoleBinding", roleRef: clusterRoleRef("view") })
        .allowed,
    ).toBe(false);
  });

  it("lets holders of bind bind that role only", () => {
    expect(
      authorizer.checkBindingWrite(roleAdmin, {
        kind: "RoleBinding",
        namespace: "team-a",
        roleRef: clusterRoleRef("view"),
      }),
    ).toEqual({ allowed: true, via: "bind" });
    expect(
      authorizer.checkBindingWrite(roleAdmin, {
        kind: "RoleBinding",
        namespace: "team-a",
        roleRef: clusterRoleRef("edit"),
      }).allowed,
    ).toBe(false);
  });

  it("answers NotFound for a roleRef to a missing role", () => {
    expect(
      authorizer.checkBindingWrite(owner, {
        kind: "RoleBinding",
        namespace: "team-a",
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "nope" },
      }),
    ).toEqual({
      allowed: false,
      status: "NotFound",
      message: 'roles.rbac.authorization.k8s.io "nope" not found',
      uncovered: [],
    });
  });
});
