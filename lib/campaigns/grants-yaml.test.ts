import { describe, expect, it } from "vitest";
import { generateLeastPrivilege } from "@/lib/usage/least-privilege";
import { InvalidGrantsError } from "./apply-decision";
import { parseGrantsYaml } from "./grants-yaml";

const identity = {
  kind: "ServiceAccount" as const,
  namespace: "ci",
  name: "deployer",
  username: "system:serviceaccount:ci:deployer",
  groups: [],
};
const use = (verb: string, resource: string, namespace: string) => ({
  verb,
  apiGroup: "apps",
  resource,
  subresource: "",
  namespace,
  path: "",
  resourceNames: [],
  resourceNamesComplete: false,
  count: 3,
});

describe("parseGrantsYaml", () => {
  it("reads back the generated least-privilege role, object for object", () => {
    const role = generateLeastPrivilege(identity, [
      use("get", "deployments", "ci"),
      use("list", "deployments", "web"),
    ]);
    expect(role.roles).toHaveLength(2);
    // apiVersion and kind are where each object goes, not part of the grants.
    const bare = <T extends object>(objects: T[]) =>
      objects.map(
        ({ apiVersion: _v, kind: _k, ...rest }: T & { apiVersion?: string; kind?: string }) => rest,
      );
    expect(parseGrantsYaml(role.yaml)).toEqual({
      roles: bare(role.roles),
      clusterRoles: [],
      roleBindings: bare(role.roleBindings),
      clusterRoleBindings: [],
    });
  });

  it("reads cluster-wide grants (no namespace) and refuses a namespace on them", () => {
    const role = generateLeastPrivilege(identity, [use("list", "nodes", "")]);
    const grants = parseGrantsYaml(role.yaml);
    expect(grants.clusterRoles.map((r) => r.rules)).toEqual([
      [{ apiGroups: ["apps"], resources: ["nodes"], verbs: ["list"] }],
    ]);
    expect(grants.clusterRoleBindings.map((b) => b.subjects)).toEqual([
      [{ kind: "ServiceAccount", name: "deployer", namespace: "ci" }],
    ]);
    expect(() =>
      parseGrantsYaml("kind: ClusterRole\nmetadata: { name: x, namespace: ci }\nrules: []"),
    ).toThrow(/clusterRoles\.0\.metadata\.namespace/);
  });

  it("keeps a reviewer's edit (a verb taken out) and drops fields the grants do not carry", () => {
    const grants = parseGrantsYaml(`
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: keep, namespace: ci, resourceVersion: "12" }
rules:
  - apiGroups: [apps]
    resources: [deployments]
    verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: keep, namespace: ci }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: keep }
subjects: [{ kind: ServiceAccount, name: deployer, namespace: ci }]
---
`);
    expect(grants.roles).toEqual([
      {
        metadata: { name: "keep", namespace: "ci" },
        rules: [{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["get"] }],
      },
    ]);
    expect(grants.roleBindings[0].subjects).toEqual([
      { kind: "ServiceAccount", name: "deployer", namespace: "ci" },
    ]);
    expect(grants.clusterRoles).toEqual([]);
  });

  it.each([
    ["broken YAML", "kind: Role\nmetadata: [", /Document 1 is not valid YAML/],
    [
      "another kind",
      "apiVersion: v1\nkind: Secret\nmetadata: { name: x, namespace: ci }",
      /Document 1 must be a Role/,
    ],
    [
      "a rule without verbs",
      "kind: ClusterRole\nmetadata: { name: x }\nrules: [{ resources: [pods], verbs: [] }]",
      /clusterRoles\.0\.rules\.0\.verbs/,
    ],
    [
      "a binding without subjects",
      "kind: ClusterRoleBinding\nmetadata: { name: x }\nroleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: x }\nsubjects: []",
      /clusterRoleBindings\.0\.subjects/,
    ],
  ])("refuses %s, saying where", (_, text, message) => {
    expect(() => parseGrantsYaml(text)).toThrow(InvalidGrantsError);
    expect(() => parseGrantsYaml(text)).toThrow(message);
  });
});
