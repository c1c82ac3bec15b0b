// analyzeCluster on real-world add-on manifests plus a few deliberately risky identities, on a real database.
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "@/lib/kube-sim";
import { bootstrapObjects } from "@/lib/kube-sim/bootstrap";
import { expandWorkloads, loadManifestFiles } from "@/lib/kube-sim/manifests";
import { REAL_WORLD_RBAC_DIR } from "@/lib/rbac/test-support/real-world-fixtures";
import { insertCluster, insertKubeObjects } from "@/lib/permissions/test-support/inventory-rows";
import { assignOwner } from "@/lib/owners/assign-owner";
import { createOwnershipRule } from "@/lib/owners/ownership-rules";
import { createTeam } from "@/lib/owners/teams";
import { setupTestDatabase } from "@/lib/testing/database";
import { acceptRisk, revokeRiskAcceptance } from "./accept-risk";
import { analyzeCluster } from "./analyze-cluster";
import { findingRule, findingRules, type FindingRule } from "./rules";

const DAY = 86_400_000;
const NOW = new Date("2026-11-27T00:00:00Z");
const ADD_ONS = ["kube-state-metrics", "sealed-secrets", "kubernetes-dashboard", "cert-manager", "ingress-nginx", "metrics-server"];
const RBAC = "rbac.authorization.k8s.io/v1";

const serviceAccount = (namespace: string, name: string, annotations: Record<string, string> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "ServiceAccount",
  metadata: { name, namespace, annotations },
});
const clusterRole = (name: string, rules: unknown[]): KubeObject => ({ apiVersion: RBAC, kind: "ClusterRole", metadata: { name }, rules });
const saSubject = (namespace: string, name: string) => [{ kind: "ServiceAccount", namespace, name }];
const clusterBinding = (name: string, role: string, subjects: unknown[]): KubeObject => ({
  apiVersion: RBAC,
  kind: "ClusterRoleBinding",
  metadata: { name },
  roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
  subjects,
});
const roleBinding = (namespace: string, name: string, roleKind: string, role: string, subjects: unknown[]): KubeObject => ({
  apiVersion: RBAC,
  kind: "RoleBinding",
  metadata: { name, namespace },
  roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: roleKind, name: role },
  subjects,
});
const pod = (namespace: string, name: string, serviceAccountName: string, replicaSet: string): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace, ownerReferences: [{ kind: "ReplicaSet", name: replicaSet, controller: true }] },
  spec: { serviceAccountName },
});

