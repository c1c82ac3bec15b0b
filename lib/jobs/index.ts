import PgBoss from "pg-boss";
import { z } from "zod";
import { runCampaignTick } from "@/lib/campaigns/campaign-jobs";
import { getPrisma } from "@/lib/db";
import { analyzeCluster } from "@/lib/findings/analyze-cluster";
import { notificationConfig } from "@/lib/notifications/config";
import { deliverDueNotifications } from "@/lib/notifications/outbox";
import { sendersFor } from "@/lib/notifications/senders";
import { syncCluster } from "@/lib/sync/sync-cluster";
import { failInterruptedIngestions } from "@/lib/usage/interrupted-ingestions";
import { pruneUsage } from "@/lib/usage/retention";
import { startClusterWatch, type ClusterWatch } from "@/lib/sync/watcher";

/** The named job: one full sync of one cluster. */
export const CLUSTER_SYNC = "cluster.sync";
/** A per-minute tick that enqueues the clusters whose sync interval has passed. */
export const CLUSTER_SYNC_TICK = "cluster.sync-tick";
export const DEFAULT_SYNC_INTERVAL_MINUTES = 15;
/** Re-analysis of one cluster after audit events arrived (usage findings). */
export const USAGE_ANALYSIS = "usage.analyze";
/** Daily: usage rollups and seen audit IDs older than each cluster's retention go. */
export const USAGE_RETENTION = "usage.retention";
/** Webhook batches arrive every few seconds: one analysis per cluster per this many seconds at most. */
export const USAGE_ANALYSIS_DELAY_SECONDS = 30;
/** Per minute: launch due campaign schedules, queue due reminders, handle passed deadlines. */
export const CAMPAIGN_TICK = "campaigns.tick";
/** Per minute: send the notifications waiting in the outbox. */
export const NOTIFICATION_DELIVERY = "notifications.deliver";

const usageAnalysisPayload = z.object({ clusterId: z.string().min(1) });

export const clusterSyncPayload = z.object({
  clusterId: z.string().min(1),
  trigger: z.enum(["manual", "schedule", "registration", "watch", "remediation"]),
});
export type ClusterSyncPayload = z.infer<typeof clusterSyncPayload>;

const clusterSettings = z
  .object({
    syncIntervalMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(DEFAULT_SYNC_INTERVAL_MINUTES),
  })
  .catch({
    syncIntervalMinutes: DEFAULT_SYNC_INTERVAL_MINUTES,
  });

function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: the job queue lives in the application database");
  return url;
}

/**
 * Queues exist once per database. "stately": at most one queued and one running sync per singleton key
 * (the cluster id), so replicas never sync one cluster twice at once and repeated requests collapse.
 */
async function ensureQueues(boss: PgBoss): Promise<void> {
  await boss.createQueue(CLUSTER_SYNC, {
    name: CLUSTER_SYNC,
    policy: "stately",
    expireInSeconds: 30 * 60,
    retryLimit: 0,
  });
  await boss.createQueue(CLUSTER_SYNC_TICK, {
    name: CLUSTER_SYNC_TICK,
    policy: "short",
    expireInSeconds: 5 * 60,
    retryLimit: 0,
  });
  // One delayed analysis queued and one running per cluster: the ingests during the delay share the queued one.
  await boss.createQueue(USAGE_ANALYSIS, {
    name: USAGE_ANALYSIS,
    policy: "stately",
    expireInSeconds: 30 * 60,
    retryLimit: 1,
  });
  await boss.createQueue(USAGE_RETENTION, {
    name: USAGE_RETENTION,
    policy: "short",
    expireInSeconds: 60 * 60,
    retryLimit: 1,
  });
  // "singleton": one tick runs at a time; the campaign steps are race-safe anyway (conditional claims, dedupe keys).
  await boss.createQueue(CAMPAIGN_TICK, {
    name: CAMPAIGN_TICK,
    policy: "singleton",
    expireInSeconds: 30 * 60,
    retryLimit: 0,
  });
  await boss.createQueue(NOTIFICATION_DELIVERY, {
    name: NOTIFICATION_DELIVERY,
    policy: "singleton",
    expireInSeconds: 15 * 60,
    retryLimit: 0,
  });
}

