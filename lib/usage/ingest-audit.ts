// Audit records in, usage rollups out. Records are validated one by one (a bad one costs only itself) and
// committed chunk by chunk: each chunk is one transaction holding its seen audit IDs, discovered identities, the
// batch's counters and its usage (rollups, credential use, last-used times), so whatever a batch reports is
// committed and a crash loses only what was not yet reported. While a chunk commits, the next one is being parsed.
//
// Chunks are large: a rollup row costs Postgres far more than an event does, and a chunk's events mostly add to
// the same rows, so the fewer chunks, the fewer rows written. Nothing of a chunk is kept per event but its key
// and what it added to its rows, so memory stays flat however long the log.
import { sqlPoolOf, type PrismaClient } from "@/lib/db";
import { failInterruptedIngestions } from "./interrupted-ingestions";
import { parseAuditEvent } from "./parse-event";
import type { AuditRecord } from "./read-records";
import type { IngestOutcome, RejectedLine, UsageEvent } from "./types";
import {
  countIntoBatch,
  inTransaction,
  lockClusterUsage,
  markSeen,
  MAX_AGENTS_OR_IPS,
  MAX_RESOURCE_NAMES,
  resolveIdentities,
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
  /** Records per transaction (default 200,000). */
  chunkSize?: number;
  /** Called after each committed chunk with the totals so far. */
  onProgress?: (outcome: IngestOutcome) => void;
  /** Queue a re-analysis of the cluster when events were accepted (default true). */
  analyze?: boolean;
}

// 200,000 records commit in a second or two, which is as long as a webhook delivery of the same cluster waits.
export const DEFAULT_CHUNK_SIZE = 200_000;
const FIRST_CHUNK_SIZE = 25_000;
const MAX_SAMPLE_REASONS = 20;
const DAY_MS = 86_400_000;
/** Deadlocks with a concurrent sync (which writes the same Identity and Credential rows) are retried. */
const RETRIED_SQLSTATES = ["40P01", "40001"];
const MAX_ATTEMPTS = 3;

// A key's two 32-bit halves are written straight into a BigInt64Array's words: no BigInt per event.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const LOW_WORD = LITTLE_ENDIAN ? 0 : 1;
const HIGH_WORD = 1 - LOW_WORD;

/**
 * The persisted 64-bit key of an audit ID (cyrb53's two 32-bit lanes, both kept), written at `index` of the
 * BigInt64Array whose 32-bit words are `words`. AuditEventSeen holds these: changing the function would count
 * every stored event again.
 */
function auditKey(id: string, words: Int32Array, index: number): void {
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
  words[2 * index + HIGH_WORD] = h2;
  words[2 * index + LOW_WORD] = h1;
}

const unionInto = (target: string[], value: string, max: number) => {
  if (value !== "" && target.length < max && !target.includes(value)) target.push(value);
};

type PendingRollup = Omit<RollupRow, "identityId"> & { username: string };
type PendingCredentialUsage = Omit<CredentialUsageRow, "identityId"> & { username: string };

/**
 * One chunk's records, summed up as they arrive: the rollups and credential use of its events (by username,
 * resolved to identity ids in the transaction), and per event only its key and what it added to the sums. An
 * event that turns out to be counted before (another stage, a redelivery, a re-upload) is taken out again by
 * its counts alone: it is the same request, so the times, agents, addresses and names it added are already in.
 */
class Chunk {
  records = 0;
  duplicates = 0;
  readonly rejections: RejectedLine[] = [];
  keys: SeenKeys = { key: new BigInt64Array(0), day: new Int32Array(0), length: 0 };
  private words = new Int32Array(0);
  private denied = new Uint8Array(0);
  private readonly rollupOf: PendingRollup[] = [];
  private readonly credentialOf: (PendingCredentialUsage | undefined)[] = [];
  private readonly rollups = new Map<string, PendingRollup>();
  private readonly credentials = new Map<string, PendingCredentialUsage>();
  /** Latest use per username (epoch ms): the identity's own events, and its credentials' when it impersonated. */
  private readonly lastUsed = new Map<string, number>();
  private earliest = Infinity;
  /** Event positions by the low 30 bits of their key (a small integer), and by the whole key where those collide. */
  private readonly bySlot = new Map<number, number>();
  private readonly byKey = new Map<bigint, number>();

  /** Distinct events (by key) so far. */
  get length(): number {
    return this.keys.length;
  }

