import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { systemActor } from "@/lib/audit/log";
import { updateClusterSettings } from "@/lib/clusters/update-cluster-settings";
import type { PrismaClient } from "@/lib/db";
import type { KubeObject, KubeSim } from "@/lib/kube-sim";
import { RbacAuthorizer, userInfoForServiceAccount, type ClusterRole, type ClusterRoleBinding, type Role, type RoleBinding, type UserInfo } from "@/lib/rbac";
import { ingestAuditRecords } from "@/lib/usage/ingest-audit";
import { recordsFromJsonLines } from "@/lib/usage/read-records";
import type { IngestOutcome } from "@/lib/usage/types";
import { seededRandom } from "@/lib/kube-sim/generators/scale";
import { DEMO_REVIEW_STORY } from "./review-team";

/**
 * The demo cluster's past: 30 days of audit events for some of its service accounts, so usage charts, "last
 * used" and the unused-identity and unused-permission findings have something to show on first start. Each
 * account uses part of what RBAC grants it (mostly reads), some stopped weeks ago, some never appear, and one
 * token is used from a laptop with kubectl. Seeded, so every demo tells the same story.
 */

export const DEMO_HISTORY_FILE = "demo-history.jsonl";
export const DEMO_HISTORY_DAYS = 30;
const DAY_MS = 86_400_000;
const RBAC = "rbac.authorization.k8s.io";

/** Requests a workload plausibly makes, with the API version its path needs. */
const CATALOGUE: Array<{ group: string; version: string; resource: string; namespaced: boolean }> = [
  { group: "", version: "v1", resource: "pods", namespaced: true },
  { group: "", version: "v1", resource: "configmaps", namespaced: true },
  { group: "", version: "v1", resource: "secrets", namespaced: true },
  { group: "", version: "v1", resource: "services", namespaced: true },
  { group: "", version: "v1", resource: "endpoints", namespaced: true },
  { group: "", version: "v1", resource: "events", namespaced: true },
  { group: "", version: "v1", resource: "serviceaccounts", namespaced: true },
  { group: "", version: "v1", resource: "persistentvolumeclaims", namespaced: true },
  { group: "apps", version: "v1", resource: "deployments", namespaced: true },
  { group: "apps", version: "v1", resource: "statefulsets", namespaced: true },
  { group: "batch", version: "v1", resource: "jobs", namespaced: true },
  { group: "coordination.k8s.io", version: "v1", resource: "leases", namespaced: true },
  { group: "networking.k8s.io", version: "v1", resource: "ingresses", namespaced: true },
  { group: "", version: "v1", resource: "nodes", namespaced: false },
  { group: "", version: "v1", resource: "namespaces", namespaced: false },
];
const READS = ["get", "list", "watch"];
const WRITES = ["create", "update", "patch", "delete"];


