// Decodes the protobuf bodies the real kubectl v1.32 sends: the committed fixtures always, and bodies
// captured live from the kubectl on the machine when there is one (there is on dev machines and in CI).
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fixturesDirectory } from "./capture-fixtures";
import { decodeKubernetesProtobuf, isKubernetesProtobuf } from "./index";
import { kubectlAvailable } from "./kubectl-capture";
import { captureScenario, pendingCsr, scenarios } from "./scenarios";

const rfc3339Seconds = expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
const rbacGroup = "rbac.authorization.k8s.io";

/** What each body decodes to: the values passed on kubectl's command line, in Kubernetes JSON form. */
const expectedObjects: Record<string, Record<string, unknown>> = {
  "can-i-get-pods-as-sa": {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SelfSubjectAccessReview",
    spec: { resourceAttributes: { namespace: "x", verb: "get", resource: "pods" } },
  },
  // -A: no namespace at all (the empty string is omitted), meaning "in every namespace".
  "can-i-list-secrets-all-namespaces": {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SelfSubjectAccessReview",
    spec: { resourceAttributes: { verb: "list", resource: "secrets" } },
  },
  "can-i-get-non-resource-url": {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SelfSubjectAccessReview",
    spec: { nonResourceAttributes: { path: "/healthz", verb: "get" } },
  },
  "can-i-list-rules": {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SelfSubjectRulesReview",
    spec: { namespace: "y" },
  },
  whoami: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
  "create-token-duration": {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
    spec: { expirationSeconds: 600 },
  },
  "create-token-bound": {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
    spec: {
      audiences: ["https://vault.example.com", "sts"],
      // proto field `uID`, JSON `uid`
      boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "runner-1", uid: "0f5c7d1e-pod" },
    },
  },
  "create-serviceaccount": {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "x", namespace: "y" },
  },
  "create-namespace": { apiVersion: "v1", kind: "Namespace", metadata: { name: "z" } },
  "create-secret-generic": {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "s", namespace: "y" },
    data: { a: Buffer.from("b").toString("base64"), token: Buffer.from("s3cr3t").toString("base64") },
  },
  "create-role": {
    apiVersion: `${rbacGroup}/v1`,
    kind: "Role",
    metadata: { name: "r", namespace: "y" },
    rules: [{ verbs: ["get"], apiGroups: [""], resources: ["pods"] }],
  },
  "create-rolebinding": {
    apiVersion: `${rbacGroup}/v1`,
    kind: "RoleBinding",
    metadata: { name: "rb", namespace: "y" },
    subjects: [
      { kind: "User", apiGroup: rbacGroup, name: "alice" },
      { kind: "Group", apiGroup: rbacGroup, name: "devs" },
      { kind: "ServiceAccount", name: "x", namespace: "y" },
    ],
    roleRef: { apiGroup: rbacGroup, kind: "Role", name: "r" },
  },
  "create-clusterrole": {
    apiVersion: `${rbacGroup}/v1`,
    kind: "ClusterRole",
    metadata: { name: "cr" },
    rules: [
      { verbs: ["get"], apiGroups: [""], resources: ["secrets"], resourceNames: ["s1"] },
      { verbs: ["get"], nonResourceURLs: ["/healthz"] },
    ],
  },
  "create-clusterrole-aggregation": {
    apiVersion: `${rbacGroup}/v1`,
    kind: "ClusterRole",
    metadata: { name: "monitoring" },
    aggregationRule: {
      clusterRoleSelectors: [{ matchLabels: { "rbac.example.com/aggregate-to-monitoring": "true" } }],
    },
  },
  "create-clusterrolebinding": {
    apiVersion: `${rbacGroup}/v1`,
    kind: "ClusterRoleBinding",
    metadata: { name: "b" },
    subjects: [{ kind: "ServiceAccount", name: "x", namespace: "y" }],
    roleRef: { apiGroup: rbacGroup, kind: "ClusterRole", name: "view" },
  },
  // The CSR kubectl read, sent back whole (bytes as base64, extra as lists) with the condition it added.
  "certificate-approve": {
    ...pendingCsr,
    status: {
      conditions: [
        {
          type: "Approved",
          status: "True",
          reason: "KubectlApprove",
          message: "This CSR was approved by kubectl certificate approve.",
          lastUpdateTime: rfc3339Seconds,
        },
      ],
    },
  },
  "certificate-deny": {
    ...pendingCsr,
    status: {
      conditions: [
        {
          type: "Denied",
          status: "True",
          reason: "KubectlDeny",
          message: "This CSR was denied by kubectl certificate deny.",
          lastUpdateTime: rfc3339Seconds,
        },
      ],
    },
  },
  "reconcile-namespace": { apiVersion: "v1", kind: "Namespace", metadata: { name: "team" } },
  "reconcile-role": {
    apiVersion: `${rbacGroup}/v1`,
    kind: "Role",
    metadata: { name: "secret-reader", namespace: "team" },
    rules: [
      { verbs: ["get", "list"], apiGroups: [""], resources: ["secrets"], resourceNames: ["db-password"] },
    ],
  },
  "reconcile-rolebinding": {
    apiVersion: `${rbacGroup}/v1`,
    kind: "RoleBinding",
    metadata: { name: "secret-reader-binding", namespace: "team" },
    subjects: [
      { kind: "ServiceAccount", name: "deployer", namespace: "team" },
      { kind: "User", apiGroup: rbacGroup, name: "alice" },
    ],
    roleRef: { apiGroup: rbacGroup, kind: "Role", name: "secret-reader" },
  },
};

