// A cluster of the size Keyward must handle: 20,000 RoleBindings, 1,000 ClusterRoleBindings, 10,000 service
// accounts. Prints timings (no timing assertions: CI machines vary) and checks the answers are complete.
import { describe, expect, it } from "vitest";
import { RbacAuthorizer, SYSTEM_AUTHENTICATED, userInfoForServiceAccount } from "./index";
import type {
  ClusterRole,
  ClusterRoleBinding,
  PolicyRule,
  RbacObjects,
  Role,
  RoleBinding,
  Subject,
} from "./index";

const NAMESPACES = 500;
const SERVICE_ACCOUNTS_PER_NAMESPACE = 20;
const ROLE_BINDINGS_PER_NAMESPACE = 40;
const CLUSTER_ROLE_BINDINGS = 1_000;

const readPods: PolicyRule = { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] };
const editDeployments: PolicyRule = {
  apiGroups: ["apps"],
  resources: ["deployments"],
  verbs: ["create", "update"],
};

function syntheticCluster(): RbacObjects {
  const roles: Role[] = [];
  const roleBindings: RoleBinding[] = [];
  const clusterRoles: ClusterRole[] = Array.from({ length: 50 }, (_, index) => ({
    metadata: { name: `cluster-role-${index}` },
    rules: [
      { apiGroups: [`group-${index}.example.com`], resources: ["widgets"], verbs: ["get", "list"] },
      readPods,
    ],
  }));
  for (let ns = 0; ns < NAMESPACES; ns++) {
    const namespace = `ns-${ns}`;
    roles.push({ metadata: { name: "app", namespace }, rules: [readPods, editDeployments] });
    for (let index = 0; index < ROLE_BINDINGS_PER_NAMESPACE; index++) {
      const subject: Subject = {
        kind: "ServiceAccount",
        name: `sa-${index % SERVICE_ACCOUNTS_PER_NAMESPACE}`,
        namespace,
      };
      roleBindings.push({
        metadata: { name: `binding-${index}`, namespace },
        roleRef:
          index < SERVICE_ACCOUNTS_PER_NAMESPACE
            ? { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "app" }
            : {
                apiGroup: "rbac.authorization.k8s.io",
                kind: "ClusterRole",
                name: `cluster-role-${index % 50}`,
              },
        subjects: [subject],
      });
    }
  }
  const clusterRoleBindings: ClusterRoleBinding[] = Array.from(
    { length: CLUSTER_ROLE_BINDINGS },
    (_, index) => ({
      metadata: { name: `crb-${index}` },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: `cluster-role-${index % 50}`,
      },
      subjects:
        index === 0
          ? [{ kind: "Group", name: SYSTEM_AUTHENTICATED }]
          : [
              {
                kind: "ServiceAccount",
                name: `sa-${index % SERVICE_ACCOUNTS_PER_NAMESPACE}`,
                namespace: `ns-${index % NAMESPACES}`,
              },
            ],
    }),
  );
  return { roles, clusterRoles, roleBindings, clusterRoleBindings };
}

function timed<T>(label: string, work: () => T): T {
  const started = performance.now();
  const result = work();
  console.log(`${label}: ${(performance.now() - started).toFixed(0)} ms`);
  return result;
}

describe("RbacAuthorizer at cluster scale", () => {
  it("indexes once, then answers per user without scanning every binding", () => {
    const cluster = syntheticCluster();
    expect(cluster.roleBindings).toHaveLength(20_000);
    const authorizer = timed("construct", () => new RbacAuthorizer(cluster));
    const users = Array.from({ length: NAMESPACES * SERVICE_ACCOUNTS_PER_NAMESPACE }, (_, index) =>
      userInfoForServiceAccount(
        `ns-${Math.floor(index / SERVICE_ACCOUNTS_PER_NAMESPACE)}`,
        `sa-${index % SERVICE_ACCOUNTS_PER_NAMESPACE}`,
      ),
    );

    const totalRules = timed("effectiveRules for 10,000 service accounts", () =>
      users.reduce((total, user) => total + authorizer.effectiveRules(user).length, 0),
    );
    // Every SA: a RoleBinding to Role app and one to a ClusterRole (2 rules each), the system:authenticated CRB's 2 rules, plus its own CRBs' 2 rules each.
    const ownClusterRoleBindings = CLUSTER_ROLE_BINDINGS - 1;
    expect(totalRules).toBe(users.length * (2 * 2 + 2) + ownClusterRoleBindings * 2);

    const allowed = timed("100,000 authorize calls", () => {
      let count = 0;
      for (let call = 0; call < 100_000; call++) {
        const user = users[call % users.length];
        const namespace = `ns-${(call * 7) % NAMESPACES}`;
        const decision = authorizer.authorize({
          user,
          resourceAttributes: { verb: "create", group: "apps", resource: "deployments", namespace },
        });
        if (decision.allowed) count++;
      }
      return count;
    });
    // Only requests into the SA's own namespace are allowed (through the "app" Role).
    let expectedAllowed = 0;
    for (let call = 0; call < 100_000; call++) {
      if (
        `ns-${Math.floor((call % users.length) / SERVICE_ACCOUNTS_PER_NAMESPACE)}` ===
        `ns-${(call * 7) % NAMESPACES}`
      )
        expectedAllowed++;
    }
    expect(allowed).toBe(expectedAllowed);

    const grants = timed("subjectsWhoCan in one namespace", () =>
      authorizer.subjectsWhoCan({ verb: "list", resource: "pods", namespace: "ns-3" }),
    );
    // All 20 SAs of ns-3, the CRB SAs, and system:authenticated.
    expect(grants.length).toBeGreaterThan(SERVICE_ACCOUNTS_PER_NAMESPACE);
  });
});