function shuffled<T>(items: T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

export interface DemoRequest {
  verb: string;
  group: string;
  version: string;
  resource: string;
  namespace: string;
  /** For get/update/patch/delete. */
  name?: string;
}

export interface DemoWorkload {
  namespace: string;
  name: string;
  user: UserInfo;
  requests: DemoRequest[];
  /** Days ago of its last request (0 = still active). */
  quietForDays: number;
  perDay: number;
  userAgent: string;
  sourceIp: string;
}

function authorizerOf(sim: KubeSim): RbacAuthorizer {
  const list = <T>(kind: string) => sim.list(`${RBAC}/v1`, kind) as unknown as T[];
  return new RbacAuthorizer({
    roles: list<Role>("Role"),
    clusterRoles: list<ClusterRole>("ClusterRole"),
    roleBindings: list<RoleBinding>("RoleBinding"),
    clusterRoleBindings: list<ClusterRoleBinding>("ClusterRoleBinding"),
  });
}

/** Which accounts are active in the history and what each does: a subset of what RBAC lets it do. */
export function planDemoWorkloads(sim: KubeSim): DemoWorkload[] {
  const random = seededRandom(20261202);
  const authorizer = authorizerOf(sim);
  const names = new Map<string, string[]>();
  /** A name the request could really have asked for: an existing object, or what the app would call its own. */
  const objectName = (resource: string, namespace: string, account: string) => {
    if (resource === "namespaces") return namespace;
    const kind = ({ secrets: "Secret", pods: "Pod", serviceaccounts: "ServiceAccount" } as Record<string, string>)[resource];
    if (kind) {
      const key = `${resource}/${namespace}`;
      if (!names.has(key)) names.set(key, sim.list("v1", kind, namespace).map((o: KubeObject) => o.metadata.name));
      const existing = names.get(key)!;
      if (existing.length > 0) return existing[Math.floor(random() * existing.length)];
    }
    if (resource === "nodes") return `ip-10-0-${1 + Math.floor(random() * 3)}-${10 + Math.floor(random() * 40)}.ec2.internal`;
    return resource === "configmaps" ? `${account}-config` : account;
  };
  const accounts = sim
    .list("v1", "ServiceAccount")
    .filter((sa) => sa.metadata.name !== "default" && !["kube-system", "kube-public", "kube-node-lease", "keyward-system"].includes(sa.metadata.namespace ?? ""))
    .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));

  const workloads: DemoWorkload[] = [];
  for (const [index, sa] of accounts.entries()) {
    const namespace = sa.metadata.namespace!;
    const user = userInfoForServiceAccount(namespace, sa.metadata.name, sa.metadata.uid);
    const allowed = CATALOGUE.flatMap((type) =>
      [...READS, ...WRITES]
        .filter((verb) => type.namespaced || READS.includes(verb))
        .filter(
          (verb) =>
            authorizer.authorize({
              user,
              resourceAttributes: { verb, group: type.group, version: type.version, resource: type.resource, subresource: "", name: "", namespace: type.namespaced ? namespace : "" },
            }).allowed,
        )
        .map((verb) => ({ verb, group: type.group, version: type.version, resource: type.resource, namespace: type.namespaced ? namespace : "" })),
    );
    // A third of the accounts with access never show up: the unused identities.
    if (allowed.length === 0 || random() < 0.33) continue;
    // Workloads mostly read their own namespace; cluster-wide reads are the exception.
    const reads = allowed.filter((r) => READS.includes(r.verb) && (r.namespace !== "" || random() < 0.15));
    const writes = allowed.filter((r) => !READS.includes(r.verb));
    // Most of what is granted goes unused: a few reads and, for some, one write.
    const picked = [...shuffled(reads, random).slice(0, 2 + Math.floor(random() * 3)), ...shuffled(writes, random).slice(0, random() < 0.4 ? 1 : 0)];
    const requests = picked.map((r) =>
      ["get", "update", "patch", "delete"].includes(r.verb) ? { ...r, name: objectName(r.resource, namespace, sa.metadata.name) } : r,
    );
    if (requests.length === 0) continue;
    const quiet = random();
    workloads.push({
      namespace,
      name: sa.metadata.name,
      user,
      requests,
      quietForDays: quiet < 0.7 ? 0 : quiet < 0.85 ? 3 + Math.floor(random() * 5) : 15 + Math.floor(random() * 12),
      perDay: 10 + Math.floor(random() * 40),
      userAgent: `${sa.metadata.name}/v${1 + (index % 4)}.${index % 10}.0 (linux/amd64) kubernetes/client-go`,
      sourceIp: `10.244.${1 + (index % 12)}.${10 + ((index * 7) % 200)}`,
    });
  }
  // The owner's team tells its review story (after the draws, so every other account's stays the same).
  return workloads.flatMap((w) => {
    const story = DEMO_REVIEW_STORY.get(`${w.namespace}/${w.name}`);
    if (story === undefined) return [w];
    return story ? [{ ...w, requests: story, quietForDays: 0 }] : [];
  });
}

export function requestUri(r: DemoRequest): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const scope = r.namespace ? `/namespaces/${r.namespace}` : "";
  return `${base}${scope}/${r.resource}${r.name ? `/${r.name}` : ""}${r.verb === "watch" ? "?watch=true" : ""}`;
}

