import { execFile } from "node:child_process";
import { generateKeyPairSync, createPrivateKey } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import "reflect-metadata"; // @peculiar/x509 (through tsyringe) needs the Reflect metadata API
import * as x509 from "@peculiar/x509";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubeSim, type KubeSim } from "./index";
import "./pki"; // sets @peculiar/x509's crypto provider

const run = promisify(execFile);
let sim: KubeSim;
let dir: string;
let admin: string;

interface KubectlResult {
  stdout: string;
  stderr: string;
  code: number;
}

async function kubectl(kubeconfig: string, ...args: string[]): Promise<KubectlResult> {
  try {
    const { stdout, stderr } = await run("kubectl", ["--kubeconfig", kubeconfig, ...args], { timeout: 30_000 });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; code?: number };
    return { stdout: failed.stdout ?? "", stderr: failed.stderr ?? "", code: typeof failed.code === "number" ? failed.code : -1 };
  }
}

async function file(name: string, content: string): Promise<string> {
  const target = path.join(dir, name);
  await writeFile(target, content, { mode: 0o600 });
  return target;
}

const manifest = (verbs: string) => `apiVersion: v1
kind: Namespace
metadata:
  name: team-a
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: deployer
  namespace: team-a
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: pod-reader
  namespace: team-a
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: [${verbs}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: deployer-reads-pods
  namespace: team-a
subjects:
- kind: ServiceAccount
  name: deployer
  namespace: team-a
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: pod-reader
`;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "kube-sim-kubectl-"));
  sim = await startKubeSim();
  admin = await file("admin.kubeconfig", sim.adminKubeconfig());
});

