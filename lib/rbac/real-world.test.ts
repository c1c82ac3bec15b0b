// Answers Kubernetes gives for real policies: the bootstrap policy kube-apiserver installs, and add-on manifests.
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import {
  RbacAuthorizer,
  SYSTEM_AUTHENTICATED,
  SYSTEM_MASTERS,
  SYSTEM_UNAUTHENTICATED,
  aggregateClusterRoles,
  clusterRoleRulesChanged,
  userInfoForServiceAccount,
} from "./index";
import type {
  ClusterRole,
  NonResourceAttributes,
  RbacObjects,
  ResourceAttributes,
  RoleBinding,
  UserInfo,
} from "./index";
import {
  BOOTSTRAP_POLICY_FILES,
  REAL_WORLD_RBAC_DIR,
  loadRealWorldRbac,
  mergeRbacObjects,
} from "./test-support/real-world-fixtures";

function aggregated(objects: RbacObjects): RbacObjects {
  return { ...objects, clusterRoles: aggregateClusterRoles(objects.clusterRoles) };
}

function clusterRoleNamed(roles: ClusterRole[], name: string): ClusterRole {
  const role = roles.find((candidate) => candidate.metadata.name === name);
  if (!role) throw new Error(`no ClusterRole ${name}`);
  return role;
}

function canI(
  authorizer: RbacAuthorizer,
  user: UserInfo,
  attrs: ResourceAttributes | NonResourceAttributes,
): boolean {
  const request =
    "path" in attrs ? { user, nonResourceAttributes: attrs } : { user, resourceAttributes: attrs };
  return authorizer.authorize(request).allowed;
}

function roleBindingToClusterRole(
  namespace: string,
  clusterRole: string,
  subject: RoleBinding["subjects"],
): RoleBinding {
  return {
    metadata: { name: `${clusterRole}-binding`, namespace },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole },
    subjects: subject,
  };
}

const bootstrap = loadRealWorldRbac(...BOOTSTRAP_POLICY_FILES);

describe("bootstrap policy: aggregation", () => {
  const before = bootstrap.clusterRoles;
  const after = aggregateClusterRoles(before);

  it("fills admin, edit and view, and nothing else", () => {
    const changed = after
      .filter((role, index) => clusterRoleRulesChanged(before[index], role))
      .map((role) => role.metadata.name);
    expect(changed.sort()).toEqual(["admin", "edit", "view"]);
  });

  it("view = system:aggregate-to-view; edit adds system:aggregate-to-edit; admin adds system:aggregate-to-admin", () => {
    const rulesOf = (name: string) => clusterRoleNamed(after, name).rules ?? [];
    expect(rulesOf("view")).toEqual(rulesOf("system:aggregate-to-view"));
    // edit selects system:aggregate-to-edit and view, in name order.
    expect(rulesOf("edit")).toEqual([...rulesOf("system:aggregate-to-edit"), ...rulesOf("view")]);
    // admin selects edit and system:aggregate-to-admin ("edit" < "system:…").
    expect(rulesOf("admin")).toEqual([...rulesOf("edit"), ...rulesOf("system:aggregate-to-admin")]);
  });
});

