import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeConfig } from "@kubernetes/client-node";
import PgBoss from "pg-boss";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { startKubeSim, type KubeSim } from "@/lib/kube-sim";
import { setupTestDatabase } from "@/lib/testing/database";
import { eventually } from "@/lib/testing/eventually";
import { registerCluster } from "@/lib/clusters/register-cluster";
import { issueSyncToken } from "@/lib/demo/connect-cluster";
import { ingestAuditRecords } from "@/lib/usage/ingest-audit";
import { createCampaign } from "@/lib/campaigns/create-campaign";
import {
  CAMPAIGN_TICK,
  CLUSTER_SYNC,
  CLUSTER_SYNC_TICK,
  NOTIFICATION_DELIVERY,
  closeJobQueue,
  enqueueClusterSync,
  enqueueUsageAnalysis,
  startJobWorkers,
  USAGE_ANALYSIS,
  USAGE_RETENTION,
} from "./index";

process.env.KEYWARD_SECRET_KEY = randomBytes(32).toString("base64");
const db = setupTestDatabase();
let sim: KubeSim;
let clusterId: string;

beforeAll(async () => {
  sim = await startKubeSim({ port: 0 });
  const admin = new KubeConfig();
  admin.loadFromString(sim.adminKubeconfig());
  const token = await issueSyncToken(admin, 3600);
  ({ id: clusterId } = await registerCluster({
    name: "queued",
    apiServerUrl: sim.url,
    caCertPem: sim.caPem,
    sync: { type: "token", token },
  }));
});
// pg-boss polls every few seconds: give jobs longer than the default wait.
const JOB_WAIT_MS = 20_000;

afterAll(async () => {
  await closeJobQueue();
  await sim?.stop();
});

const runs = () => db.prisma.syncRun.findMany({ where: { clusterId }, orderBy: { startedAt: "asc" } });

