// Audit records in, usage rollups out. Records are validated one by one (a bad one costs only itself) and
// committed chunk by chunk: each chunk is one transaction holding its seen audit IDs, discovered identities, the
// batch's counters and its usage (rollups, credential use, last-used times), so whatever a batch reports is
// committed and a crash loses only the chunk in flight. While a chunk commits, the next one is being parsed.
//
// A chunk's usage is staged (one row) rather than upserted row by row: consecutive chunks mostly add to the same
// rollup rows, so they are summed up in memory and written once per flush, in the transaction that deletes their
// staged rows. A batch of one chunk (a webhook call) writes its rollups directly. After a crash, recovery merges
// what is still staged (merge-staged.ts).
import { sqlPoolOf, type PrismaClient } from "@/lib/db";
import { parseAuditEvent } from "./parse-event";
import type { AuditRecord } from "./read-records";
import type { IngestOutcome, RejectedLine, UsageEvent } from "./types";
import { mergeAbandonedUsage, mergeStagedBatch } from "./merge-staged";
import { UsageBuffer } from "./usage-buffer";
import {
  claimStaged,
  countIntoBatch,
  inTransaction,
  lockClusterUsage,
  markSeen,
  MAX_AGENTS_OR_IPS,
  MAX_RESOURCE_NAMES,
  resolveIdentities,
  stageUsage,
  writeUsage,
  type CredentialUsageRow,
  type RollupRow,
  type SeenKeys,
  type UsageWrites,
} from "./write-usage";

export interface IngestTarget {
  clusterId: string;
  source: "webhook" | "upload";
  fileName?: string;
  actorLabel: string;
}

export interface IngestOptions {
  /** Records per transaction (default 20,000). */
  chunkSize?: number;
  /** Rollup rows summed up in memory before they are written (default 100,000): bounds memory, not durability. */
  bufferedRollups?: number;
  /** Called after each committed chunk with the totals so far. */
  onProgress?: (outcome: IngestOutcome) => void;
  /** Queue a re-analysis of the cluster when events were accepted (default true). */
  analyze?: boolean;
}

export const DEFAULT_CHUNK_SIZE = 20_000;
export const DEFAULT_BUFFERED_ROLLUPS = 100_000;
const MAX_SAMPLE_REASONS = 20;
const DAY_MS = 86_400_000;
/** Deadlocks with a concurrent sync (which writes the same Identity and Credential rows) are retried. */
const RETRIED_SQLSTATES = ["40P01", "40001"];
const MAX_ATTEMPTS = 3;

/**
 * The persisted 64-bit key of an audit ID (cyrb53's two 32-bit lanes, both kept). AuditEventSeen holds these:
 * changing the function would count every stored event again.
 */
function auditKey(id: string, keys: SeenKeys, index: number): void {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < id.length; i++) {
    const ch = id.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  keys.high[index] = h2;
  keys.low[index] = h1;
}

const unionInto = (target: string[], value: string, max: number) => {
  if (value !== "" && target.length < max && !target.includes(value)) target.push(value);
};

type Timed = { first: number; last: number };
type PendingRollup = Omit<RollupRow, "identityId" | "firstSeenAt" | "lastSeenAt"> &
  Timed & { username: string };
type PendingCredentialUsage = Omit<CredentialUsageRow, "identityId" | "firstSeenAt" | "lastSeenAt"> &
  Timed & { username: string };

/** The chunk's new events summed up per identity (by username, resolved to ids in the transaction). */
interface UsageSummary {
  rollups: PendingRollup[];
  credentials: PendingCredentialUsage[];
  /** Latest use per username (epoch ms): the identity's own events, and its credentials' when it impersonated. */
  lastUsed: Map<string, number>;
  earliest: number;
  usernames: Set<string>;
}

const dayNames = new Map<number, string>();
const dayName = (day: number) => {
  let name = dayNames.get(day);
  if (name === undefined) dayNames.set(day, (name = new Date(day * DAY_MS).toISOString().slice(0, 10)));
  return name;
};

