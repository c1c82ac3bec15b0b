import { ApiException, AuthorizationV1Api, CoreV1Api, KubeConfig, PatchStrategy, RbacAuthorizationV1Api, Watch, setHeaderOptions } from "@kubernetes/client-node";
import { request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubeSim, type KubeSim } from "./index";

let sim: KubeSim;
let kc: KubeConfig;
let core: CoreV1Api;
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

beforeAll(async () => {
  sim = await startKubeSim({ watchHistory: 50 });
  kc = new KubeConfig();
  kc.loadFromString(sim.adminKubeconfig());
  core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: "paging" } } });
  for (let i = 0; i < 25; i++) {
    await core.createNamespacedServiceAccount({
      namespace: "paging",
      body: { metadata: { name: `sa-${String(i).padStart(2, "0")}`, labels: { tier: i % 2 === 0 ? "even" : "odd" } } },
    });
  }
});

afterAll(async () => {
  sim.faults.clear();
  await sim.stop();
});

async function apiError(promise: Promise<unknown>): Promise<{ code: number; status: Record<string, unknown>; headers: Record<string, string> }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiException) {
      const body = error.body as unknown;
      return { code: error.code, status: (typeof body === "string" ? JSON.parse(body) : body) as Record<string, unknown>, headers: error.headers };
    }
    throw error;
  }
  throw new Error("expected the call to fail");
}

interface WatchEvent {
  type: string;
  object: { metadata?: { name?: string; resourceVersion?: string }; code?: number; reason?: string };
}

/** Watches until `until` returns true for the events seen so far (or the stream ends). */
function collectWatch(path: string, query: Record<string, string | number | boolean>, until: (events: WatchEvent[]) => boolean) {
  const events: WatchEvent[] = [];
  let abort: AbortController | undefined;
  const finished = new Promise<WatchEvent[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`watch timed out with ${JSON.stringify(events.map((e) => e.type))}`)), 10_000);
    const check = () => {
      if (until(events)) {
        clearTimeout(timer);
        abort?.abort();
        resolve(events);
      }
    };
    new Watch(kc)
      .watch(
        path,
        query,
        (type, object) => {
          events.push({ type, object });
          check();
        },
        () => {
          clearTimeout(timer);
          resolve(events);
        },
      )
      .then((controller) => {
        abort = controller;
      }, reject);
  });
  return finished;
}

