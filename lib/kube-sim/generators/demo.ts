// Must load before @peculiar/x509 (its tsyringe dependency needs Reflect metadata).
import "reflect-metadata"; // @peculiar/x509 (through tsyringe) needs the Reflect metadata API
import { webcrypto } from "node:crypto";
import { Pkcs10CertificateRequestGenerator } from "@peculiar/x509";
import { expandWorkloads } from "../manifests";
import type { KubeObject } from "../types";

// A demo cluster for Keyward: what a mid-sized company's cluster looks like after a few years of teams
// installing things. It is meant to be loaded on top of bootstrapObjects() (it binds to cluster-admin, admin,
// edit, view and system:auth-delegator from there). Names and structure are fixed; ages are relative to the
// moment of the call, because the findings (rotation age, expiry, last use) are about ages.

const OWNER_ANNOTATION = "keyward.io/owner";
const RBAC_GROUP = "rbac.authorization.k8s.io";
const DAY_MS = 86_400_000;

type WorkloadKind = "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "CronJob";

interface WorkloadSpec {
  kind: WorkloadKind;
  name: string;
  /** Omitted = the pod runs as the namespace's `default` SA. */
  serviceAccount?: string;
  replicas?: number;
  image: string;
  automountToken?: boolean;
}

interface NamespaceSpec {
  name: string;
  /** The `team` label; omitted for namespaces nobody claims. */
  team?: string;
  ageDays: number;
  /** SA name → owning team (undefined = no owner annotation). Every namespace also gets its `default` SA. */
  serviceAccounts: Record<string, string | undefined>;
  workloads: WorkloadSpec[];
}