function summarize(events: readonly UsageEvent[], skip?: ReadonlySet<number>): UsageSummary {
  const rollups = new Map<string, PendingRollup>();
  const credentials = new Map<string, PendingCredentialUsage>();
  const lastUsed = new Map<string, number>();
  const usernames = new Set<string>();
  let earliest = Infinity;
  const raise = (username: string, at: number) => {
    usernames.add(username);
    if (!(lastUsed.get(username)! >= at)) lastUsed.set(username, at);
  };
  for (let i = 0; i < events.length; i++) {
    if (skip?.has(i)) continue;
    const event = events[i];
    const at = event.at.getTime();
    const day = dayName(Math.floor(at / DAY_MS));
    if (at < earliest) earliest = at;
    raise(event.username, at);
    const key = `${event.username}\u0000${day}\u0000${event.verb}\u0000${event.apiGroup}\u0000${event.resource}\u0000${event.subresource}\u0000${event.namespace}\u0000${event.path}`;
    let row = rollups.get(key);
    if (!row) {
      row = {
        username: event.username,
        day,
        verb: event.verb,
        apiGroup: event.apiGroup,
        resource: event.resource,
        subresource: event.subresource,
        namespace: event.namespace,
        path: event.path,
        count: 0,
        deniedCount: 0,
        first: at,
        last: at,
        userAgents: [],
        sourceIps: [],
        resourceNames: [],
        resourceNamesComplete: true,
      };
      rollups.set(key, row);
    }
    row.count++;
    if (event.denied) row.deniedCount++;
    if (at < row.first) row.first = at;
    if (at > row.last) row.last = at;
    unionInto(row.userAgents, event.userAgent, MAX_AGENTS_OR_IPS);
    for (const ip of event.sourceIps) unionInto(row.sourceIps, ip, MAX_AGENTS_OR_IPS);
    if (!event.name) row.resourceNamesComplete = false;
    else if (!row.resourceNames.includes(event.name)) {
      if (row.resourceNames.length < MAX_RESOURCE_NAMES) row.resourceNames.push(event.name);
      else row.resourceNamesComplete = false;
    }

    if (event.credentialRef) {
      // The credential is the authenticated user's, also when it impersonated someone else.
      const owner = event.impersonatedBy ?? event.username;
      raise(owner, at);
      let usage = credentials.get(event.credentialRef);
      if (!usage) {
        usage = {
          credentialRef: event.credentialRef,
          fingerprint: credentialFingerprint(event.credentialRef),
          username: owner,
          count: 0,
          first: at,
          last: at,
          userAgents: [],
          sourceIps: [],
        };
        credentials.set(event.credentialRef, usage);
      }
      usage.count++;
      usage.username = owner;
      if (at < usage.first) usage.first = at;
      if (at > usage.last) usage.last = at;
      unionInto(usage.userAgents, event.userAgent, MAX_AGENTS_OR_IPS);
      for (const ip of event.sourceIps) unionInto(usage.sourceIps, ip, MAX_AGENTS_OR_IPS);
    }
  }
  return {
    rollups: [...rollups.values()],
    credentials: [...credentials.values()],
    lastUsed,
    earliest,
    usernames,
  };
}

/** The rows to write, with identity ids for usernames. */
function withIdentities(summary: UsageSummary, ids: ReadonlyMap<string, string>): UsageWrites {
  const times = ({ first, last }: Timed) => ({
    firstSeenAt: new Date(first).toISOString(),
    lastSeenAt: new Date(last).toISOString(),
  });
  return {
    rollups: summary.rollups.map(({ username, first, last, ...row }): RollupRow => ({
      ...row,
      identityId: ids.get(username)!,
      ...times({ first, last }),
    })),
    credentials: summary.credentials.map(({ username, first, last, ...row }): CredentialUsageRow => ({
      ...row,
      identityId: ids.get(username)!,
      ...times({ first, last }),
    })),
    lastUsed: Object.fromEntries(
      [...summary.lastUsed].map(([username, at]) => [ids.get(username)!, new Date(at).toISOString()]),
    ),
    earliest: Number.isFinite(summary.earliest) ? new Date(summary.earliest).toISOString() : null,
  };
}

/** One chunk's records: valid events deduplicated by audit ID, and the rejections, in record order. */
class Chunk {
  readonly events: UsageEvent[] = [];
  readonly rejections: RejectedLine[] = [];
  duplicates = 0;
  records = 0;
  private readonly byAuditId = new Map<string, number>();

