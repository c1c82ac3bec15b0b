// The kubectl commands whose protobuf request bodies are committed as fixtures/*.bin and checked by
// decode.test.ts, both from the fixtures and live against the kubectl on the machine.
import { runKubectl, type KubectlRun } from "./kubectl-capture";

export interface CapturedBody {
  /** fixtures/<fixture>.bin */
  fixture: string;
  method: "POST" | "PUT";
  path: string;
}

export interface Scenario {
  args: string[];
  captures: CapturedBody[];
  /** What kubectl prints on success, given the simulator echoes the decoded object back. */
  stdout: string;
}

const csrRequestPem = "-----BEGIN CERTIFICATE REQUEST-----\nMIIBfake\n-----END CERTIFICATE REQUEST-----\n";

/** The CSR that `kubectl certificate approve|deny` reads (as JSON) before it PUTs it back with a condition. */
export const pendingCsr = {
  apiVersion: "certificates.k8s.io/v1",
  kind: "CertificateSigningRequest",
  metadata: {
    name: "build-bot",
    resourceVersion: "42",
    creationTimestamp: "2024-01-02T03:04:05Z",
    uid: "9c1e6a4e-csr",
  },
  spec: {
    request: Buffer.from(csrRequestPem).toString("base64"),
    signerName: "kubernetes.io/kube-apiserver-client",
    expirationSeconds: 86400,
    usages: ["digital signature", "client auth"],
    username: "alice",
    groups: ["system:authenticated", "devs"],
    extra: { "scopes.example.com": ["read", "write"] },
  },
  status: {},
};

const servedObjects = { "/apis/certificates.k8s.io/v1/certificatesigningrequests/build-bot": pendingCsr };