describe("bootstrap policy: authorization", () => {
  const viewer = userInfoForServiceAccount("team-a", "viewer");
  const deployer = userInfoForServiceAccount("team-a", "deployer");
  const owner = userInfoForServiceAccount("team-a", "owner");
  const objects = aggregated(
    mergeRbacObjects(bootstrap, {
      roles: [],
      clusterRoles: [],
      clusterRoleBindings: [],
      roleBindings: [
        roleBindingToClusterRole("team-a", "view", [
          { kind: "ServiceAccount", name: "viewer", namespace: "team-a" },
        ]),
        roleBindingToClusterRole("team-a", "edit", [
          { kind: "ServiceAccount", name: "deployer", namespace: "team-a" },
        ]),
        roleBindingToClusterRole("team-a", "admin", [
          { kind: "ServiceAccount", name: "owner", namespace: "team-a" },
        ]),
        roleBindingToClusterRole("shared", "view", [
          { kind: "Group", name: "system:serviceaccounts", apiGroup: "rbac.authorization.k8s.io" },
        ]),
      ],
    }),
  );
  const authorizer = new RbacAuthorizer(objects);

  it.each<[string, UserInfo, ResourceAttributes, boolean]>([
    ["view reads pods", viewer, { verb: "list", resource: "pods", namespace: "team-a" }, true],
    [
      "view does not read secrets",
      viewer,
      { verb: "get", resource: "secrets", name: "db", namespace: "team-a" },
      false,
    ],
    [
      "view does not create deployments",
      viewer,
      { verb: "create", group: "apps", resource: "deployments", namespace: "team-a" },
      false,
    ],
    [
      "view reads deployments/scale",
      viewer,
      {
        verb: "get",
        group: "apps",
        resource: "deployments",
        subresource: "scale",
        name: "web",
        namespace: "team-a",
      },
      true,
    ],
    [
      "view does not read pods/exec",
      viewer,
      { verb: "get", resource: "pods", subresource: "exec", name: "p", namespace: "team-a" },
      false,
    ],
    [
      "edit creates deployments in its namespace",
      deployer,
      { verb: "create", group: "apps", resource: "deployments", namespace: "team-a" },
      true,
    ],
    [
      "edit does not create deployments elsewhere",
      deployer,
      { verb: "create", group: "apps", resource: "deployments", namespace: "team-b" },
      false,
    ],
    [
      "edit execs into pods",
      deployer,
      { verb: "create", resource: "pods", subresource: "exec", name: "p", namespace: "team-a" },
      true,
    ],
    [
      "edit impersonates service accounts",
      deployer,
      { verb: "impersonate", resource: "serviceaccounts", name: "x", namespace: "team-a" },
      true,
    ],
    [
      "edit (this bootstrap version) reads secrets",
      deployer,
      { verb: "get", resource: "secrets", name: "db", namespace: "team-a" },
      true,
    ],
    [
      "edit does not create rolebindings",
      deployer,
      { verb: "create", group: "rbac.authorization.k8s.io", resource: "rolebindings", namespace: "team-a" },
      false,
    ],
    [
      "admin creates rolebindings",
      owner,
      { verb: "create", group: "rbac.authorization.k8s.io", resource: "rolebindings", namespace: "team-a" },
      true,
    ],
    [
      "admin creates roles",
      owner,
      { verb: "create", group: "rbac.authorization.k8s.io", resource: "roles", namespace: "team-a" },
      true,
    ],
    [
      "admin through a RoleBinding cannot touch cluster-scoped objects",
      owner,
      { verb: "create", group: "rbac.authorization.k8s.io", resource: "clusterrolebindings" },
      false,
    ],
    [
      "admin through a RoleBinding cannot list namespaces",
      owner,
      { verb: "list", resource: "namespaces" },
      false,
    ],
    [
      "admin does not reach another namespace",
      owner,
      { verb: "delete", resource: "pods", name: "p", namespace: "kube-system" },
      false,
    ],
    [
      "a binding to system:serviceaccounts applies to every SA",
      userInfoForServiceAccount("elsewhere", "any"),
      { verb: "list", resource: "pods", namespace: "shared" },
      true,
    ],
    [
      "…only in that binding's namespace",
      userInfoForServiceAccount("elsewhere", "any"),
      { verb: "list", resource: "pods", namespace: "team-b" },
      false,
    ],
    [
      "…and not to users outside the group",
      { username: "alice", groups: [SYSTEM_AUTHENTICATED] },
      { verb: "list", resource: "pods", namespace: "shared" },
      false,
    ],
    [
      "system:authenticated may create selfsubjectaccessreviews",
      { username: "alice", groups: [SYSTEM_AUTHENTICATED] },
      { verb: "create", group: "authorization.k8s.io", resource: "selfsubjectaccessreviews" },
      true,
    ],
    [
      "kube-dns lists services cluster-wide",
      userInfoForServiceAccount("kube-system", "kube-dns"),
      { verb: "list", resource: "services" },
      true,
    ],
    [
      "kube-dns does not get services",
      userInfoForServiceAccount("kube-system", "kube-dns"),
      { verb: "get", resource: "services", name: "x", namespace: "default" },
      false,
    ],
    [
      "kube-scheduler user takes leases in kube-system",
      { username: "system:kube-scheduler", groups: [SYSTEM_AUTHENTICATED] },
      {
        verb: "update",
        group: "coordination.k8s.io",
        resource: "leases",
        name: "kube-scheduler",
        namespace: "kube-system",
      },
      true,
    ],
    [
      "the extension-apiserver-authentication reader gets that configmap",
      { username: "system:kube-scheduler", groups: [] },
      {
        verb: "get",
        resource: "configmaps",
        name: "extension-apiserver-authentication",
        namespace: "kube-system",
      },
      true,
    ],
    [
      "…but cannot list configmaps (resourceNames never match a list)",
      { username: "system:kube-scheduler", groups: [] },
      { verb: "list", resource: "configmaps", namespace: "kube-system" },
      false,
    ],
    [
      "bootstrap-signer updates configmap cluster-info in kube-public",
      userInfoForServiceAccount("kube-system", "bootstrap-signer"),
      { verb: "update", resource: "configmaps", name: "cluster-info", namespace: "kube-public" },
      true,
    ],
    [
      "…and no other configmap",
      userInfoForServiceAccount("kube-system", "bootstrap-signer"),
      { verb: "update", resource: "configmaps", name: "other", namespace: "kube-public" },
      false,
    ],
    [
      "…and reads secrets through its kube-system Role only there",
      userInfoForServiceAccount("kube-system", "bootstrap-signer"),
      { verb: "list", resource: "secrets", namespace: "kube-public" },
      false,
    ],
    [
      "the system:node binding has no subjects",
      { username: "system:node:n1", groups: ["system:nodes", SYSTEM_AUTHENTICATED] },
      { verb: "get", resource: "nodes", name: "n1" },
      false,
    ],
  ])("%s", (_name, user, attrs, expected) => {
    expect(canI(authorizer, user, attrs)).toBe(expected);
  });

  it("system:discovery and system:public-info-viewer serve the discovery paths", () => {
    const authenticated: UserInfo = { username: "alice", groups: [SYSTEM_AUTHENTICATED] };
    const anonymous: UserInfo = { username: "system:anonymous", groups: [SYSTEM_UNAUTHENTICATED] };
    for (const path of [
      "/api",
      "/api/v1",
      "/apis",
      "/apis/apps/v1",
      "/version",
      "/version/",
      "/healthz",
      "/openapi/v2",
    ]) {
      expect(canI(authorizer, authenticated, { verb: "get", path }), path).toBe(true);
    }
    for (const path of ["/metrics", "/logs", "/versions", "/debug/pprof"]) {
      expect(canI(authorizer, authenticated, { verb: "get", path }), path).toBe(false);
    }
    expect(canI(authorizer, authenticated, { verb: "post", path: "/api" })).toBe(false);
    expect(canI(authorizer, anonymous, { verb: "get", path: "/version" })).toBe(true);
    expect(canI(authorizer, anonymous, { verb: "get", path: "/livez" })).toBe(true);
    expect(canI(authorizer, anonymous, { verb: "get", path: "/api" })).toBe(false);
    expect(
      authorizer.authorize({ user: authenticated, nonResourceAttributes: { verb: "get", path: "/api" } })
        .reason,
    ).toBe(
      'RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" to Group "system:authenticated"',
    );
  });

  it("system:masters is allowed anything, and holds cluster-admin through RBAC as well", () => {
    const admin: UserInfo = { username: "kubernetes-admin", groups: [SYSTEM_MASTERS, SYSTEM_AUTHENTICATED] };
    expect(
      canI(authorizer, admin, {
        verb: "escalate",
        group: "rbac.authorization.k8s.io",
        resource: "clusterroles",
        name: "x",
      }),
    ).toBe(true);
    const rbacOnly = new RbacAuthorizer(objects, { privilegedGroups: [] });
    expect(
      rbacOnly.authorize({
        user: admin,
        resourceAttributes: { verb: "delete", resource: "nodes", name: "n1" },
      }).reason,
    ).toBe(
      'RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters"',
    );
    expect(
      rbacOnly.authorize({ user: admin, nonResourceAttributes: { verb: "get", path: "/metrics" } }).allowed,
    ).toBe(true);
    expect(
      authorizer.uncoveredRules(admin, "", [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }]),
    ).toEqual([]);
  });

  it("lists a service account's rules in a namespace like SelfSubjectRulesReview", () => {
    const review = authorizer.rulesFor(viewer, "team-a");
    expect(review.evaluationError).toBeUndefined();
    const viewRules = clusterRoleNamed(objects.clusterRoles, "view").rules ?? [];
    // basic-user's resource rule, then view's rules through the RoleBinding.
    expect(review.resourceRules).toHaveLength(1 + viewRules.length);
    expect(review.nonResourceRules.flatMap((rule) => rule.nonResourceURLs)).toContain("/apis/*");
    expect(authorizer.rulesFor(viewer, "team-b").resourceRules).toHaveLength(1);
  });

  it("prevents escalation the way the apiserver does", () => {
    const newRole = [{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["create", "get"] }];
    expect(authorizer.uncoveredRules(owner, "team-a", newRole)).toEqual([]);
    expect(authorizer.uncoveredRules(owner, "team-b", newRole)).toHaveLength(2);
    expect(
      authorizer.uncoveredRules(deployer, "team-a", [
        { apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles"], verbs: ["create"] },
      ]),
    ).toHaveLength(1);
    expect(
      authorizer.uncoveredRules(owner, "team-a", [
        { apiGroups: [""], resources: ["nodes"], verbs: ["list"] },
      ]),
    ).toEqual([{ apiGroups: [""], resources: ["nodes"], verbs: ["list"] }]);
  });

  it("finds who can exec into pods in team-a", () => {
    const grants = authorizer.subjectsWhoCan({
      verb: "create",
      resource: "pods",
      subresource: "exec",
      name: "p",
      namespace: "team-a",
    });
    expect(
      grants.map(({ subject }) => `${subject.kind}:${subject.namespace ?? ""}:${subject.name}`).sort(),
    ).toEqual(["Group::system:masters", "ServiceAccount:team-a:deployer", "ServiceAccount:team-a:owner"]);
  });
});

