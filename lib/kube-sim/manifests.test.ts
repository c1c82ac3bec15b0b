import { mkdtemp, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expandWorkloads, isNamespacedKind, loadManifestFiles, ManifestError } from "./manifests";
import type { KubeObject } from "./types";

const REAL_WORLD_RBAC = path.resolve(import.meta.dirname, "../..", "../shared/fixtures/real-world/rbac");

type Counts = Partial<Record<"ServiceAccount" | "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" | "Secret", number>>;

// Per-file counts as the fixture's SOURCES.md table states them (read by hand, spot-checked with grep).
const EXPECTED_COUNTS: Record<string, Counts> = {
  "argo-cd.yaml": { ServiceAccount: 7, Role: 6, ClusterRole: 3, RoleBinding: 6, ClusterRoleBinding: 3 },
  "argo-rollouts.yaml": { ServiceAccount: 1, ClusterRole: 4, ClusterRoleBinding: 1 },
  "argo-workflows-quick-start.yaml": { ServiceAccount: 1, Role: 7, ClusterRole: 2, RoleBinding: 7, ClusterRoleBinding: 2, Secret: 2 },
  "argo-workflows.yaml": { ServiceAccount: 2, Role: 1, ClusterRole: 5, RoleBinding: 1, ClusterRoleBinding: 2 },
  "aws-load-balancer-controller.yaml": { ServiceAccount: 1, Role: 1, ClusterRole: 1, RoleBinding: 1, ClusterRoleBinding: 1 },
  "calico-tigera-operator.yaml": { ServiceAccount: 1, ClusterRole: 2, RoleBinding: 1, ClusterRoleBinding: 1 },
  "calico.yaml": { ServiceAccount: 3, ClusterRole: 4, ClusterRoleBinding: 4 },
  "cert-manager.yaml": { ServiceAccount: 3, Role: 4, ClusterRole: 14, RoleBinding: 4, ClusterRoleBinding: 11 },
  "cilium-olm.yaml": { ServiceAccount: 1, Role: 2, ClusterRole: 2, RoleBinding: 2, ClusterRoleBinding: 2 },
  "cilium.yaml": { ServiceAccount: 2, ClusterRole: 2, ClusterRoleBinding: 2 },
  "cluster-autoscaler.yaml": { ServiceAccount: 1, Role: 1, ClusterRole: 1, RoleBinding: 1, ClusterRoleBinding: 1 },
  "external-dns.yaml": { ServiceAccount: 1, ClusterRole: 1, ClusterRoleBinding: 1 },
  "gatekeeper.yaml": { ServiceAccount: 1, Role: 1, ClusterRole: 1, RoleBinding: 1, ClusterRoleBinding: 1 },
  "ingress-nginx.yaml": { ServiceAccount: 2, Role: 2, ClusterRole: 2, RoleBinding: 2, ClusterRoleBinding: 2 },
  "knative-serving.yaml": { ServiceAccount: 2, Role: 1, ClusterRole: 9, RoleBinding: 1, ClusterRoleBinding: 3 },
  "kube-prometheus.yaml": { ServiceAccount: 8, Role: 4, ClusterRole: 8, RoleBinding: 5, ClusterRoleBinding: 7 },
  "kube-state-metrics.yaml": { ServiceAccount: 1, ClusterRole: 1, ClusterRoleBinding: 1 },
  "kubernetes-bootstrap-cluster-role-bindings.yaml": { ClusterRoleBinding: 10 },
  "kubernetes-bootstrap-cluster-roles.yaml": { ClusterRole: 25 },
  "kubernetes-bootstrap-namespace-role-bindings.yaml": { RoleBinding: 7 },
  "kubernetes-bootstrap-namespace-roles.yaml": { Role: 7 },
  "kubernetes-dashboard.yaml": { ServiceAccount: 1, Role: 1, ClusterRole: 1, RoleBinding: 1, ClusterRoleBinding: 1 },
  "local-path-provisioner.yaml": { ServiceAccount: 1, Role: 1, ClusterRole: 1, RoleBinding: 1, ClusterRoleBinding: 1 },
  "metallb.yaml": { ServiceAccount: 2, Role: 2, ClusterRole: 2, RoleBinding: 2, ClusterRoleBinding: 2 },
  "metrics-server.yaml": { ServiceAccount: 1, Role: 1, ClusterRole: 3, RoleBinding: 2, ClusterRoleBinding: 3 },
  "sealed-secrets.yaml": { ServiceAccount: 1, Role: 2, ClusterRole: 1, RoleBinding: 2, ClusterRoleBinding: 1 },
  "tekton-pipeline-release-ci.yaml": { ServiceAccount: 1, Role: 1, RoleBinding: 1, Secret: 1 },
  "vault-k8s.yaml": { ServiceAccount: 1, Role: 1, ClusterRole: 1, RoleBinding: 1, ClusterRoleBinding: 1 },
};