const reconcileManifest = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: secret-reader, namespace: team}
rules: [{apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"], resourceNames: ["db-password"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: secret-reader-binding, namespace: team}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}
subjects: [{kind: ServiceAccount, name: deployer, namespace: team}, {kind: User, apiGroup: rbac.authorization.k8s.io, name: alice}]
`;

const rbac = "/apis/rbac.authorization.k8s.io/v1";

export const scenarios: Scenario[] = [
  {
    args: ["auth", "can-i", "get", "pods", "-n", "x", "--as=system:serviceaccount:x:y"],
    captures: [
      {
        fixture: "can-i-get-pods-as-sa",
        method: "POST",
        path: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
      },
    ],
    stdout: "yes",
  },
  {
    args: ["auth", "can-i", "list", "secrets", "-A"],
    captures: [
      {
        fixture: "can-i-list-secrets-all-namespaces",
        method: "POST",
        path: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
      },
    ],
    stdout: "yes",
  },
  {
    args: ["auth", "can-i", "get", "/healthz"],
    captures: [
      {
        fixture: "can-i-get-non-resource-url",
        method: "POST",
        path: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
      },
    ],
    stdout: "yes",
  },
  {
    args: ["auth", "can-i", "--list", "-n", "y"],
    captures: [
      {
        fixture: "can-i-list-rules",
        method: "POST",
        path: "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
      },
    ],
    stdout: "pods",
  },
  {
    args: ["auth", "whoami"],
    captures: [
      { fixture: "whoami", method: "POST", path: "/apis/authentication.k8s.io/v1/selfsubjectreviews" },
    ],
    stdout: "capture-user",
  },
  {
    args: ["create", "token", "sa1", "-n", "x", "--duration=10m"],
    captures: [
      {
        fixture: "create-token-duration",
        method: "POST",
        path: "/api/v1/namespaces/x/serviceaccounts/sa1/token",
      },
    ],
    stdout: "captured.token.value",
  },
  {
    args: [
      "create",
      "token",
      "ci-bot",
      "-n",
      "ci",
      "--audience=https://vault.example.com",
      "--audience=sts",
      "--bound-object-kind=Pod",
      "--bound-object-name=runner-1",
      "--bound-object-uid=0f5c7d1e-pod",
    ],
    captures: [
      {
        fixture: "create-token-bound",
        method: "POST",
        path: "/api/v1/namespaces/ci/serviceaccounts/ci-bot/token",
      },
    ],
    stdout: "captured.token.value",
  },
  {
    args: ["create", "serviceaccount", "x", "-n", "y"],
    captures: [
      { fixture: "create-serviceaccount", method: "POST", path: "/api/v1/namespaces/y/serviceaccounts" },
    ],
    stdout: "serviceaccount/x created",
  },
  {
    args: ["create", "namespace", "z"],
    captures: [{ fixture: "create-namespace", method: "POST", path: "/api/v1/namespaces" }],
    stdout: "namespace/z created",
  },
  {
    args: [
      "create",
      "secret",
      "generic",
      "s",
      "--from-literal=a=b",
      "--from-literal=token=s3cr3t",
      "-n",
      "y",
    ],
    captures: [{ fixture: "create-secret-generic", method: "POST", path: "/api/v1/namespaces/y/secrets" }],
    stdout: "secret/s created",
  },
  {
    args: ["create", "role", "r", "--verb=get", "--resource=pods", "-n", "y"],
    captures: [{ fixture: "create-role", method: "POST", path: `${rbac}/namespaces/y/roles` }],
    stdout: "role.rbac.authorization.k8s.io/r created",
  },
  {
    args: [
      "create",
      "rolebinding",
      "rb",
      "--role=r",
      "--user=alice",
      "--group=devs",
      "--serviceaccount=y:x",
      "-n",
      "y",
    ],
    captures: [{ fixture: "create-rolebinding", method: "POST", path: `${rbac}/namespaces/y/rolebindings` }],
    stdout: "rolebinding.rbac.authorization.k8s.io/rb created",
  },
  {
    args: [
      "create",
      "clusterrole",
      "cr",
      "--verb=get",
      "--resource=secrets",
      "--resource-name=s1",
      "--non-resource-url=/healthz",
    ],
    captures: [{ fixture: "create-clusterrole", method: "POST", path: `${rbac}/clusterroles` }],
    stdout: "clusterrole.rbac.authorization.k8s.io/cr created",
  },
  {
    args: [
      "create",
      "clusterrole",
      "monitoring",
      "--aggregation-rule=rbac.example.com/aggregate-to-monitoring=true",
    ],
    captures: [{ fixture: "create-clusterrole-aggregation", method: "POST", path: `${rbac}/clusterroles` }],
    stdout: "clusterrole.rbac.authorization.k8s.io/monitoring created",
  },
  {
    args: ["create", "clusterrolebinding", "b", "--clusterrole=view", "--serviceaccount=y:x"],
    captures: [{ fixture: "create-clusterrolebinding", method: "POST", path: `${rbac}/clusterrolebindings` }],
    stdout: "clusterrolebinding.rbac.authorization.k8s.io/b created",
  },
  {
    args: ["certificate", "approve", "build-bot"],
    captures: [
      {
        fixture: "certificate-approve",
        method: "PUT",
        path: "/apis/certificates.k8s.io/v1/certificatesigningrequests/build-bot/approval",
      },
    ],
    stdout: "certificatesigningrequest.certificates.k8s.io/build-bot approved",
  },
  {
    args: ["certificate", "deny", "build-bot"],
    captures: [
      {
        fixture: "certificate-deny",
        method: "PUT",
        path: "/apis/certificates.k8s.io/v1/certificatesigningrequests/build-bot/approval",
      },
    ],
    stdout: "certificatesigningrequest.certificates.k8s.io/build-bot denied",
  },
  {
    args: ["auth", "reconcile", "-f", "{dir}/rbac.yaml"],
    captures: [
      { fixture: "reconcile-namespace", method: "POST", path: "/api/v1/namespaces" },
      { fixture: "reconcile-role", method: "POST", path: `${rbac}/namespaces/team/roles` },
      { fixture: "reconcile-rolebinding", method: "POST", path: `${rbac}/namespaces/team/rolebindings` },
    ],
    stdout: "rolebinding.rbac.authorization.k8s.io/secret-reader-binding reconciled",
  },
];

export interface ScenarioCapture {
  run: KubectlRun;
  /** The first body sent to each capture's method and path, by fixture name. */
  bodies: Map<
    string,
    { body: Buffer; contentType: string | undefined; headers: KubectlRun["requests"][number]["headers"] }
  >;
}

export async function captureScenario(scenario: Scenario, kubectl?: string): Promise<ScenarioCapture> {
  const run = await runKubectl(scenario.args, {
    objects: servedObjects,
    files: { "rbac.yaml": reconcileManifest },
    kubectl,
  });
  const bodies: ScenarioCapture["bodies"] = new Map();
  for (const capture of scenario.captures) {
    const request = run.requests.find((r) => r.method === capture.method && r.path === capture.path);
    if (request)
      bodies.set(capture.fixture, {
        body: request.body,
        contentType: request.contentType,
        headers: request.headers,
      });
  }
  return { run, bodies };
}
