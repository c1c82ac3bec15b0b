// Test helper: runs the real kubectl against a throwaway plain-HTTP API server that answers discovery
// minimally and records every request, so tests (and the fixture re-capture script) see the exact bytes
// kubectl sends for typed commands.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";

export interface CapturedRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface KubectlRun {
  requests: CapturedRequest[];
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Answers a write request; the default echoes a minimal object of the right kind so kubectl is satisfied. */
export type WriteResponder = (request: CapturedRequest) => { status: number; body: unknown };

interface ServedResource {
  name: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
}

const crud = ["create", "delete", "get", "list", "patch", "update", "watch"];

// Just enough discovery for kubectl's REST mapper to resolve the resources our captured commands use.
const servedGroups: Record<string, ServedResource[]> = {
  v1: [
    { name: "namespaces", kind: "Namespace", namespaced: false, verbs: crud },
    { name: "serviceaccounts", kind: "ServiceAccount", namespaced: true, verbs: crud },
    { name: "serviceaccounts/token", kind: "TokenRequest", namespaced: true, verbs: ["create"] },
    { name: "secrets", kind: "Secret", namespaced: true, verbs: crud },
    { name: "pods", kind: "Pod", namespaced: true, verbs: crud },
  ],
  "authorization.k8s.io/v1": [
    { name: "selfsubjectaccessreviews", kind: "SelfSubjectAccessReview", namespaced: false, verbs: ["create"] },
    { name: "selfsubjectrulesreviews", kind: "SelfSubjectRulesReview", namespaced: false, verbs: ["create"] },
    { name: "subjectaccessreviews", kind: "SubjectAccessReview", namespaced: false, verbs: ["create"] },
    { name: "localsubjectaccessreviews", kind: "LocalSubjectAccessReview", namespaced: true, verbs: ["create"] },
  ],
  "authentication.k8s.io/v1": [
    { name: "selfsubjectreviews", kind: "SelfSubjectReview", namespaced: false, verbs: ["create"] },
    { name: "tokenreviews", kind: "TokenReview", namespaced: false, verbs: ["create"] },
  ],
  "certificates.k8s.io/v1": [
    { name: "certificatesigningrequests", kind: "CertificateSigningRequest", namespaced: false, verbs: crud },
    { name: "certificatesigningrequests/approval", kind: "CertificateSigningRequest", namespaced: false, verbs: ["get", "patch", "update"] },
  ],
  "rbac.authorization.k8s.io/v1": [
    { name: "roles", kind: "Role", namespaced: true, verbs: crud },
    { name: "rolebindings", kind: "RoleBinding", namespaced: true, verbs: crud },
    { name: "clusterroles", kind: "ClusterRole", namespaced: false, verbs: crud },
    { name: "clusterrolebindings", kind: "ClusterRoleBinding", namespaced: false, verbs: crud },
  ],
};

function discoveryDocument(urlPath: string): unknown {
  if (urlPath === "/version") {
    return { major: "1", minor: "32", gitVersion: "v1.32.0", platform: "linux/amd64" };
  }
  if (urlPath === "/api") return { kind: "APIVersions", versions: ["v1"] };
  if (urlPath === "/apis") {
    const groups = Object.keys(servedGroups)
      .filter((groupVersion) => groupVersion.includes("/"))
      .map((groupVersion) => {
        const [name, version] = groupVersion.split("/");
        const discovered = { groupVersion, version };
        return { name, versions: [discovered], preferredVersion: discovered };
      });
    return { kind: "APIGroupList", apiVersion: "v1", groups };
  }
  const groupVersion = urlPath === "/api/v1" ? "v1" : urlPath.replace(/^\/apis\//, "");
  const resources = servedGroups[groupVersion];
  if (!resources) return undefined;
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion,
    resources: resources.map((r) => ({ ...r, singularName: "" })),
  };
}

/** The resource path's last segments, e.g. `/api/v1/namespaces/x/serviceaccounts/sa1/token` → TokenRequest. */
function kindForWrite(urlPath: string): { apiVersion: string; kind: string } | undefined {
  for (const [groupVersion, resources] of Object.entries(servedGroups)) {
    const prefix = groupVersion === "v1" ? "/api/v1/" : `/apis/${groupVersion}/`;
    if (!urlPath.startsWith(prefix)) continue;
    const segments = urlPath.slice(prefix.length).split("/");
    if (segments[0] === "namespaces" && segments.length > 2) segments.splice(0, 2);
    const resourceName = segments.length >= 3 ? `${segments[0]}/${segments[2]}` : segments[0];
    const resource = resources.find((r) => r.name === resourceName);
    if (resource) return { apiVersion: groupVersion, kind: resource.kind };
  }
  return undefined;
}

export const echoKindResponder: WriteResponder = (request) => {
  const typeMeta = kindForWrite(request.path);
  if (!typeMeta) return { status: 404, body: { kind: "Status", apiVersion: "v1", status: "Failure", code: 404 } };
  const name = request.path.split("/").filter((segment) => segment !== "token" && segment !== "approval").at(-1);
  const status: Record<string, unknown> = {
    SelfSubjectAccessReview: { allowed: true },
    TokenRequest: { token: "captured.token.value", expirationTimestamp: "2030-01-01T00:00:00Z" },
  };
  return {
    status: 201,
    body: { ...typeMeta, metadata: { name }, ...(status[typeMeta.kind] ? { status: status[typeMeta.kind] } : {}) },
  };
};

export interface CaptureOptions {
  /** JSON objects served to GET requests, by exact path (e.g. the CSR that `certificate approve` reads first). */
  objects?: Record<string, unknown>;
  respond?: WriteResponder;
  /** Files written into the temporary directory before running; args may refer to them as `{dir}/name`. */
  files?: Record<string, string>;
  kubectl?: string;
}

function readBody(request: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function sendJson(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "Content-Type": "application/json" });
  response.end(JSON.stringify(body));
}

