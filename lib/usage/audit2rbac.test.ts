// The audit2rbac demo log (github.com/liggitt/audit2rbac testdata/demo.log): for each user in it, the generated
// least-privilege objects must allow every request of the log and, checked with the RBAC engine, deny what the log
// did not do (other verbs, resources, subresources, namespaces, paths), except where RBAC's granularity forces
// an allowance; each such exception is listed below with its reason, and must actually occur.
//
// Compared with what audit2rbac itself generates for this log (its README shows alice's output; its defaults in
// pkg/process.go give the others):
// - audit2rbac expands verbs (list → get, watch; watch → get, list; update ↔ patch, + get): for alice it grants
//   get/list/watch on configmaps, pods and secrets in ns1. Keyward grants only the `list` the log shows, so
//   alice cannot read a secret's value by name (`get`) nor watch them.
// - audit2rbac turns a request made in several namespaces into one cluster-wide rule: bob listed pods in default
//   and ns1, so it would grant list/get/watch pods in every namespace. Keyward writes a Role per namespace: bob
//   can list pods in default and ns1 only.
// - For the service account both agree on a ClusterRole listing pods and nodes (it listed pods across all
//   namespaces, which only a cluster-wide grant allows), audit2rbac adding get and watch. The namespaced list in
//   default is covered by it, so neither writes a Role for it.
// - Non-resource URLs: both grant `get` on exactly the discovery paths bob requested (/api, /apis, /apis/<group>/
//   <version>…), in the ClusterRole.
// - audit2rbac names everything `audit2rbac:<user>`; Keyward `keyward-least-privilege-<identity>` (DNS-1123).
// The log names no object (lists and discovery only), so there are no names to narrow rules by, nor to miss.
// The log's forbidden (403) requests are included: audit2rbac's workflow is to record what a user tries and
// grant it, and the issue asks that every request of the log be allowed.
// Last, the YAML goes through `kubectl apply -f` into the simulator and `kubectl auth can-i` gives the same answers.
import fs from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubeSim, type KubeSim } from "@/lib/kube-sim";
import { kubectlCanI, mapLimited, type AccessCheck } from "@/lib/permissions/test-support/kubectl";
import { userInfoForIdentity, type PolicyIdentity } from "@/lib/permissions/cluster-policy";
import { parseServiceAccountUsername, type NonResourceAttributes, type ResourceAttributes } from "@/lib/rbac";
import { generateLeastPrivilege } from "./least-privilege";
import { parseAuditEvent } from "./parse-event";
import { yamlAuthorizer } from "./test-support/generated-rbac";
import type { UsageEvent, UsageRecord } from "./types";

const REPOSITORY_ROOT = path.resolve(import.meta.dirname, "../..");
const DEMO_LOG = path.resolve(REPOSITORY_ROOT, "../shared/fixtures/real-world/audit/audit2rbac-demo.jsonl");

type Request = ResourceAttributes | NonResourceAttributes;

function demoEvents(): UsageEvent[] {
  return fs
    .readFileSync(DEMO_LOG, "utf8")
    .split("\n")
    .filter((line) => line.trim())
    .map((line, index) => {
      const parsed = parseAuditEvent(JSON.parse(line));
      if (!parsed.ok) throw new Error(`line ${index + 1}: ${parsed.reason}`);
      return parsed.event;
    });
}

function identityOf(username: string): PolicyIdentity {
  const serviceAccount = parseServiceAccountUsername(username);
  return serviceAccount
    ? { kind: "ServiceAccount", ...serviceAccount, username, groups: [] }
    : { kind: "User", namespace: "", name: username, username, groups: [] };
}

/** The request the API server authorized for an event. */
function requestOf(event: UsageEvent): Request {
  if (event.path) return { verb: event.verb, path: event.path };
  return {
    verb: event.verb,
    group: event.apiGroup,
    resource: event.resource,
    subresource: event.subresource,
    namespace: event.namespace,
    name: event.name,
  };
}

/** Events summed into records as the daily rollups keep them: one per request shape, with the names asked for. */
function recordsOf(events: readonly UsageEvent[]): UsageRecord[] {
  const records = new Map<string, UsageRecord>();
  for (const event of events) {
    const key = JSON.stringify([
      event.verb,
      event.apiGroup,
      event.resource,
      event.subresource,
      event.namespace,
      event.path,
    ]);
    const record = records.get(key) ?? {
      verb: event.verb,
      apiGroup: event.apiGroup,
      resource: event.resource,
      subresource: event.subresource,
      namespace: event.namespace,
      path: event.path,
      resourceNames: [],
      resourceNamesComplete: true,
      count: 0,
    };
    record.count++;
    if (!event.name) record.resourceNamesComplete = false;
    else if (!record.resourceNames.includes(event.name)) record.resourceNames.push(event.name);
    records.set(key, record);
  }
  return [...records.values()];
}