const NAMESPACES: NamespaceSpec[] = [
  {
    name: "payments",
    team: "payments",
    ageDays: 900,
    serviceAccounts: { "payments-api": "payments", "payments-worker": "payments", "ledger-db": "payments", "payments-webhook": "payments", "payments-legacy-exporter": undefined },
    workloads: [
      { kind: "Deployment", name: "payments-api", serviceAccount: "payments-api", replicas: 3, image: "registry.acme.internal/payments/api:4.12.0" },
      { kind: "Deployment", name: "payments-worker", serviceAccount: "payments-worker", replicas: 2, image: "registry.acme.internal/payments/worker:4.12.0" },
      { kind: "CronJob", name: "payments-reconcile", serviceAccount: "payments-worker", image: "registry.acme.internal/payments/worker:4.12.0" },
      { kind: "StatefulSet", name: "ledger-db", serviceAccount: "ledger-db", replicas: 2, image: "postgres:16.4", automountToken: false },
      { kind: "Deployment", name: "payments-webhook", serviceAccount: "payments-webhook", image: "registry.acme.internal/payments/webhook:1.3.2" },
      { kind: "Deployment", name: "fraud-check", image: "registry.acme.internal/payments/fraud-check:0.9.1" },
    ],
  },
  {
    name: "checkout",
    team: "checkout",
    ageDays: 820,
    serviceAccounts: { "checkout-web": "checkout", "cart-service": "checkout", "checkout-events": "checkout", "checkout-shared": undefined },
    workloads: [
      { kind: "Deployment", name: "checkout-web", serviceAccount: "checkout-web", replicas: 3, image: "registry.acme.internal/checkout/web:7.2.0", automountToken: false },
      { kind: "Deployment", name: "cart-service", serviceAccount: "cart-service", replicas: 2, image: "registry.acme.internal/checkout/cart:3.8.4" },
      { kind: "Deployment", name: "checkout-events", serviceAccount: "checkout-events", image: "registry.acme.internal/checkout/events:1.1.0" },
      // Three services that someone pointed at one shared SA to save time.
      { kind: "Deployment", name: "promo-engine", serviceAccount: "checkout-shared", replicas: 2, image: "registry.acme.internal/checkout/promo:2.0.3" },
      { kind: "Deployment", name: "tax-calculator", serviceAccount: "checkout-shared", image: "registry.acme.internal/checkout/tax:1.4.0" },
      { kind: "Deployment", name: "shipping-quotes", serviceAccount: "checkout-shared", image: "registry.acme.internal/checkout/shipping:1.9.7" },
    ],
  },
  {
    name: "search",
    team: "search",
    ageDays: 700,
    serviceAccounts: { "search-api": "search", indexer: "search", "search-autoscaler": "search", "search-crawler": undefined },
    workloads: [
      { kind: "Deployment", name: "search-api", serviceAccount: "search-api", replicas: 2, image: "registry.acme.internal/search/api:5.0.2" },
      { kind: "StatefulSet", name: "indexer", serviceAccount: "indexer", replicas: 3, image: "opensearchproject/opensearch:2.17.1" },
      { kind: "Deployment", name: "search-autoscaler", serviceAccount: "search-autoscaler", image: "registry.acme.internal/search/autoscaler:0.4.0" },
      { kind: "CronJob", name: "search-crawler", serviceAccount: "search-crawler", image: "registry.acme.internal/search/crawler:2.2.0" },
      { kind: "Deployment", name: "search-ui", image: "registry.acme.internal/search/ui:5.0.2" },
    ],
  },
  {
    name: "data-platform",
    team: "data-platform",
    ageDays: 600,
    serviceAccounts: { "airflow-scheduler": "data-platform", "airflow-worker": "data-platform", "spark-operator": "data-platform", "dbt-runner": "data-platform", "etl-nightly": undefined, "backup-uploader": undefined },
    workloads: [
      { kind: "Deployment", name: "airflow-scheduler", serviceAccount: "airflow-scheduler", image: "apache/airflow:2.10.3" },
      { kind: "Deployment", name: "airflow-worker", serviceAccount: "airflow-worker", replicas: 2, image: "apache/airflow:2.10.3" },
      { kind: "Deployment", name: "spark-operator", serviceAccount: "spark-operator", image: "kubeflow/spark-operator:2.0.2" },
      { kind: "Job", name: "dbt-models-backfill", serviceAccount: "dbt-runner", image: "registry.acme.internal/data/dbt:1.8.7" },
      { kind: "CronJob", name: "etl-nightly", serviceAccount: "etl-nightly", image: "registry.acme.internal/data/etl:3.3.0" },
    ],
  },
  {
    name: "ml-serving",
    team: "ml-serving",
    ageDays: 420,
    serviceAccounts: { "model-server": "ml-serving", "feature-store": "ml-serving", "model-trainer": "ml-serving", "notebook-runner": undefined },
    workloads: [
      { kind: "Deployment", name: "model-server", serviceAccount: "model-server", replicas: 4, image: "registry.acme.internal/ml/model-server:1.22.0" },
      { kind: "StatefulSet", name: "feature-store", serviceAccount: "feature-store", image: "feastdev/feature-server:0.40.1" },
      { kind: "Job", name: "train-ranker-v7", serviceAccount: "model-trainer", image: "registry.acme.internal/ml/trainer:0.31.0" },
      { kind: "Deployment", name: "notebooks", serviceAccount: "notebook-runner", image: "jupyter/scipy-notebook:2024-10-07" },
    ],
  },
  {
    name: "ci",
    team: "ci",
    ageDays: 1000,
    // argo-server was uninstalled long ago; its binding (below) was left behind.
    serviceAccounts: { "ci-deployer": "ci", "ci-runner": "ci", "tekton-triggers": undefined },
    workloads: [
      { kind: "Deployment", name: "ci-runner", serviceAccount: "ci-runner", replicas: 2, image: "registry.acme.internal/ci/runner:2.319.1" },
      { kind: "Deployment", name: "tekton-triggers-controller", serviceAccount: "tekton-triggers", image: "gcr.io/tekton-releases/github.com/tektoncd/triggers/cmd/controller:v0.29.1" },
    ],
  },
  {
    name: "monitoring",
    team: "observability",
    ageDays: 950,
    serviceAccounts: { prometheus: "observability", "kube-state-metrics": "observability", "node-exporter": "observability", alertmanager: "observability", promtail: "observability", grafana: undefined },
    workloads: [
      { kind: "StatefulSet", name: "prometheus-k8s", serviceAccount: "prometheus", replicas: 2, image: "quay.io/prometheus/prometheus:v2.55.1" },
      { kind: "Deployment", name: "kube-state-metrics", serviceAccount: "kube-state-metrics", image: "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.13.0" },
      { kind: "DaemonSet", name: "node-exporter", serviceAccount: "node-exporter", image: "quay.io/prometheus/node-exporter:v1.8.2", automountToken: false },
      { kind: "StatefulSet", name: "alertmanager-main", serviceAccount: "alertmanager", image: "quay.io/prometheus/alertmanager:v0.27.0" },
      { kind: "DaemonSet", name: "promtail", serviceAccount: "promtail", image: "grafana/promtail:3.2.1" },
      { kind: "Deployment", name: "grafana", serviceAccount: "grafana", image: "grafana/grafana:11.3.0" },
    ],
  },
  {
    name: "platform-system",
    team: "platform",
    ageDays: 1100,
    serviceAccounts: {
      "cluster-ops-operator": "platform",
      "secrets-sync": "platform",
      "rbac-manager": undefined,
      "cert-approver": "platform",
      "token-minter": undefined,
      "webhook-manager": "platform",
      "edge-proxy": "platform",
      "external-dns": "platform",
    },
    workloads: [
      { kind: "Deployment", name: "cluster-ops-operator", serviceAccount: "cluster-ops-operator", image: "registry.acme.internal/platform/cluster-ops:3.0.1" },
      { kind: "Deployment", name: "secrets-sync", serviceAccount: "secrets-sync", replicas: 2, image: "registry.acme.internal/platform/secrets-sync:1.6.0" },
      { kind: "Deployment", name: "rbac-manager", serviceAccount: "rbac-manager", image: "quay.io/reactiveops/rbac-manager:1.9.0" },
      { kind: "Deployment", name: "cert-approver", serviceAccount: "cert-approver", image: "registry.acme.internal/platform/cert-approver:0.8.0" },
      { kind: "CronJob", name: "token-minter", serviceAccount: "token-minter", image: "registry.acme.internal/platform/token-minter:0.2.0" },
      { kind: "Deployment", name: "webhook-manager", serviceAccount: "webhook-manager", image: "registry.acme.internal/platform/webhook-manager:2.1.0" },
      { kind: "DaemonSet", name: "edge-proxy", serviceAccount: "edge-proxy", image: "registry.k8s.io/ingress-nginx/controller:v1.11.3" },
      { kind: "Deployment", name: "external-dns", serviceAccount: "external-dns", image: "registry.k8s.io/external-dns/external-dns:v0.15.0" },
    ],
  },
  {
    name: "argocd",
    team: "platform",
    ageDays: 800,
    serviceAccounts: { "argocd-application-controller": "platform", "argocd-server": "platform", "argocd-repo-server": undefined },
    workloads: [
      { kind: "StatefulSet", name: "argocd-application-controller", serviceAccount: "argocd-application-controller", image: "quay.io/argoproj/argocd:v2.13.1" },
      { kind: "Deployment", name: "argocd-server", serviceAccount: "argocd-server", replicas: 2, image: "quay.io/argoproj/argocd:v2.13.1" },
      { kind: "Deployment", name: "argocd-repo-server", serviceAccount: "argocd-repo-server", image: "quay.io/argoproj/argocd:v2.13.1" },
    ],
  },
  {
    name: "legacy-apps",
    ageDays: 1400,
    serviceAccounts: { "old-reporting": undefined, "batch-importer": undefined },
    workloads: [
      { kind: "Deployment", name: "legacy-portal", replicas: 2, image: "registry.acme.internal/legacy/portal:2019.11" },
      { kind: "CronJob", name: "batch-importer", serviceAccount: "batch-importer", image: "registry.acme.internal/legacy/importer:2020.3" },
    ],
  },
];

