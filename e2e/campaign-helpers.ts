// What the campaign browser tests need besides the browser: the simulated cluster read as its admin (kubectl with
// the kubeconfig `npm run demo` writes into its data directory), the JSON API with a browser session, and CSV.
import { execFile } from "node:child_process";
import path from "node:path";
import { expect, type Page } from "@playwright/test";
import { parseCsv as parseCsvRows } from "../lib/testing/csv";

// Written by `npm run demo --data-dir .keyward/e2e` (playwright.config.ts, lib/demo/start.ts).
export const demoKubeconfig = path.resolve(".keyward/e2e/demo-cluster.kubeconfig");

export interface KubectlResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** kubectl as the demo cluster's admin; a non-zero exit is returned, not thrown. */
export function kubectl(args: string[], input?: string): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = execFile("kubectl", ["--kubeconfig", demoKubeconfig, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      resolve({ stdout, stderr, code });
    });
    child.on("error", reject);
    child.stdin?.end(input ?? "");
  });
}

/**
 * Whether a service account may do something, from a SubjectAccessReview the admin creates. Not `kubectl auth can-i
 * --as`: an impersonated request is the service account's own use, from kubectl, which Keyward rightly reports as
 * a person using its token (and counts towards its usage).
 */
export async function canI(serviceAccount: string, verb: string, resource: string, namespace: string): Promise<"yes" | "no"> {
  const [ns, name] = serviceAccount.split("/");
  const [plural, subresource] = resource.split("/");
  const review = {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SubjectAccessReview",
    spec: {
      user: `system:serviceaccount:${ns}:${name}`,
      groups: ["system:serviceaccounts", `system:serviceaccounts:${ns}`, "system:authenticated"],
      resourceAttributes: { verb, group: "", resource: plural, ...(subresource ? { subresource } : {}), namespace },
    },
  };
  const result = await kubectl(["create", "--validate=false", "-f", "-", "-o", "json"], JSON.stringify(review));
  expect(result.code, `SubjectAccessReview ${verb} ${resource} for ${serviceAccount}: ${result.stderr}`).toBe(0);
  const { status } = JSON.parse(result.stdout) as { status?: { allowed?: boolean } };
  expect(status, result.stdout).toBeDefined();
  return status!.allowed ? "yes" : "no";
}

export interface KubeObject {
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  subjects?: { kind: string; name: string; namespace?: string }[];
  roleRef?: { kind: string; name: string };
  rules?: { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[] }[];
}

/** Every RBAC object of the cluster and every service account, by "Kind namespace/name". */
export async function clusterSnapshot(): Promise<Map<string, KubeObject>> {
  const result = await kubectl(["get", "roles,rolebindings,clusterroles,clusterrolebindings,serviceaccounts", "-A", "-o", "json"]);
  expect(result.code, result.stderr).toBe(0);
  const list = JSON.parse(result.stdout) as { items: KubeObject[] };
  expect(list.items.length).toBeGreaterThan(0);
  return new Map(list.items.map((object) => [objectKey(object), object]));
}

export const objectKey = (object: KubeObject) => `${object.kind} ${object.metadata.namespace ? `${object.metadata.namespace}/` : ""}${object.metadata.name}`;

/** What changed between two snapshots: objects added, removed, and changed (a new resourceVersion). */
export function snapshotDiff(before: Map<string, KubeObject>, after: Map<string, KubeObject>) {
  const added = [...after.keys()].filter((key) => !before.has(key)).sort();
  const removed = [...before.keys()].filter((key) => !after.has(key)).sort();
  const changed = [...after.keys()].filter((key) => before.has(key) && before.get(key)!.metadata.resourceVersion !== after.get(key)!.metadata.resourceVersion).sort();
  return { added, removed, changed };
}

export async function readObject(kind: string, namespace: string, name: string): Promise<KubeObject | null> {
  const result = await kubectl(["get", kind, name, "-n", namespace, "-o", "json"]);
  if (result.code !== 0 && /NotFound|not found/.test(result.stderr)) return null;
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as KubeObject;
}

/** CSV records keyed by the header row; every row must have as many cells as the header. */
export function parseCsv(text: string): Record<string, string>[] {
  const [header, ...records] = parseCsvRows(text);
  expect(header, "the CSV has a header row").toBeDefined();
  return records.map((record) => {
    expect(record).toHaveLength(header!.length);
    return Object.fromEntries(header!.map((name, index) => [name, record[index]!]));
  });
}

/** The demo cluster's id, as the JSON API lists it. */
export async function demoClusterId(page: Page): Promise<string> {
  const response = await page.request.get("/api/v1/clusters");
  expect(response.status()).toBe(200);
  const { items } = (await response.json()) as { items: { id: string; name: string }[] };
  const demo = items.find((cluster) => cluster.name === "demo");
  expect(demo, "the demo cluster is registered").toBeDefined();
  return demo!.id;
}

export interface ApiItem {
  id: string;
  status: string;
  version: number;
  recommendation: string;
  identity: { username: string; kind: string; namespace: string; name: string; ownerTeam: { name: string } | null };
  reviewerTeam?: { id: string; name: string } | null;
}

/** Creates and launches a campaign through the JSON API with the page's session (a security or admin user). */
export async function launchCampaignOverApi(page: Page, name: string, namespaces: string[]): Promise<{ id: string; items: ApiItem[] }> {
  const clusterId = await demoClusterId(page);
  const created = await page.request.post("/api/v1/campaigns", { data: { name, scope: { clusterIds: [clusterId], namespaces }, launch: true } });
  expect(created.status(), await created.text()).toBe(201);
  const { id } = (await created.json()) as { id: string };
  return { id, items: await campaignItemsOverApi(page, id) };
}

export async function campaignItemsOverApi(page: Page, campaignId: string): Promise<ApiItem[]> {
  const response = await page.request.get(`/api/v1/campaigns/${campaignId}/items`);
  expect(response.status(), await response.text()).toBe(200);
  return ((await response.json()) as { items: ApiItem[] }).items;
}
