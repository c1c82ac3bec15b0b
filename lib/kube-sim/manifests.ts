import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { z } from "zod";
import type { KubeObject } from "./types";

const MANIFEST_EXTENSIONS = new Set([".yaml", ".yml", ".json"]);

/** The least an object needs to be stored: manifests are external input, so they are checked here. */
const kubeObjectSchema = z.looseObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  metadata: z.looseObject({
    name: z.string().min(1).optional(),
    generateName: z.string().min(1).optional(),
    namespace: z.string().min(1).optional(),
  }),
});

export class ManifestError extends Error {
  constructor(source: string, location: string, detail: string) {
    super(`${source}: ${location}: ${detail}`);
    this.name = "ManifestError";
  }
}

export interface LoadManifestOptions {
  /** Give namespaced objects (and ServiceAccount subjects) without a namespace the file's base name. */
  defaultNamespaceFromFileName?: boolean;
}

/** Loads every manifest in the given files and directories (recursively), in a stable order. */
export async function loadManifestFiles(paths: string[], options: LoadManifestOptions = {}): Promise<KubeObject[]> {
  const objects: KubeObject[] = [];
  for (const file of await collectManifestFiles(paths)) {
    const parsed = parseManifestText(await fs.readFile(file, "utf8"), file);
    if (options.defaultNamespaceFromFileName) {
      const namespace = path.basename(file, path.extname(file));
      for (const object of parsed) applyDefaultNamespace(object, namespace);
    }
    objects.push(...parsed);
  }
  return objects;
}

async function collectManifestFiles(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const entry of paths) {
    const stat = await fs.stat(entry);
    if (stat.isDirectory()) {
      const children = (await fs.readdir(entry, { recursive: true, withFileTypes: true }))
        .filter((child) => child.isFile() && MANIFEST_EXTENSIONS.has(path.extname(child.name).toLowerCase()))
        .map((child) => path.join(child.parentPath, child.name))
        .sort();
      files.push(...children);
    } else {
      // A file named explicitly is loaded whatever its extension: the caller chose it.
      files.push(entry);
    }
  }
  return files;
}

/**
 * Parses one manifest text: multi-document YAML or JSON (JSON is YAML), `*List` kinds expanded,
 * empty documents skipped. `source` names the text in errors.
 */
export function parseManifestText(text: string, source: string): KubeObject[] {
  const objects: KubeObject[] = [];
  parseAllDocuments(text).forEach((document, index) => {
    const location = `document ${index + 1}`;
    if (document.errors.length > 0) {
      throw new ManifestError(source, location, document.errors[0].message);
    }
    const value: unknown = document.toJS();
    if (value === null || value === undefined) return;
    if (isList(value)) {
      value.items.forEach((item, itemIndex) => {
        objects.push(toKubeObject(item, source, `${location}, item ${itemIndex + 1}`));
      });
    } else {
      objects.push(toKubeObject(value, source, location));
    }
  });
  return objects;
}

function isList(value: unknown): value is { kind: string; items: unknown[] } {
  if (typeof value !== "object" || value === null) return false;
  const { kind, items } = value as { kind?: unknown; items?: unknown };
  return typeof kind === "string" && kind.endsWith("List") && Array.isArray(items);
}

function toKubeObject(value: unknown, source: string, location: string): KubeObject {
  const result = kubeObjectSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ManifestError(source, location, `${issue.path.join(".") || "object"}: ${issue.message}`);
  }
  const object = result.data as KubeObject;
  if (!object.metadata.name && !object.metadata.generateName) {
    throw new ManifestError(source, location, "metadata.name or metadata.generateName is required");
  }
  // Kubernetes' own testdata writes `creationTimestamp: null`; the server omits null metadata, so do we.
  for (const [key, field] of Object.entries(object.metadata)) {
    if (field === null) delete object.metadata[key];
  }
  return object;
}

function applyDefaultNamespace(object: KubeObject, namespace: string): void {
  if (!object.metadata.namespace && isNamespacedKind(object.apiVersion, object.kind)) {
    object.metadata.namespace = namespace;
  }
  if (object.kind !== "RoleBinding" && object.kind !== "ClusterRoleBinding") return;
  if (!Array.isArray(object.subjects)) return;
  for (const subject of object.subjects as unknown[]) {
    if (typeof subject !== "object" || subject === null) continue;
    const fields = subject as Record<string, unknown>;
    if (fields.kind === "ServiceAccount" && !fields.namespace) fields.namespace = namespace;
  }
}

/**
 * Cluster-scoped kinds by "group/Kind" (core group = ""). Every other kind of a built-in group is namespaced,
 * and so is an unknown custom resource, as most CRDs are.
 */