describe("cert-manager v1.18", () => {
  const objects = aggregated(mergeRbacObjects(bootstrap, loadRealWorldRbac("cert-manager.yaml")));
  const authorizer = new RbacAuthorizer(objects);
  const controller = userInfoForServiceAccount("cert-manager", "cert-manager");
  const cainjector = userInfoForServiceAccount("cert-manager", "cert-manager-cainjector");
  const webhook = userInfoForServiceAccount("cert-manager", "cert-manager-webhook");

  it.each<[string, UserInfo, ResourceAttributes, boolean]>([
    ["controller lists secrets in all namespaces", controller, { verb: "list", resource: "secrets" }, true],
    [
      "controller patches secrets (certificates role)",
      controller,
      { verb: "patch", resource: "secrets", name: "tls", namespace: "apps" },
      true,
    ],
    [
      "controller updates certificates/status",
      controller,
      {
        verb: "update",
        group: "cert-manager.io",
        resource: "certificates",
        subresource: "status",
        name: "c",
        namespace: "apps",
      },
      true,
    ],
    [
      "controller does not delete certificates/status",
      controller,
      {
        verb: "delete",
        group: "cert-manager.io",
        resource: "certificates",
        subresource: "status",
        name: "c",
        namespace: "apps",
      },
      false,
    ],
    [
      "controller creates challenge pods",
      controller,
      { verb: "create", resource: "pods", namespace: "apps" },
      true,
    ],
    [
      "controller approves its own signer names, literally",
      controller,
      { verb: "approve", group: "cert-manager.io", resource: "signers", name: "issuers.cert-manager.io/*" },
      true,
    ],
    [
      "…not another signer name",
      controller,
      {
        verb: "approve",
        group: "cert-manager.io",
        resource: "signers",
        name: "kubernetes.io/kube-apiserver-client",
      },
      false,
    ],
    [
      "controller creates leases in kube-system",
      controller,
      { verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: "kube-system" },
      true,
    ],
    [
      "controller updates its own lease",
      controller,
      {
        verb: "update",
        group: "coordination.k8s.io",
        resource: "leases",
        name: "cert-manager-controller",
        namespace: "kube-system",
      },
      true,
    ],
    [
      "…not cainjector's lease",
      controller,
      {
        verb: "update",
        group: "coordination.k8s.io",
        resource: "leases",
        name: "cert-manager-cainjector-leader-election",
        namespace: "kube-system",
      },
      false,
    ],
    [
      "…nor leases outside kube-system",
      controller,
      { verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: "cert-manager" },
      false,
    ],
    [
      "controller requests tokens for itself",
      controller,
      {
        verb: "create",
        resource: "serviceaccounts",
        subresource: "token",
        name: "cert-manager",
        namespace: "cert-manager",
      },
      true,
    ],
    [
      "…not for other SAs",
      controller,
      {
        verb: "create",
        resource: "serviceaccounts",
        subresource: "token",
        name: "cert-manager-webhook",
        namespace: "cert-manager",
      },
      false,
    ],
    [
      "cainjector reads secrets",
      cainjector,
      { verb: "get", resource: "secrets", name: "ca", namespace: "apps" },
      true,
    ],
    [
      "cainjector does not update secrets",
      cainjector,
      { verb: "update", resource: "secrets", name: "ca", namespace: "apps" },
      false,
    ],
    [
      "cainjector patches webhook configurations",
      cainjector,
      {
        verb: "patch",
        group: "admissionregistration.k8s.io",
        resource: "validatingwebhookconfigurations",
        name: "w",
      },
      true,
    ],
    [
      "webhook gets its CA secret",
      webhook,
      { verb: "get", resource: "secrets", name: "cert-manager-webhook-ca", namespace: "cert-manager" },
      true,
    ],
    [
      "webhook cannot list secrets (named rule)",
      webhook,
      { verb: "list", resource: "secrets", namespace: "cert-manager" },
      false,
    ],
    [
      "webhook creates secrets in its namespace",
      webhook,
      { verb: "create", resource: "secrets", namespace: "cert-manager" },
      true,
    ],
    [
      "webhook creates subjectaccessreviews",
      webhook,
      { verb: "create", group: "authorization.k8s.io", resource: "subjectaccessreviews" },
      true,
    ],
  ])("%s", (_name, user, attrs, expected) => {
    expect(canI(authorizer, user, attrs)).toBe(expected);
  });

  it("names the first ClusterRoleBinding that grants, in manifest order", () => {
    expect(
      authorizer.authorize({ user: controller, resourceAttributes: { verb: "list", resource: "secrets" } })
        .reason,
    ).toBe(
      'RBAC: allowed by ClusterRoleBinding "cert-manager-controller-issuers" of ClusterRole "cert-manager-controller-issuers" to ServiceAccount "cert-manager/cert-manager"',
    );
  });

  it("aggregates cert-manager-view/edit into the bootstrap view/edit/admin", () => {
    const viewer = userInfoForServiceAccount("apps", "viewer");
    const withBinding = new RbacAuthorizer({
      ...objects,
      roleBindings: [
        ...objects.roleBindings,
        roleBindingToClusterRole("apps", "view", [
          { kind: "ServiceAccount", name: "viewer", namespace: "apps" },
        ]),
      ],
    });
    expect(
      canI(withBinding, viewer, {
        verb: "list",
        group: "cert-manager.io",
        resource: "certificates",
        namespace: "apps",
      }),
    ).toBe(true);
    expect(
      canI(withBinding, viewer, {
        verb: "create",
        group: "cert-manager.io",
        resource: "certificates",
        namespace: "apps",
      }),
    ).toBe(false);
    expect(
      canI(withBinding, viewer, { verb: "get", resource: "secrets", name: "x", namespace: "apps" }),
    ).toBe(false);
    const editRules = clusterRoleNamed(objects.clusterRoles, "edit").rules ?? [];
    expect(editRules).toContainEqual({
      apiGroups: ["cert-manager.io"],
      resources: ["certificates/status"],
      verbs: ["update"],
    });
    const adminRules = clusterRoleNamed(objects.clusterRoles, "admin").rules ?? [];
    expect(adminRules).toContainEqual({
      apiGroups: ["acme.cert-manager.io"],
      resources: ["challenges", "orders"],
      verbs: ["get", "list", "watch"],
    });
  });
});