const risky: KubeObject[] = [
  { apiVersion: "v1", kind: "Namespace", metadata: { name: "apps" } },
  // A well-known misconfiguration: the dashboard bound to cluster-admin.
  clusterBinding("dashboard-admin", "cluster-admin", saSubject("kubernetes-dashboard", "kubernetes-dashboard")),
  serviceAccount("apps", "secret-reader", { "keyward.io/owner": "Payments Team" }),
  { apiVersion: RBAC, kind: "Role", metadata: { name: "read-secrets", namespace: "apps" }, rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get"] }] },
  roleBinding("apps", "secret-reader", "Role", "read-secrets", saSubject("apps", "secret-reader")),
  {
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/service-account-token",
    metadata: { name: "secret-reader-token", namespace: "apps", creationTimestamp: new Date(NOW.getTime() - 200 * DAY).toISOString(), annotations: { "kubernetes.io/service-account.name": "secret-reader" } },
  },
  ...(
    [
      ["escalator", [{ apiGroups: ["rbac.authorization.k8s.io"], resources: ["clusterroles"], verbs: ["escalate"] }]],
      ["binder", [{ apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles"], verbs: ["bind"] }]],
      ["impersonator", [{ apiGroups: [""], resources: ["users", "groups"], verbs: ["impersonate"] }]],
      ["token-maker", [{ apiGroups: [""], resources: ["serviceaccounts/token"], verbs: ["create"] }]],
      ["csr-approver", [
        { apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests/approval"], verbs: ["update"] },
        { apiGroups: ["certificates.k8s.io"], resources: ["signers"], resourceNames: ["kubernetes.io/kube-apiserver-client"], verbs: ["approve"] },
      ]],
      // Approval without the client signer cannot mint kube-apiserver client certificates.
      ["kubelet-csr-approver", [
        { apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests/approval"], verbs: ["update"] },
        { apiGroups: ["certificates.k8s.io"], resources: ["signers"], resourceNames: ["kubernetes.io/kubelet-serving"], verbs: ["approve"] },
      ]],
      ["webhook-writer", [{ apiGroups: ["admissionregistration.k8s.io"], resources: ["mutatingwebhookconfigurations"], verbs: ["create", "update"] }]],
      ["deployer", [{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["create", "update"] }]],
    ] as const
  ).flatMap(([name, rules]) => [
    serviceAccount("apps", name),
    clusterRole(`test:${name}`, [...rules]),
    clusterBinding(`test:${name}`, `test:${name}`, saSubject("apps", name)),
  ]),
  serviceAccount("apps", "default"),
  roleBinding("apps", "default-view", "ClusterRole", "view", saSubject("apps", "default")),
  serviceAccount("apps", "shared"),
  pod("apps", "web-7d4b9c8f6-abcde", "shared", "web-7d4b9c8f6"),
  pod("apps", "web-5f6a7b8c9-fghij", "shared", "web-5f6a7b8c9"),
  pod("apps", "api-6c5d4e3f2-klmno", "shared", "api-6c5d4e3f2"),
  pod("apps", "worker-6c5d4e3f2-pqrst", "shared", "worker-6c5d4e3f2"),
  roleBinding("apps", "to-nothing", "Role", "does-not-exist", saSubject("apps", "shared")),
  roleBinding("apps", "to-ghost", "ClusterRole", "view", saSubject("apps", "ghost")),
];

const database = setupTestDatabase();
let clusterId: string;

async function findingsOf(namespace: string, name: string, kind: "ServiceAccount" | "CertificateUser" = "ServiceAccount") {
  const identity = await database.prisma.identity.findFirstOrThrow({
    where: { clusterId, kind, namespace, name },
    include: { findings: { where: { resolvedAt: null } } },
  });
  return { identity, types: identity.findings.map((finding) => finding.type).sort(), findings: identity.findings };
}

beforeAll(async () => {
  const addOns = await loadManifestFiles(
    ADD_ONS.map((addOn) => path.join(REAL_WORLD_RBAC_DIR, `${addOn}.yaml`)),
    { defaultNamespaceFromFileName: true },
  );
  const objects = expandWorkloads([...bootstrapObjects(), ...addOns, ...risky]);
  const cluster = await insertCluster(database.prisma, "analysis-test");
  clusterId = cluster.id;
  await insertKubeObjects(database.prisma, clusterId, objects, { subjectIdentities: true });
  const robot = await database.prisma.identity.create({
    data: { clusterId, kind: "CertificateUser", name: "robot", username: "robot", groups: ["ops"] },
  });
  await database.prisma.credential.create({
    data: {
      clusterId,
      identityId: robot.id,
      kind: "clientCertificate",
      name: "csr-robot",
      issuedAt: new Date(NOW.getTime() - 355 * DAY),
      expiresAt: new Date(NOW.getTime() + 10 * DAY),
    },
  });
  const platform = await createTeam(database.prisma, { name: "Platform" });
  await createOwnershipRule(database.prisma, { namespacePattern: "cert-*", teamId: platform.id });
  const first = await analyzeCluster(database.prisma, clusterId, NOW);
  expect(first.opened).toBe(first.open);
  expect(first.resolved).toBe(0);
});

describe("analyzeCluster findings", () => {
  it("an add-on bound to cluster-admin is critical, with the binding that causes it", async () => {
    const { identity, findings } = await findingsOf("kubernetes-dashboard", "kubernetes-dashboard");
    const critical = findings.find((finding) => finding.type === "cluster-admin");
    expect(critical?.severity).toBe("critical");
    expect(JSON.stringify(critical?.details)).toContain("dashboard-admin");
    expect(identity.maxSeverity).toBe("critical");
  });

  it("kube-state-metrics' list/watch role is not critical but is flagged for reading secrets cluster-wide", async () => {
    const { identity, types, findings } = await findingsOf("kube-system", "kube-state-metrics");
    expect(types).not.toContain("cluster-admin");
    expect(types).not.toContain("privilege-escalation");
    const secrets = findings.find((finding) => finding.type === "secrets-read");
    expect(secrets?.severity).toBe("high");
    expect(secrets?.details).toMatchObject({ clusterWide: true, verbs: ["list", "watch"] });
    expect(identity.maxSeverity).toBe("high");
  });

  it("a namespaced secrets reader with an old legacy token", async () => {
    const { types, findings } = await findingsOf("apps", "secret-reader");
    expect(types).toEqual(expect.arrayContaining(["secrets-read", "legacy-token", "credential-age"]));
    expect(findings.find((finding) => finding.type === "secrets-read")?.details).toMatchObject({ clusterWide: false, namespaces: ["apps"] });
    expect(findings.find((finding) => finding.type === "legacy-token")?.severity).toBe("high");
    expect(findings.find((finding) => finding.type === "credential-age")?.severity).toBe("medium");
  });

  it("escalation paths are critical; approving only kubelet-serving CSRs is not", async () => {
    for (const name of ["escalator", "binder", "impersonator", "token-maker", "csr-approver", "webhook-writer"]) {
      const { findings } = await findingsOf("apps", name);
      expect({ name, severity: findings.find((f) => f.type === "privilege-escalation")?.severity }).toEqual({ name, severity: "critical" });
    }
    expect((await findingsOf("apps", "kubelet-csr-approver")).types).not.toContain("privilege-escalation");
    const deployer = await findingsOf("apps", "deployer");
    expect(deployer.types).toContain("workload-create");
    expect(deployer.types).not.toContain("privilege-escalation");
  });

  it("certificates valid longer than the policy and expiring within 30 days are medium", async () => {
    const { findings } = await findingsOf("", "robot", "CertificateUser");
    expect(findings.filter((f) => ["certificate-validity", "credential-expiring"].includes(f.type)).map((f) => f.severity)).toEqual(["medium", "medium"]);
  });

  it("reuse: the default SA with bindings and an SA shared by many workloads; an SA with bindings and no workload", async () => {
    expect((await findingsOf("apps", "default")).types).toContain("default-sa-bindings");
    const shared = await findingsOf("apps", "shared");
    expect(shared.types).toContain("shared-service-account");
    // Two ReplicaSets of one Deployment are one workload: web, api and worker.
    expect(shared.findings.find((f) => f.type === "shared-service-account")?.details).toMatchObject({ count: 3 });
    expect(shared.types).not.toContain("bindings-without-workload");
    expect((await findingsOf("apps", "escalator")).types).toContain("bindings-without-workload");
  });

  it("a binding to system:authenticated is high; a missing role or subject is low", async () => {
    const bindingFindings = await database.prisma.finding.findMany({ where: { clusterId, resolvedAt: null, type: { in: ["broad-group-binding", "dangling-binding", "missing-subject"] } } });
    const summary = bindingFindings.map((f) => `${f.type}:${f.severity}:${f.fingerprint.split(":").slice(1).join(":")}`).sort();
    expect(summary).toEqual(expect.arrayContaining([
      "broad-group-binding:high:RoleBinding/kube-system/sealed-secrets-service-proxier:system:authenticated",
      "dangling-binding:low:RoleBinding/apps/to-nothing",
      "missing-subject:low:RoleBinding/apps/to-ghost:apps/ghost",
    ]));
    // The bootstrap policy's grants to system:authenticated are Kubernetes' own, not findings.
    expect(summary.filter((line) => line.includes("system:basic-user") || line.includes("system:discovery"))).toEqual([]);
  });

  it("every finding carries its rule's severity and mappings", async () => {
    const findings = await database.prisma.finding.findMany({ where: { clusterId } });
    const rules = new Map<string, FindingRule>(findingRules.map((rule) => [rule.id, rule]));
    for (const finding of findings) {
      const rule = rules.get(finding.type);
      expect({ type: finding.type, severity: finding.severity, owasp: finding.owasp, csf: finding.csf }).toEqual({
        type: finding.type,
        severity: rule?.severity,
        owasp: rule?.owasp,
        csf: rule?.csf,
      });
    }
  });
});

describe("owners", () => {
  it("annotation creates the team; namespace rules apply; no owner is a medium finding", async () => {
    const annotated = await findingsOf("apps", "secret-reader");
    expect(annotated.identity.ownerSource).toBe("annotation");
    const team = await database.prisma.team.findUniqueOrThrow({ where: { id: annotated.identity.ownerTeamId ?? "" } });
    expect(team).toMatchObject({ name: "Payments Team", slug: "payments-team" });
    expect(annotated.types).not.toContain("no-owner");
    const byRule = await findingsOf("cert-manager", "cert-manager");
    expect(byRule.identity.ownerSource).toBe("namespaceRule");
    const orphan = await findingsOf("apps", "escalator");
    expect(orphan.identity.ownerSource).toBeNull();
    expect(orphan.findings.find((f) => f.type === "no-owner")?.severity).toBe("medium");
  });

  it("a manual owner wins and survives analysis; clearing it returns to automatic resolution", async () => {
    const { identity } = await findingsOf("apps", "escalator");
    const team = await createTeam(database.prisma, { name: "Security" });
    await assignOwner(database.prisma, { identityId: identity.id, teamId: team.id, assignedBy: "tester" }, NOW);
    expect((await findingsOf("apps", "escalator")).types).not.toContain("no-owner");
    await analyzeCluster(database.prisma, clusterId, NOW);
    const after = await findingsOf("apps", "escalator");
    expect(after.identity).toMatchObject({ ownerTeamId: team.id, ownerSource: "manual" });
    expect(after.types).not.toContain("no-owner");
    await assignOwner(database.prisma, { identityId: identity.id, teamId: null, assignedBy: "tester" }, NOW);
    const cleared = await findingsOf("apps", "escalator");
    expect(cleared.identity).toMatchObject({ ownerTeamId: null, ownerSource: null });
    expect(cleared.types).toContain("no-owner");
  });
});

describe("lifecycle", () => {
  it("a second run changes nothing; a finding that stops holding is resolved and re-opened when it returns", async () => {
    const before = await database.prisma.finding.findMany({ where: { clusterId, resolvedAt: null }, orderBy: { fingerprint: "asc" } });
    const again = await analyzeCluster(database.prisma, clusterId, new Date(NOW.getTime() + 1000));
    expect(again).toEqual({ opened: 0, resolved: 0, open: before.length });

    const binding = await database.prisma.rbacBinding.findFirstOrThrow({ where: { clusterId, kind: "RoleBinding", name: "secret-reader" } });
    await database.prisma.rbacBinding.update({ where: { id: binding.id }, data: { deletedAt: NOW } });
    const later = new Date(NOW.getTime() + 2000);
    const dropped = await analyzeCluster(database.prisma, clusterId, later);
    expect(dropped.resolved).toBeGreaterThanOrEqual(1);
    const fingerprint = "secrets-read:ServiceAccount/apps/secret-reader";
    const resolved = await database.prisma.finding.findFirstOrThrow({ where: { clusterId, fingerprint } });
    expect(resolved.resolvedAt).toEqual(later);

    await database.prisma.rbacBinding.update({ where: { id: binding.id }, data: { deletedAt: null } });
    const back = await analyzeCluster(database.prisma, clusterId, new Date(NOW.getTime() + 3000));
    expect(back.opened).toBeGreaterThanOrEqual(1);
    const reopened = await database.prisma.finding.findFirstOrThrow({ where: { clusterId, fingerprint } });
    expect(reopened).toMatchObject({ id: resolved.id, resolvedAt: null, firstSeenAt: resolved.firstSeenAt });
  });

  it("risk acceptance silences a finding until it expires, and can be revoked", async () => {
    const { identity, findings } = await findingsOf("kubernetes-dashboard", "kubernetes-dashboard");
    const critical = findings.find((f) => f.type === "cluster-admin");
    if (!critical) throw new Error("expected the cluster-admin finding");
    const base = { findingId: critical.id, acceptedById: "user-1" };
    await expect(acceptRisk(database.prisma, { ...base, reason: " ", expiresAt: new Date(NOW.getTime() + DAY) }, NOW)).rejects.toThrow();
    await expect(acceptRisk(database.prisma, { ...base, reason: "vendor fix pending", expiresAt: new Date(NOW.getTime() - DAY) }, NOW)).rejects.toThrow(/future/);
    await expect(acceptRisk(database.prisma, { ...base, reason: "vendor fix pending", expiresAt: new Date(NOW.getTime() + 400 * DAY) }, NOW)).rejects.toThrow(/one year/);

    const acceptance = await acceptRisk(database.prisma, { ...base, reason: "vendor fix pending", expiresAt: new Date(NOW.getTime() + 10 * DAY) }, NOW);
    const silenced = await database.prisma.identity.findUniqueOrThrow({ where: { id: identity.id } });
    expect(silenced.openFindingCount).toBe(identity.openFindingCount - 1);
    expect(silenced.maxSeverity).not.toBe("critical");
    await analyzeCluster(database.prisma, clusterId, new Date(NOW.getTime() + 5 * DAY));
    expect((await database.prisma.identity.findUniqueOrThrow({ where: { id: identity.id } })).maxSeverity).not.toBe("critical");

    // Past the expiry, the next analysis counts the finding again.
    await analyzeCluster(database.prisma, clusterId, new Date(NOW.getTime() + 11 * DAY));
    const expired = await database.prisma.identity.findUniqueOrThrow({ where: { id: identity.id } });
    expect(expired.maxSeverity).toBe("critical");
    expect((await database.prisma.finding.findUniqueOrThrow({ where: { id: critical.id } })).acceptedUntil).toBeNull();

    const second = await acceptRisk(database.prisma, { ...base, reason: "again", expiresAt: new Date(NOW.getTime() + 30 * DAY) }, new Date(NOW.getTime() + 11 * DAY));
    expect((await database.prisma.identity.findUniqueOrThrow({ where: { id: identity.id } })).maxSeverity).not.toBe("critical");
    await revokeRiskAcceptance(database.prisma, { acceptanceId: second.id }, new Date(NOW.getTime() + 12 * DAY));
    expect((await database.prisma.identity.findUniqueOrThrow({ where: { id: identity.id } })).maxSeverity).toBe("critical");
    expect(acceptance.acceptedById).toBe("user-1");
  });
});

describe("usage findings", () => {
  // A cluster of its own, with rollup rows written directly (as ingestion writes them), so each rule is seen
  // holding and not holding.
  let usageClusterId: string;
  const ids: Record<string, string> = {};
  const day = (daysAgo: number) => new Date(Date.UTC(2026, 10, 27) - daysAgo * DAY);
  const rollup = (identity: string, daysAgo: number, request: Partial<{ verb: string; apiGroup: string; resource: string; subresource: string; namespace: string; path: string; count: number; deniedCount: number; userAgents: string[]; sourceIps: string[]; resourceNames: string[] }>) => ({
    clusterId: usageClusterId,
    identityId: ids[identity],
    day: day(daysAgo),
    verb: "get",
    count: 1,
    firstSeenAt: new Date(day(daysAgo).getTime() + 3_600_000),
    lastSeenAt: new Date(day(daysAgo).getTime() + 7_200_000),
    userAgents: ["app/v1.0.0 (linux/amd64) kubernetes/abcdef"],
    sourceIps: ["10.244.1.7"],
    ...request,
  });
  const usageFindings = async (name: string) =>
    (await database.prisma.finding.findMany({ where: { clusterId: usageClusterId, identityId: ids[name], resolvedAt: null, type: { in: ["unused", "unused-permissions", "human-use"] } } }))
      .sort((a, b) => a.type.localeCompare(b.type));
  const observe = (daysAgo: number, settings: object = {}) =>
    database.prisma.cluster.update({ where: { id: usageClusterId }, data: { usageObservedSince: day(daysAgo), settings } });

  beforeAll(async () => {
    const objects: KubeObject[] = [
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "apps" } },
      ...["reporter", "idle", "stale", "legacy-with-pods", "laptop-user", "ci-bot", "denied-only"].map((name) => serviceAccount("apps", name)),
      {
        apiVersion: RBAC,
        kind: "Role",
        metadata: { name: "reporter", namespace: "apps" },
        rules: [
          { apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] },
          { apiGroups: [""], resources: ["configmaps"], verbs: ["get"] },
          { apiGroups: ["apps"], resources: ["deployments"], verbs: ["delete"] },
        ],
      },
      ...["reporter", "idle", "denied-only"].map((name) => roleBinding("apps", name, "Role", "reporter", saSubject("apps", name))),
      pod("apps", "web-7d4b9c8f6-abcde", "legacy-with-pods", "web-7d4b9c8f6"),
    ];
    const cluster = await insertCluster(database.prisma, "usage-test");
    usageClusterId = cluster.id;
    await insertKubeObjects(database.prisma, usageClusterId, objects);
    await database.prisma.identity.createMany({
      data: [
        { clusterId: usageClusterId, kind: "User", name: "system:kube-proxy", username: "system:kube-proxy" },
        { clusterId: usageClusterId, kind: "Group", name: "ops", username: "ops" },
      ],
    });
    for (const identity of await database.prisma.identity.findMany({ where: { clusterId: usageClusterId } })) ids[identity.name] = identity.id;
    // Last used long ago, by its events (stale) or by its legacy token's label (legacy-with-pods).
    await database.prisma.identity.update({ where: { id: ids.stale }, data: { lastUsedAt: day(120) } });
    await database.prisma.identity.update({ where: { id: ids["legacy-with-pods"] }, data: { lastUsedAt: day(200) } });
    for (const name of ["reporter", "laptop-user", "ci-bot", "denied-only"]) await database.prisma.identity.update({ where: { id: ids[name] }, data: { lastUsedAt: day(1) } });
    await database.prisma.usageRollup.createMany({
      data: [
        rollup("reporter", 1, { resource: "pods", namespace: "apps", count: 5, resourceNames: ["web-1"] }),
        rollup("reporter", 30, { verb: "list", resource: "pods", namespace: "apps", count: 2 }),
        // Refused every time: reading configmaps is not a use of the configmaps grant.
        rollup("reporter", 2, { resource: "configmaps", namespace: "apps", count: 3, deniedCount: 3 }),
        // Outside the 90-day window: neither use of the deployments grant nor of the identity.
        rollup("reporter", 100, { verb: "delete", apiGroup: "apps", resource: "deployments", namespace: "apps" }),
        rollup("stale", 120, { resource: "pods", namespace: "apps" }),
        rollup("denied-only", 3, { resource: "secrets", namespace: "apps", count: 2, deniedCount: 2 }),
        rollup("laptop-user", 4, { resource: "pods", namespace: "apps", userAgents: ["kubectl/v1.31.0 (darwin/arm64) kubernetes/abc1234"], sourceIps: ["10.244.3.9"] }),
        rollup("laptop-user", 5, { resource: "pods", namespace: "apps", userAgents: ["laptop-user/v0.0.0 (linux/amd64) kubernetes/$Format"] }),
        rollup("ci-bot", 6, { resource: "pods", namespace: "apps", userAgents: ["manager/v0.0.0 (linux/amd64) kubernetes/$Format"], sourceIps: ["203.0.113.7", "10.244.2.2"] }),
      ],
    });
  });

  it("observed for less than the window: only identities last used before it are unused, and none that runs pods", async () => {
    await observe(10);
    await analyzeCluster(database.prisma, usageClusterId, NOW);
    const unused = await database.prisma.finding.findMany({ where: { clusterId: usageClusterId, type: "unused", resolvedAt: null } });
    expect(unused.map((finding) => finding.identityId)).toEqual([ids.stale]);
    expect(unused[0]).toMatchObject({
      severity: "medium",
      details: { lastUsedAt: day(120).toISOString(), observedSince: day(10).toISOString(), windowDays: 90 },
      owasp: [...findingRule("unused").owasp],
      csf: [...findingRule("unused").csf],
    });
  });

  it("observed for the whole window: every identity without an event in it is unused, except Kubernetes' own and groups", async () => {
    await observe(100);
    await analyzeCluster(database.prisma, usageClusterId, NOW);
    const unused = await database.prisma.finding.findMany({ where: { clusterId: usageClusterId, type: "unused", resolvedAt: null } });
    const names = Object.fromEntries(Object.entries(ids).map(([name, id]) => [id, name]));
    expect(unused.map((finding) => names[finding.identityId ?? ""]).sort()).toEqual(["idle", "legacy-with-pods", "stale"]);
    expect((await usageFindings("idle"))[0]).toMatchObject({ title: "Unused: no use in the last 90 days", details: { lastUsedAt: null } });
  });

  it("unused permissions: the grants no allowed request in the window fell under, with their binding and role", async () => {
    const [finding] = await usageFindings("reporter");
    expect(finding).toMatchObject({
      type: "unused-permissions",
      severity: "medium",
      title: "2 of 3 granted rules not used in 90 days",
      owasp: [...findingRule("unused-permissions").owasp],
      details: {
        keptCount: 1,
        removedCount: 2,
        windowDays: 90,
        unusedRules: [
          { rule: "get core/configmaps in apps", binding: "RoleBinding apps/reporter", role: "Role apps/reporter" },
          { rule: "delete apps/deployments in apps", binding: "RoleBinding apps/reporter", role: "Role apps/reporter" },
        ],
      },
    });
    // Only refused requests: the identity is in use (someone holds its token) but used none of its grants.
    expect((await usageFindings("denied-only")).map((f) => [f.type, (f.details as { removedCount: number }).removedCount])).toEqual([["unused-permissions", 3]]);
  });

  it("human use: a kubectl user agent always; an address outside the cluster's CIDRs once they are configured", async () => {
    const [laptop] = (await usageFindings("laptop-user")).filter((f) => f.type === "human-use");
    expect(laptop).toMatchObject({
      severity: "high",
      owasp: ["NHI10"],
      title: "Service account token used with kubectl",
      details: { userAgents: [{ client: "kubectl", value: "kubectl/v1.31.0 (darwin/arm64) kubernetes/abc1234", count: 1, lastSeenAt: new Date(day(4).getTime() + 7_200_000).toISOString() }], sourceIps: [] },
    });
    // client-go controllers are programs, not people; without CIDRs an address says nothing.
    expect((await usageFindings("ci-bot")).map((f) => f.type)).not.toContain("human-use");

    await observe(100, { clusterCidrs: ["10.0.0.0/8", "fd00::/8"] });
    await analyzeCluster(database.prisma, usageClusterId, NOW);
    const [ci] = (await usageFindings("ci-bot")).filter((f) => f.type === "human-use");
    expect(ci).toMatchObject({ title: "Service account token used from 203.0.113.7 outside the cluster", details: { userAgents: [], sourceIps: [{ value: "203.0.113.7" }], clusterCidrs: ["10.0.0.0/8", "fd00::/8"] } });
    expect((await usageFindings("laptop-user")).find((f) => f.type === "human-use")?.details).toMatchObject({ sourceIps: [] });

    // An invalid CIDR voids the list (the setting falls back to none), as every other invalid setting does.
    await observe(100, { clusterCidrs: ["10.0.0.0/8", "not-a-cidr"] });
    await analyzeCluster(database.prisma, usageClusterId, NOW);
    expect((await usageFindings("ci-bot")).map((f) => f.type)).not.toContain("human-use");
  });

  it("new use resolves the unused finding; a shorter window drops grants used only before it", async () => {
    await database.prisma.usageRollup.create({ data: rollup("idle", 0, { resource: "pods", namespace: "apps" }) });
    await database.prisma.identity.update({ where: { id: ids.idle }, data: { lastUsedAt: NOW } });
    const later = new Date(NOW.getTime() + 60_000);
    await analyzeCluster(database.prisma, usageClusterId, later);
    expect((await usageFindings("idle")).map((f) => f.type)).toEqual(["unused-permissions"]);
    const resolved = await database.prisma.finding.findFirstOrThrow({ where: { identityId: ids.idle, type: "unused" } });
    expect(resolved.resolvedAt).toEqual(later);

    await observe(100, { usageWindowDays: 7 });
    await analyzeCluster(database.prisma, usageClusterId, later);
    // list pods happened 30 days ago, get pods yesterday: the pods rule is still used within 7 days.
    expect((await usageFindings("reporter"))[0]).toMatchObject({ title: "2 of 3 granted rules not used in 7 days", details: { windowDays: 7, keptCount: 1 } });
  });
});