type Subject = { kind: "ServiceAccount"; name: string; namespace: string } | { kind: "User" | "Group"; apiGroup: string; name: string };

const sa = (namespace: string, name: string): Subject => ({ kind: "ServiceAccount", name, namespace });
const user = (name: string): Subject => ({ kind: "User", apiGroup: RBAC_GROUP, name });
const group = (name: string): Subject => ({ kind: "Group", apiGroup: RBAC_GROUP, name });

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
  verbs: string[];
}

const READ = ["get", "list", "watch"];

const CLUSTER_ROLES: Record<string, Rule[]> = {
  // The spark operator launches driver and executor pods in any namespace.
  "spark-operator": [
    { apiGroups: [""], resources: ["pods", "services", "configmaps"], verbs: ["create", "delete", "get", "list", "watch", "patch"] },
    { apiGroups: ["sparkoperator.k8s.io"], resources: ["*"], verbs: ["*"] },
  ],
  "secrets-sync": [{ apiGroups: [""], resources: ["secrets"], verbs: ["*"] }],
  "rbac-manager": [
    { apiGroups: [RBAC_GROUP], resources: ["roles", "clusterroles", "rolebindings", "clusterrolebindings"], verbs: [...READ, "create", "update", "patch", "delete", "escalate", "bind"] },
    { apiGroups: [""], resources: ["users", "groups", "serviceaccounts"], verbs: ["impersonate"] },
  ],
  "csr-approver": [
    { apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests"], verbs: READ },
    { apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests/approval"], verbs: ["update"] },
    { apiGroups: ["certificates.k8s.io"], resources: ["signers"], resourceNames: ["kubernetes.io/kube-apiserver-client"], verbs: ["approve"] },
  ],
  "token-minter": [{ apiGroups: [""], resources: ["serviceaccounts/token"], verbs: ["create"] }],
  "webhook-manager": [
    { apiGroups: ["admissionregistration.k8s.io"], resources: ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"], verbs: [...READ, "create", "update", "patch", "delete"] },
  ],
  "edge-proxy": [
    { apiGroups: [""], resources: ["services", "endpoints", "secrets", "configmaps", "nodes"], verbs: READ },
    { apiGroups: ["networking.k8s.io"], resources: ["ingresses", "ingressclasses"], verbs: READ },
    { apiGroups: ["networking.k8s.io"], resources: ["ingresses/status"], verbs: ["update"] },
  ],
  "external-dns": [
    { apiGroups: [""], resources: ["services", "endpoints", "pods", "nodes"], verbs: READ },
    { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: READ },
  ],
  "argocd-application-controller": [
    { apiGroups: ["*"], resources: ["*"], verbs: ["*"] },
    { nonResourceURLs: ["*"], verbs: ["*"] },
  ],
  "argocd-server": [
    { apiGroups: ["*"], resources: ["*"], verbs: ["get", "delete", "patch"] },
    { apiGroups: ["argoproj.io"], resources: ["applications", "applicationsets"], verbs: READ },
  ],
  "prometheus-k8s": [
    { apiGroups: [""], resources: ["nodes", "nodes/metrics", "services", "endpoints", "pods"], verbs: READ },
    { nonResourceURLs: ["/metrics", "/metrics/slis"], verbs: ["get"] },
  ],
  "kube-state-metrics": [
    { apiGroups: [""], resources: ["configmaps", "nodes", "pods", "services", "serviceaccounts", "resourcequotas", "replicationcontrollers", "limitranges", "persistentvolumeclaims", "persistentvolumes", "namespaces", "endpoints"], verbs: ["list", "watch"] },
    { apiGroups: ["apps"], resources: ["statefulsets", "daemonsets", "deployments", "replicasets"], verbs: ["list", "watch"] },
    { apiGroups: ["batch"], resources: ["cronjobs", "jobs"], verbs: ["list", "watch"] },
    { apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests"], verbs: ["list", "watch"] },
  ],
  "promtail": [{ apiGroups: [""], resources: ["nodes", "nodes/proxy", "services", "endpoints", "pods"], verbs: READ }],
  "namespace-lister": [{ apiGroups: [""], resources: ["namespaces"], verbs: ["get", "list"] }],
  "backup-reader": [
    { apiGroups: [""], resources: ["secrets", "configmaps", "persistentvolumeclaims"], verbs: ["get", "list"] },
    { apiGroups: ["apps"], resources: ["deployments", "statefulsets"], verbs: ["get", "list"] },
  ],
};

const ROLES: Array<{ namespace: string; name: string; rules: Rule[] }> = [
  { namespace: "payments", name: "payments-secrets-reader", rules: [{ apiGroups: [""], resources: ["secrets"], resourceNames: ["payments-db", "stripe-api-key"], verbs: ["get"] }] },
  { namespace: "payments", name: "payments-config-reader", rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: READ }] },
  { namespace: "search", name: "indexer-config", rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: [...READ, "update", "patch"] }] },
  { namespace: "search", name: "search-autoscaler", rules: [{ apiGroups: ["apps"], resources: ["deployments/scale", "statefulsets/scale"], verbs: ["get", "update", "patch"] }] },
  {
    namespace: "data-platform",
    name: "airflow-pod-launcher",
    rules: [
      { apiGroups: [""], resources: ["pods"], verbs: ["create", "delete", "get", "list", "watch", "patch"] },
      { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
      { apiGroups: [""], resources: ["pods/exec"], verbs: ["create", "get"] },
    ],
  },
  { namespace: "data-platform", name: "etl-secrets", rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"] }] },
  { namespace: "data-platform", name: "dbt-runner", rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"] }] },
  {
    namespace: "ml-serving",
    name: "notebook-exec",
    rules: [
      { apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] },
      { apiGroups: [""], resources: ["pods/exec", "pods/attach"], verbs: ["create"] },
    ],
  },
  { namespace: "ml-serving", name: "model-trainer", rules: [{ apiGroups: [""], resources: ["persistentvolumeclaims"], verbs: ["get", "create"] }] },
  { namespace: "ci", name: "ci-runner-pods", rules: [{ apiGroups: [""], resources: ["pods", "pods/log"], verbs: ["create", "delete", "get", "list", "watch"] }] },
  { namespace: "ci", name: "tekton-triggers", rules: [{ apiGroups: ["tekton.dev"], resources: ["pipelineruns", "taskruns"], verbs: ["create"] }] },
  { namespace: "monitoring", name: "grafana-config", rules: [{ apiGroups: [""], resources: ["configmaps", "secrets"], verbs: READ }] },
];

interface Binding {
  namespace?: string;
  name: string;
  roleRef: { kind: "Role" | "ClusterRole"; name: string };
  subjects: Subject[];
}

/** Namespaces the CI deployer ships to: each has an edit binding for its SA and its static-kubeconfig User. */
const CI_DEPLOY_TARGETS = ["payments", "checkout", "search", "ml-serving"];

const BINDINGS: Binding[] = [
  // payments
  { namespace: "payments", name: "payments-api-secrets", roleRef: { kind: "Role", name: "payments-secrets-reader" }, subjects: [sa("payments", "payments-api")] },
  { namespace: "payments", name: "payments-config", roleRef: { kind: "Role", name: "payments-config-reader" }, subjects: [sa("payments", "payments-api"), sa("payments", "payments-worker"), sa("payments", "payments-webhook")] },
  // An exporter nobody runs any more: bindings, a long-lived token, no workload, no owner.
  { namespace: "payments", name: "legacy-exporter-view", roleRef: { kind: "ClusterRole", name: "view" }, subjects: [sa("payments", "payments-legacy-exporter")] },
  // checkout
  { namespace: "checkout", name: "default-edit", roleRef: { kind: "ClusterRole", name: "edit" }, subjects: [sa("checkout", "default")] },
  { namespace: "checkout", name: "checkout-shared-view", roleRef: { kind: "ClusterRole", name: "view" }, subjects: [sa("checkout", "checkout-shared")] },
  // search
  { namespace: "search", name: "indexer-config", roleRef: { kind: "Role", name: "indexer-config" }, subjects: [sa("search", "indexer")] },
  { namespace: "search", name: "search-autoscaler", roleRef: { kind: "Role", name: "search-autoscaler" }, subjects: [sa("search", "search-autoscaler")] },
  // Someone wanted the crawler to read things and granted it to every SA in the cluster.
  { namespace: "search", name: "all-serviceaccounts-view", roleRef: { kind: "ClusterRole", name: "view" }, subjects: [group("system:serviceaccounts")] },
  // data-platform
  { namespace: "data-platform", name: "airflow-pod-launcher", roleRef: { kind: "Role", name: "airflow-pod-launcher" }, subjects: [sa("data-platform", "airflow-scheduler"), sa("data-platform", "airflow-worker")] },
  { namespace: "data-platform", name: "etl-secrets", roleRef: { kind: "Role", name: "etl-secrets" }, subjects: [sa("data-platform", "etl-nightly")] },
  { namespace: "data-platform", name: "dbt-runner", roleRef: { kind: "Role", name: "dbt-runner" }, subjects: [sa("data-platform", "dbt-runner")] },
  { namespace: "data-platform", name: "backup-uploader-edit", roleRef: { kind: "ClusterRole", name: "edit" }, subjects: [sa("data-platform", "backup-uploader")] },
  { name: "spark-operator", roleRef: { kind: "ClusterRole", name: "spark-operator" }, subjects: [sa("data-platform", "spark-operator")] },
  // ml-serving
  { namespace: "ml-serving", name: "model-server-view", roleRef: { kind: "ClusterRole", name: "view" }, subjects: [sa("ml-serving", "model-server")] },
  { namespace: "ml-serving", name: "notebook-exec", roleRef: { kind: "Role", name: "notebook-exec" }, subjects: [sa("ml-serving", "notebook-runner")] },
  { namespace: "ml-serving", name: "model-trainer", roleRef: { kind: "Role", name: "model-trainer" }, subjects: [sa("ml-serving", "model-trainer")] },
  // ci: the deployer ships to the team namespaces, as an SA and as a User from a static kubeconfig.
  ...CI_DEPLOY_TARGETS.map(
    (namespace): Binding => ({ namespace, name: "ci-deployer-edit", roleRef: { kind: "ClusterRole", name: "edit" }, subjects: [sa("ci", "ci-deployer"), user("ci-deployer")] }),
  ),
  { namespace: "ci", name: "release-bots-admin", roleRef: { kind: "ClusterRole", name: "admin" }, subjects: [group("release-bots")] },
  { namespace: "ci", name: "ci-runner-pods", roleRef: { kind: "Role", name: "ci-runner-pods" }, subjects: [sa("ci", "ci-runner")] },
  { namespace: "ci", name: "tekton-triggers", roleRef: { kind: "Role", name: "tekton-triggers" }, subjects: [sa("ci", "tekton-triggers")] },
  // Left behind when Argo Workflows was uninstalled: its ClusterRole and SA are gone.
  { namespace: "ci", name: "argo-server-binding", roleRef: { kind: "ClusterRole", name: "argo-server-cluster-role" }, subjects: [sa("ci", "argo-server")] },
  { name: "release-bots-view", roleRef: { kind: "ClusterRole", name: "view" }, subjects: [group("release-bots")] },
  // monitoring: read-only, cluster-wide.
  { name: "prometheus-k8s", roleRef: { kind: "ClusterRole", name: "prometheus-k8s" }, subjects: [sa("monitoring", "prometheus"), user("grafana-agent")] },
  { name: "kube-state-metrics", roleRef: { kind: "ClusterRole", name: "kube-state-metrics" }, subjects: [sa("monitoring", "kube-state-metrics")] },
  { name: "promtail", roleRef: { kind: "ClusterRole", name: "promtail" }, subjects: [sa("monitoring", "promtail")] },
  { name: "grafana-view", roleRef: { kind: "ClusterRole", name: "view" }, subjects: [sa("monitoring", "grafana")] },
  { namespace: "monitoring", name: "grafana-config", roleRef: { kind: "Role", name: "grafana-config" }, subjects: [sa("monitoring", "grafana")] },
  // platform-system: the operators.
  { name: "cluster-ops-operator-admin", roleRef: { kind: "ClusterRole", name: "cluster-admin" }, subjects: [sa("platform-system", "cluster-ops-operator")] },
  { name: "secrets-sync", roleRef: { kind: "ClusterRole", name: "secrets-sync" }, subjects: [sa("platform-system", "secrets-sync")] },
  { name: "rbac-manager", roleRef: { kind: "ClusterRole", name: "rbac-manager" }, subjects: [sa("platform-system", "rbac-manager")] },
  { name: "cert-approver", roleRef: { kind: "ClusterRole", name: "csr-approver" }, subjects: [sa("platform-system", "cert-approver")] },
  { name: "token-minter", roleRef: { kind: "ClusterRole", name: "token-minter" }, subjects: [sa("platform-system", "token-minter")] },
  { name: "webhook-manager", roleRef: { kind: "ClusterRole", name: "webhook-manager" }, subjects: [sa("platform-system", "webhook-manager")] },
  { name: "edge-proxy", roleRef: { kind: "ClusterRole", name: "edge-proxy" }, subjects: [sa("platform-system", "edge-proxy")] },
  { name: "external-dns", roleRef: { kind: "ClusterRole", name: "external-dns" }, subjects: [sa("platform-system", "external-dns")] },
  { name: "vault-auth-delegator", roleRef: { kind: "ClusterRole", name: "system:auth-delegator" }, subjects: [user("vault-k8s-auth")] },
  // argocd
  { name: "argocd-application-controller", roleRef: { kind: "ClusterRole", name: "argocd-application-controller" }, subjects: [sa("argocd", "argocd-application-controller")] },
  { name: "argocd-server", roleRef: { kind: "ClusterRole", name: "argocd-server" }, subjects: [sa("argocd", "argocd-server")] },
  // legacy-apps: the role this binding names was deleted years ago.
  { namespace: "legacy-apps", name: "old-reporting-reader", roleRef: { kind: "Role", name: "reporting-reader" }, subjects: [sa("legacy-apps", "old-reporting")] },
  { namespace: "legacy-apps", name: "batch-importer-edit", roleRef: { kind: "ClusterRole", name: "edit" }, subjects: [sa("legacy-apps", "batch-importer")] },
  // Certificate users.
  { name: "backup-agent", roleRef: { kind: "ClusterRole", name: "backup-reader" }, subjects: [user("backup-agent")] },
  { name: "ops-tools-view", roleRef: { kind: "ClusterRole", name: "view" }, subjects: [group("ops-tools")] },
  { name: "jenkins-admin", roleRef: { kind: "ClusterRole", name: "cluster-admin" }, subjects: [user("jenkins")] },
  { namespace: "data-platform", name: "legacy-etl-edit", roleRef: { kind: "ClusterRole", name: "edit" }, subjects: [user("legacy-etl"), group("data-platform-jobs")] },
  // Everyone who can log in may list namespaces: a broad-group grant.
  { name: "authenticated-namespace-lister", roleRef: { kind: "ClusterRole", name: "namespace-lister" }, subjects: [group("system:authenticated")] },
];

interface LegacyTokenSpec {
  namespace: string;
  serviceAccount: string;
  ageDays: number;
  /** The token controller's last-used day label; omitted = not used since tracking began. */
  lastUsedDaysAgo?: number;
  /** Set by the legacy-token cleaner once it invalidates an unused token. */
  invalidSinceDaysAgo?: number;
}

const LEGACY_TOKENS: LegacyTokenSpec[] = [
  { namespace: "payments", serviceAccount: "payments-legacy-exporter", ageDays: 730 },
  { namespace: "ci", serviceAccount: "ci-deployer", ageDays: 510, lastUsedDaysAgo: 1 },
  { namespace: "data-platform", serviceAccount: "backup-uploader", ageDays: 300, lastUsedDaysAgo: 120 },
  { namespace: "legacy-apps", serviceAccount: "old-reporting", ageDays: 1095, lastUsedDaysAgo: 400, invalidSinceDaysAgo: 30 },
  { namespace: "legacy-apps", serviceAccount: "batch-importer", ageDays: 420, lastUsedDaysAgo: 3 },
  { namespace: "platform-system", serviceAccount: "cluster-ops-operator", ageDays: 700, lastUsedDaysAgo: 0 },
  { namespace: "monitoring", serviceAccount: "grafana", ageDays: 150, lastUsedDaysAgo: 2 },
];

interface CertificateUserSpec {
  csrName: string;
  commonName: string;
  organizations: string[];
  ageDays: number;
  expirationSeconds?: number;
  decision: "Approved" | "Denied" | "Pending";
  /** Who asked for it: the requester the API server records. */
  requester: string;
}

const YEAR_SECONDS = 365 * 86_400;

const CERTIFICATE_USERS: CertificateUserSpec[] = [
  { csrName: "backup-agent", commonName: "backup-agent", organizations: ["ops-tools"], ageDays: 200, expirationSeconds: YEAR_SECONDS, decision: "Approved", requester: "kubernetes-admin" },
  // No expirationSeconds: the signer's default (one year) applies, so it is about to expire.
  { csrName: "jenkins-client", commonName: "jenkins", organizations: ["ci-legacy"], ageDays: 350, decision: "Approved", requester: "kubernetes-admin" },
  { csrName: "vault-k8s-auth", commonName: "vault-k8s-auth", organizations: ["platform"], ageDays: 10, expirationSeconds: 30 * 86_400, decision: "Approved", requester: "system:serviceaccount:platform-system:cert-approver" },
  { csrName: "grafana-agent", commonName: "grafana-agent", organizations: ["observability"], ageDays: 80, expirationSeconds: 90 * 86_400, decision: "Approved", requester: "system:serviceaccount:platform-system:cert-approver" },
  { csrName: "legacy-etl", commonName: "legacy-etl", organizations: ["data-platform", "data-platform-jobs"], ageDays: 40, expirationSeconds: 5 * YEAR_SECONDS, decision: "Approved", requester: "kubernetes-admin" },
  { csrName: "new-exporter", commonName: "new-exporter", organizations: ["observability"], ageDays: 2, expirationSeconds: 90 * 86_400, decision: "Pending", requester: "system:serviceaccount:platform-system:cert-approver" },
  { csrName: "contractor-laptop", commonName: "alex.contractor", organizations: ["system:masters"], ageDays: 5, decision: "Denied", requester: "alex.contractor" },
];

class DemoClock {
  constructor(private readonly now: number) {}
  timestamp(daysAgo: number): string {
    // Kubernetes writes RFC 3339 timestamps with second precision.
    return new Date(this.now - daysAgo * DAY_MS).toISOString().replace(/\.\d{3}Z$/, "Z");
  }
  day(daysAgo: number): string {
    return this.timestamp(daysAgo).slice(0, 10);
  }
}

function namespaceObjects(spec: NamespaceSpec, clock: DemoClock): KubeObject[] {
  const created = clock.timestamp(spec.ageDays);
  const labels: Record<string, string> = { "kubernetes.io/metadata.name": spec.name };
  if (spec.team) labels.team = spec.team;
  const objects: KubeObject[] = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: spec.name, labels, creationTimestamp: created }, spec: { finalizers: ["kubernetes"] }, status: { phase: "Active" } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: spec.name, creationTimestamp: created } },
  ];
  // SAs are created a little after their namespace, in the order they are listed.
  Object.entries(spec.serviceAccounts).forEach(([name, owner], index) => {
    const metadata: KubeObject["metadata"] = { name, namespace: spec.name, creationTimestamp: clock.timestamp(spec.ageDays - 7 - index * 11) };
    if (owner) metadata.annotations = { [OWNER_ANNOTATION]: owner };
    objects.push({ apiVersion: "v1", kind: "ServiceAccount", metadata });
  });
  for (const workload of spec.workloads) objects.push(workloadObject(spec, workload, clock));
  return objects;
}

