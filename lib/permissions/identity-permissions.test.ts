// Effective permissions and who-can, answered from the database rows a sync leaves.
import { beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "@/lib/kube-sim";
import { bootstrapObjects } from "@/lib/kube-sim/bootstrap";
import { setupTestDatabase } from "@/lib/testing/database";
import { getIdentityPermissions } from "./identity-permissions";
import { insertCluster, insertKubeObjects } from "./test-support/inventory-rows";
import { whoCan } from "./who-can";

const RBAC = "rbac.authorization.k8s.io/v1";
const ref = (kind: string, name: string) => ({ apiGroup: "rbac.authorization.k8s.io", kind, name });

const objects: KubeObject[] = [
  ...bootstrapObjects(),
  { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "ci", namespace: "build" } },
  { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "reader", namespace: "build" } },
  {
    apiVersion: RBAC,
    kind: "Role",
    metadata: { name: "deploy", namespace: "build" },
    rules: [
      { apiGroups: ["apps"], resources: ["deployments", "deployments/scale"], verbs: ["get", "update"] },
      { apiGroups: [""], resources: ["secrets"], resourceNames: ["registry"], verbs: ["get"] },
    ],
  },
  { apiVersion: RBAC, kind: "RoleBinding", metadata: { name: "ci-deploy", namespace: "build" }, roleRef: ref("Role", "deploy"), subjects: [{ kind: "ServiceAccount", name: "ci" }] },
  { apiVersion: RBAC, kind: "RoleBinding", metadata: { name: "ci-view", namespace: "staging" }, roleRef: ref("ClusterRole", "view"), subjects: [{ kind: "ServiceAccount", name: "ci", namespace: "build" }] },
  { apiVersion: RBAC, kind: "ClusterRole", metadata: { name: "secret-lister" }, rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["list", "get"] }] },
  { apiVersion: RBAC, kind: "ClusterRoleBinding", metadata: { name: "reader-secrets" }, roleRef: ref("ClusterRole", "secret-lister"), subjects: [{ kind: "ServiceAccount", name: "reader", namespace: "build" }, { kind: "Group", name: "auditors" }] },
];

const database = setupTestDatabase();
let clusterId: string;

beforeAll(async () => {
  clusterId = (await insertCluster(database.prisma, "permissions")).id;
  await insertKubeObjects(database.prisma, clusterId, objects, { subjectIdentities: true });
});

async function identityId(namespace: string, name: string): Promise<string> {
  return (await database.prisma.identity.findFirstOrThrow({ where: { clusterId, namespace, name } })).id;
}

describe("getIdentityPermissions", () => {
  it("lists rules with provenance and builds the resources × verbs matrix with scopes", async () => {
    const permissions = await getIdentityPermissions(database.prisma, await identityId("build", "ci"));
    if (!permissions) throw new Error("identity not found");
    const deploy = permissions.rules.filter((rule) => rule.binding.name === "ci-deploy");
    expect(deploy.map((rule) => rule.namespace)).toEqual(["build", "build"]);
    expect(deploy[0].role).toEqual({ kind: "Role", namespace: "build", name: "deploy" });

    const row = (key: string) => permissions.matrix.rows.find((candidate) => candidate.key === key);
    expect(row("apps/deployments")?.cells.update).toEqual({ clusterWide: false, namespaces: ["build"], limitedByResourceNames: false, resourceNames: [] });
    // view (aggregated from the bootstrap policy) adds get on deployments in staging.
    expect(row("apps/deployments")?.cells.get?.namespaces).toEqual(["build", "staging"]);
    expect(row("apps/deployments/scale")).toMatchObject({ resource: "deployments", subresource: "scale" });
    expect(row("core/secrets")?.cells.get).toEqual({ clusterWide: false, namespaces: ["build"], limitedByResourceNames: true, resourceNames: ["registry"] });
    expect(row("core/secrets")?.cells.list).toBeUndefined();
    // system:authenticated's discovery grants are non-resource URLs, only cluster-wide.
    expect(permissions.matrix.nonResourceUrls.some((entry) => entry.path === "/api" && entry.verbs.includes("get"))).toBe(true);
    expect(permissions.matrix.verbs.slice(0, 3)).toEqual(["get", "list", "watch"]);
  });

  it("a cluster-wide grant shows as such", async () => {
    const permissions = await getIdentityPermissions(database.prisma, await identityId("build", "reader"));
    const secrets = permissions?.matrix.rows.find((row) => row.key === "core/secrets");
    expect(secrets?.cells.list).toMatchObject({ clusterWide: true, namespaces: [] });
  });

  it("is null for an unknown identity", async () => {
    expect(await getIdentityPermissions(database.prisma, "nope")).toBeNull();
  });
});

describe("whoCan", () => {
  it("answers cluster-wide without a namespace and adds RoleBindings of the namespace", async () => {
    const clusterWide = await whoCan(database.prisma, { clusterId, verb: "list", group: "", resource: "secrets" });
    const names = clusterWide.subjects.map((subject) => `${subject.kind}:${subject.name}`);
    expect(names).toEqual(expect.arrayContaining(["ServiceAccount:reader", "Group:auditors", "Group:system:masters"]));
    expect(names).not.toContain("ServiceAccount:ci");
    const reader = clusterWide.subjects.find((subject) => subject.name === "reader");
    expect(reader).toMatchObject({
      namespace: "build",
      username: "system:serviceaccount:build:reader",
      identityId: await identityId("build", "reader"),
      clusterId,
      via: [{ binding: { kind: "ClusterRoleBinding", name: "reader-secrets" }, role: { kind: "ClusterRole", name: "secret-lister" } }],
    });
    expect(clusterWide.subjects.find((subject) => subject.name === "auditors")?.identityId).toBe(await identityId("", "auditors"));

    const inBuild = await whoCan(database.prisma, { verb: "update", group: "apps", resource: "deployments", namespace: "build" });
    expect(inBuild.subjects.map((subject) => subject.name)).toContain("ci");
    const inStaging = await whoCan(database.prisma, { verb: "update", group: "apps", resource: "deployments", namespace: "staging" });
    expect(inStaging.subjects.map((subject) => subject.name)).not.toContain("ci");
    const scale = await whoCan(database.prisma, { verb: "update", group: "apps", resource: "deployments", subresource: "scale", namespace: "build" });
    expect(scale.subjects.map((subject) => subject.name)).toContain("ci");
  });
});
