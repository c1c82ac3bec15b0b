// Test helper: runs the real kubectl against a throwaway plain-HTTP API server that answers discovery
// minimally and records every request, so tests (and the fixture re-capture script) see the exact bytes
// kubectl sends for typed commands.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { decodeKubernetesProtobuf, isKubernetesProtobuf, type JsonValue } from "./index";

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

/** Answers a write request (POST/PUT/PATCH/DELETE). */
type WriteResponder = (request: CapturedRequest) => { status: number; body: unknown };

interface ServedResource {
  name: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  /** For subresources whose kind lives in another group, like serviceaccounts/token. */
  group?: string;
  version?: string;
}

const crud = ["create", "delete", "get", "list", "patch", "update", "watch"];

// Just enough discovery for kubectl's REST mapper to resolve the resources our captured commands use.
const servedGroups: Record<string, ServedResource[]> = {
  v1: [
    { name: "namespaces", kind: "Namespace", namespaced: false, verbs: crud },
    { name: "serviceaccounts", kind: "ServiceAccount", namespaced: true, verbs: crud, shortNames: ["sa"] },
    {
      name: "serviceaccounts/token",
      kind: "TokenRequest",
      namespaced: true,
      verbs: ["create"],
      group: "authentication.k8s.io",
      version: "v1",
    },
    { name: "secrets", kind: "Secret", namespaced: true, verbs: crud },
    { name: "pods", kind: "Pod", namespaced: true, verbs: crud },
  ],
  "authorization.k8s.io/v1": [
    {
      name: "selfsubjectaccessreviews",
      kind: "SelfSubjectAccessReview",
      namespaced: false,
      verbs: ["create"],
    },
    { name: "selfsubjectrulesreviews", kind: "SelfSubjectRulesReview", namespaced: false, verbs: ["create"] },
    { name: "subjectaccessreviews", kind: "SubjectAccessReview", namespaced: false, verbs: ["create"] },
    {
      name: "localsubjectaccessreviews",
      kind: "LocalSubjectAccessReview",
      namespaced: true,
      verbs: ["create"],
    },
  ],
  "authentication.k8s.io/v1": [
    { name: "selfsubjectreviews", kind: "SelfSubjectReview", namespaced: false, verbs: ["create"] },
    { name: "tokenreviews", kind: "TokenReview", namespaced: false, verbs: ["create"] },
  ],
  "certificates.k8s.io/v1": [
    { name: "certificatesigningrequests", kind: "CertificateSigningRequest", namespaced: false, verbs: crud },
    {
      name: "certificatesigningrequests/approval",
      kind: "CertificateSigningRequest",
      namespaced: false,
      verbs: ["get", "patch", "update"],
    },
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

/** What a real server would add to the echoed object, so kubectl gets the answer it waits for. */
const serverStatus: Record<string, JsonValue> = {
  SelfSubjectAccessReview: { allowed: true },
  SelfSubjectRulesReview: {
    resourceRules: [{ verbs: ["get"], apiGroups: [""], resources: ["pods"] }],
    incomplete: false,
  },
  SelfSubjectReview: { userInfo: { username: "capture-user", groups: ["system:authenticated"] } },
  TokenRequest: { token: "captured.token.value", expirationTimestamp: "2030-01-01T00:00:00Z" },
};

/**
 * Echoes the object kubectl sent, decoded with the decoder under test (so kubectl's own output shows what
 * the decoder understood), plus the status kubectl waits for. Undecodable bodies get a 400 Status.
 */
const echoDecodedResponder: WriteResponder = (request) => {
  let object: Record<string, unknown>;
  try {
    object = isKubernetesProtobuf(request.contentType)
      ? decodeKubernetesProtobuf(request.body)
      : (JSON.parse(request.body.toString("utf8")) as Record<string, unknown>);
  } catch (error) {
    const message = (error as Error).message;
    return {
      status: 400,
      body: { kind: "Status", apiVersion: "v1", status: "Failure", reason: "BadRequest", message, code: 400 },
    };
  }
  const kind = String(object.kind);
  return { status: 201, body: serverStatus[kind] ? { ...object, status: serverStatus[kind] } : object };
};

export interface CaptureOptions {
  /** JSON objects served to GET requests, by exact path (e.g. the CSR that `certificate approve` reads first). */
  objects?: Record<string, unknown>;
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
          sendJson(response, 404, {
            kind: "Status",
            apiVersion: "v1",
            status: "Failure",
            reason: "NotFound",
            code: 404,
          });
        } else sendJson(response, 200, document);
        return;
      }
      const answer = echoDecodedResponder(captured);
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