function workloadObject(namespace: NamespaceSpec, workload: WorkloadSpec, clock: DemoClock): KubeObject {
  const labels = { "app.kubernetes.io/name": workload.name, ...(namespace.team ? { team: namespace.team } : {}) };
  const podSpec: Record<string, unknown> = {
    containers: [{ name: workload.name, image: workload.image, resources: { requests: { cpu: "100m", memory: "128Mi" } } }],
  };
  if (workload.serviceAccount) podSpec.serviceAccountName = workload.serviceAccount;
  if (workload.automountToken !== undefined) podSpec.automountServiceAccountToken = workload.automountToken;
  if (workload.kind === "Job" || workload.kind === "CronJob") podSpec.restartPolicy = "OnFailure";
  const template = { metadata: { labels }, spec: podSpec };
  const apiVersion = workload.kind === "Job" || workload.kind === "CronJob" ? "batch/v1" : "apps/v1";
  const metadata = { name: workload.name, namespace: namespace.name, labels, creationTimestamp: clock.timestamp(Math.max(namespace.ageDays - 30, 1)) };
  switch (workload.kind) {
    case "CronJob":
      return { apiVersion, kind: workload.kind, metadata, spec: { schedule: "17 2 * * *", jobTemplate: { spec: { template } } } };
    case "Job":
      return { apiVersion, kind: workload.kind, metadata, spec: { backoffLimit: 2, template } };
    case "DaemonSet":
      return { apiVersion, kind: workload.kind, metadata, spec: { selector: { matchLabels: labels }, template } };
    default:
      return { apiVersion, kind: workload.kind, metadata, spec: { replicas: workload.replicas ?? 1, selector: { matchLabels: labels }, template } };
  }
}