const sameRequest = (a: Request, b: Request) => JSON.stringify(a) === JSON.stringify(b);

const VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"];
const RESOURCES: Array<{ group: string; resource: string; subresource?: string }> = [
  { group: "", resource: "pods" },
  { group: "", resource: "pods", subresource: "log" },
  { group: "", resource: "configmaps" },
  { group: "", resource: "secrets" },
  { group: "", resource: "services" },
  { group: "", resource: "nodes" },
  { group: "apps", resource: "deployments" },
];
const CLUSTER_SCOPED = new Set(["nodes"]);
const NAMESPACES = ["default", "ns1", "kube-system", ""];
const PATHS = ["/api", "/apis", "/api/v1", "/version", "/healthz", "/apis/apps/v1", "/metrics"];

/** Requests one step away from a request of the log: another verb, resource, subresource, namespace or path. */
function nearMisses(request: Request): Request[] {
  if ("path" in request) {
    return [
      ...["post", "put", "delete"].map((verb) => ({ verb, path: request.path })),
      ...PATHS.map((candidate) => ({ verb: request.verb, path: candidate })),
    ];
  }
  const misses: ResourceAttributes[] = VERBS.map((verb) => ({ ...request, verb }));
  for (const { group, resource, subresource = "" } of RESOURCES) {
    const namespace = CLUSTER_SCOPED.has(resource) ? "" : request.namespace || "default";
    misses.push({ ...request, group, resource, subresource, namespace });
  }
  if (!CLUSTER_SCOPED.has(request.resource)) {
    for (const namespace of NAMESPACES) misses.push({ ...request, namespace });
  }
  return misses;
}

interface Forced {
  why: string;
  applies: (request: Request) => boolean;
}

/** Requests the log did not make that any RBAC grant of what it did make must allow too. */
const FORCED: Record<string, Forced[]> = {
  bob: [],
  alice: [],
  "system:serviceaccount:ns1:sa1": [
    {
      why:
        "sa1 listed pods across all namespaces (GET /api/v1/pods): only a ClusterRole bound cluster-wide grants " +
        "that, and it grants listing pods in each single namespace too",
      applies: (request) =>
        "resource" in request &&
        request.verb === "list" &&
        request.resource === "pods" &&
        !request.subresource,
    },
  ],
};

const demo = demoEvents();
const users = [...new Set(demo.map((event) => event.username))];

describe("least privilege for the audit2rbac demo log", () => {
  it("parses every event and finds the three users, impersonated ones counting as themselves", () => {
    expect(demo).toHaveLength(37);
    expect(users.sort()).toEqual(["alice", "bob", "system:serviceaccount:ns1:sa1"]);
  });

  it("generates the expected objects for each user", () => {
    const generated = (username: string) =>
      generateLeastPrivilege(
        identityOf(username),
        recordsOf(demo.filter((event) => event.username === username)),
      );

    const alice = generated("alice");
    expect(alice.clusterRoles).toEqual([]);
    expect(alice.rules).toEqual([
      {
        namespace: "ns1",
        rule: { apiGroups: [""], resources: ["configmaps", "pods", "secrets"], verbs: ["list"] },
      },
    ]);
    expect(alice.roleBindings[0].subjects).toEqual([
      { kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "alice" },
    ]);

    const bob = generated("bob");
    const discovery = demo
      .filter((event) => event.username === "bob" && event.path)
      .map((event) => event.path);
    expect(discovery).toHaveLength(23);
    expect(bob.rules).toEqual([
      { namespace: null, rule: { apiGroups: [""], resources: ["nodes"], verbs: ["list"] } },
      { namespace: null, rule: { nonResourceURLs: [...discovery].sort(), verbs: ["get"] } },
      { namespace: "default", rule: { apiGroups: [""], resources: ["pods"], verbs: ["list"] } },
      { namespace: "ns1", rule: { apiGroups: [""], resources: ["pods"], verbs: ["list"] } },
    ]);
    expect(bob.name).toBe("keyward-least-privilege-bob");

    const serviceAccount = generated("system:serviceaccount:ns1:sa1");
    expect(serviceAccount.roles).toEqual([]);
    expect(serviceAccount.rules).toEqual([
      { namespace: null, rule: { apiGroups: [""], resources: ["nodes", "pods"], verbs: ["list"] } },
    ]);
    expect(serviceAccount.clusterRoleBindings[0].subjects).toEqual([
      { kind: "ServiceAccount", name: "sa1", namespace: "ns1" },
    ]);
  });

  it.each(users)(
    "%s: every request of the log is allowed, and nothing else unless RBAC forces it",
    (username) => {
      const identity = identityOf(username);
      const events = demo.filter((event) => event.username === username);
      const result = generateLeastPrivilege(identity, recordsOf(events));
      const allows = yamlAuthorizer(result.yaml, userInfoForIdentity(identity));
      const made = events.map(requestOf);

      for (const request of made) expect(allows(request), JSON.stringify(request)).toBe(true);

      const forcedSeen = new Set<Forced>();
      let denied = 0;
      const checked = new Set<string>();
      for (const miss of made.flatMap(nearMisses)) {
        const key = JSON.stringify(miss);
        if (checked.has(key) || made.some((request) => sameRequest(request, miss))) continue;
        checked.add(key);
        const forced = FORCED[username].find((exception) => exception.applies(miss));
        if (forced) {
          // Documented, and really allowed: otherwise the exception is stale and should go.
          expect(allows(miss), `${forced.why}: ${key}`).toBe(true);
          forcedSeen.add(forced);
          continue;
        }
        expect(allows(miss), `not in the log, yet allowed: ${key}\n${result.yaml}`).toBe(false);
        denied++;
      }
      expect([...forcedSeen]).toEqual(FORCED[username]);
      expect(denied).toBeGreaterThan(10);

      // Nobody else gets anything from this identity's objects.
      const other = yamlAuthorizer(result.yaml, { username: "mallory", groups: ["system:authenticated"] });
      for (const request of made) expect(other(request)).toBe(false);
    },
  );
});