describe("kube-state-metrics", () => {
  const authorizer = new RbacAuthorizer(loadRealWorldRbac("kube-state-metrics.yaml"));
  const ksm = userInfoForServiceAccount("kube-system", "kube-state-metrics");

  it.each<[string, ResourceAttributes, boolean]>([
    ["lists secrets cluster-wide", { verb: "list", resource: "secrets" }, true],
    ["watches secrets in a namespace", { verb: "watch", resource: "secrets", namespace: "default" }, true],
    ["cannot get a secret", { verb: "get", resource: "secrets", name: "db", namespace: "default" }, false],
    ["lists nodes", { verb: "list", resource: "nodes" }, true],
    ["lists deployments", { verb: "list", group: "apps", resource: "deployments" }, true],
    [
      "cannot list deployments/scale",
      { verb: "list", group: "apps", resource: "deployments", subresource: "scale" },
      false,
    ],
    [
      "creates tokenreviews",
      { verb: "create", group: "authentication.k8s.io", resource: "tokenreviews" },
      true,
    ],
    ["cannot delete pods", { verb: "delete", resource: "pods", name: "p", namespace: "default" }, false],
    [
      "lists clusterrolebindings",
      { verb: "list", group: "rbac.authorization.k8s.io", resource: "clusterrolebindings" },
      true,
    ],
  ])("%s", (_name, attrs, expected) => {
    expect(canI(authorizer, ksm, attrs)).toBe(expected);
  });

  it("is the only subject that can list secrets", () => {
    expect(authorizer.subjectsWhoCan({ verb: "list", resource: "secrets" })).toEqual([
      {
        subject: { kind: "ServiceAccount", name: "kube-state-metrics", namespace: "kube-system" },
        via: [
          {
            binding: { kind: "ClusterRoleBinding", name: "kube-state-metrics" },
            role: { kind: "ClusterRole", name: "kube-state-metrics" },
          },
        ],
      },
    ]);
  });
});