function countKinds(objects: KubeObject[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const object of objects) counts[object.kind] = (counts[object.kind] ?? 0) + 1;
  return counts;
}

function find(objects: KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`${kind} ${name} not found`);
  return found;
}

describe("loadManifestFiles on the real-world RBAC fixtures", () => {
  it.each(Object.entries(EXPECTED_COUNTS))("%s has the documented objects", async (file, expected) => {
    const objects = await loadManifestFiles([path.join(REAL_WORLD_RBAC, file)]);
    expect(countKinds(objects)).toEqual(expected);
  });

  it("covers every fixture file, and a directory load gives all of them", async () => {
    expect((await readdir(REAL_WORLD_RBAC)).sort()).toEqual(Object.keys(EXPECTED_COUNTS).sort());
    const objects = await loadManifestFiles([REAL_WORLD_RBAC]);
    const expectedTotal = Object.values(EXPECTED_COUNTS)
      .flatMap((counts) => Object.values(counts))
      .reduce((sum, count) => sum + count, 0);
    expect(objects).toHaveLength(expectedTotal);
    expect(objects.filter((object) => object.kind === "ServiceAccount")).toHaveLength(46);
  });

  it("gives objects and ServiceAccount subjects without a namespace the file's name, and keeps the others", async () => {
    const tekton = await loadManifestFiles([path.join(REAL_WORLD_RBAC, "tekton-pipeline-release-ci.yaml")], {
      defaultNamespaceFromFileName: true,
    });
    for (const object of tekton) expect(object.metadata.namespace).toBe("tekton-pipeline-release-ci");
    const binding = find(tekton, "RoleBinding", "pipeline-role-binding");
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "release-right-meow", namespace: "tekton-pipeline-release-ci" }]);

    const certManager = await loadManifestFiles([path.join(REAL_WORLD_RBAC, "cert-manager.yaml")], {
      defaultNamespaceFromFileName: true,
    });
    // cert-manager's leader-election Role lives in kube-system and stays there; cluster-scoped objects get none.
    expect(find(certManager, "Role", "cert-manager:leaderelection").metadata.namespace).toBe("kube-system");
    expect(find(certManager, "ClusterRole", "cert-manager-edit").metadata.namespace).toBeUndefined();
    expect(find(certManager, "ServiceAccount", "cert-manager").metadata.namespace).toBe("cert-manager");
  });

  it("drops the null creationTimestamp of Kubernetes' own testdata", async () => {
    const [first] = await loadManifestFiles([path.join(REAL_WORLD_RBAC, "kubernetes-bootstrap-cluster-roles.yaml")]);
    expect(first.metadata).not.toHaveProperty("creationTimestamp");
  });
});