let sender: Promise<PgBoss> | undefined;

/** A queue client for enqueueing only (no maintenance, no cron): what the web app and the CLI use. */
function senderBoss(): Promise<PgBoss> {
  sender ??= (async () => {
    const boss = new PgBoss({ connectionString: databaseUrl(), max: 2, supervise: false, schedule: false });
    boss.on("error", (error: Error) => console.error("pg-boss:", error.message));
    await boss.start();
    await ensureQueues(boss);
    return boss;
  })();
  sender.catch(() => {
    sender = undefined;
  });
  return sender;
}

/** Closes the enqueue-only client (tests, CLI exit). */
export async function closeJobQueue(): Promise<void> {
  const pending = sender;
  sender = undefined;
  await (await pending?.catch(() => undefined))?.stop({ graceful: false, wait: true });
}

async function sendSync(boss: PgBoss, payload: ClusterSyncPayload): Promise<string> {
  const id = await boss.send(CLUSTER_SYNC, clusterSyncPayload.parse(payload), {
    singletonKey: payload.clusterId,
  });
  if (id) return id;
  // Refused by the queue policy: a sync of this cluster is already queued; hand back that one.
  const { rows } = await boss
    .getDb()
    .executeSql(
      `SELECT id FROM pgboss.job WHERE name = $1 AND singleton_key = $2 AND state IN ('created', 'retry', 'active') ORDER BY (state = 'active'), created_on DESC LIMIT 1`,
      [CLUSTER_SYNC, payload.clusterId],
    );
  const existing = (rows[0] as { id?: string } | undefined)?.id;
  if (!existing) throw new Error("the sync job could not be queued; try again");
  return existing;
}

/** Queues a full sync of the cluster; returns the job id (an already queued sync's id if there is one). */
export async function enqueueClusterSync(
  clusterId: string,
  trigger: ClusterSyncPayload["trigger"],
): Promise<string> {
  return sendSync(await senderBoss(), { clusterId, trigger });
}

/**
 * Queues a re-analysis of the cluster in USAGE_ANALYSIS_DELAY_SECONDS, unless one is already waiting (then
 * that one covers these events too). Returns the new job's id, or undefined when debounced.
 */
export async function enqueueUsageAnalysis(clusterId: string): Promise<string | undefined> {
  const id = await (
    await senderBoss()
  ).send(USAGE_ANALYSIS, usageAnalysisPayload.parse({ clusterId }), {
    singletonKey: clusterId,
    startAfter: USAGE_ANALYSIS_DELAY_SECONDS,
  });
  return id ?? undefined;
}

export interface JobWorkerOptions {
  /** Also keep every cluster current through watches (default true). */
  watch?: boolean;
  /** How often workers poll for jobs (pg-boss minimum 0.5 s). */
  pollingIntervalSeconds?: number;
  log?: (message: string) => void;
}

/** Clusters whose last sync is older than their interval (or that never synced). */
async function clustersDue(now: Date): Promise<string[]> {
  const clusters = await getPrisma().cluster.findMany({
    select: { id: true, lastSyncAt: true, settings: true },
  });
  return clusters
    .filter((cluster) => {
      const { syncIntervalMinutes } = clusterSettings.parse(cluster.settings);
      return (
        !cluster.lastSyncAt || now.getTime() - cluster.lastSyncAt.getTime() >= syncIntervalMinutes * 60_000
      );
    })
    .map((cluster) => cluster.id);
}

/**
 * Runs jobs in this process: the `cluster.sync` worker, the per-minute schedule (cron in pg-boss, so one
 * tick per minute across all replicas), usage re-analyses and the daily usage retention, the per-minute campaign
 * tick and notification delivery, and, unless disabled, a watch per registered cluster.
 */
