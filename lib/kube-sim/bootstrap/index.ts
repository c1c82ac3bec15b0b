import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseManifestText } from "../manifests";
import type { KubeObject } from "../types";

const POLICY_FILES = ["cluster-roles.yaml", "cluster-role-bindings.yaml", "namespace-roles.yaml", "namespace-role-bindings.yaml"];

/** The namespaces the API server creates itself (kube-node-lease holds the nodes' heartbeat Leases). */
const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

/**
 * kube-system ServiceAccounts that the bootstrap RoleBindings name and that a kubeadm control plane really has:
 * kube-controller-manager runs these controllers under their own SAs. The other SA subjects of the bootstrap
 * bindings (cloud-provider, kube-dns, kube-controller-manager, kube-scheduler, leader-election-controller) stay
 * dangling, as on a kubeadm cluster: no cloud provider, CoreDNS instead of kube-dns, and the control plane
 * authenticating with client certificates.
 * Every namespace's `default` SA comes from the simulator's serviceaccount controller.
 */
const CONTROLLER_SERVICE_ACCOUNTS = ["bootstrap-signer", "token-cleaner"];

/**
 * The policy files are an older upstream release; rules that Kubernetes 1.32 (the kubectl on these machines)
 * grants by default and that they lack. Since 1.28 every authenticated user may ask who they are
 * (`kubectl auth whoami`).
 */
const RULES_ADDED_SINCE: Record<string, { apiGroups: string[]; resources: string[]; verbs: string[] }[]> = {
  "system:basic-user": [{ apiGroups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"], verbs: ["create"] }],
};

function withCurrentDefaults(object: KubeObject): KubeObject {
  const added = object.kind === "ClusterRole" ? RULES_ADDED_SINCE[object.metadata.name] : undefined;
  if (!added) return object;
  return { ...object, rules: [...((object.rules as unknown[] | undefined) ?? []), ...added] };
}

let parsed: readonly KubeObject[] | undefined;

function systemNamespace(name: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    // The API server labels every namespace with its own name.
    metadata: { name, labels: { "kubernetes.io/metadata.name": name } },
    spec: { finalizers: ["kubernetes"] },
    status: { phase: "Active" },
  };
}

function loadOnce(): readonly KubeObject[] {
  if (!parsed) {
    const directory = path.dirname(fileURLToPath(import.meta.url));
    const policy = POLICY_FILES.flatMap((file) => {
      const source = path.join(directory, file);
      return parseManifestText(readFileSync(source, "utf8"), source).map(withCurrentDefaults);
    });
    const serviceAccounts = CONTROLLER_SERVICE_ACCOUNTS.map(
      (name): KubeObject => ({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: "kube-system" } }),
    );
    parsed = [...SYSTEM_NAMESPACES.map(systemNamespace), ...serviceAccounts, ...policy];
  }
  return parsed;
}

/**
 * What a fresh cluster holds before anyone installs anything: its namespaces, the controller SAs above, then
 * Kubernetes' bootstrap ClusterRoles, ClusterRoleBindings, and the Roles and RoleBindings of kube-system and kube-public.
 * Each call returns fresh copies, so callers may change them.
 */
export function bootstrapObjects(): KubeObject[] {
  return structuredClone(loadOnce()) as KubeObject[];
}