describe("loadManifestFiles on hand-made input", () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), "kube-sim-manifests-"));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it("expands Lists, skips empty documents, reads JSON and recurses into folders in name order", async () => {
    await mkdir(path.join(directory, "tree", "nested"), { recursive: true });
    await writeFile(
      path.join(directory, "tree", "b.yaml"),
      [
        "---",
        "# only a comment",
        "---",
        "apiVersion: v1",
        "kind: List",
        "items:",
        "- {apiVersion: v1, kind: ServiceAccount, metadata: {name: one}}",
        "- {apiVersion: v1, kind: ServiceAccount, metadata: {name: two}}",
        "---",
        "apiVersion: rbac.authorization.k8s.io/v1",
        "kind: RoleList",
        "items: []",
        "---",
      ].join("\n"),
    );
    await writeFile(
      path.join(directory, "tree", "nested", "a.json"),
      JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "from-json" } }),
    );
    await writeFile(path.join(directory, "tree", "notes.txt"), "not: a manifest");
    const objects = await loadManifestFiles([path.join(directory, "tree")]);
    expect(objects.map((object) => `${object.kind}/${object.metadata.name}`)).toEqual([
      "ServiceAccount/one",
      "ServiceAccount/two",
      "Namespace/from-json",
    ]);
  });

  it("names the file and the document of malformed YAML", async () => {
    const file = path.join(directory, "broken.yaml");
    await writeFile(file, "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: ok}\n---\nkind: [unclosed\n");
    await expect(loadManifestFiles([file])).rejects.toThrow(ManifestError);
    await expect(loadManifestFiles([file])).rejects.toThrow(`${file}: document 2`);
  });

  it("names the file, document and item of an object that is not a Kubernetes object", async () => {
    const file = path.join(directory, "no-kind.yaml");
    await writeFile(file, "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: p}}\n- {apiVersion: v1, metadata: {name: x}}\n");
    await expect(loadManifestFiles([file])).rejects.toThrow(`${file}: document 1, item 2: kind`);
    const nameless = path.join(directory, "nameless.yaml");
    await writeFile(nameless, "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n");
    await expect(loadManifestFiles([nameless])).rejects.toThrow("metadata.name or metadata.generateName is required");
  });
});

describe("isNamespacedKind", () => {
  it.each([
    ["v1", "Pod", true],
    ["v1", "ServiceAccount", true],
    ["v1", "Namespace", false],
    ["v1", "Node", false],
    ["apps/v1", "Deployment", true],
    ["batch/v1", "CronJob", true],
    ["rbac.authorization.k8s.io/v1", "Role", true],
    ["rbac.authorization.k8s.io/v1", "ClusterRoleBinding", false],
    ["certificates.k8s.io/v1", "CertificateSigningRequest", false],
    ["networking.k8s.io/v1", "IngressClass", false],
    ["networking.k8s.io/v1", "NetworkPolicy", true],
    ["policy/v1", "PodDisruptionBudget", true],
    ["admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", false],
    ["apiextensions.k8s.io/v1", "CustomResourceDefinition", false],
    ["storage.k8s.io/v1", "StorageClass", false],
    ["scheduling.k8s.io/v1", "PriorityClass", false],
    ["coordination.k8s.io/v1", "Lease", true],
    ["discovery.k8s.io/v1", "EndpointSlice", true],
    ["cert-manager.io/v1", "Certificate", true],
    ["cert-manager.io/v1", "ClusterIssuer", false],
    ["example.com/v1alpha1", "Widget", true],
  ])("%s %s → %s", (apiVersion, kind, namespaced) => {
    expect(isNamespacedKind(apiVersion, kind)).toBe(namespaced);
  });
});

