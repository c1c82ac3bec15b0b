import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeConfig } from "@kubernetes/client-node";
import { parse, stringify } from "yaml";
import { startKubeSim, type KubeSim } from "@/lib/kube-sim";
import { setupTestDatabase } from "@/lib/testing/database";
import { createApiToken } from "@/lib/auth/api-tokens";
import { issueSyncToken } from "@/lib/demo/connect-cluster";
import { closeJobQueue, startJobWorkers } from "@/lib/jobs";
import * as clustersRoute from "@/app/api/v1/clusters/route";
import * as testRoute from "@/app/api/v1/clusters/[id]/test/route";
import * as syncRoute from "@/app/api/v1/clusters/[id]/sync/route";
import * as syncRunsRoute from "@/app/api/v1/clusters/[id]/sync-runs/route";

process.env.KEYWARD_SECRET_KEY = randomBytes(32).toString("base64");
const database = setupTestDatabase();
let sim: KubeSim;
let writeToken: string;

beforeAll(async () => {
  sim = await startKubeSim({ port: 0 });
  const admin = await database.prisma.user.create({ data: { email: "admin@example.test", name: "Admin", role: "admin" } });
  ({ token: writeToken } = await createApiToken(database.prisma, { name: "automation", scope: "write", expiresAt: new Date(Date.now() + 86400e3), createdById: admin.id }));
});
afterAll(async () => {
  await closeJobQueue();
  await sim?.stop();
});

async function post(handler: typeof testRoute.POST, path: string, id: string | undefined, body?: unknown) {
  const request = new Request(`http://keyward.test/api/v1${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${writeToken}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const response = await handler(request, { params: Promise.resolve(id ? { id } : {}) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The admin kubeconfig with a second user: Keyward's read-only sync identity from deploy/, as an operator would add it. */
async function kubeconfigWithSyncUser(): Promise<string> {
  const adminKubeconfig = sim.adminKubeconfig();
  const kc = new KubeConfig();
  kc.loadFromString(adminKubeconfig);
  const token = await issueSyncToken(kc, 3600);
  const document = parse(adminKubeconfig) as { users: object[]; contexts: { name: string; context: { cluster: string; user: string } }[] };
  document.users.push({ name: "keyward-sync", user: { token } });
  document.contexts.push({ name: "keyward", context: { cluster: document.contexts[0].context.cluster, user: "keyward-sync" } });
  return stringify(document);
}

describe("clusters over the API against the simulator", () => {
  it("registers from a kubeconfig, tests both credentials, syncs and shows the sync in the history", async () => {
    const kubeconfig = await kubeconfigWithSyncUser();
    const adminUser = (parse(kubeconfig) as { users: { name: string }[] }).users[0].name;
    const created = await post(clustersRoute.POST, "/clusters", undefined, {
      name: "sim",
      kubeconfig,
      user: "keyward-sync",
      remediationKubeconfig: kubeconfig,
      remediationUser: adminUser,
    });
    expect(created).toMatchObject({ status: 201, body: { name: "sim", apiServerUrl: sim.url } });
    const id = created.body.id as string;

    const tested = await post(testRoute.POST, `/clusters/${id}/test`, id);
    expect(tested.status).toBe(200);
    const credentials = tested.body.credentials as { purpose: string; writes: boolean; warnings: string[]; subject?: { username: string } }[];
    expect(credentials.find((c) => c.purpose === "sync")).toMatchObject({ writes: false, warnings: [], subject: { username: "system:serviceaccount:keyward-system:keyward-sync" } });
    expect(credentials.find((c) => c.purpose === "remediation")).toMatchObject({ writes: true });

    const queued = await post(syncRoute.POST, `/clusters/${id}/sync`, id);
    expect(queued).toMatchObject({ status: 202, body: { jobId: expect.any(String), status: "queued" } });
    // What `npm run worker` does, in this process: pick the job up and sync.
    const workers = await startJobWorkers({ watch: false, pollingIntervalSeconds: 0.5, log: () => undefined });
    try {
      await expect
        .poll(async () => (await database.prisma.syncRun.findFirst({ where: { clusterId: id, status: { not: "running" } } }))?.status, { timeout: 30_000, interval: 250 })
        .toBe("succeeded");
    } finally {
      await workers.stop();
    }

    const runs = await syncRunsRoute.GET(new Request(`http://keyward.test/api/v1/clusters/${id}/sync-runs`, { headers: { authorization: `Bearer ${writeToken}` } }), {
      params: Promise.resolve({ id }),
    });
    expect(await runs.json()).toMatchObject({ items: [{ status: "succeeded", trigger: "manual" }] });
    expect(await database.prisma.identity.count({ where: { clusterId: id, name: "keyward-sync" } })).toBe(1);
  });

  it("answers 404 for testing or syncing an unknown cluster", async () => {
    expect((await post(testRoute.POST, "/clusters/nope/test", "nope")).status).toBe(404);
    expect((await post(syncRoute.POST, "/clusters/nope/sync", "nope")).status).toBe(404);
  });
});
