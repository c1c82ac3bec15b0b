import { describe, expect, it } from "vitest";
import { aggregateClusterRoles, RbacAuthorizer } from "@/lib/rbac";
import { rbacObjectsOf } from "../generators/rbac-objects";
import type { KubeObject } from "../types";
import { bootstrapObjects } from "./index";

function named(objects: KubeObject[], kind: string, name: string, namespace?: string): KubeObject {
  const found = objects.find(
    (object) => object.kind === kind && object.metadata.name === name && object.metadata.namespace === namespace,
  );
  if (!found) throw new Error(`${kind} ${namespace ?? ""}/${name} missing`);
  return found;
}

describe("bootstrapObjects", () => {
  const objects = bootstrapObjects();

  it("has the four system namespaces and Kubernetes' bootstrap policy", () => {
    const namespaces = objects.filter((object) => object.kind === "Namespace").map((object) => object.metadata.name);
    expect(namespaces.sort()).toEqual(["default", "kube-node-lease", "kube-public", "kube-system"]);
    const counts: Record<string, number> = {};
    for (const object of objects) counts[object.kind] = (counts[object.kind] ?? 0) + 1;
    expect(counts).toEqual({ Namespace: 4, ServiceAccount: 2, ClusterRole: 25, ClusterRoleBinding: 10, Role: 7, RoleBinding: 7 });
  });

  it("has the user-facing roles with their aggregation rules and labels", () => {
    const clusterAdmin = named(objects, "ClusterRole", "cluster-admin");
    expect(clusterAdmin.rules).toEqual([
      { apiGroups: ["*"], resources: ["*"], verbs: ["*"] },
      { nonResourceURLs: ["*"], verbs: ["*"] },
    ]);
    for (const [role, aggregatedFrom] of [
      ["admin", "aggregate-to-admin"],
      ["edit", "aggregate-to-edit"],
      ["view", "aggregate-to-view"],
    ]) {
      expect(named(objects, "ClusterRole", role).aggregationRule).toEqual({
        clusterRoleSelectors: [{ matchLabels: { [`rbac.authorization.k8s.io/${aggregatedFrom}`]: "true" } }],
      });
      expect(named(objects, "ClusterRole", `system:${aggregatedFrom}`).metadata.labels).toMatchObject({
        [`rbac.authorization.k8s.io/${aggregatedFrom}`]: "true",
      });
    }
    // edit feeds admin and view feeds edit: the chain that makes admin ⊇ edit ⊇ view.
    expect(named(objects, "ClusterRole", "edit").metadata.labels).toMatchObject({ "rbac.authorization.k8s.io/aggregate-to-admin": "true" });
    expect(named(objects, "ClusterRole", "view").metadata.labels).toMatchObject({ "rbac.authorization.k8s.io/aggregate-to-edit": "true" });
    expect(named(objects, "ClusterRoleBinding", "system:discovery").subjects).toEqual([
      { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "system:authenticated" },
    ]);
    expect(named(objects, "ClusterRoleBinding", "cluster-admin").subjects).toEqual([
      { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "system:masters" },
    ]);
  });

  it("keeps the namespaced policy in kube-system and kube-public", () => {
    const namespaced = objects.filter((object) => object.kind === "Role" || object.kind === "RoleBinding");
    expect(new Set(namespaced.map((object) => object.metadata.namespace))).toEqual(new Set(["kube-system", "kube-public"]));
    expect(named(objects, "Role", "extension-apiserver-authentication-reader", "kube-system").rules).toBeDefined();
    expect(objects.every((object) => object.metadata.creationTimestamp === undefined)).toBe(true);
  });

  it("grants what a fresh cluster grants, once aggregated", () => {
    const rbac = rbacObjectsOf(objects);
    const authorizer = new RbacAuthorizer({ ...rbac, clusterRoles: aggregateClusterRoles(rbac.clusterRoles) });
    const anyone = { username: "someone", groups: ["system:authenticated"] };
    expect(authorizer.authorize({ user: anyone, nonResourceAttributes: { verb: "get", path: "/apis" } }).allowed).toBe(true);
    expect(authorizer.authorize({ user: anyone, resourceAttributes: { verb: "list", resource: "pods", namespace: "default" } }).allowed).toBe(false);
    const scheduler = { username: "system:kube-scheduler", groups: ["system:authenticated"] };
    expect(authorizer.authorize({ user: scheduler, resourceAttributes: { verb: "create", resource: "bindings", namespace: "x" } }).allowed).toBe(true);
    // view is empty in the file (rules: null) and only gets rules through aggregation.
    const viewRole = aggregateClusterRoles(rbac.clusterRoles).find((role) => role.metadata.name === "view");
    expect(viewRole?.rules?.some((rule) => rule.resources?.includes("pods") && rule.verbs.includes("list"))).toBe(true);
  });

  it("has the controller SAs its bindings name, except those a kubeadm cluster lacks too", () => {
    const serviceAccounts = new Set(objects.filter((object) => object.kind === "ServiceAccount").map((object) => `${object.metadata.namespace}/${object.metadata.name}`));
    const missing = objects
      .flatMap((object) => (object.subjects ?? []) as Array<{ kind: string; name: string; namespace?: string }>)
      .filter((subject) => subject.kind === "ServiceAccount" && !serviceAccounts.has(`${subject.namespace}/${subject.name}`))
      .map((subject) => `${subject.namespace}/${subject.name}`);
    expect([...new Set(missing)].sort()).toEqual([
      "kube-system/cloud-provider",
      "kube-system/kube-controller-manager",
      "kube-system/kube-dns",
      "kube-system/kube-scheduler",
      "kube-system/leader-election-controller",
    ]);
  });

  it("returns fresh copies on every call", () => {
    const first = bootstrapObjects();
    named(first, "ClusterRole", "cluster-admin").rules = [];
    first.pop();
    const second = bootstrapObjects();
    expect(second).toHaveLength(objects.length);
    expect(named(second, "ClusterRole", "cluster-admin").rules).toHaveLength(2);
  });
});