const CLUSTER_SCOPED_KINDS = new Set([
  // core
  "/Namespace",
  "/Node",
  "/PersistentVolume",
  "/ComponentStatus",
  // rbac, certificates, authentication, authorization
  "rbac.authorization.k8s.io/ClusterRole",
  "rbac.authorization.k8s.io/ClusterRoleBinding",
  "certificates.k8s.io/CertificateSigningRequest",
  "certificates.k8s.io/ClusterTrustBundle",
  "authentication.k8s.io/TokenReview",
  "authentication.k8s.io/SelfSubjectReview",
  "authorization.k8s.io/SubjectAccessReview",
  "authorization.k8s.io/SelfSubjectAccessReview",
  "authorization.k8s.io/SelfSubjectRulesReview",
  // networking, policy, node, scheduling, storage
  "networking.k8s.io/IngressClass",
  "networking.k8s.io/IPAddress",
  "networking.k8s.io/ServiceCIDR",
  "policy/PodSecurityPolicy",
  "node.k8s.io/RuntimeClass",
  "scheduling.k8s.io/PriorityClass",
  "storage.k8s.io/StorageClass",
  "storage.k8s.io/VolumeAttachment",
  "storage.k8s.io/CSIDriver",
  "storage.k8s.io/CSINode",
  "storage.k8s.io/VolumeAttributesClass",
  // API machinery
  "admissionregistration.k8s.io/MutatingWebhookConfiguration",
  "admissionregistration.k8s.io/ValidatingWebhookConfiguration",
  "admissionregistration.k8s.io/ValidatingAdmissionPolicy",
  "admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding",
  "admissionregistration.k8s.io/MutatingAdmissionPolicy",
  "admissionregistration.k8s.io/MutatingAdmissionPolicyBinding",
  "apiextensions.k8s.io/CustomResourceDefinition",
  "apiregistration.k8s.io/APIService",
  "flowcontrol.apiserver.k8s.io/FlowSchema",
  "flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration",
  "resource.k8s.io/DeviceClass",
  "internal.apiserver.k8s.io/StorageVersion",
  // well-known custom resources that are cluster-scoped
  "cert-manager.io/ClusterIssuer",
  "gateway.networking.k8s.io/GatewayClass",
  "snapshot.storage.k8s.io/VolumeSnapshotClass",
  "snapshot.storage.k8s.io/VolumeSnapshotContent",
  "templates.gatekeeper.sh/ConstraintTemplate",
  "argoproj.io/ClusterWorkflowTemplate",
  "tekton.dev/ClusterTask",
  "operator.tigera.io/Installation",
  "operator.tigera.io/APIServer",
  "crd.projectcalico.org/BGPConfiguration",
  "crd.projectcalico.org/BGPPeer",
  "crd.projectcalico.org/ClusterInformation",
  "crd.projectcalico.org/FelixConfiguration",
  "crd.projectcalico.org/GlobalNetworkPolicy",
  "crd.projectcalico.org/GlobalNetworkSet",
  "crd.projectcalico.org/HostEndpoint",
  "crd.projectcalico.org/IPAMBlock",
  "crd.projectcalico.org/IPAMConfig",
  "crd.projectcalico.org/IPAMHandle",
  "crd.projectcalico.org/IPPool",
  "crd.projectcalico.org/KubeControllersConfiguration",
  "cilium.io/CiliumClusterwideNetworkPolicy",
  "cilium.io/CiliumNode",
  "cilium.io/CiliumIdentity",
  "cilium.io/CiliumExternalWorkload",
  "networking.internal.knative.dev/ClusterDomainClaim",
]);

function apiGroupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash === -1 ? "" : apiVersion.slice(0, slash);
}

export function isNamespacedKind(apiVersion: string, kind: string): boolean {
  return !CLUSTER_SCOPED_KINDS.has(`${apiGroupOf(apiVersion)}/${kind}`);
}

// ---------------------------------------------------------------------------------------------------------
// Workload expansion: the pods that controllers would have made, so identities have workloads.

/** Kubernetes' rand.SafeEncodeString alphabet (no vowels, no look-alikes): what generated names use. */
const NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** A deterministic stand-in for a random generated-name suffix, derived from `seed`. */
function nameSuffix(seed: string, length: number): string {
  const digest = createHash("sha256").update(seed).digest();
  let suffix = "";
  for (let i = 0; i < length; i++) suffix += NAME_ALPHABET[digest[i] % NAME_ALPHABET.length];
  return suffix;
}