describe("sync jobs (pg-boss on the test database)", () => {
  it("queues one sync per cluster at a time; two replicas never run one cluster's syncs at once", async () => {
    const first = await enqueueClusterSync(clusterId, "manual");
    expect(await enqueueClusterSync(clusterId, "manual")).toBe(first);

    const replicas = await Promise.all(
      [1, 2].map(() => startJobWorkers({ watch: false, pollingIntervalSeconds: 0.5, log: () => undefined })),
    );
    try {
      const done = await eventually(
        runs,
        (r) => r.some((run) => run.status === "succeeded"),
        JOB_WAIT_MS,
        200,
      );
      expect(done.filter((run) => run.trigger === "manual")).toHaveLength(1);
      // While one sync runs, more requests collapse into one queued job; then both run, one after the other.
      await enqueueClusterSync(clusterId, "manual");
      await new Promise((r) => setTimeout(r, 300));
      await enqueueClusterSync(clusterId, "manual");
      await enqueueClusterSync(clusterId, "manual");
      const all = await eventually(
        runs,
        (r) => r.length >= 3 && r.every((run) => run.status !== "running"),
        JOB_WAIT_MS,
        200,
      );
      expect(all.length).toBeGreaterThanOrEqual(2);
      expect(all.length).toBeLessThanOrEqual(3);
      for (let i = 1; i < all.length; i++)
        expect(all[i].startedAt.getTime()).toBeGreaterThanOrEqual(all[i - 1].finishedAt!.getTime());
      expect(all.every((run) => run.status === "succeeded")).toBe(true);
    } finally {
      await Promise.all(replicas.map((replica) => replica.stop()));
    }
  });

  it("the schedule tick syncs clusters whose interval has passed, with trigger schedule", async () => {
    await db.prisma.cluster.update({
      where: { id: clusterId },
      data: { lastSyncAt: new Date(Date.now() - 16 * 60_000), settings: { syncIntervalMinutes: 15 } },
    });
    const workers = await startJobWorkers({
      watch: false,
      pollingIntervalSeconds: 0.5,
      log: () => undefined,
    });
    const boss = new PgBoss({
      connectionString: process.env.DATABASE_URL!,
      supervise: false,
      schedule: false,
      max: 1,
    });
    await boss.start();
    try {
      // What pg-boss's cron sends once a minute.
      await boss.send(CLUSTER_SYNC_TICK, {});
      const scheduled = await eventually(
        runs,
        (r) => r.some((run) => run.trigger === "schedule" && run.status === "succeeded"),
        JOB_WAIT_MS,
        200,
      );
      expect(scheduled.some((run) => run.trigger === "schedule")).toBe(true);
      const schedules = await boss.getSchedules();
      expect(schedules.map((s) => s.name)).toContain(CLUSTER_SYNC_TICK);
      // A cluster synced within its interval is not due.
      const before = (await runs()).length;
      await boss.send(CLUSTER_SYNC_TICK, {});
      await new Promise((r) => setTimeout(r, 2_000));
      expect((await runs()).length).toBe(before);
      expect(await boss.getQueueSize(CLUSTER_SYNC)).toBe(0);
    } finally {
      await boss.stop({ graceful: false });
      await workers.stop();
    }
  });

  it("usage: an ingest queues one delayed re-analysis per cluster; the worker runs it; retention is scheduled", async () => {
    const event = {
      kind: "Event",
      apiVersion: "audit.k8s.io/v1",
      auditID: "jobs-1",
      verb: "get",
      user: { username: "system:serviceaccount:ci:deployer" },
      objectRef: { resource: "pods", namespace: "ci" },
      requestReceivedTimestamp: "2026-11-30T10:00:00Z",
    };
    // The queue is installed (the tests above ran workers): the ingest asks for a re-analysis.
    await ingestAuditRecords(db.prisma, { clusterId, source: "webhook", actorLabel: "test" }, [
      { line: 1, value: event },
    ]);
    const queued = await db.prisma.$queryRawUnsafe<{ id: string; delayed: boolean }[]>(
      `SELECT id::text, start_after > now() AS delayed FROM pgboss.job WHERE name = $1 AND singleton_key = $2 AND state = 'created'`,
      USAGE_ANALYSIS,
      clusterId,
    );
    expect(queued).toHaveLength(1);
    expect(queued[0].delayed).toBe(true);
    // More events during the delay share that job.
    expect(await enqueueUsageAnalysis(clusterId)).toBeUndefined();

    const workers = await startJobWorkers({
      watch: false,
      pollingIntervalSeconds: 0.5,
      log: () => undefined,
    });
    const boss = new PgBoss({
      connectionString: process.env.DATABASE_URL!,
      supervise: false,
      schedule: false,
      max: 1,
    });
    await boss.start();
    try {
      // What the delayed job does when its time comes, without waiting for it.
      const id = await boss.send(USAGE_ANALYSIS, { clusterId });
      const job = await eventually(
        () => boss.getJobById(USAGE_ANALYSIS, id!),
        (found) => found?.state === "completed" || found?.state === "failed",
        JOB_WAIT_MS,
        200,
      );
      expect(job?.state).toBe("completed");
      expect((await boss.getSchedules()).map((schedule) => schedule.name)).toContain(USAGE_RETENTION);
    } finally {
      await boss.stop({ graceful: false });
      await workers.stop();
    }
  });

  it("campaigns: the per-minute tick handles a passed deadline; ticks and notification delivery are scheduled", async () => {
    const security = { actor: { type: "user" as const, id: "u-sec", label: "sec@example.test" }, user: { id: "u-sec", role: "security" as const } };
    // Launched two days ago for one day: its deadline has passed.
    const { id } = await createCampaign(db.prisma, security, { name: "Overdue", durationDays: 1, launch: true }, { now: new Date(Date.now() - 2 * 86_400_000) });
    const workers = await startJobWorkers({ watch: false, pollingIntervalSeconds: 0.5, log: () => undefined });
    const boss = new PgBoss({ connectionString: process.env.DATABASE_URL!, supervise: false, schedule: false, max: 1 });
    await boss.start();
    try {
      // What pg-boss's cron sends once a minute.
      await boss.send(CAMPAIGN_TICK, {});
      // The deadline is claimed first and audited once handled: wait for the audit entry, the job's last step.
      const audited = await eventually(
        () => db.prisma.auditLogEntry.count({ where: { action: "campaign.deadline", targetId: id } }),
        (count) => count > 0,
        JOB_WAIT_MS,
        200,
      );
      expect(audited).toBe(1);
      expect((await db.prisma.campaign.findUniqueOrThrow({ where: { id } })).deadlineHandledAt).not.toBeNull();
      const schedules = (await boss.getSchedules()).map((schedule) => schedule.name);
      expect(schedules).toEqual(expect.arrayContaining([CAMPAIGN_TICK, NOTIFICATION_DELIVERY]));
    } finally {
      await boss.stop({ graceful: false });
      await workers.stop();
    }
  });

  it("npm run worker: needs DATABASE_URL, runs, and stops cleanly on SIGTERM", async () => {
    const root = path.resolve(import.meta.dirname, "../..");
    const run = (
      env: NodeJS.ProcessEnv,
      onOutput?: (text: string, child: ReturnType<typeof spawn>) => void,
    ) =>
      new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn(process.execPath, ["--conditions=react-server", "--import", "tsx", "lib/jobs/worker.ts"], {
          cwd: root,
          env,
          stdio: ["ignore", "pipe", "pipe"],
        });
        let output = "";
        const collect = (chunk: Buffer) => {
          output += chunk.toString();
          onOutput?.(output, child);
        };
        child.stdout.on("data", collect);
        child.stderr.on("data", collect);
        child.on("exit", (code) => resolve({ code, output }));
      });
    const { DATABASE_URL: _unset, ...withoutDb } = process.env;
    const refused = await run(withoutDb);
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/DATABASE_URL is required/);

    let signalled = false;
    const stopped = await run(process.env, (output, child) => {
      if (!signalled && output.includes("running")) {
        signalled = true;
        child.kill("SIGTERM");
      }
    });
    expect(stopped.output).toMatch(/SIGTERM/);
    expect(stopped.code).toBe(0);
  });
});