  add(record: AuditRecord): void {
    this.records++;
    if (record.error !== undefined) {
      this.rejections.push({ line: record.line, reason: record.error });
      return;
    }
    const parsed = parseAuditEvent(record.value);
    if (!parsed.ok) {
      this.rejections.push({ line: record.line, reason: parsed.reason });
      return;
    }
    const earlier = this.byAuditId.get(parsed.event.auditId);
    if (earlier === undefined) {
      this.byAuditId.set(parsed.event.auditId, this.events.length);
      this.events.push(parsed.event);
      return;
    }
    // Another stage of a request already here: only a later stage knows the response, so a refusal carries over.
    this.duplicates++;
    if (parsed.event.denied) this.events[earlier].denied = true;
  }

  /** Keys and sums, computed once the chunk is full (while the previous chunk is still committing). */
  close(): { keys: SeenKeys; summary: UsageSummary } {
    const length = this.events.length;
    const keys: SeenKeys = {
      high: new Int32Array(length),
      low: new Int32Array(length),
      day: new Int32Array(length),
      length,
    };
    for (let i = 0; i < length; i++) {
      auditKey(this.events[i].auditId, keys, i);
      keys.day[i] = Math.floor(this.events[i].at.getTime() / DAY_MS);
    }
    return { keys, summary: summarize(this.events) };
  }
}

/** What Credential.fingerprint holds for a credential-id: a certificate's SHA-256 hex, or a token's JTI. */
export function credentialFingerprint(credentialRef: string): string | null {
  if (credentialRef.startsWith("X509SHA256=")) return credentialRef.slice("X509SHA256=".length).toLowerCase();
  if (credentialRef.startsWith("JTI=")) return credentialRef.slice("JTI=".length);
  return null;
}