describe("kube-sim with @kubernetes/client-node", () => {
  it("pages a list with limit/continue and reports the remaining count", async () => {
    const first = await core.listNamespacedServiceAccount({ namespace: "paging", limit: 10 });
    expect(first.items).toHaveLength(10);
    expect(first.metadata?.remainingItemCount).toBe(16); // 25 created + the default ServiceAccount
    const names = first.items.map((i) => i.metadata!.name!);
    let token = first.metadata?._continue;
    while (token) {
      const page = await core.listNamespacedServiceAccount({ namespace: "paging", limit: 10, _continue: token });
      expect(page.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
      names.push(...page.items.map((i) => i.metadata!.name!));
      token = page.metadata?._continue;
    }
    expect(names).toHaveLength(26);
    expect(new Set(names).size).toBe(26);
    expect(names).toEqual([...names].sort());
  });

  it("filters by label and field selectors", async () => {
    const even = await core.listNamespacedServiceAccount({ namespace: "paging", labelSelector: "tier=even" });
    expect(even.items).toHaveLength(13);
    const notEven = await core.listNamespacedServiceAccount({ namespace: "paging", labelSelector: "tier notin (even),tier" });
    expect(notEven.items).toHaveLength(12);
    const withoutTier = await core.listNamespacedServiceAccount({ namespace: "paging", labelSelector: "!tier" });
    expect(withoutTier.items.map((i) => i.metadata?.name)).toEqual(["default"]);
    const byName = await core.listServiceAccountForAllNamespaces({ fieldSelector: "metadata.name=sa-03" });
    expect(byName.items.map((i) => `${i.metadata?.namespace}/${i.metadata?.name}`)).toEqual(["paging/sa-03"]);
    const error = await apiError(core.listNamespacedSecret({ namespace: "paging", fieldSelector: "spec.nope=1" }));
    expect(error.code).toBe(400);
  });

  it("watch sends ADDED, MODIFIED and DELETED, and bookmarks when asked", async () => {
    const list = await core.listNamespacedServiceAccount({ namespace: "paging", limit: 1 });
    const watching = collectWatch(
      "/api/v1/namespaces/paging/serviceaccounts",
      { resourceVersion: list!.metadata!.resourceVersion!, allowWatchBookmarks: true },
      (events) => events.some((e) => e.type === "DELETED"),
    );
    await new Promise((r) => setTimeout(r, 200));
    await core.createNamespacedServiceAccount({ namespace: "paging", body: { metadata: { name: "watched" } } });
    await core.patchNamespacedServiceAccount({ namespace: "paging", name: "watched", body: { metadata: { labels: { seen: "yes" } } } }, mergePatch);
    await core.deleteNamespacedServiceAccount({ namespace: "paging", name: "watched" });
    const events = await watching;
    const types = events.filter((e) => e.type !== "BOOKMARK").map((e) => `${e.type} ${e.object.metadata?.name}`);
    expect(types).toEqual(["ADDED watched", "MODIFIED watched", "DELETED watched"]);
    expect(events.some((e) => e.type === "BOOKMARK")).toBe(true);
  });

  it("a watch from a resourceVersion older than the history gets 410 Gone", async () => {
    const old = await core.listNamespacedServiceAccount({ namespace: "paging", limit: 1 });
    const stale = old.metadata!.resourceVersion!;
    const staleContinue = old.metadata!._continue!;
    // watchHistory is 50: push the old revision out of the window.
    for (let i = 0; i < 60; i++) {
      await core.patchNamespacedServiceAccount({ namespace: "paging", name: "sa-00", body: { metadata: { annotations: { n: String(i) } } } }, mergePatch);
    }
    const events = await collectWatch("/api/v1/namespaces/paging/serviceaccounts", { resourceVersion: stale }, (e) => e.length > 0);
    expect(events[0].type).toBe("ERROR");
    expect(events[0].object.code).toBe(410);
    const expired = await apiError(core.listNamespacedServiceAccount({ namespace: "paging", limit: 1, _continue: staleContinue }));
    expect(expired.code).toBe(410);
    expect(expired.status.message).toMatch(/continue parameter is too old/);
  });

  it("update with a stale resourceVersion is a 409 Conflict", async () => {
    const sa = await core.readNamespacedServiceAccount({ namespace: "paging", name: "sa-01" });
    await core.replaceNamespacedServiceAccount({ namespace: "paging", name: "sa-01", body: { ...sa, automountServiceAccountToken: false } });
    const conflict = await apiError(core.replaceNamespacedServiceAccount({ namespace: "paging", name: "sa-01", body: { ...sa, automountServiceAccountToken: true } }));
    expect(conflict.code).toBe(409);
    expect(conflict.status).toMatchObject({
      kind: "Status",
      reason: "Conflict",
      message: 'Operation cannot be fulfilled on serviceaccounts "sa-01": the object has been modified; please apply your changes to the latest version and try again',
    });
  });

  it("dryRun=All validates and answers without storing anything", async () => {
    const before = (await core.listNamespacedServiceAccount({ namespace: "paging" })).metadata!.resourceVersion;
    const created = await core.createNamespacedServiceAccount({ namespace: "paging", body: { metadata: { name: "dry" } }, dryRun: "All" });
    expect(created.metadata?.name).toBe("dry");
    await core.deleteNamespacedServiceAccount({ namespace: "paging", name: "sa-02", dryRun: "All" });
    const after = await core.listNamespacedServiceAccount({ namespace: "paging" });
    expect(after.metadata?.resourceVersion).toBe(before);
    expect(after.items.map((i) => i.metadata?.name)).toContain("sa-02");
    expect(sim.get({ apiVersion: "v1", kind: "ServiceAccount", namespace: "paging", name: "dry" })).toBeUndefined();
    const invalid = await apiError(core.createNamespacedServiceAccount({ namespace: "paging", body: { metadata: { name: "Not_Valid" } }, dryRun: "All" }));
    expect(invalid.code).toBe(422);
  });

  it("roleRef is immutable and bindings cannot escalate", async () => {
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRoleBinding({
      namespace: "paging",
      body: { metadata: { name: "viewers" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" }, subjects: [{ kind: "Group", name: "viewers" }] },
    });
    const changed = await apiError(
      rbac.patchNamespacedRoleBinding({ namespace: "paging", name: "viewers", body: { roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" } } }, mergePatch),
    );
    expect(changed.code).toBe(422);
    expect(changed.status.message).toMatch(/cannot change roleRef/);

    // A user who may manage RoleBindings but holds only "view" cannot grant "edit".
    sim.apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "binder", namespace: "paging" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
      subjects: [{ kind: "User", name: "binder", apiGroup: "rbac.authorization.k8s.io" }],
    });
    sim.apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "manage-bindings", namespace: "paging" },
      rules: [{ apiGroups: ["rbac.authorization.k8s.io"], resources: ["rolebindings"], verbs: ["create"] }],
    });
    sim.apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "binder-manages", namespace: "paging" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "manage-bindings" },
      subjects: [{ kind: "User", name: "binder", apiGroup: "rbac.authorization.k8s.io" }],
    });
    const binderConfig = new KubeConfig();
    binderConfig.loadFromString(sim.kubeconfigFor({ username: "binder" }));
    const binder = binderConfig.makeApiClient(RbacAuthorizationV1Api);
    const binding = (role: string) => ({
      namespace: "paging",
      body: { metadata: { name: `to-${role}` }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role }, subjects: [{ kind: "User", name: "someone" }] },
    });
    await binder.createNamespacedRoleBinding(binding("view"));
    const escalation = await apiError(binder.createNamespacedRoleBinding(binding("edit")));
    expect(escalation.code).toBe(403);
    expect(escalation.status.message).toMatch(/^rolebindings.rbac.authorization.k8s.io "to-edit" is forbidden: user "binder" .* is attempting to grant RBAC permissions not currently held/);
  });

  it("the aggregation controller folds labelled ClusterRoles into view/edit/admin", async () => {
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const widgetRule = { apiGroups: ["example.com"], resources: ["widgets"], verbs: ["get", "list"] };
    await rbac.createClusterRole({
      body: { metadata: { name: "widget-viewer", labels: { "rbac.authorization.k8s.io/aggregate-to-view": "true" } }, rules: [widgetRule] },
    });
    for (const name of ["view", "edit", "admin"]) {
      const role = await rbac.readClusterRole({ name });
      expect(role.rules, name).toContainEqual(widgetRule);
    }
    await rbac.deleteClusterRole({ name: "widget-viewer" });
    expect((await rbac.readClusterRole({ name: "view" })).rules).not.toContainEqual(widgetRule);
  });

  it("a narrow identity gets 403 with kube-apiserver's Status", async () => {
    const narrow = new KubeConfig();
    narrow.loadFromString(sim.kubeconfigFor({ username: "narrow", groups: ["nobody"] }, { auth: "certificate" }));
    const forbidden = await apiError(narrow.makeApiClient(CoreV1Api).readNamespacedSecret({ namespace: "paging", name: "x" }));
    expect(forbidden.code).toBe(403);
    expect(forbidden.status).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'secrets "x" is forbidden: User "narrow" cannot get resource "secrets" in API group "" in the namespace "paging"',
      reason: "Forbidden",
      details: { name: "x", group: "", kind: "secrets" },
      code: 403,
    });
    const anonymous = new KubeConfig();
    anonymous.loadFromString(sim.kubeconfigFor({ username: "x" }).replace(/token: .*/, "token: not-a-real-token"));
    const unauthorized = await apiError(anonymous.makeApiClient(CoreV1Api).listNamespace());
    expect(unauthorized.code).toBe(401);
  });

  it("answers access reviews and rules reviews from RBAC", async () => {
    const authz = kc.makeApiClient(AuthorizationV1Api);
    const review = (user: string, groups: string[], verb: string, resource: string, namespace: string) =>
      authz.createSubjectAccessReview({ body: { spec: { user, groups, resourceAttributes: { verb, resource, namespace } } } });
    expect((await review("someone", ["viewers"], "list", "pods", "paging")).status?.allowed).toBe(true); // RoleBinding "viewers" to view
    expect((await review("someone", ["viewers"], "list", "secrets", "paging")).status?.allowed).toBe(false); // view excludes secrets
    expect((await review("someone", ["viewers"], "list", "pods", "default")).status?.allowed).toBe(false);
    const viewerConfig = new KubeConfig();
    viewerConfig.loadFromString(sim.kubeconfigFor({ username: "v", groups: ["viewers"] }));
    const rules = await viewerConfig.makeApiClient(AuthorizationV1Api).createSelfSubjectRulesReview({ body: { spec: { namespace: "paging" } } });
    expect(rules.status?.resourceRules.some((r) => r.resources?.includes("pods") && r.verbs.includes("list"))).toBe(true);
    expect(rules.status?.resourceRules.some((r) => r.resources?.includes("secrets"))).toBe(false);
  });

  it("deleting a namespace deletes what it holds", async () => {
    await core.createNamespace({ body: { metadata: { name: "short-lived" } } });
    const secret = await core.createNamespacedSecret({ namespace: "short-lived", body: { metadata: { name: "s" }, stringData: { a: "b" } } });
    expect(secret.data).toEqual({ a: Buffer.from("b").toString("base64") });
    expect(secret.type).toBe("Opaque");
    expect(sim.list("v1", "ServiceAccount", "short-lived").map((sa) => sa.metadata.name)).toEqual(["default"]);
    await core.deleteNamespace({ name: "short-lived" });
    expect(sim.list("v1", "Secret", "short-lived")).toEqual([]);
    expect(sim.list("v1", "ServiceAccount", "short-lived")).toEqual([]);
    const missing = await apiError(core.createNamespacedServiceAccount({ namespace: "short-lived", body: { metadata: { name: "x" } } }));
    expect(missing.status.message).toBe('namespaces "short-lived" not found');
  });

  it("reports every served request", async () => {
    const seen: Array<{ user: string; verb: string; code: number; credentialId?: string; resource?: string }> = [];
    const listener = (r: { user: string; verb: string; responseStatus: { code: number }; credentialId?: string; objectRef?: { resource: string } }) =>
      seen.push({ user: r.user, verb: r.verb, code: r.responseStatus.code, credentialId: r.credentialId, resource: r.objectRef?.resource });
    sim.on("request", listener);
    await core.readNamespace({ name: "paging" });
    sim.off("request", listener);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ user: "kubernetes-admin", verb: "get", code: 200, resource: "namespaces" });
    expect(seen[0].credentialId).toMatch(/^X509SHA256=[0-9a-f]{64}$/);
  });
});