describe("the demo log's generated YAML, applied with kubectl to the simulator", () => {
  let sim: KubeSim;
  let dir: string;
  let kubeconfig: string;

  beforeAll(async () => {
    sim = await startKubeSim({
      objects: [
        { apiVersion: "v1", kind: "Namespace", metadata: { name: "ns1" } },
        { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "sa1", namespace: "ns1" } },
      ],
    });
    dir = await mkdtemp(path.join(tmpdir(), "keyward-audit2rbac-"));
    kubeconfig = path.join(dir, "admin.kubeconfig");
    await writeFile(kubeconfig, sim.adminKubeconfig(), { mode: 0o600 });
  });

  afterAll(async () => {
    await sim?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("applies, and kubectl auth can-i answers yes for the log's requests and no for near misses", async () => {
    const checks: Array<{ identity: PolicyIdentity; check: AccessCheck; expected: boolean }> = [];
    for (const username of users) {
      const identity = identityOf(username);
      const events = demo.filter((event) => event.username === username);
      const file = path.join(dir, `${identity.name}.yaml`);
      await writeFile(file, generateLeastPrivilege(identity, recordsOf(events)).yaml);
      await promisify(execFile)("kubectl", ["--kubeconfig", kubeconfig, "apply", "-f", file], {
        timeout: 20_000,
      });

      const seen = new Set<string>();
      for (const event of events) {
        if (event.path) continue; // the simulator's bootstrap discovery roles grant every user those paths anyway
        const check = {
          verb: event.verb,
          group: event.apiGroup,
          resource: event.resource,
          namespace: event.namespace,
        };
        if (seen.has(JSON.stringify(check))) continue;
        seen.add(JSON.stringify(check));
        checks.push({ identity, check, expected: true });
        checks.push({ identity, check: { ...check, verb: "get" }, expected: false });
        checks.push({ identity, check: { ...check, verb: "delete" }, expected: false });
      }
    }
    const bob = identityOf("bob");
    const alice = identityOf("alice");
    const sa1 = identityOf("system:serviceaccount:ns1:sa1");
    checks.push(
      {
        identity: bob,
        check: { verb: "list", group: "", resource: "pods", namespace: "kube-system" },
        expected: false,
      },
      { identity: bob, check: { verb: "list", group: "", resource: "pods", namespace: "" }, expected: false },
      {
        identity: bob,
        check: { verb: "list", group: "", resource: "secrets", namespace: "default" },
        expected: false,
      },
      {
        identity: alice,
        check: { verb: "list", group: "", resource: "secrets", namespace: "default" },
        expected: false,
      },
      {
        identity: alice,
        check: { verb: "watch", group: "", resource: "secrets", namespace: "ns1" },
        expected: false,
      },
      {
        identity: sa1,
        check: { verb: "list", group: "", resource: "secrets", namespace: "" },
        expected: false,
      },
      // Forced by its cluster-wide list (see FORCED above).
      {
        identity: sa1,
        check: { verb: "list", group: "", resource: "pods", namespace: "kube-system" },
        expected: true,
      },
    );
    const answers = await mapLimited(checks, 2, ({ identity, check }) =>
      kubectlCanI(kubeconfig, identity, check),
    );
    expect(
      checks.map(
        ({ identity, check }, index) => `${identity.username} ${JSON.stringify(check)} → ${answers[index]}`,
      ),
    ).toEqual(
      checks.map(
        ({ identity, check, expected }) => `${identity.username} ${JSON.stringify(check)} → ${expected}`,
      ),
    );
  }, 120_000);
});
