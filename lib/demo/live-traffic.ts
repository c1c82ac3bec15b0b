import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { request } from "node:https";
import type { KubeSim } from "@/lib/kube-sim";
import { requestUri, type DemoWorkload } from "./usage-history";

/**
 * A few demo workloads keep working while the demo runs: every ~30 s each makes its usual reads against the
 * simulator with its own bound token, so the audit webhook delivers fresh events and "last used" moves.
 */

// What the simulator serves (the history also names kinds it does not, which live requests cannot reach).
const SERVED = new Set(["pods", "secrets", "serviceaccounts", "namespaces"]);
const MAX_WORKLOADS = 3;
const TOKEN_SECONDS = 24 * 3600;
// Renewed well before expiry, as the kubelet does at 80% of a projected token's life.
const RENEW_AFTER_MS = TOKEN_SECONDS * 1000 * 0.8;

function get(sim: KubeSim, token: string, path: string, userAgent: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${sim.url}${path}`, { ca: sim.caPem, headers: { authorization: `Bearer ${token}`, "user-agent": userAgent, accept: "application/json" } }, (res) => {
      res.resume().on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject).end();
  });
}

export function startDemoTraffic(sim: KubeSim, workloads: DemoWorkload[], options: { intervalMs?: number; log?: (message: string) => void } = {}): { stop(): void } {
  const active = workloads
    .filter((w) => w.quietForDays === 0)
    .map((w) => ({ workload: w, paths: w.requests.filter((r) => SERVED.has(r.resource) && (r.verb === "get" || r.verb === "list")).map(requestUri) }))
    .filter((w) => w.paths.length > 0)
    .slice(0, MAX_WORKLOADS);
  const admin = new KubeConfig();
  admin.loadFromString(sim.adminKubeconfig());
  const core = admin.makeApiClient(CoreV1Api);
  const tokens = new Map<string, { token: Promise<string>; issuedAt: number }>();
  const tokenOf = (w: DemoWorkload) => {
    const key = `${w.namespace}/${w.name}`;
    const held = tokens.get(key);
    if (held && Date.now() - held.issuedAt < RENEW_AFTER_MS) return held.token;
    // What the kubelet mounts: a bound, expiring TokenRequest token (its JTI shows up as the credential).
    const token = core
      .createNamespacedServiceAccountToken({ name: w.name, namespace: w.namespace, body: { spec: { audiences: [], expirationSeconds: TOKEN_SECONDS } } })
      .then((r) => r.status!.token!);
    token.catch(() => tokens.delete(key));
    tokens.set(key, { token, issuedAt: Date.now() });
    return token;
  };
  const tick = async () => {
    for (const { workload, paths } of active) {
      try {
        const token = await tokenOf(workload);
        for (const path of paths) await get(sim, token, path, workload.userAgent);
      } catch (error) {
        options.log?.(`demo traffic of ${workload.namespace}/${workload.name} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };
  const timer = setInterval(() => void tick(), options.intervalMs ?? 30_000);
  timer.unref();
  void tick();
  options.log?.(`live traffic every ${Math.round((options.intervalMs ?? 30_000) / 1000)} s from ${active.map((a) => `${a.workload.namespace}/${a.workload.name}`).join(", ")}`);
  return { stop: () => clearInterval(timer) };
}