export async function startJobWorkers(options: JobWorkerOptions = {}): Promise<{ stop(): Promise<void> }> {
  const log = options.log ?? ((message: string) => console.log(message));
  const boss = new PgBoss({ connectionString: databaseUrl(), max: 4 });
  boss.on("error", (error: Error) => log(`pg-boss: ${error.message}`));
  await boss.start();
  await ensureQueues(boss);
  const polling = { pollingIntervalSeconds: options.pollingIntervalSeconds ?? 2 };

  await boss.work<ClusterSyncPayload>(CLUSTER_SYNC, { ...polling, batchSize: 1 }, async (jobs) => {
    for (const job of jobs) {
      const { clusterId, trigger } = clusterSyncPayload.parse(job.data);
      const outcome = await syncCluster(clusterId, trigger);
      log(
        outcome.ok
          ? `synced ${clusterId} in ${outcome.durationMs} ms`
          : `sync of ${clusterId} failed: ${outcome.error}`,
      );
    }
  });

  await boss.work(USAGE_ANALYSIS, { ...polling, batchSize: 1 }, async (jobs) => {
    for (const job of jobs) {
      const { clusterId } = usageAnalysisPayload.parse(job.data);
      const outcome = await analyzeCluster(getPrisma(), clusterId);
      log(`analysed ${clusterId} after new usage: ${outcome.opened} opened, ${outcome.resolved} resolved`);
    }
  });
  await boss.work(USAGE_RETENTION, polling, async () => {
    const interrupted = await failInterruptedIngestions(getPrisma());
    if (interrupted > 0) log(`usage: ${interrupted} interrupted ingestions marked failed`);
    const pruned = await pruneUsage(getPrisma());
    log(`usage retention: ${pruned.rollups} rollups and ${pruned.seenEvents} seen audit IDs deleted`);
  });
  await boss.schedule(USAGE_RETENTION, "17 3 * * *");

  await boss.work(CAMPAIGN_TICK, polling, async () => {
    const { launched, reminders, deadlines } = await runCampaignTick(getPrisma(), { log });
    if (launched.length + reminders + deadlines.length > 0) {
      log(`campaigns: ${launched.length} launched, ${reminders} reminders queued, ${deadlines.length} deadlines handled`);
    }
  });
  await boss.schedule(CAMPAIGN_TICK, "* * * * *");
  await boss.work(NOTIFICATION_DELIVERY, polling, async () => {
    const report = await deliverDueNotifications(getPrisma(), sendersFor(notificationConfig()));
    if (report.sent + report.retrying + report.failed > 0) {
      log(`notifications: ${report.sent} sent, ${report.retrying} to retry, ${report.failed} failed`);
    }
  });
  await boss.schedule(NOTIFICATION_DELIVERY, "* * * * *");

  const watches = new Map<string, Promise<ClusterWatch | undefined>>();
  const watchNewClusters = async () => {
    if (options.watch === false) return;
    for (const { id } of await getPrisma().cluster.findMany({ select: { id: true } })) {
      if (watches.has(id)) continue;
      watches.set(
        id,
        startClusterWatch(id, { log }).catch((error: unknown) => {
          log(`watch of ${id} did not start: ${String(error)}`);
          watches.delete(id);
          return undefined;
        }),
      );
    }
  };

  await boss.work(CLUSTER_SYNC_TICK, polling, async () => {
    for (const clusterId of await clustersDue(new Date()))
      await sendSync(boss, { clusterId, trigger: "schedule" });
    await watchNewClusters();
  });
  await boss.schedule(CLUSTER_SYNC_TICK, "* * * * *");
  await watchNewClusters();

  return {
    async stop() {
      await boss.stop({ graceful: true, wait: true, timeout: 60_000 });
      const started = await Promise.all(watches.values());
      await Promise.all(started.map((watch) => watch?.stop()));
    },
  };
}