function microTime(at: number): string {
  return new Date(at).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

function auditEvent(w: DemoWorkload, r: DemoRequest, at: number, options: { credentialId: string; userAgent?: string; sourceIp?: string; code?: number }) {
  const code = options.code ?? (r.verb === "create" ? 201 : 200);
  return {
    kind: "Event",
    apiVersion: "audit.k8s.io/v1",
    level: "Metadata",
    auditID: randomUUID(),
    stage: "ResponseComplete",
    requestURI: requestUri(r),
    verb: r.verb,
    user: { ...w.user, extra: { "authentication.kubernetes.io/credential-id": [options.credentialId] } },
    sourceIPs: [options.sourceIp ?? w.sourceIp],
    userAgent: options.userAgent ?? w.userAgent,
    objectRef: { resource: r.resource, ...(r.namespace ? { namespace: r.namespace } : {}), ...(r.name ? { name: r.name } : {}), apiGroup: r.group, apiVersion: r.version },
    responseStatus: { metadata: {}, code },
    requestReceivedTimestamp: microTime(at),
    stageTimestamp: microTime(at + 3 + Math.floor(Math.random() * 40)),
    annotations: { "authorization.k8s.io/decision": code === 403 ? "forbid" : "allow", "authorization.k8s.io/reason": "" },
  };
}

/** The history as JSON lines, oldest first: what `kubectl` users would upload from the API server's log. */
export function* demoHistoryLines(workloads: DemoWorkload[], options: { days?: number; now?: number } = {}): Generator<string> {
  const days = options.days ?? DEMO_HISTORY_DAYS;
  const now = options.now ?? Date.now();
  const random = seededRandom(7);
  for (let day = days; day >= 1; day--) {
    const dayStart = now - day * DAY_MS;
    const weekend = [0, 6].includes(new Date(dayStart).getUTCDay());
    for (const [index, w] of workloads.entries()) {
      if (day < w.quietForDays) continue;
      // Bound tokens are rotated: a new JTI every day.
      const credentialId = `JTI=${randomUUID()}`;
      const count = Math.round(w.perDay * (weekend ? 0.4 : 1) * (0.7 + random() * 0.6));
      for (let i = 0; i < count; i++) {
        const r = w.requests[Math.floor(random() * w.requests.length)];
        yield JSON.stringify(auditEvent(w, r, dayStart + Math.floor(random() * DAY_MS), { credentialId }));
      }
      // The first account's token also leaked to a laptop: kubectl from outside the cluster, twice a week.
      if (index === 0 && day % 3 === 0) {
        const r = w.requests[0];
        yield JSON.stringify(
          auditEvent(w, r, dayStart + 15 * 3600_000, { credentialId, userAgent: "kubectl/v1.32.0 (darwin/arm64) kubernetes/70d3cc9", sourceIp: "198.51.100.23" }),
        );
      }
      // Now and then an account tries something it may not do (denied: use of the identity, not of a permission).
      if (index % 5 === 1 && day % 7 === 0) {
        yield JSON.stringify(
          auditEvent(w, { verb: "list", group: "", version: "v1", resource: "secrets", namespace: "" }, dayStart + 9 * 3600_000, { credentialId, code: 403 }),
        );
      }
    }
  }
}

/**
 * The usage window as long as the history (the default, 90 days, is longer): only then does the analysis take an
 * identity absent from it as unused, and a review recommend revoking it.
 */
export async function setDemoUsageWindow(db: PrismaClient, clusterId: string): Promise<void> {
  await updateClusterSettings(db, systemActor("demo"), clusterId, { usageWindowDays: DEMO_HISTORY_DAYS });
}

/**
 * Feeds the history through the upload path once per cluster (a later demo start finds it and skips), without
 * queuing an analysis: the caller analyses the cluster itself.
 */
export async function backfillDemoUsage(db: PrismaClient, clusterId: string, workloads: DemoWorkload[]): Promise<IngestOutcome | null> {
  const done = await db.auditIngestBatch.findFirst({ where: { clusterId, fileName: DEMO_HISTORY_FILE, status: "completed" }, select: { id: true } });
  if (done) return null;
  const lines = Readable.from((function* () {
    for (const line of demoHistoryLines(workloads)) yield `${line}\n`;
  })());
  return ingestAuditRecords(db, { clusterId, source: "upload", fileName: DEMO_HISTORY_FILE, actorLabel: "demo" }, recordsFromJsonLines(lines), { analyze: false });
}
