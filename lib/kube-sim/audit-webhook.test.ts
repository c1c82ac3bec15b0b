import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, request } from "node:https";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { kubeConfigFor } from "@/lib/k8s/client";
import { eventually } from "@/lib/testing/eventually";
import type { AuditEvent } from "./audit-webhook";
import { startKubeSim, type KubeSim } from "./index";
import { CertificateAuthority } from "./pki";

interface Delivery {
  headers: IncomingMessage["headers"];
  body: { kind: string; apiVersion: string; items: AuditEvent[] };
}

/** A webhook receiver that records each POST and answers with `answer()` (200 by default). */
async function receiver(options: { answer?: () => number; tls?: { keyPem: string; certPem: string } } = {}) {
  const deliveries: Delivery[] = [];
  let attempts = 0;
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      attempts++;
      const status = options.answer?.() ?? 200;
      if (status === 200) deliveries.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) as Delivery["body"] });
      res.writeHead(status, { "content-type": "application/json" }).end("{}");
    });
  };
  const server: Server = options.tls ? createHttpsServer({ key: options.tls.keyPem, cert: options.tls.certPem }, handle) : createHttpServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}/audit`,
    deliveries,
    get attempts() {
      return attempts;
    },
    events: () => deliveries.flatMap((d) => d.body.items),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function sim(options: Parameters<typeof startKubeSim>[0] = {}): Promise<KubeSim> {
  const started = await startKubeSim(options);
  cleanups.push(() => started.stop());
  return started;
}

function adminCore(s: KubeSim): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromString(s.adminKubeconfig());
  return kc.makeApiClient(CoreV1Api);
}

describe("kube-sim audit webhook", () => {
  it("sends each served request as audit.k8s.io/v1 Events with user, credential, objectRef, impersonation and decision", async () => {
    const hook = await receiver();
    cleanups.push(hook.close);
    const s = await sim({ auditWebhook: { url: hook.url, token: "kwa_secret", batchMaxWaitMs: 60_000, responseStartedRatio: 0 } });
    s.apply({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "worker", namespace: "apps" } });
    s.apply({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "pods", namespace: "apps" }, rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["list"] }] });
    s.apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "worker-pods", namespace: "apps" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "pods" },
      subjects: [{ kind: "ServiceAccount", name: "worker", namespace: "apps" }],
    });
    const admin = adminCore(s);
    const issued = await admin.createNamespacedServiceAccountToken({ name: "worker", namespace: "apps", body: { spec: { audiences: [] } } });
    const worker = kubeConfigFor({ apiServerUrl: s.url, caCertPem: s.caPem }, { type: "token", token: issued.status!.token! }, "worker").makeApiClient(CoreV1Api);
    await worker.listNamespacedPod({ namespace: "apps" });
    await expect(worker.readNamespacedSecret({ name: "nope", namespace: "apps" })).rejects.toMatchObject({ code: 403 });

    // kubectl --as: the admin's client certificate plus an Impersonate-User header.
    const adminKc = new KubeConfig();
    adminKc.loadFromString(s.adminKubeconfig());
    await s.flushAudit();
    const before = hook.events().length;
    await new Promise<void>((resolve, reject) => {
      const user = adminKc.getCurrentUser()!;
      const req = request(
        `${s.url}/api/v1/namespaces/apps/pods`,
        {
          ca: s.caPem,
          cert: Buffer.from(user.certData!, "base64").toString(),
          key: Buffer.from(user.keyData!, "base64").toString(),
          headers: { "impersonate-user": "system:serviceaccount:apps:worker", "user-agent": "kubectl/v1.32.0 (linux/amd64) kubernetes/abc" },
        },
        (res) => res.resume().on("end", resolve),
      );
      req.on("error", reject).end();
    });
    await s.flushAudit();

    expect(hook.deliveries.length).toBeGreaterThan(0);
    for (const d of hook.deliveries) {
      expect(d.headers.authorization).toBe("Bearer kwa_secret");
      expect(d.headers["content-type"]).toBe("application/json");
      expect(d.body).toMatchObject({ kind: "EventList", apiVersion: "audit.k8s.io/v1" });
    }
    const events = hook.events();
    const microTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
    const byWorker = events.filter((e) => e.user.username === "system:serviceaccount:apps:worker");
    const list = byWorker.find((e) => e.verb === "list")!;
    expect(list).toMatchObject({
      kind: "Event",
      apiVersion: "audit.k8s.io/v1",
      level: "Metadata",
      stage: "ResponseComplete",
      requestURI: "/api/v1/namespaces/apps/pods",
      objectRef: { resource: "pods", namespace: "apps", apiGroup: "", apiVersion: "v1" },
      responseStatus: { code: 200 },
      sourceIPs: ["127.0.0.1"],
      annotations: { "authorization.k8s.io/decision": "allow" },
    });
    expect(list.user.groups).toEqual(expect.arrayContaining(["system:serviceaccounts", "system:serviceaccounts:apps", "system:authenticated"]));
    expect(list.user.extra?.["authentication.kubernetes.io/credential-id"]?.[0]).toMatch(/^JTI=/);
    expect(list.auditID).toMatch(/^[0-9a-f-]{36}$/);
    expect(list.requestReceivedTimestamp).toMatch(microTime);
    expect(list.stageTimestamp).toMatch(microTime);
    expect(Date.parse(list.stageTimestamp)).toBeGreaterThanOrEqual(Date.parse(list.requestReceivedTimestamp));

    const denied = byWorker.find((e) => e.verb === "get")!;
    expect(denied).toMatchObject({
      objectRef: { resource: "secrets", namespace: "apps", name: "nope" },
      responseStatus: { code: 403, status: "Failure", reason: "Forbidden" },
      annotations: { "authorization.k8s.io/decision": "forbid" },
    });

    const impersonated = events.slice(before).find((e) => e.impersonatedUser)!;
    expect(impersonated.user.username).toBe("kubernetes-admin");
    expect(impersonated.user.groups).toContain("system:masters");
    expect(impersonated.user.extra?.["authentication.kubernetes.io/credential-id"]?.[0]).toMatch(/^X509SHA256=[0-9a-f]{64}$/);
    expect(impersonated.impersonatedUser).toMatchObject({ username: "system:serviceaccount:apps:worker", groups: expect.arrayContaining(["system:serviceaccounts:apps"]) });
    expect(impersonated.userAgent).toMatch(/^kubectl\//);
    expect(new Set(events.map((e) => e.auditID)).size).toBe(events.length);
  });

  it("batches by size and by wait, and a watch also reports ResponseStarted under the same auditID", async () => {
    const hook = await receiver();
    cleanups.push(hook.close);
    const s = await sim({ auditWebhook: { url: hook.url, token: "t", batchMaxSize: 5, batchMaxWaitMs: 60_000, responseStartedRatio: 0 } });
    const admin = adminCore(s);
    for (let i = 0; i < 12; i++) await admin.listNamespace();
    // Two full batches leave without waiting for the 60 s window; the rest waits for it (or a flush).
    const full = await eventually(async () => hook.deliveries.length, (n) => n >= 2);
    expect(full).toBe(2);
    expect(hook.deliveries.map((d) => d.body.items.length)).toEqual([5, 5]);
    await s.flushAudit();
    expect(hook.events().filter((e) => e.objectRef?.resource === "namespaces")).toHaveLength(12);

    s.setAuditWebhook({ url: hook.url, token: "t", batchMaxWaitMs: 100, responseStartedRatio: 0 });
    const delivered = hook.deliveries.length;
    const controller = new AbortController();
    await new Promise<void>((resolve, reject) => {
      const kc = new KubeConfig();
      kc.loadFromString(s.adminKubeconfig());
      const user = kc.getCurrentUser()!;
      const req = request(`${s.url}/api/v1/namespaces?watch=true`, {
        ca: s.caPem,
        cert: Buffer.from(user.certData!, "base64").toString(),
        key: Buffer.from(user.keyData!, "base64").toString(),
        signal: controller.signal,
      });
      req.on("response", () => resolve()).on("error", (e) => (controller.signal.aborted ? undefined : reject(e))).end();
    });
    controller.abort();
    // No flush: the 100 ms window sends it.
    await eventually(async () => hook.deliveries.length, (n) => n > delivered);
    const watch = hook.deliveries.slice(delivered).flatMap((d) => d.body.items).filter((e) => e.verb === "watch");
    expect(watch.map((e) => e.stage)).toEqual(["ResponseStarted", "ResponseComplete"]);
    expect(watch[0].auditID).toBe(watch[1].auditID);
  });

  it("retries a failing receiver with backoff, drops a batch the receiver refuses, and never slows the API", async () => {
    const answers = [503, 503, 200];
    const flaky = await receiver({ answer: () => answers.shift() ?? 200 });
    cleanups.push(flaky.close);
    const logged: string[] = [];
    const s = await sim({ auditWebhook: { url: flaky.url, token: "t", batchMaxWaitMs: 10, initialBackoffMs: 20, responseStartedRatio: 0, log: (m) => logged.push(m) } });
    await adminCore(s).listNamespace();
    await s.flushAudit();
    expect(flaky.attempts).toBe(3);
    expect(flaky.events().map((e) => e.verb)).toEqual(["list"]);
    expect(logged).toEqual([]);

    const refusing = await receiver({ answer: () => 401 });
    cleanups.push(refusing.close);
    s.setAuditWebhook({ url: refusing.url, token: "wrong", batchMaxWaitMs: 10, initialBackoffMs: 20, responseStartedRatio: 0, log: (m) => logged.push(m) });
    await adminCore(s).listNamespace();
    await s.flushAudit();
    expect(refusing.attempts).toBe(1);
    expect(logged).toEqual([expect.stringMatching(/dropped a batch of 1 events after 1 attempt\(s\): HTTP 401/)]);

    // Nothing listens here: delivery keeps failing in the background while requests are served at full speed.
    s.setAuditWebhook({ url: "http://127.0.0.1:9/audit", token: "t", batchMaxWaitMs: 1, initialBackoffMs: 50, maxAttempts: 3, responseStartedRatio: 0, log: (m) => logged.push(m) });
    const started = Date.now();
    for (let i = 0; i < 20; i++) await adminCore(s).listNamespace();
    expect(Date.now() - started).toBeLessThan(3_000);
    await s.flushAudit();
    expect(logged.slice(1).join("\n")).toMatch(/dropped a batch of \d+ events after 3 attempt\(s\)/);
  });

  it("delivers over https to a receiver whose certificate a custom CA signed", async () => {
    const ca = await CertificateAuthority.create();
    const hook = await receiver({ tls: await ca.servingCertificate() });
    cleanups.push(hook.close);
    const logged: string[] = [];
    const s = await sim({ auditWebhook: { url: hook.url, token: "t", caPem: ca.caPem, batchMaxWaitMs: 10, responseStartedRatio: 0, log: (m) => logged.push(m) } });
    await adminCore(s).listNamespace();
    await s.flushAudit();
    expect(hook.events().map((e) => e.objectRef?.resource)).toContain("namespaces");

    // Without the CA the receiver's certificate is not trusted: nothing arrives.
    const delivered = hook.deliveries.length;
    s.setAuditWebhook({ url: hook.url, token: "t", batchMaxWaitMs: 10, maxAttempts: 1, responseStartedRatio: 0, log: (m) => logged.push(m) });
    await adminCore(s).listNamespace();
    await s.flushAudit();
    expect(hook.deliveries.length).toBe(delivered);
    expect(logged.join("\n")).toMatch(/certificate/);
  });
});