afterAll(async () => {
  await sim.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("real kubectl against kube-sim", () => {
  it("kubectl version and get sa -A (server-side tables)", async () => {
    const version = await kubectl(admin, "version", "-o", "json");
    expect(version.code).toBe(0);
    expect(JSON.parse(version.stdout).serverVersion).toMatchObject({ major: "1", minor: "32" });
    const sas = await kubectl(admin, "get", "sa", "-A");
    expect(sas.code).toBe(0);
    const lines = sas.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+SECRETS\s+AGE$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2).join("/"))).toEqual(
      expect.arrayContaining(["default/default", "kube-system/default", "kube-public/default", "kube-node-lease/default"]),
    );
  });

  it("create -f, apply -f twice with a change, delete", async () => {
    const first = await file("app.yaml", manifest('"get", "list"'));
    const created = await kubectl(admin, "create", "-f", first);
    expect(created.stderr).toBe("");
    expect(created.stdout).toContain("rolebinding.rbac.authorization.k8s.io/deployer-reads-pods created");

    const applied = await kubectl(admin, "apply", "-f", first);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain("role.rbac.authorization.k8s.io/pod-reader configured");
    const changed = await file("app-changed.yaml", manifest('"get", "list", "delete"'));
    const reapplied = await kubectl(admin, "apply", "-f", changed);
    expect(reapplied.stderr).toBe("");
    expect(reapplied.stdout).toContain("role.rbac.authorization.k8s.io/pod-reader configured");
    expect(reapplied.stdout).toContain("serviceaccount/deployer unchanged");
    const role = sim.get({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", namespace: "team-a", name: "pod-reader" });
    expect((role?.rules as Array<{ verbs: string[] }>)[0].verbs).toEqual(["get", "list", "delete"]);
    const lastApplied = JSON.parse(role!.metadata.annotations!["kubectl.kubernetes.io/last-applied-configuration"]);
    expect(lastApplied.rules[0].verbs).toEqual(["get", "list", "delete"]);

    const unknownField = await file("bad.yaml", "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: bad\n  namespace: team-a\nspec:\n  nope: 1\n");
    const rejected = await kubectl(admin, "create", "-f", unknownField);
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toContain('unknown field "spec"');

    await kubectl(admin, "create", "sa", "temporary", "-n", "team-a");
    const deleted = await kubectl(admin, "delete", "sa", "temporary", "-n", "team-a");
    expect(deleted.stdout.trim()).toBe('serviceaccount "temporary" deleted');
    expect(sim.get({ apiVersion: "v1", kind: "ServiceAccount", namespace: "team-a", name: "temporary" })).toBeUndefined();
  });

  it("auth can-i answers like Kubernetes for bootstrap roles and bindings", async () => {
    const canI = async (...args: string[]) => {
      const result = await kubectl(admin, "auth", "can-i", ...args);
      return `${result.stdout.trim()} ${result.code}`;
    };
    const deployer = "--as=system:serviceaccount:team-a:deployer";
    expect(await canI("delete", "pods", "-n", "team-a", deployer)).toBe("yes 0");
    expect(await canI("create", "pods", "-n", "team-a", deployer)).toBe("no 1");
    expect(await canI("list", "pods", "-n", "default", deployer)).toBe("no 1");
    expect(await canI("list", "pods", "-A", deployer)).toBe("no 1");
    // system:basic-user and system:discovery apply to every authenticated user.
    expect(await canI("create", "selfsubjectaccessreviews.authorization.k8s.io", deployer)).toBe("yes 0");
    expect(await canI("get", "/api", deployer)).toBe("yes 0");
    expect(await canI("*", "*", "-A")).toBe("yes 0");
    // Bootstrap ClusterRoleBindings: system:kube-scheduler may bind pods, not read secrets.
    expect(await canI("create", "pods", "--subresource=binding", "-n", "x", "--as=system:kube-scheduler")).toBe("yes 0");
    expect(await canI("get", "secrets", "-n", "x", "--as=system:kube-scheduler")).toBe("no 1");
    expect(await canI("get", "secrets", "-n", "kube-system", "--as=someone", "--as-group=system:masters")).toBe("yes 0");
    expect(await canI("get", "secrets", "-n", "kube-system", "--as=someone")).toBe("no 1");
  });

  it("impersonation needs the impersonate verb", async () => {
    const narrow = await file("narrow.kubeconfig", sim.kubeconfigFor({ username: "narrow" }));
    const denied = await kubectl(narrow, "get", "pods", "-n", "team-a", "--as=system:serviceaccount:team-a:deployer");
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(
      'serviceaccounts "deployer" is forbidden: User "narrow" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "team-a"',
    );
  });

  it("create token gives a ServiceAccount token that authenticates as the ServiceAccount", async () => {
    const created = await kubectl(admin, "create", "token", "deployer", "-n", "team-a", "--duration=15m");
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    const claims = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
    expect(claims).toMatchObject({ sub: "system:serviceaccount:team-a:deployer", "kubernetes.io": { namespace: "team-a", serviceaccount: { name: "deployer" } } });
    expect(claims.exp - claims.iat).toBe(900);
    const asToken = await file(
      "token.kubeconfig",
      sim.adminKubeconfig().replace(/client-certificate-data: .*\n\s*client-key-data: .*/, `token: ${token}`),
    );
    const requests: Array<{ user: string; groups: string[]; credentialId?: string }> = [];
    const record = (r: { user: string; groups: string[]; credentialId?: string }) => requests.push(r);
    sim.on("request", record);
    expect((await kubectl(asToken, "get", "pods", "-n", "team-a")).code).toBe(0);
    sim.off("request", record);
    expect(requests.at(-1)).toMatchObject({
      user: "system:serviceaccount:team-a:deployer",
      groups: ["system:serviceaccounts", "system:serviceaccounts:team-a", "system:authenticated"],
      credentialId: `JTI=${claims.jti}`,
    });
    const forbidden = await kubectl(asToken, "get", "secrets", "-n", "team-a");
    expect(forbidden.stderr).toContain('secrets is forbidden: User "system:serviceaccount:team-a:deployer" cannot list resource "secrets" in API group "" in the namespace "team-a"');
    // Deleting the ServiceAccount invalidates its tokens.
    await kubectl(admin, "delete", "sa", "deployer", "-n", "team-a");
    expect((await kubectl(asToken, "get", "pods", "-n", "team-a")).stderr).toContain("Unauthorized");
  });

  it("certificate approve issues a client certificate that authenticates", async () => {
    const keys = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const webKeys = {
      privateKey: await crypto.subtle.importKey("pkcs8", keys.privateKey.export({ type: "pkcs8", format: "der" }), { name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]),
      publicKey: await crypto.subtle.importKey("spki", keys.publicKey.export({ type: "spki", format: "der" }), { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]),
    };
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: "CN=dave, O=qa", keys: webKeys, signingAlgorithm: { name: "ECDSA", hash: "SHA-256" } });
    const csrFile = await file(
      "csr.yaml",
      `apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata:
  name: dave
spec:
  request: ${Buffer.from(csr.toString("pem")).toString("base64")}
  signerName: kubernetes.io/kube-apiserver-client
  expirationSeconds: 7200
  usages: [client auth]
`,
    );
    expect((await kubectl(admin, "create", "-f", csrFile)).code).toBe(0);
    const approved = await kubectl(admin, "certificate", "approve", "dave");
    expect(approved.stdout.trim()).toBe("certificatesigningrequest.certificates.k8s.io/dave approved");
    await sim.settle();
    const listed = await kubectl(admin, "get", "csr", "dave");
    expect(listed.stdout).toMatch(/dave\s+\S+\s+kubernetes.io\/kube-apiserver-client\s+kubernetes-admin\s+120m\s+Approved,Issued/);
    const certificate = (await kubectl(admin, "get", "csr", "dave", "-o", "jsonpath={.status.certificate}")).stdout;
    const issued = new x509.X509Certificate(Buffer.from(certificate, "base64").toString());
    expect(issued.notAfter.getTime() - issued.notBefore.getTime()).toBe(7200 * 1000);
    const daveConfig = await file(
      "dave.kubeconfig",
      sim
        .adminKubeconfig()
        .replace(/client-certificate-data: .*/, `client-certificate-data: ${certificate}`)
        .replace(/client-key-data: .*/, `client-key-data: ${Buffer.from(createPrivateKey(keys.privateKey.export({ type: "pkcs8", format: "pem" })).export({ type: "pkcs8", format: "pem" })).toString("base64")}`),
    );
    const forbidden = await kubectl(daveConfig, "get", "pods");
    expect(forbidden.stderr).toContain('User "dave" cannot list resource "pods"');
    const whoami = await kubectl(admin, "auth", "whoami", "-o", "json");
    expect(JSON.parse(whoami.stdout).status.userInfo).toMatchObject({ username: "kubernetes-admin", groups: ["system:masters", "system:authenticated"] });
  });
});
