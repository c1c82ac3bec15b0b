/**
 * `npm run demo`: Keyward on its embedded default, end to end and real. Starts the embedded Postgres (or uses
 * DATABASE_URL), migrates it, starts the Kubernetes API simulator with a demo cluster, connects Keyward to it
 * with the read-only identity from deploy/, syncs it, backfills 30 days of its usage, points the simulator's audit
 * webhook at Keyward, seeds one user per role, runs the job worker (scheduled syncs and watches), keeps a few
 * workloads making requests, and serves the dashboard.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { z } from "zod";

const repoRoot = path.resolve(import.meta.dirname, "../..");

const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: process.env.PORT ?? "3000" },
    "sim-port": { type: "string", default: "6443" },
    "data-dir": { type: "string", default: process.env.KEYWARD_DATA_DIR ?? path.join(repoRoot, ".keyward") },
    mode: { type: "string", default: "dev" },
  },
});

const localSecretsSchema = z.object({
  authSecret: z.string().min(32),
  secretKey: z.string().min(32),
  passwords: z.record(z.string(), z.string()),
});

export const demoUsers = [
  { email: "admin@keyward.local", name: "Ada Admin", role: "admin" },
  { email: "security@keyward.local", name: "Sam Security", role: "security" },
  { email: "owner@keyward.local", name: "Olu Owner", role: "owner" },
  { email: "auditor@keyward.local", name: "Aud Itor", role: "auditor" },
] as const;

/** Secrets the demo generates once and keeps in the git-ignored data directory (mode 0600). */
async function loadLocalSecrets(dataDir: string): Promise<z.infer<typeof localSecretsSchema>> {
  const file = path.join(dataDir, "secrets.json");
  if (existsSync(file)) return localSecretsSchema.parse(JSON.parse(await readFile(file, "utf8")));
  const secrets = {
    authSecret: randomBytes(32).toString("base64"),
    secretKey: randomBytes(32).toString("base64"),
    passwords: Object.fromEntries(demoUsers.map((u) => [u.email, randomBytes(12).toString("base64url")])),
  };
  await writeFile(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

async function main() {
  const dataDir = path.resolve(args["data-dir"]);
  await mkdir(dataDir, { recursive: true });
  const secrets = await loadLocalSecrets(dataDir);
  process.env.AUTH_SECRET ??= secrets.authSecret;
  process.env.KEYWARD_SECRET_KEY ??= secrets.secretKey;
  const demoPassword = process.env.KEYWARD_DEMO_PASSWORD;

  // Imported after the environment is set: these modules read it.
  const { resolveDatabase, startEmbeddedPostgres } = await import("@/lib/db/embedded");
  const { migrate } = await import("@/lib/db/migrate");
  const { startKubeSim } = await import("@/lib/kube-sim");
  const { registerCluster } = await import("@/lib/clusters/register-cluster");
  const { syncCluster } = await import("@/lib/sync/sync-cluster");
  const { upsertUser } = await import("@/lib/auth/users");
  const { issueRemediationToken, issueSyncToken } = await import("./connect-cluster");
  const { startJobWorkers } = await import("@/lib/jobs");
  const { getPrisma } = await import("@/lib/db");
  const { systemActor } = await import("@/lib/audit/log");
  const { analyzeCluster } = await import("@/lib/findings/analyze-cluster");
  const { issueIngestToken } = await import("@/lib/usage/ingest-tokens");
  const { auditWebhookUrl } = await import("@/lib/usage/webhook-setup");
  const { backfillDemoUsage, planDemoWorkloads, setDemoUsageWindow } = await import("./usage-history");
  const { DEMO_OWNER_TEAM, joinDemoOwnerTeam } = await import("./review-team");
  const { startDemoTraffic } = await import("./live-traffic");

  const database = process.env.DATABASE_URL
    ? await resolveDatabase()
    : { ...(await startEmbeddedPostgres({ dataDir: path.join(dataDir, "pgdata") })), embedded: true };
  process.env.DATABASE_URL = database.url;
  const migrated = await migrate(database.url);
  log(`database: ${database.embedded ? "embedded PGlite in " + path.join(dataDir, "pgdata") : "DATABASE_URL"} (${migrated.applied.length} migrations applied)`);

  const sim = await startKubeSim({ port: Number(args["sim-port"]), demo: true });
  const kubeconfigFile = path.join(dataDir, "demo-cluster.kubeconfig");
  await writeFile(kubeconfigFile, sim.adminKubeconfig(), { mode: 0o600 });
  log(`simulated cluster: ${sim.url} (admin kubeconfig: ${path.relative(process.cwd(), kubeconfigFile)})`);

  const adminKc = new KubeConfig();
  adminKc.loadFromString(sim.adminKubeconfig());
  // Two identities, as on a real cluster: read-only for sync, and a separate one for carrying out reviews.
  const cluster = await registerCluster({
    name: "demo",
    apiServerUrl: sim.url,
    caCertPem: sim.caPem,
    sync: { type: "token", token: await issueSyncToken(adminKc) },
    remediation: { type: "token", token: await issueRemediationToken(adminKc, 24 * 3600) },
  });
  const outcome = await syncCluster(cluster.id, "registration");
  if (!outcome.ok) throw new Error(`the first sync failed: ${outcome.error}`);
  log(`synced cluster "demo": ${Object.entries(outcome.counts).map(([k, v]) => `${v} ${k}`).join(", ")} in ${outcome.durationMs} ms`);

  // Usage: a month of history (once per data directory), then live audit events from the simulator's webhook.
  const db = getPrisma();
  await setDemoUsageWindow(db, cluster.id);
  const workloads = planDemoWorkloads(sim);
  const backfillStarted = Date.now();
  const history = await backfillDemoUsage(db, cluster.id, workloads);
  if (history) {
    await analyzeCluster(db, cluster.id);
    log(`usage history: ${history.accepted} audit events of ${workloads.length} service accounts over 30 days in ${Date.now() - backfillStarted} ms`);
  }
  const { token: ingestToken } = await issueIngestToken(db, cluster.id, systemActor("demo"));
  const webhookUrl = auditWebhookUrl(`http://127.0.0.1:${args.port}`, cluster.id);
  // Keyward's server starts after this: deliveries retry with backoff until it answers.
  sim.setAuditWebhook({ url: webhookUrl, token: ingestToken, batchMaxWaitMs: 5_000, maxAttempts: 20, log: (message) => log(`audit webhook: ${message}`) });
  log(`audit webhook: the simulator sends its audit events to ${webhookUrl}`);

  for (const u of demoUsers) {
    const user = await upsertUser({ ...u, password: demoPassword ?? secrets.passwords[u.email]! });
    // The owner reviews for a team from the start: without one, an owner sees no identity and no review item.
    if (u.role === "owner") await joinDemoOwnerTeam(db, user.id);
  }
  // The demo process is also the worker: scheduled and on-demand syncs, and watches that keep the inventory current.
  const workers = await startJobWorkers({ log: (message) => log(`worker: ${message}`) });
  const traffic = startDemoTraffic(sim, workloads, { log });

  const port = args.port;
  const nextBin = path.join(repoRoot, "node_modules/next/dist/bin/next");
  const nextArgs = args.mode === "start" ? ["start", "-p", port] : ["dev", "-p", port];
  const next = spawn(process.execPath, [nextBin, ...nextArgs], {
    cwd: repoRoot,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, AUTH_TRUST_HOST: "true", AUTH_URL: process.env.AUTH_URL ?? `http://localhost:${port}` },
  });

  console.log(`\n  Keyward is starting on http://localhost:${port}\n\n  Sign in as:`);
  for (const u of demoUsers) console.log(`    ${u.role.padEnd(9)} ${u.email.padEnd(24)} ${demoPassword ? "(KEYWARD_DEMO_PASSWORD)" : secrets.passwords[u.email]}`);
  console.log(`\n  The owner reviews for team "${DEMO_OWNER_TEAM}" (namespace ${DEMO_OWNER_TEAM}).`);
  console.log(`\n  kubectl --kubeconfig ${path.relative(process.cwd(), kubeconfigFile)} get serviceaccounts -A\n`);

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    next.kill("SIGTERM");
    traffic.stop();
    await workers.stop();
    await sim.stop();
    await database.stop();
    process.exit(code);
  };
  next.on("exit", (code) => void stop(code ?? 0));
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
}

function log(message: string) {
  console.log(`[keyward] ${message}`);
}

main().catch((err: unknown) => {
  console.error(`[keyward] demo failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