/** Runs `kubectl <args>` against a fresh recording server and returns what it sent. */
export async function runKubectl(args: string[], options: CaptureOptions = {}): Promise<KubectlRun> {
  const requests: CapturedRequest[] = [];
  const respond = options.respond ?? echoKindResponder;
  const server = http.createServer((request, response) => {
    void readBody(request).then((body) => {
      const urlPath = new URL(request.url ?? "/", "http://localhost").pathname;
      const captured: CapturedRequest = {
        method: request.method ?? "GET",
        path: urlPath,
        contentType: request.headers["content-type"],
        headers: request.headers,
        body,
      };
      requests.push(captured);
      if (captured.method === "GET") {
        const document = options.objects?.[urlPath] ?? discoveryDocument(urlPath);
        if (document === undefined) {
          sendJson(response, 404, { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404 });
        } else sendJson(response, 200, document);
        return;
      }
      const answer = respond(captured);
      sendJson(response, answer.status, answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const dir = await mkdtemp(path.join(os.tmpdir(), "kubectl-capture-"));
  try {
    const kubeconfig = path.join(dir, "kubeconfig");
    await writeFile(
      kubeconfig,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters: [{name: sim, cluster: {server: 'http://127.0.0.1:" + port + "'}}]",
        "users: [{name: admin, user: {token: capture-token}}]",
        "contexts: [{name: sim, context: {cluster: sim, user: admin}}]",
        "current-context: sim",
      ].join("\n"),
    );
    for (const [name, content] of Object.entries(options.files ?? {})) {
      await writeFile(path.join(dir, name), content);
    }
    const resolvedArgs = args.map((arg) => arg.replaceAll("{dir}", dir));
    const result = await new Promise<{ exitCode: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        options.kubectl ?? "kubectl",
        ["--kubeconfig", kubeconfig, "--cache-dir", path.join(dir, "cache"), ...resolvedArgs],
        { timeout: 30_000, env: { ...process.env, KUBECONFIG: kubeconfig, HOME: dir } },
        (error, stdout, stderr) => {
          const exitCode = error ? (typeof error.code === "number" ? error.code : 1) : 0;
          resolve({ exitCode, stdout, stderr });
        },
      );
    });
    return { requests, ...result };
  } finally {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
    await rm(dir, { recursive: true, force: true });
  }
}

/** True when a kubectl binary can be run (tests then also capture live, beside the committed fixtures). */
export async function kubectlAvailable(kubectl = "kubectl"): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(kubectl, ["version", "--client"], { timeout: 10_000 }, (error) => resolve(!error));
  });
}