const sqlState = (error: unknown): string | undefined => {
  for (let cause = error; cause && typeof cause === "object"; cause = (cause as { cause?: unknown }).cause) {
    const code =
      (cause as { code?: unknown; originalCode?: unknown }).originalCode ??
      (cause as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
};

/** Runs a transaction again after a deadlock with a concurrent sync (which writes the same rows). */
async function retried<T>(transaction: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (error) {
      const state = sqlState(error);
      if (attempt >= MAX_ATTEMPTS || !state || !RETRIED_SQLSTATES.includes(state)) throw error;
    }
  }
}

/**
 * Ingests audit records into the cluster's usage as one AuditIngestBatch (running → completed, or failed with
 * the counts of the chunks committed before the failure). Throws on a database or input error after marking
 * the batch failed.
 */
export async function ingestAuditRecords(
  db: PrismaClient,
  target: IngestTarget,
  records: AsyncIterable<AuditRecord> | Iterable<AuditRecord>,
  options: IngestOptions = {},
): Promise<IngestOutcome> {
  const { clusterId } = target;
  const chunkSize = Math.max(1, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
  const batch = await db.auditIngestBatch.create({
    data: { clusterId, source: target.source, fileName: target.fileName, actorLabel: target.actorLabel },
    select: { id: true },
  });
  const outcome: IngestOutcome = {
    batchId: batch.id,
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    sampleReasons: [],
  };
  // Usernames resolved by committed chunks; a rolled-back chunk's discoveries are not kept.
  const identityIds = new Map<string, string>();
  // Committed chunks' usage not yet in the rollups: staged in the database (durable) and summed up here.
  const buffer = new UsageBuffer();
  const bufferedRollups = Math.max(1, options.bufferedRollups ?? DEFAULT_BUFFERED_ROLLUPS);
  let staged = 0;

  /**
   * One chunk in one transaction: its seen keys, discovered identities and counters, and its usage either
   * staged (more chunks to come) or written straight into the rollups (nothing staged to merge it with).
   */
  const pool = sqlPoolOf(db);
  const commitOnce = async (chunk: Chunk, closed: ReturnType<Chunk["close"]>, stageAs: number | null) =>
    inTransaction(pool, async (tx) => {
      await lockClusterUsage(tx, clusterId);
      const seenBefore = await markSeen(tx, clusterId, closed.keys);
      // Counted before (another stage, a redelivery, a re-upload): sum up the rest again, rarely needed.
      const summary = seenBefore.size ? summarize(chunk.events, seenBefore) : closed.summary;
      const unknown = [...summary.usernames].filter((username) => !identityIds.has(username));
      const resolved = unknown.length
        ? await resolveIdentities(tx, clusterId, unknown, new Date())
        : new Map<string, string>();
      const writes = withIdentities(
        summary,
        resolved.size ? new Map([...identityIds, ...resolved]) : identityIds,
      );
      if (stageAs === null) await writeUsage(tx, clusterId, writes);
      else await stageUsage(tx, { batchId: batch.id, seq: stageAs, clusterId }, writes);
      const accepted = chunk.events.length - seenBefore.size;
      const duplicates = chunk.duplicates + seenBefore.size;
      const sampleReasons = [...outcome.sampleReasons, ...chunk.rejections]
        .slice(0, MAX_SAMPLE_REASONS)
        .map(({ line, reason }) => ({ line, reason }));
      await countIntoBatch(tx, batch.id, {
        accepted,
        duplicates,
        rejected: chunk.rejections.length,
        sampleReasons,
      });
      return { accepted, duplicates, sampleReasons, resolved, writes };
    });

  /** Writes the buffered usage into the rollups, in the transaction that claims its staged chunks. */
  const flush = async () => {
    if (buffer.isEmpty) return;
    const claimed = await retried(() =>
      inTransaction(pool, async (tx) => {
        await lockClusterUsage(tx, clusterId);
        if ((await claimStaged(tx, batch.id, buffer.seqs)) !== buffer.seqs.length) return false;
        await writeUsage(tx, clusterId, buffer.writes());
        return true;
      }),
    );
    buffer.clear();
    // Recovery took some of them for an abandoned batch (this one stalled): merge what is left from the database.
    if (!claimed) await mergeStagedBatch(db, clusterId, batch.id);
  };

  const commit = async (chunk: Chunk, closed: ReturnType<Chunk["close"]>, last: boolean) => {
    const stageAs = last && buffer.isEmpty ? null : ++staged;
    const done = await retried(() => commitOnce(chunk, closed, stageAs));
    for (const [username, id] of done.resolved) identityIds.set(username, id);
    if (stageAs !== null) buffer.add(stageAs, done.writes);
    outcome.accepted += done.accepted;
    outcome.duplicates += done.duplicates;
    outcome.rejected += chunk.rejections.length;
    outcome.sampleReasons = done.sampleReasons;
    if (last || buffer.rollupCount >= bufferedRollups) await flush();
    options.onProgress?.({ ...outcome, sampleReasons: [...outcome.sampleReasons] });
  };

  // Left behind by a crashed ingestion of this cluster: merged before new usage comes in.
  await mergeAbandonedUsage(db, { clusterId });
  let inFlight: Promise<void> | undefined;
  try {
    let chunk = new Chunk();
    for await (const record of records) {
      chunk.add(record);
      if (chunk.records < chunkSize) continue;
      const closed = chunk.close();
      await inFlight;
      inFlight = commit(chunk, closed, false);
      // Handled where it is awaited; this only keeps Node from reporting it as unhandled in the meantime.
      inFlight.catch(() => undefined);
      chunk = new Chunk();
    }
    await inFlight;
    inFlight = undefined;
    if (chunk.records > 0) await commit(chunk, chunk.close(), true);
    else await flush();
  } catch (error) {
    // A failed read must not race the chunk still committing: the batch's counts are what got committed.
    await inFlight?.catch(() => undefined);
    // What was committed is merged now if it can be; otherwise it stays staged for recovery.
    await flush().catch(() => undefined);
    const message = error instanceof Error ? error.message : String(error);
    await db.auditIngestBatch
      .update({
        where: { id: batch.id },
        data: { status: "failed", error: message.slice(0, 2000), finishedAt: new Date() },
      })
      .catch(() => undefined);
    throw error;
  }
  await db.auditIngestBatch.update({
    where: { id: batch.id },
    data: { status: "completed", finishedAt: new Date() },
  });
  if (outcome.accepted > 0 && options.analyze !== false) await requestAnalysis(db, clusterId);
  return outcome;
}

/**
 * Usage changes findings (unused identities and permissions): a debounced re-analysis, queued when a job worker
 * has installed the queue in this database. Best effort: the usage itself is committed either way.
 */
async function requestAnalysis(db: PrismaClient, clusterId: string): Promise<void> {
  try {
    const [queue] = await db.$queryRawUnsafe<{ installed: boolean }[]>(
      `SELECT to_regclass('pgboss.job') IS NOT NULL AS installed`,
    );
    if (!queue?.installed) return;
    // Loaded only here: the job module brings the sync, the analysis and pg-boss, which ingestion does not need.
    const { enqueueUsageAnalysis } = await import("@/lib/jobs");
    await enqueueUsageAnalysis(clusterId);
  } catch (error) {
    console.error(
      `usage: re-analysis of ${clusterId} not queued: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