/** A raw HTTPS request with the admin's client certificate, for headers client-node does not send. */
async function adminRequest(method: string, path: string, headers: Record<string, string | string[]>, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const options: Parameters<typeof request>[1] = { method, headers: { "content-type": "application/json", ...headers } };
  await kc.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, sim.url), options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown> }));
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe("impersonation headers", () => {
  const whoami = { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" };

  // No grant here: every authenticated user may create a SelfSubjectReview through system:basic-user, as in Kubernetes 1.28+.
  it("impersonates a user with groups, uid and extras", async () => {
    const response = await adminRequest("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", {
      "Impersonate-User": "jane",
      "Impersonate-Group": ["devs", "ops"],
      "Impersonate-Uid": "1234",
      "Impersonate-Extra-Scopes": "read",
    }, whoami);
    expect(response.status).toBe(201);
    expect((response.body.status as { userInfo: unknown }).userInfo).toEqual({
      username: "jane",
      uid: "1234",
      groups: ["devs", "ops", "system:authenticated"],
      extra: { scopes: ["read"] },
    });
  });

  it("a ServiceAccount gets its groups; impersonating without the verb is forbidden", async () => {
    const asSa = await adminRequest("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", { "Impersonate-User": "system:serviceaccount:paging:sa-05" }, whoami);
    expect((asSa.body.status as { userInfo: { groups: string[] } }).userInfo.groups).toEqual([
      "system:serviceaccounts",
      "system:serviceaccounts:paging",
      "system:authenticated",
    ]);
    const asSaImpersonating = await adminRequest("GET", "/api/v1/namespaces/paging/serviceaccounts", {
      "Impersonate-User": "system:serviceaccount:paging:sa-05",
    });
    expect(asSaImpersonating.status).toBe(403);
    expect(asSaImpersonating.body.message).toBe(
      'serviceaccounts is forbidden: User "system:serviceaccount:paging:sa-05" cannot list resource "serviceaccounts" in API group "" in the namespace "paging"',
    );
  });
});

describe("fault injection", () => {
  it("answers 429 with Retry-After for the next N requests", async () => {
    sim.faults.set({ tooManyRequests: { count: 2, retryAfterSeconds: 7 } });
    const first = await apiError(core.readNamespace({ name: "paging" }));
    expect(first.code).toBe(429);
    expect(first.status.reason).toBe("TooManyRequests");
    expect(first.headers["retry-after"]).toBe("7");
    await apiError(core.readNamespace({ name: "paging" }));
    await expect(core.readNamespace({ name: "paging" })).resolves.toBeDefined();
  });

  it("answers 500 for the next N requests", async () => {
    sim.faults.set({ serverErrors: { count: 1 } });
    const failed = await apiError(core.readNamespace({ name: "paging" }));
    expect(failed.code).toBe(500);
    expect(failed.status.reason).toBe("InternalError");
    await expect(core.readNamespace({ name: "paging" })).resolves.toBeDefined();
  });

  it("drops connections mid-response", async () => {
    sim.faults.set({ dropConnections: { count: 1 } });
    await expect(core.readNamespace({ name: "paging" })).rejects.toThrow();
    await expect(core.readNamespace({ name: "paging" })).resolves.toBeDefined();
  });

  it("adds latency", async () => {
    sim.faults.set({ latencyMs: 300 });
    const started = Date.now();
    await core.readNamespace({ name: "paging" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    sim.faults.clear();
  });

  it("expires watches: open watches end and re-watching from their resourceVersion gets 410", async () => {
    const list = await core.listNamespacedServiceAccount({ namespace: "paging", limit: 1 });
    const rv = list.metadata!.resourceVersion!;
    const ended = collectWatch("/api/v1/namespaces/paging/serviceaccounts", { resourceVersion: rv }, () => false);
    await new Promise((r) => setTimeout(r, 200));
    sim.faults.expireWatches();
    await ended;
    const again = await collectWatch("/api/v1/namespaces/paging/serviceaccounts", { resourceVersion: rv }, (e) => e.length > 0);
    expect(again[0]).toMatchObject({ type: "ERROR", object: { code: 410 } });
  });
});