function rbacObjects(clock: DemoClock): KubeObject[] {
  const created = clock.timestamp(365);
  const clusterRoles = Object.entries(CLUSTER_ROLES).map(
    ([name, rules]): KubeObject => ({ apiVersion: `${RBAC_GROUP}/v1`, kind: "ClusterRole", metadata: { name, creationTimestamp: created }, rules }),
  );
  const roles = ROLES.map(
    ({ namespace, name, rules }): KubeObject => ({ apiVersion: `${RBAC_GROUP}/v1`, kind: "Role", metadata: { name, namespace, creationTimestamp: created }, rules }),
  );
  const bindings = BINDINGS.map(
    ({ namespace, name, roleRef, subjects }): KubeObject => ({
      apiVersion: `${RBAC_GROUP}/v1`,
      kind: namespace ? "RoleBinding" : "ClusterRoleBinding",
      metadata: namespace ? { name, namespace, creationTimestamp: created } : { name, creationTimestamp: created },
      roleRef: { apiGroup: RBAC_GROUP, ...roleRef },
      subjects,
    }),
  );
  return [...clusterRoles, ...roles, ...bindings];
}

function legacyTokenSecret(spec: LegacyTokenSpec, clock: DemoClock): KubeObject {
  const labels: Record<string, string> = {};
  if (spec.lastUsedDaysAgo !== undefined) labels["kubernetes.io/legacy-token-last-used"] = clock.day(spec.lastUsedDaysAgo);
  if (spec.invalidSinceDaysAgo !== undefined) labels["kubernetes.io/legacy-token-invalid-since"] = clock.day(spec.invalidSinceDaysAgo);
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/service-account-token",
    metadata: {
      name: `${spec.serviceAccount}-token`,
      namespace: spec.namespace,
      creationTimestamp: clock.timestamp(spec.ageDays),
      annotations: { "kubernetes.io/service-account.name": spec.serviceAccount },
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
    },
  };
}