describe("expandWorkloads", () => {
  const template = (serviceAccountName?: string) => ({
    metadata: { labels: { app: "x" } },
    spec: {
      ...(serviceAccountName ? { serviceAccountName } : {}),
      automountServiceAccountToken: false,
      containers: [{ name: "main", image: "registry.example/app:1" }],
    },
  });
  const workloads: KubeObject[] = [
    { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "api", namespace: "shop" }, spec: { replicas: 3, template: template("api") } },
    { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "shop" }, spec: { template: template() } },
    { apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "agent", namespace: "ops", uid: "11111111-2222-4333-8444-555555555555" }, spec: { template: template("agent") } },
    { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "db", namespace: "shop" }, spec: { replicas: 2, template: template("db") } },
    { apiVersion: "batch/v1", kind: "Job", metadata: { name: "migrate", namespace: "shop" }, spec: { template: template("migrator") } },
    { apiVersion: "batch/v1", kind: "CronJob", metadata: { name: "backup", namespace: "ops" }, spec: { schedule: "0 1 * * *", jobTemplate: { spec: { template: template("backup") } } } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "api", namespace: "shop" } },
  ];

  it("keeps the input and adds the pods the controllers would run", () => {
    const expanded = expandWorkloads(workloads);
    expect(expanded.slice(0, workloads.length)).toEqual(workloads);
    const pods = expanded.slice(workloads.length);
    expect(pods.every((pod) => pod.kind === "Pod" && pod.apiVersion === "v1")).toBe(true);
    // 3 (api) + 1 (web, default replicas) + 1 (DaemonSet) + 2 (StatefulSet) + 1 (Job) + 1 (CronJob)
    expect(pods).toHaveLength(9);
  });

  it("names and owns pods like the real controllers", () => {
    const pods = expandWorkloads(workloads).filter((object) => object.kind === "Pod");
    const owner = (pod: KubeObject) => pod.metadata.ownerReferences?.[0] as Record<string, unknown>;

    const apiPods = pods.filter((pod) => pod.metadata.name.startsWith("api-"));
    expect(apiPods).toHaveLength(3);
    const replicaSet = owner(apiPods[0]).name as string;
    expect(replicaSet).toMatch(/^api-[bcdfghjklmnpqrstvwxz2456789]{10}$/);
    for (const pod of apiPods) {
      expect(pod.metadata.name).toMatch(new RegExp(`^${replicaSet}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      expect(owner(pod)).toMatchObject({ apiVersion: "apps/v1", kind: "ReplicaSet", name: replicaSet, controller: true });
      expect(pod.metadata.namespace).toBe("shop");
      expect(pod.metadata.labels).toEqual({ app: "x", "pod-template-hash": replicaSet.slice("api-".length) });
      expect(pod.spec).toMatchObject({ serviceAccountName: "api", automountServiceAccountToken: false, containers: [{ name: "main", image: "registry.example/app:1" }] });
    }
    expect(new Set(apiPods.map((pod) => pod.metadata.name)).size).toBe(3);

    const webPod = pods.find((pod) => pod.metadata.name.startsWith("web-"));
    expect((webPod?.spec as Record<string, unknown>).serviceAccountName).toBe("default");

    const agentPod = pods.find((pod) => pod.metadata.name.startsWith("agent-"));
    expect(owner(agentPod!)).toMatchObject({ kind: "DaemonSet", name: "agent", uid: "11111111-2222-4333-8444-555555555555", controller: true });

    expect(pods.filter((pod) => owner(pod).kind === "StatefulSet").map((pod) => pod.metadata.name)).toEqual(["db-0", "db-1"]);

    const jobPod = pods.find((pod) => owner(pod).kind === "Job" && owner(pod).name === "migrate");
    expect(jobPod?.metadata.name).toMatch(/^migrate-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect((jobPod?.spec as Record<string, unknown>).serviceAccountName).toBe("migrator");

    const cronPod = pods.find((pod) => (pod.spec as Record<string, unknown>).serviceAccountName === "backup");
    expect(owner(cronPod!)).toMatchObject({ apiVersion: "batch/v1", kind: "Job", controller: true });
    expect(owner(cronPod!).name).toMatch(/^backup-\d{8}$/);
    expect(cronPod?.metadata.namespace).toBe("ops");
  });

  it("is deterministic and does not share state with its input", () => {
    const first = expandWorkloads(workloads);
    const second = expandWorkloads(workloads);
    expect(second).toEqual(first);
    const pod = first.find((object) => object.kind === "Pod")!;
    (pod.spec as { containers: Array<{ image: string }> }).containers[0].image = "changed";
    expect(JSON.stringify(workloads)).not.toContain("changed");
  });
});
