// `npm run bench:sync`: Keyward's full sync against kubectl's floor on a scale cluster, and the inventory
// query over 100k identities. Not a test: it prints figures (recorded in the README).
//
// The simulator runs in this process; kubectl and the sync each run in their own process against it, so
// both pay the same serving cost and the sync's peak RSS is its own, not the simulator's.
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import type { PrismaClient } from "@/lib/db";

const SCALE = Number(process.env.BENCH_SCALE ?? 10_000);
const INVENTORY_IDENTITIES = 100_000;
const root = path.resolve(import.meta.dirname, "../..");
const run = promisify(execFile);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Child mode: one syncCluster call, reported as JSON on stdout. */
async function syncChild(clusterId: string): Promise<void> {
  const { syncCluster } = await import("@/lib/sync/sync-cluster");
  const { getPrisma } = await import("@/lib/db");
  const started = performance.now();
  const outcome = await syncCluster(clusterId, "manual");
  const wallMs = performance.now() - started;
  const run = await getPrisma().syncRun.findUniqueOrThrow({ where: { id: outcome.syncRunId } });
  await getPrisma().$disconnect();
  process.stdout.write(
    `${JSON.stringify({ outcome, wallMs, snapshotMs: run.durationMs, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
  );
}

interface ChildResult {
  outcome: { ok: boolean; counts?: Record<string, number>; error?: string };
  wallMs: number;
  snapshotMs: number;
  maxRssMb: number;
}

function runSyncChild(clusterId: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--conditions=react-server", "--import", "tsx", path.join(root, "lib/bench/sync-bench.ts"), "--sync-child", clusterId],
      {
        cwd: root,
        env: process.env,
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("exit", (code) => {
      const line = output.trim().split("\n").at(-1) ?? "";
      if (code === 0 && line.startsWith("{")) resolve(JSON.parse(line) as ChildResult);
      else reject(new Error(`sync child exited with ${code}: ${output}`));
    });
  });
}

/** kubectl get of each kind the sync lists, one after the other (each with kubectl's default 500-object chunks). */
const KUBECTL_GETS: string[][] = [
  ["namespaces"],
  ["serviceaccounts", "-A"],
  ["secrets", "-A", "--field-selector", "type=kubernetes.io/service-account-token"],
  ["pods", "-A"],
  ["roles", "-A"],
  ["clusterroles"],
  ["rolebindings", "-A"],
  ["clusterrolebindings"],
  ["certificatesigningrequests"],
];

async function kubectlFloor(kubeconfig: string): Promise<{ totalMs: number; perKind: string[] }> {
  const kubectl = (args: string[]) =>
    run("kubectl", ["--kubeconfig", kubeconfig, "get", ...args, "-o", "json"], { maxBuffer: 2 ** 31 - 1 });
  await kubectl(["namespaces"]); // warm kubectl's discovery cache, as a real user's would be
  const perKind: string[] = [];
  let totalMs = 0;
  for (const args of KUBECTL_GETS) {
    const started = performance.now();
    const { stdout } = await kubectl(args);
    const ms = performance.now() - started;
    totalMs += ms;
    perKind.push(`${args[0]}=${(JSON.parse(stdout) as { items: unknown[] }).items.length} in ${seconds(ms)}`);
  }
  return { totalMs, perKind };
}

/** A second, synthetic cluster with 100k identities (bulk SQL), so the inventory query runs at that size. */
async function seedInventory(db: PrismaClient): Promise<string> {
  const cluster = await db.cluster.create({
    data: { name: "bench-inventory", apiServerUrl: "https://bench.invalid" },
  });
  await db.$executeRawUnsafe(
    `INSERT INTO "Identity" ("id", "clusterId", "kind", "namespace", "name", "username", "maxSeverity", "openFindingCount", "hasLegacyToken", "oldestCredentialAt", "firstSeenAt", "lastSeenAt")
SELECT 'bench-' || n, $1, (ARRAY['ServiceAccount','ServiceAccount','ServiceAccount','CertificateUser','User','Group'])[1 + n % 6]::"IdentityKind",
  'ns-' || (n % 500), 'identity-' || n, 'system:serviceaccount:ns-' || (n % 500) || ':identity-' || n,
  (ARRAY[NULL,'info','low','medium','high','critical'])[1 + n % 6]::"Severity", n % 7, n % 5 = 0,
  now() - ((n % 900) || ' days')::interval, now(), now()
FROM generate_series(1, $2::int) AS n`,
    cluster.id,
    INVENTORY_IDENTITIES,
  );
  await db.$executeRawUnsafe(`ANALYZE "Identity"`);
  return cluster.id;
}

async function timeInventoryQuery(
  clusterId: string,
): Promise<{ medianMs: number; rows: number; total: number; filter: string }> {
  const { listIdentities, identityFilterSchema } = await import("@/lib/inventory/list-identities");
  const filter = identityFilterSchema.parse({
    cluster: clusterId,
    severity: "high",
    hasLegacyToken: "true",
    q: "identity-1",
    sort: "credentialAge",
    dir: "desc",
  });
  const viewer = { id: "bench", role: "security" as const };
  const times: number[] = [];
  let result: Awaited<ReturnType<typeof listIdentities>> | undefined;
  for (let i = 0; i < 6; i++) {
    const started = performance.now();
    result = await listIdentities(viewer, filter, { page: 1, pageSize: 50 });
    if (i > 0) times.push(performance.now() - started); // the first run warms caches and the query plan
  }
  times.sort((a, b) => a - b);
  return {
    medianMs: times[Math.floor(times.length / 2)],
    rows: result?.items.length ?? 0,
    total: result?.total ?? 0,
    filter: JSON.stringify(filter),
  };
}

async function main(): Promise<void> {
  process.env.KEYWARD_SECRET_KEY ??= randomBytes(32).toString("base64");
  const { createTestDatabase } = await import("@/lib/db/testing");
  const { startKubeSim } = await import("@/lib/kube-sim");
  const { registerCluster } = await import("@/lib/clusters/register-cluster");
  const { issueSyncToken } = await import("@/lib/demo/connect-cluster");

  console.log(
    `database: ${process.env.DATABASE_URL ? "PostgreSQL (a fresh database on DATABASE_URL's server)" : "embedded PGlite"}`,
  );
  const database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  let seeding = performance.now();
  const sim = await startKubeSim({ port: 0, scale: SCALE });
  console.log(
    `simulator: --scale ${SCALE}, ${sim.seedReport.loaded} objects loaded in ${seconds(performance.now() - seeding)}`,
  );
  const dir = await mkdtemp(path.join(os.tmpdir(), "keyward-bench-"));
  try {
    const admin = new KubeConfig();
    admin.loadFromString(sim.adminKubeconfig());
    const token = await issueSyncToken(admin, 3600);
    const { id: clusterId } = await registerCluster({
      name: "bench",
      apiServerUrl: sim.url,
      caCertPem: sim.caPem,
      sync: { type: "token", token },
    });

    // kubectl with the same read-only identity as the sync.
    const kubeconfig = path.join(dir, "sync.kubeconfig");
    await writeFile(
      kubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
          {
            name: "sim",
            cluster: {
              server: sim.url,
              "certificate-authority-data": Buffer.from(sim.caPem).toString("base64"),
            },
          },
        ],
        users: [{ name: "keyward-sync", user: { token } }],
        contexts: [{ name: "sim", context: { cluster: "sim", user: "keyward-sync" } }],
        "current-context": "sim",
      }),
    );
    const floor = await kubectlFloor(kubeconfig);
    console.log(
      `kubectl get -o json, each kind in turn (floor): ${seconds(floor.totalMs)}  [${floor.perKind.join(", ")}]`,
    );

    const sync = await runSyncChild(clusterId);
    if (!sync.outcome.ok) throw new Error(`the sync failed: ${sync.outcome.error}`);
    console.log(
      `keyward full sync (syncCluster, first sync into an empty database): ${seconds(sync.wallMs)} (lists + snapshot write ${seconds(sync.snapshotMs)}, analysis the rest), peak RSS ${sync.maxRssMb.toFixed(0)} MB`,
    );
    console.log(`  counts: ${JSON.stringify(sync.outcome.counts)}`);
    const resync = await runSyncChild(clusterId);
    console.log(
      `keyward re-sync (every row already stored): ${seconds(resync.wallMs)} (snapshot ${seconds(resync.snapshotMs)}), peak RSS ${resync.maxRssMb.toFixed(0)} MB`,
    );

    seeding = performance.now();
    const inventoryCluster = await seedInventory(database.prisma);
    console.log(
      `inventory: ${INVENTORY_IDENTITIES} synthetic identities inserted in ${seconds(performance.now() - seeding)}`,
    );
    const inventory = await timeInventoryQuery(inventoryCluster);
    console.log(
      `inventory query, filtered page of 50 over ${INVENTORY_IDENTITIES} identities (with total count): ${inventory.medianMs.toFixed(1)} ms median of 5 (${inventory.rows} rows of ${inventory.total}; filter ${inventory.filter})`,
    );
    console.log(`ratio ${(sync.wallMs / floor.totalMs).toFixed(2)}`);
  } finally {
    await sim.stop();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

const childIndex = process.argv.indexOf("--sync-child");
if (childIndex >= 0) await syncChild(process.argv[childIndex + 1]);
else await main();
