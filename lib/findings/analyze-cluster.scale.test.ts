// analyzeCluster must stay fast on large clusters: computed in memory, written in bulk. The default is a tenth
// of the benchmark cluster (10,000 SAs, 20,000 RoleBindings, 2,000 Roles, 500 ClusterRoles, 1,000
// ClusterRoleBindings) to keep CI quick; KEYWARD_ANALYSIS_SCALE=1 runs the full size. The second case adds a
// 90-day usage window: every other service account used daily (two requests a day), as ingestion rolls it up.
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

  it("with 90 days of usage rollups, still analyses in seconds", async () => {
    const identities = NAMESPACES * SAS_PER_NAMESPACE;
    const now = new Date();
    // Even-numbered SAs get configmaps and list pods in their namespace every day; ns-0/sa-0 once with kubectl.
    const rows = await database.prisma.$executeRawUnsafe(
      `INSERT INTO "UsageRollup" ("clusterId", "identityId", "day", "verb", "resource", "namespace", "count", "firstSeenAt", "lastSeenAt", "userAgents", "sourceIps")
       SELECT $1, i."id", d.day, r.verb, r.resource, i."namespace", 10, d.day + interval '1 hour', d.day + interval '2 hours',
         ARRAY[CASE WHEN i."namespace" = 'ns-0' AND i."name" = 'sa-0' AND d.n = 0 THEN 'kubectl/v1.31.0 (linux/amd64) kubernetes/abc' ELSE 'app/v1.0.0 (linux/amd64) kubernetes/abc' END],
         ARRAY['10.244.0.' || (d.n % 250)]
       FROM "Identity" i
       CROSS JOIN LATERAL (SELECT n, (date_trunc('day', $2::timestamp) - n * interval '1 day')::date AS day FROM generate_series(0, 89) AS n) d
       CROSS JOIN (VALUES ('get', 'configmaps'), ('list', 'pods')) AS r(verb, resource)
       WHERE i."clusterId" = $1 AND (substring(i."name" from 4)::int % 2) = 0`,
      clusterId,
      now.toISOString(),
    );
    expect(rows).toBe((identities / 2) * 90 * 2);
    await database.prisma.cluster.update({ where: { id: clusterId }, data: { usageObservedSince: new Date(now.getTime() - 100 * 86_400_000) } });

    // Used SAs keep role-0 (get configmaps) and role-3 (list pods); role-2 (create pods) and the cluster-wide
    // deployments grants go unused.
    const withClusterRole = new Set(Array.from({ length: CLUSTER_ROLE_BINDINGS }, (_, c) => `${c % NAMESPACES}/${c % SAS_PER_NAMESPACE}`));
    let unusedPermissions = 0;
    for (let n = 0; n < NAMESPACES; n++) {
      for (let s = 0; s < SAS_PER_NAMESPACE; s += 2) if (s % 4 === 2 || withClusterRole.has(`${n}/${s}`)) unusedPermissions++;
    }
    const expected = identities / 2 + unusedPermissions + 1;

    let started = performance.now();
    const first = await analyzeCluster(database.prisma, clusterId, now);
    const firstMs = performance.now() - started;
    expect(first).toMatchObject({ opened: expected, resolved: 0 });
    const counts = await database.prisma.finding.groupBy({ by: ["type"], where: { clusterId, type: { in: ["unused", "unused-permissions", "human-use"] } }, _count: { _all: true } });
    expect(Object.fromEntries(counts.map((row) => [row.type, row._count._all]))).toEqual({ unused: identities / 2, "unused-permissions": unusedPermissions, "human-use": 1 });

    started = performance.now();
    const second = await analyzeCluster(database.prisma, clusterId, now);
    const secondMs = performance.now() - started;
    expect(second).toMatchObject({ opened: 0, resolved: 0 });
    console.log(`analysis of ${identities} SAs with ${rows} usage rollup rows: first ${Math.round(firstMs)} ms, second ${Math.round(secondMs)} ms`);
    expect(firstMs).toBeLessThan(20_000 * SCALE + 5_000);
    expect(secondMs).toBeLessThan(20_000 * SCALE + 5_000);
  }, 300_000);
});
