import { stringify as toYaml } from "yaml";

/**
 * What a user installs on a kube-apiserver so it sends its audit events to Keyward: the webhook kubeconfig
 * (--audit-webhook-config-file), the audit policy (--audit-policy-file) and the flags that load both.
 */

export const AUDIT_POLICY_PATH = "/etc/kubernetes/keyward/audit-policy.yaml";
export const AUDIT_WEBHOOK_CONFIG_PATH = "/etc/kubernetes/keyward/audit-webhook.kubeconfig";

/** The ingest endpoint of one cluster. */
export function auditWebhookUrl(keywardUrl: string, clusterId: string): string {
  return `${keywardUrl.replace(/\/+$/, "")}/api/v1/clusters/${encodeURIComponent(clusterId)}/audit`;
}

/**
 * The kubeconfig kube-apiserver reads with --audit-webhook-config-file: the "cluster" is Keyward's webhook and
 * the "user" presents the cluster's ingest token. `caPem` when Keyward's certificate is not publicly trusted.
 */
export function webhookKubeconfig(input: {
  keywardUrl: string;
  clusterId: string;
  token: string;
  caPem?: string;
}): string {
  return toYaml({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "keyward",
        cluster: {
          server: auditWebhookUrl(input.keywardUrl, input.clusterId),
          ...(input.caPem
            ? { "certificate-authority-data": Buffer.from(input.caPem).toString("base64") }
            : {}),
        },
      },
    ],
    users: [{ name: "keyward-audit", user: { token: input.token } }],
    contexts: [{ name: "keyward", context: { cluster: "keyward", user: "keyward-audit" } }],
    "current-context": "keyward",
  });
}

/**
 * Metadata level is all Keyward reads (who, what, where, when; never bodies, so no Secret data leaves the
 * cluster). The None rules only drop the control plane's own chatter and anonymous health probes; no rule
 * names a service account, so every request a workload makes is recorded, including its events and leases.
 */
export const AUDIT_POLICY_YAML = `apiVersion: audit.k8s.io/v1
kind: Policy
# RequestReceived precedes the response and would only duplicate ResponseComplete.
omitStages:
  - RequestReceived
rules:
  # Load balancer and kubelet health probes (anonymous).
  - level: None
    userGroups: ["system:unauthenticated"]
    nonResourceURLs: ["/healthz*", "/livez*", "/readyz*", "/version", "/version/"]
  # The API server's own loopback client.
  - level: None
    users: ["system:apiserver"]
  # kube-proxy's watches, renewed constantly.
  - level: None
    users: ["system:kube-proxy"]
    verbs: ["watch"]
    resources:
      - group: ""
        resources: ["endpoints", "services"]
      - group: "discovery.k8s.io"
        resources: ["endpointslices"]
  # Leader election of the control plane components.
  - level: None
    users: ["system:kube-controller-manager", "system:kube-scheduler"]
    verbs: ["get", "update"]
    namespaces: ["kube-system"]
    resources:
      - group: "coordination.k8s.io"
        resources: ["leases"]
      - group: ""
        resources: ["endpoints", "configmaps"]
  # Kubelets reading their own Node every few seconds.
  - level: None
    userGroups: ["system:nodes"]
    verbs: ["get"]
    resources:
      - group: ""
        resources: ["nodes", "nodes/status"]
  # Everything else, service accounts included: who did what to which object, without request or response bodies.
  - level: Metadata
`;

/** The kube-apiserver flags that load the two files above (mount them into the static Pod too). */
export const KUBE_APISERVER_AUDIT_FLAGS = `--audit-policy-file=${AUDIT_POLICY_PATH}
--audit-webhook-config-file=${AUDIT_WEBHOOK_CONFIG_PATH}
--audit-webhook-mode=batch
--audit-webhook-batch-max-wait=5s
--audit-webhook-initial-backoff=10s`;