describe("every real-world fixture together", () => {
  const files = fs
    .readdirSync(REAL_WORLD_RBAC_DIR)
    .filter((file) => file.endsWith(".yaml"))
    .sort();
  const objects = aggregated(loadRealWorldRbac(...files));
  const authorizer = new RbacAuthorizer(objects);

  it("loads all of them", () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
    expect(objects.clusterRoleBindings.length).toBeGreaterThan(50);
    expect(objects.roleBindings.length).toBeGreaterThan(40);
  });

  it("each binding's subjects are allowed what its role grants, are named by who-can, and hold its rules", () => {
    let checked = 0;
    for (const { binding, namespace } of [
      ...objects.clusterRoleBindings.map((binding) => ({ binding, namespace: "" })),
      ...objects.roleBindings.map((binding) => ({ binding, namespace: binding.metadata.namespace ?? "" })),
    ]) {
      const role =
        binding.roleRef.kind === "ClusterRole"
          ? objects.clusterRoles.find((candidate) => candidate.metadata.name === binding.roleRef.name)
          : objects.roles.find(
              (candidate) =>
                candidate.metadata.name === binding.roleRef.name &&
                candidate.metadata.namespace === namespace,
            );
      for (const subject of binding.subjects ?? []) {
        const subjectNamespace = subject.namespace || namespace;
        if (subject.kind === "ServiceAccount" && !subjectNamespace) continue;
        const user: UserInfo =
          subject.kind === "ServiceAccount"
            ? { username: `system:serviceaccount:${subjectNamespace}:${subject.name}`, groups: [] }
            : subject.kind === "User"
              ? { username: subject.name, groups: [] }
              : { username: "member", groups: [subject.name] };
        if (user.groups.includes(SYSTEM_MASTERS)) continue;
        expect(authorizer.uncoveredRules(user, namespace, role?.rules ?? [])).toEqual([]);
        for (const rule of role?.rules ?? []) {
          if (!rule.resources?.length) continue;
          const [resource, subresource] = rule.resources[0].split("/");
          const attrs: ResourceAttributes = {
            verb: rule.verbs[0],
            group: rule.apiGroups?.[0] ?? "",
            resource,
            subresource,
            name: rule.resourceNames?.[0],
            namespace: namespace || "any-namespace",
          };
          expect(canI(authorizer, user, attrs), `${binding.metadata.name} ${JSON.stringify(attrs)}`).toBe(
            true,
          );
          const named = authorizer
            .subjectsWhoCan(attrs)
            .some((grant) => grant.subject.kind === subject.kind && grant.subject.name === subject.name);
          expect(named).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(500);
  });

  it("finds the one dangling roleRef in the fixtures (cilium-olm binds Role leader-election; its Role is cilium-olm-leader-election)", () => {
    expect(authorizer.danglingBindings()).toEqual([
      {
        binding: { kind: "RoleBinding", namespace: "cilium", name: "leader-election" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "leader-election" },
        error: 'role.rbac.authorization.k8s.io "leader-election" not found',
      },
    ]);
    const olm = userInfoForServiceAccount("cilium", "cilium-olm");
    const review = authorizer.rulesFor(olm, "cilium");
    expect(review.evaluationError).toBe('role.rbac.authorization.k8s.io "leader-election" not found');
    expect(review.incomplete).toBe(false);
    expect(review.resourceRules.length).toBeGreaterThan(0);
  });
});