  /** Room for one more event: the per-event arrays double (a webhook call's chunk holds a handful). */
  private grow(): void {
    if (this.length < this.denied.length) return;
    const capacity = Math.max(1024, 2 * this.denied.length);
    const key = new BigInt64Array(capacity);
    key.set(this.keys.key);
    const day = new Int32Array(capacity);
    day.set(this.keys.day);
    const denied = new Uint8Array(capacity);
    denied.set(this.denied);
    this.keys = { key, day, length: this.length };
    this.words = new Int32Array(key.buffer);
    this.denied = denied;
  }

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
    this.grow();
    const index = this.length;
    auditKey(parsed.event.auditId, this.words, index);
    const earlier = this.earlierWithKey(index);
    if (earlier === undefined) {
      this.keys.length = index + 1;
      this.sumUp(parsed.event, index);
      return;
    }
    // Another stage of a request already here: only a later stage knows the response, so a refusal carries over.
    this.duplicates++;
    if (parsed.event.denied && !this.denied[earlier]) {
      this.denied[earlier] = 1;
      this.rollupOf[earlier].deniedCount++;
    }
  }

  /** The position of an event with the same key as the one written at `index`; else `index` is registered. */
  private earlierWithKey(index: number): number | undefined {
    const slot = this.words[2 * index + LOW_WORD] & 0x3fffffff;
    const first = this.bySlot.get(slot);
    if (first === undefined) {
      this.bySlot.set(slot, index);
      return undefined;
    }
    const key = this.keys.key[index];
    if (this.keys.key[first] === key) return first;
    const other = this.byKey.get(key);
    if (other === undefined) this.byKey.set(key, index);
    return other;
  }

  private raise(username: string, at: number): void {
    if (!(this.lastUsed.get(username)! >= at)) this.lastUsed.set(username, at);
  }

  private sumUp(event: UsageEvent, index: number): void {
    const at = event.at.getTime();
    const day = Math.floor(at / DAY_MS);
    this.keys.day[index] = day;
    if (at < this.earliest) this.earliest = at;
    this.raise(event.username, at);
    const key = `${event.username}\u0000${day}\u0000${event.verb}\u0000${event.apiGroup}\u0000${event.resource}\u0000${event.subresource}\u0000${event.namespace}\u0000${event.path}`;
    let row = this.rollups.get(key);
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
        firstSeenAt: at,
        lastSeenAt: at,
        userAgents: [],
        sourceIps: [],
        resourceNames: [],
        resourceNamesComplete: true,
        impersonators: [],
      };
      this.rollups.set(key, row);
    }
    this.rollupOf[index] = row;
    row.count++;
    if (event.denied) {
      row.deniedCount++;
      this.denied[index] = 1;
    }
    if (at < row.firstSeenAt) row.firstSeenAt = at;
    if (at > row.lastSeenAt) row.lastSeenAt = at;
    // A request made as the identity came from the impersonator's client: its agent and address are not the
    // identity's own (an admin's kubectl is not the service account's token in a human's hands).
    if (event.impersonatedBy) unionInto(row.impersonators, event.impersonatedBy, MAX_AGENTS_OR_IPS);
    else {
      unionInto(row.userAgents, event.userAgent, MAX_AGENTS_OR_IPS);
      for (const ip of event.sourceIps) unionInto(row.sourceIps, ip, MAX_AGENTS_OR_IPS);
    }
    const names = row.resourceNames;
    if (!event.name) row.resourceNamesComplete = false;
    // A full list that is already incomplete cannot change: most events of a busy row skip the search.
    else if (
      (names.length < MAX_RESOURCE_NAMES || row.resourceNamesComplete) &&
      !names.includes(event.name)
    ) {
      if (names.length < MAX_RESOURCE_NAMES) names.push(event.name);
      else row.resourceNamesComplete = false;
    }

    if (!event.credentialRef) return;
    // The credential is the authenticated user's, also when it impersonated someone else.
    const owner = event.impersonatedBy ?? event.username;
    this.raise(owner, at);
    let usage = this.credentials.get(event.credentialRef);
    if (!usage) {
      usage = {
        credentialRef: event.credentialRef,
        fingerprint: credentialFingerprint(event.credentialRef),
        username: owner,
        count: 0,
        firstSeenAt: at,
        lastSeenAt: at,
        userAgents: [],
        sourceIps: [],
      };
      this.credentials.set(event.credentialRef, usage);
    }
    this.credentialOf[index] = usage;
    usage.count++;
    usage.username = owner;
    if (at < usage.firstSeenAt) usage.firstSeenAt = at;
    if (at > usage.lastSeenAt) usage.lastSeenAt = at;
    unionInto(usage.userAgents, event.userAgent, MAX_AGENTS_OR_IPS);
    for (const ip of event.sourceIps) unionInto(usage.sourceIps, ip, MAX_AGENTS_OR_IPS);
  }

  /** The usernames the sums are by. */
  usernames(): Set<string> {
    return new Set(this.lastUsed.keys());
  }

  /**
   * The rows to write, with identity ids for usernames, without the counts of the events at positions `seen`
   * (counted before); rows left with no new event are dropped.
   */
  writes(ids: ReadonlyMap<string, string>, seen: ReadonlySet<number>): UsageWrites {
    const taken = new Map<PendingRollup | PendingCredentialUsage, { count: number; denied: number }>();
    const take = (row: PendingRollup | PendingCredentialUsage | undefined, denied: number) => {
      if (!row) return;
      const sums = taken.get(row) ?? { count: 0, denied: 0 };
      sums.count++;
      sums.denied += denied;
      taken.set(row, sums);
    };
    for (const index of seen) {
      take(this.rollupOf[index], this.denied[index]);
      take(this.credentialOf[index], 0);
    }
    const rollups: RollupRow[] = [];
    for (const pending of this.rollups.values()) {
      const { username, ...row } = pending;
      const less = taken.get(pending);
      if (less) {
        row.count -= less.count;
        row.deniedCount -= less.denied;
      }
      if (row.count > 0) rollups.push({ ...row, identityId: ids.get(username)! });
    }
    const credentials: CredentialUsageRow[] = [];
    for (const pending of this.credentials.values()) {
      const { username, ...row } = pending;
      row.count -= taken.get(pending)?.count ?? 0;
      if (row.count > 0) credentials.push({ ...row, identityId: ids.get(username)! });
    }
    const lastUsed: Record<string, number> = {};
    for (const [username, at] of this.lastUsed) lastUsed[ids.get(username)!] = at;
    return {
      rollups,
      credentials,
      lastUsed,
      earliest: Number.isFinite(this.earliest) ? this.earliest : null,
    };
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
  // An earlier ingestion of this cluster that died mid-way shows as failed before this one starts.
  await failInterruptedIngestions(db, { clusterId });
  const chunkSize = Math.max(1, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
  const batch = await db.auditIngestBatch.create({
    data: { clusterId, source: target.source, fileName: target.fileName, actorLabel: target.actorLabel },
    // The cluster's number prefixes its seen audit IDs.
    select: { id: true, cluster: { select: { number: true } } },
  });
  const clusterNumber = batch.cluster.number;
  const outcome: IngestOutcome = {
    batchId: batch.id,
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    sampleReasons: [],
  };
  // Usernames resolved by committed chunks; a rolled-back chunk's discoveries are not kept.
  const identityIds = new Map<string, string>();
  const pool = sqlPoolOf(db);

  /** One chunk in one transaction: its seen keys, discovered identities, usage and counters. */
  const commitOnce = async (chunk: Chunk) =>
    inTransaction(pool, async (tx) => {
      await lockClusterUsage(tx, clusterId);
      const seenBefore = await markSeen(tx, clusterNumber, chunk.keys);
      const unknown = [...chunk.usernames()].filter((username) => !identityIds.has(username));
      const resolved = unknown.length
        ? await resolveIdentities(tx, clusterId, unknown, new Date())
        : new Map<string, string>();
      await writeUsage(
        tx,
        clusterId,
        chunk.writes(resolved.size ? new Map([...identityIds, ...resolved]) : identityIds, seenBefore),
      );
      const accepted = chunk.length - seenBefore.size;
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
      return { accepted, duplicates, sampleReasons, resolved };
    });

  const commit = async (chunk: Chunk) => {
    const done = await retried(() => commitOnce(chunk));
    for (const [username, id] of done.resolved) identityIds.set(username, id);
    outcome.accepted += done.accepted;
    outcome.duplicates += done.duplicates;
    outcome.rejected += chunk.rejections.length;
    outcome.sampleReasons = done.sampleReasons;
    options.onProgress?.({ ...outcome, sampleReasons: [...outcome.sampleReasons] });
  };

  let inFlight: Promise<void> | undefined;
  try {
    let chunk = new Chunk();
    // The first chunks are smaller, growing to chunkSize: Postgres starts on the first one while the rest is read.
    let size = Math.min(chunkSize, FIRST_CHUNK_SIZE);
    for await (const record of records) {
      chunk.add(record);
      if (chunk.records < size) continue;
      size = Math.min(chunkSize, 2 * size);
      await inFlight;
      inFlight = commit(chunk);
      // Handled where it is awaited; this only keeps Node from reporting it as unhandled in the meantime.
      inFlight.catch(() => undefined);
      chunk = new Chunk();
    }
    await inFlight;
    inFlight = undefined;
    if (chunk.records > 0) await commit(chunk);
  } catch (error) {
    // A failed read must not race the chunk still committing: the batch's counts are what got committed.
    await inFlight?.catch(() => undefined);
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