/** A deterministic RFC 4122-shaped UID, so owner references point at the same object every run. */
function deterministicUid(seed: string): string {
  const hex = createHash("sha256").update(seed).digest("hex");
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function uidOf(object: KubeObject): string {
  return object.metadata.uid ?? deterministicUid(`${object.kind}/${object.metadata.namespace ?? ""}/${object.metadata.name}`);
}

interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

function podFor(
  workload: KubeObject,
  template: PodTemplate,
  podName: string,
  owner: OwnerRef,
  extraLabels: Record<string, string>,
  phase: "Running" | "Succeeded",
): KubeObject {
  // A pod copies its template's spec, as the controllers do; the SA defaults like the ServiceAccount admission plugin.
  const spec: Record<string, unknown> = structuredClone(template.spec ?? {});
  const serviceAccountName =
    typeof spec.serviceAccountName === "string" && spec.serviceAccountName
      ? spec.serviceAccountName
      : typeof spec.serviceAccount === "string" && spec.serviceAccount
        ? spec.serviceAccount
        : "default";
  spec.serviceAccountName = serviceAccountName;
  spec.serviceAccount = serviceAccountName;
  if (!Array.isArray(spec.containers)) spec.containers = [];
  const metadata: KubeObject["metadata"] = {
    name: podName,
    labels: { ...(template.metadata?.labels ?? {}), ...extraLabels },
    ownerReferences: [{ ...owner, controller: true, blockOwnerDeletion: true }],
  };
  if (workload.metadata.namespace) metadata.namespace = workload.metadata.namespace;
  if (template.metadata?.annotations) metadata.annotations = { ...template.metadata.annotations };
  if (workload.metadata.creationTimestamp) metadata.creationTimestamp = workload.metadata.creationTimestamp;
  return { apiVersion: "v1", kind: "Pod", metadata, spec, status: { phase } };
}

function templateOf(object: Record<string, unknown> | undefined): PodTemplate {
  const spec = object?.spec as { template?: PodTemplate } | undefined;
  return spec?.template ?? {};
}

function replicasOf(workload: KubeObject): number {
  const replicas = (workload.spec as { replicas?: unknown } | undefined)?.replicas;
  return typeof replicas === "number" && Number.isInteger(replicas) && replicas >= 0 ? replicas : 1;
}

function ownerRef(object: KubeObject): OwnerRef {
  return { apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name, uid: uidOf(object) };
}

function podsForWorkload(workload: KubeObject): KubeObject[] {
  const name = workload.metadata.name;
  const key = `${workload.metadata.namespace ?? ""}/${name}`;
  switch (workload.kind) {
    case "Deployment": {
      const template = templateOf(workload);
      const templateHash = nameSuffix(`${key}/${JSON.stringify(template)}`, 10);
      const replicaSetName = `${name}-${templateHash}`;
      const owner: OwnerRef = {
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        name: replicaSetName,
        uid: deterministicUid(`ReplicaSet/${workload.metadata.namespace ?? ""}/${replicaSetName}`),
      };
      return Array.from({ length: replicasOf(workload) }, (_, index) =>
        podFor(workload, template, `${replicaSetName}-${nameSuffix(`${key}/${index}`, 5)}`, owner, { "pod-template-hash": templateHash }, "Running"),
      );
    }
    case "DaemonSet": {
      const podName = `${name}-${nameSuffix(key, 5)}`;
      return [podFor(workload, templateOf(workload), podName, ownerRef(workload), {}, "Running")];
    }
    case "StatefulSet":
      return Array.from({ length: replicasOf(workload) }, (_, index) =>
        podFor(workload, templateOf(workload), `${name}-${index}`, ownerRef(workload), { "statefulset.kubernetes.io/pod-name": `${name}-${index}`, "apps.kubernetes.io/pod-index": String(index) }, "Running"),
      );
    case "Job":
      return [jobPod(workload, templateOf(workload), name, ownerRef(workload), "Running")];
    case "CronJob": {
      const jobTemplate = (workload.spec as { jobTemplate?: Record<string, unknown> } | undefined)?.jobTemplate;
      // The CronJob controller names a Job after its scheduled time in minutes; a hash keeps it stable here.
      const scheduledMinutes = 29_000_000 + (parseInt(createHash("sha256").update(key).digest("hex").slice(0, 6), 16) % 1_000_000);
      const jobName = `${name}-${scheduledMinutes}`;
      const owner: OwnerRef = {
        apiVersion: "batch/v1",
        kind: "Job",
        name: jobName,
        uid: deterministicUid(`Job/${workload.metadata.namespace ?? ""}/${jobName}`),
      };
      return [jobPod(workload, templateOf(jobTemplate), jobName, owner, "Succeeded")];
    }
    default:
      return [];
  }
}

function jobPod(workload: KubeObject, template: PodTemplate, jobName: string, owner: OwnerRef, phase: "Running" | "Succeeded"): KubeObject {
  const podName = `${jobName}-${nameSuffix(`${workload.metadata.namespace ?? ""}/${jobName}`, 5)}`;
  const labels = { "batch.kubernetes.io/job-name": jobName, "job-name": jobName, "batch.kubernetes.io/controller-uid": owner.uid };
  return podFor(workload, template, podName, owner, labels, phase);
}

/** The input objects followed by the Pods that their Deployments, DaemonSets, StatefulSets, Jobs and CronJobs run. */
export function expandWorkloads(objects: KubeObject[]): KubeObject[] {
  return [...objects, ...objects.flatMap(podsForWorkload)];
}
