// analyzeCluster must stay fast on large clusters: computed in memory, written in bulk. The default is a tenth
// of the benchmark cluster (10,000 SAs, 20,000 RoleBindings, 2,000 Roles, 500 ClusterRoles, 1,000
// ClusterRoleBindings) to keep CI quick; KEYWARD_ANALYSIS_SCALE=1 runs the full size.
import { beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "@/lib/kube-sim";
import { insertCluster, insertKubeObjects } from "@/lib/permissions/test-support/inventory-rows";
import { setupTestDatabase } from "@/lib/testing/database";
import { analyzeCluster } from "./analyze-cluster";

const SCALE = Number(process.env.KEYWARD_ANALYSIS_SCALE ?? "0.1");
const NAMESPACES = Math.round(500 * SCALE);
const SAS_PER_NAMESPACE = 20;
const ROLES_PER_NAMESPACE = 4;
const BINDINGS_PER_NAMESPACE = 40;
const CLUSTER_ROLES = Math.round(500 * SCALE);
const CLUSTER_ROLE_BINDINGS = Math.round(1000 * SCALE);
const RBAC = "rbac.authorization.k8s.io/v1";
const ROLE_RULES = [
  [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"] }],
  [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"] }],
  [{ apiGroups: [""], resources: ["pods"], verbs: ["create"] }],
  [{ apiGroups: [""], resources: ["pods"], verbs: ["list"] }],
];

function scaleCluster(): KubeObject[] {
  const objects: KubeObject[] = [];
  const ref = (kind: string, name: string) => ({ apiGroup: "rbac.authorization.k8s.io", kind, name });
  for (let n = 0; n < NAMESPACES; n++) {
    const namespace = `ns-${n}`;
    objects.push({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
    for (let s = 0; s < SAS_PER_NAMESPACE; s++) {
      objects.push({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: `sa-${s}`, namespace } });
    }
    for (let r = 0; r < ROLES_PER_NAMESPACE; r++) {
      objects.push({ apiVersion: RBAC, kind: "Role", metadata: { name: `role-${r}`, namespace }, rules: ROLE_RULES[r] });
    }
    for (let b = 0; b < BINDINGS_PER_NAMESPACE; b++) {
      objects.push({
        apiVersion: RBAC,
        kind: "RoleBinding",
        metadata: { name: `rb-${b}`, namespace },
        roleRef: ref("Role", `role-${b % ROLES_PER_NAMESPACE}`),
        subjects: [{ kind: "ServiceAccount", name: `sa-${b % SAS_PER_NAMESPACE}`, namespace }],
      });
    }
  }
  for (let c = 0; c < CLUSTER_ROLES; c++) {
    objects.push({ apiVersion: RBAC, kind: "ClusterRole", metadata: { name: `cr-${c}` }, rules: [{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["list", "watch"] }] });
  }
  for (let c = 0; c < CLUSTER_ROLE_BINDINGS; c++) {
    objects.push({
      apiVersion: RBAC,
      kind: "ClusterRoleBinding",
      metadata: { name: `crb-${c}` },
      roleRef: ref("ClusterRole", `cr-${c % CLUSTER_ROLES}`),
      subjects: [{ kind: "ServiceAccount", name: `sa-${c % SAS_PER_NAMESPACE}`, namespace: `ns-${c % NAMESPACES}` }],
    });
  }
  return objects;
}

const database = setupTestDatabase();
let clusterId: string;

beforeAll(async () => {
  const cluster = await insertCluster(database.prisma, "scale");
  clusterId = cluster.id;
  await insertKubeObjects(database.prisma, clusterId, scaleCluster());
}, 120_000);

describe("analyzeCluster at scale", () => {
  it("analyses in seconds and writes every finding once", async () => {
    const identities = NAMESPACES * SAS_PER_NAMESPACE;
    let started = performance.now();
    const first = await analyzeCluster(database.prisma, clusterId);
    const firstMs = performance.now() - started;
    // Every SA: no owner, bindings but no workload; sa-1, sa-5, … read secrets and sa-2, sa-6, … create pods.
    const perNamespace = SAS_PER_NAMESPACE * 2 + SAS_PER_NAMESPACE / 2;
    expect(first).toEqual({ opened: NAMESPACES * perNamespace, resolved: 0, open: NAMESPACES * perNamespace });
    expect(await database.prisma.identity.count({ where: { clusterId, maxSeverity: "high" } })).toBe(identities / 2);

    started = performance.now();
    const second = await analyzeCluster(database.prisma, clusterId);
    const secondMs = performance.now() - started;
    expect(second).toEqual({ opened: 0, resolved: 0, open: first.open });
    console.log(`analysis of ${identities} SAs: first ${Math.round(firstMs)} ms, second ${Math.round(secondMs)} ms`);
    // Generous for a loaded 2-core CI machine; per-row round trips would take minutes.
    expect(firstMs).toBeLessThan(20_000 * SCALE + 5_000);
    expect(secondMs).toBeLessThan(20_000 * SCALE + 5_000);
  }, 120_000);
});
