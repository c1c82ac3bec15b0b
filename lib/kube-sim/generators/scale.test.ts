import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { aggregateClusterRoles, RbacAuthorizer } from "@/lib/rbac";
import type { KubeObject } from "../types";
import { rbacObjectsOf } from "./rbac-objects";
import { generateScaleCluster } from "./scale";

const NOW = Date.parse("2026-06-15T12:00:00Z");

function countKinds(objects: KubeObject[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const object of objects) counts[object.kind] = (counts[object.kind] ?? 0) + 1;
  return counts;
}

describe("generateScaleCluster", () => {
  let objects: KubeObject[];
  let cpuMilliseconds: number;

  beforeAll(() => {
    // CPU time, not wall time: other test files share the two cores, and only our own work should count.
    const start = process.cpuUsage();
    objects = generateScaleCluster(10_000, 1, NOW);
    const used = process.cpuUsage(start);
    cpuMilliseconds = (used.user + used.system) / 1000;
  });

  it("has exactly the benchmark's counts for 10,000 service accounts, quickly", () => {
    expect(countKinds(objects)).toEqual({
      Namespace: 500,
      ServiceAccount: 10_000,
      RoleBinding: 20_000,
      Role: 2_000,
      ClusterRole: 500,
      ClusterRoleBinding: 1_000,
      Secret: 10_000,
      Pod: 30_000,
    });
    expect(cpuMilliseconds).toBeLessThan(2_000);
  });

  it("gives the same cluster for the same seed and another for another seed", () => {
    const digest = (list: KubeObject[]) => {
      const hash = createHash("sha256");
      for (const object of list) hash.update(JSON.stringify(object));
      return hash.digest("hex");
    };
    expect(digest(generateScaleCluster(10_000, 1, NOW))).toBe(digest(objects));
    // A smaller cluster is enough to see that the seed matters.
    const [seedOne, seedTwo] = [1, 2].map((seed) => generateScaleCluster(1_000, seed, NOW));
    expect(countKinds(seedTwo)).toEqual(countKinds(seedOne));
    expect(digest(seedTwo)).not.toBe(digest(seedOne));
  });

  it("names every object uniquely and points pods, secrets and bindings at SAs that exist", () => {
    const ids = objects.map((object) => `${object.kind}/${object.metadata.namespace ?? ""}/${object.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);

    const namespaces = new Set(objects.filter((object) => object.kind === "Namespace").map((object) => object.metadata.name));
    const serviceAccounts = new Set(
      objects.filter((object) => object.kind === "ServiceAccount").map((object) => `${object.metadata.namespace}/${object.metadata.name}`),
    );
    // Problems are collected and asserted once: one expect per object would make this test take seconds.
    const problems: string[] = [];
    const accountsPerNamespace = new Map<string, number>();
    const podsPerServiceAccount = new Map<string, number>();
    const ownerKinds = new Set(["ReplicaSet", "StatefulSet", "DaemonSet", "Job"]);
    for (const object of objects) {
      const where = `${object.kind} ${object.metadata.namespace}/${object.metadata.name}`;
      if (object.kind !== "Namespace" && object.metadata.namespace !== undefined && !namespaces.has(object.metadata.namespace)) {
        problems.push(`${where}: no such namespace`);
      }
      if (object.kind === "ServiceAccount") {
        accountsPerNamespace.set(object.metadata.namespace!, (accountsPerNamespace.get(object.metadata.namespace!) ?? 0) + 1);
      } else if (object.kind === "Pod") {
        const serviceAccount = `${object.metadata.namespace}/${(object.spec as { serviceAccountName: string }).serviceAccountName}`;
        if (!serviceAccounts.has(serviceAccount)) problems.push(`${where}: runs as missing ${serviceAccount}`);
        podsPerServiceAccount.set(serviceAccount, (podsPerServiceAccount.get(serviceAccount) ?? 0) + 1);
        const [owner] = object.metadata.ownerReferences ?? [];
        if (!ownerKinds.has(String(owner?.kind)) || owner?.controller !== true) problems.push(`${where}: bad owner ${JSON.stringify(owner)}`);
      } else if (object.kind === "Secret") {
        const serviceAccount = `${object.metadata.namespace}/${object.metadata.annotations?.["kubernetes.io/service-account.name"]}`;
        if (object.type !== "kubernetes.io/service-account-token" || !serviceAccounts.has(serviceAccount)) problems.push(`${where}: token of missing ${serviceAccount}`);
      } else if (object.kind === "RoleBinding" || object.kind === "ClusterRoleBinding") {
        for (const subject of object.subjects as Array<{ kind: string; name: string; namespace?: string }>) {
          if (subject.kind === "ServiceAccount" && !serviceAccounts.has(`${subject.namespace}/${subject.name}`)) problems.push(`${where}: binds missing ${subject.namespace}/${subject.name}`);
        }
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
    expect(new Set(accountsPerNamespace.values())).toEqual(new Set([20]));
    // Shared SAs and idle SAs both exist, as in real clusters.
    expect(Math.max(...podsPerServiceAccount.values())).toBeGreaterThan(3);
    expect(podsPerServiceAccount.size).toBeLessThan(10_000);
  });

  it("has aggregated and broad ClusterRoles and few dangling bindings", () => {
    const rbac = rbacObjectsOf(objects);
    const aggregated = rbac.clusterRoles.filter((role) => role.aggregationRule);
    expect(aggregated.length).toBe(50);
    const afterAggregation = aggregateClusterRoles(rbac.clusterRoles).filter((role) => role.aggregationRule);
    expect(afterAggregation.filter((role) => (role.rules ?? []).length > 0).length).toBeGreaterThan(10);
    expect(rbac.clusterRoles.some((role) => role.rules?.some((rule) => rule.verbs.includes("*") && rule.resources?.includes("*")))).toBe(true);
    expect(rbac.clusterRoles.some((role) => role.rules?.some((rule) => rule.verbs.includes("impersonate")))).toBe(true);

    const dangling = new RbacAuthorizer(rbac).danglingBindings();
    expect(dangling.length).toBeGreaterThan(0);
    expect(dangling.length).toBeLessThan(400);
    expect(dangling.every(({ roleRef }) => roleRef.name.startsWith("deleted-role-"))).toBe(true);
  });

  it("anchors ages to whole days before the given day and keeps legacy-token labels as dates", () => {
    const midnight = Date.parse("2026-06-15T00:00:00Z");
    const offDay = objects.filter((object) => {
      const age = midnight - Date.parse(object.metadata.creationTimestamp ?? "");
      return !(age >= 0 && age % 86_400_000 === 0);
    });
    expect(offDay.map((object) => object.metadata.name).slice(0, 5)).toEqual([]);
    const lastUsed = objects.flatMap((object) => object.metadata.labels?.["kubernetes.io/legacy-token-last-used"] ?? []);
    expect(lastUsed.length).toBeGreaterThan(4_000);
    expect(lastUsed.every((day) => /^\d{4}-\d{2}-\d{2}$/.test(day))).toBe(true);
  });

  it("refuses a size too small for one namespace", () => {
    expect(() => generateScaleCluster(10)).toThrow(RangeError);
  });
});