const captures = scenarios.flatMap((scenario) => scenario.captures);

describe("committed kubectl fixtures", () => {
  it("has an expectation for every captured body and no other", () => {
    expect(Object.keys(expectedObjects).sort()).toEqual(captures.map((c) => c.fixture).sort());
  });

  it.each(captures.map((c) => c.fixture))("decodes %s.bin", async (fixture) => {
    const body = await readFile(path.join(fixturesDirectory, `${fixture}.bin`));
    expect(decodeKubernetesProtobuf(body)).toEqual(expectedObjects[fixture]);
  });

  it("decodes the CSR's request bytes back to the PEM kubectl was served", async () => {
    const body = await readFile(path.join(fixturesDirectory, "certificate-approve.bin"));
    const spec = decodeKubernetesProtobuf(body).spec as { request: string };
    expect(Buffer.from(spec.request, "base64").toString("utf8")).toMatch(
      /^-----BEGIN CERTIFICATE REQUEST-----\n/,
    );
  });
});

const hasKubectl = await kubectlAvailable();

describe.runIf(hasKubectl)("live kubectl", () => {
  it.each(scenarios.map((scenario) => [scenario.args.join(" "), scenario] as const))(
    "kubectl %s sends protobuf that decodes to the expected object",
    async (_command, scenario) => {
      const { run, bodies } = await captureScenario(scenario);
      // The capture server echoes the decoded object, so kubectl's own output confirms the decoding too.
      expect(run.stderr).not.toMatch(/error/i);
      expect(run.exitCode).toBe(0);
      expect(run.stdout).toContain(scenario.stdout);
      for (const { fixture } of scenario.captures) {
        const captured = bodies.get(fixture);
        expect(captured, fixture).toBeDefined();
        expect(isKubernetesProtobuf(captured?.contentType)).toBe(true);
        expect(decodeKubernetesProtobuf(captured?.body ?? Buffer.alloc(0))).toEqual(expectedObjects[fixture]);
      }
    },
  );

  it("sends --as as an Impersonate-User header, not in the review body", async () => {
    const scenario = scenarios.find((s) => s.captures[0].fixture === "can-i-get-pods-as-sa");
    const { bodies } = await captureScenario(scenario!);
    expect(bodies.get("can-i-get-pods-as-sa")?.headers["impersonate-user"]).toBe("system:serviceaccount:x:y");
  });
});