const SIGNING_ALGORITHM = { name: "ECDSA", hash: "SHA-256" };

/** The groups the API server records for a CSR's requester (kubeadm's admin is in kubeadm:cluster-admins). */
function requesterGroups(requester: string): string[] {
  const serviceAccount = /^system:serviceaccount:([^:]+):[^:]+$/.exec(requester);
  if (serviceAccount) return ["system:serviceaccounts", `system:serviceaccounts:${serviceAccount[1]}`, "system:authenticated"];
  if (requester === "kubernetes-admin") return ["kubeadm:cluster-admins", "system:authenticated"];
  return ["system:authenticated"];
}

async function certificateSigningRequest(spec: CertificateUserSpec, clock: DemoClock): Promise<KubeObject> {
  const crypto = webcrypto as unknown as Crypto;
  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  const subject = [`CN=${spec.commonName}`, ...spec.organizations.map((organization) => `O=${organization}`)].join(", ");
  const request = await Pkcs10CertificateRequestGenerator.create({ name: subject, keys, signingAlgorithm: SIGNING_ALGORITHM }, crypto);
  const created = clock.timestamp(spec.ageDays);
  const conditions =
    spec.decision === "Pending"
      ? []
      : [
          {
            type: spec.decision,
            status: "True",
            reason: spec.decision === "Approved" ? "KubectlApprove" : "KubectlDeny",
            message: `This CSR was ${spec.decision.toLowerCase()} by kubectl certificate ${spec.decision === "Approved" ? "approve" : "deny"}.`,
            lastUpdateTime: created,
            lastTransitionTime: created,
          },
        ];
  return {
    apiVersion: "certificates.k8s.io/v1",
    kind: "CertificateSigningRequest",
    metadata: { name: spec.csrName, creationTimestamp: created },
    spec: {
      request: Buffer.from(request.toString("pem")).toString("base64"),
      signerName: "kubernetes.io/kube-apiserver-client",
      ...(spec.expirationSeconds !== undefined ? { expirationSeconds: spec.expirationSeconds } : {}),
      usages: ["digital signature", "client auth"],
      username: spec.requester,
      groups: requesterGroups(spec.requester),
    },
    status: conditions.length > 0 ? { conditions } : {},
  };
}

/**
 * The demo cluster's objects (without the bootstrap policy): namespaces, SAs, workloads and their pods, RBAC,
 * legacy token Secrets and CertificateSigningRequests. Async because CSRs are signed with fresh keys.
 */
export async function generateDemoCluster(): Promise<KubeObject[]> {
  const clock = new DemoClock(Date.now());
  const clusterObjects = [
    ...NAMESPACES.flatMap((spec) => namespaceObjects(spec, clock)),
    ...rbacObjects(clock),
    ...LEGACY_TOKENS.map((spec) => legacyTokenSecret(spec, clock)),
  ];
  const csrs = await Promise.all(CERTIFICATE_USERS.map((spec) => certificateSigningRequest(spec, clock)));
  return expandWorkloads([...clusterObjects, ...csrs]);
}
