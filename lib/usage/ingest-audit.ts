// Audit records in, usage rollups out. Records are validated one by one (a bad one costs only itself) and
// committed chunk by chunk: each chunk is one transaction holding its seen audit IDs, rollups, credential use,
// last-used times, discovered identities and the batch's counters, so whatever a batch reports is committed and
// a crash loses only the chunk in flight. While a chunk commits, the next one is being parsed.
import type { PrismaClient } from "@/lib/db";
import { enqueueUsageAnalysis } from "@/lib/jobs";
import { parseAuditEvent } from "./parse-event";
import type { AuditRecord } from "./read-records";
import type { IngestOutcome, RejectedLine, UsageEvent } from "./types";
import {
  extendObservedSince,
  lockClusterUsage,
  markSeen,
  MAX_AGENTS_OR_IPS,
  MAX_RESOURCE_NAMES,
  raiseIdentityLastUsed,
  resolveIdentities,
  upsertCredentialUsage,
  upsertRollups,
  type CredentialUsageRow,
  type RollupRow,
  type SeenKeys,
} from "./write-usage";

export interface IngestTarget {
  clusterId: string;
  source: "webhook" | "upload";
  fileName?: string;
  actorLabel: string;
}

export interface IngestOptions {
  /** Records per transaction (default 10,000). */
  chunkSize?: number;
  /** Called after each committed chunk with the totals so far. */
  onProgress?: (outcome: IngestOutcome) => void;
  /** Queue a re-analysis of the cluster when events were accepted (default true). */
  analyze?: boolean;
}

export const DEFAULT_CHUNK_SIZE = 10_000;
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

  seenKeys(): SeenKeys {
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
    return keys;
  }
}

const unionInto = (target: string[], values: readonly string[], max: number) => {
  for (const value of values)
    if (target.length < max && value !== "" && !target.includes(value)) target.push(value);
};

/** The writes of the new events: rollup rows, per-credential use, each identity's latest use, the earliest event. */
function aggregate(events: readonly UsageEvent[], identityIds: ReadonlyMap<string, string>) {
  const rollups = new Map<string, RollupRow & { first: number; last: number }>();
  const credentials = new Map<string, CredentialUsageRow & { first: number; last: number }>();
  const lastUsed = new Map<string, Date>();
  let earliest = Infinity;
  const raise = (identityId: string, at: Date) => {
    const previous = lastUsed.get(identityId);
    if (!previous || previous < at) lastUsed.set(identityId, at);
  };
  for (const event of events) {
    const identityId = identityIds.get(event.username)!;
    const at = event.at.getTime();
    const day = new Date(at - (at % DAY_MS)).toISOString().slice(0, 10);
    if (at < earliest) earliest = at;
    raise(identityId, event.at);
    const key = `${identityId}\u0000${day}\u0000${event.verb}\u0000${event.apiGroup}\u0000${event.resource}\u0000${event.subresource}\u0000${event.namespace}\u0000${event.path}`;
    let row = rollups.get(key);
    if (!row) {
      row = {
        identityId,
        day,
        verb: event.verb,
        apiGroup: event.apiGroup,
        resource: event.resource,
        subresource: event.subresource,
        namespace: event.namespace,
        path: event.path,
        count: 0,
        deniedCount: 0,
        firstSeenAt: "",
        lastSeenAt: "",
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
    if (event.userAgent) unionInto(row.userAgents, [event.userAgent], MAX_AGENTS_OR_IPS);
    unionInto(row.sourceIps, event.sourceIps, MAX_AGENTS_OR_IPS);
    if (!event.name) row.resourceNamesComplete = false;
    else if (!row.resourceNames.includes(event.name)) {
      if (row.resourceNames.length < MAX_RESOURCE_NAMES) row.resourceNames.push(event.name);
      else row.resourceNamesComplete = false;
    }

    if (event.credentialRef) {
      // The credential is the authenticated user's, also when it impersonated someone else.
      const ownerId = identityIds.get(event.impersonatedBy ?? event.username)!;
      raise(ownerId, event.at);
      let usage = credentials.get(event.credentialRef);
      if (!usage) {
        usage = {
          credentialRef: event.credentialRef,
          fingerprint: credentialFingerprint(event.credentialRef),
          identityId: ownerId,
          count: 0,
          firstSeenAt: "",
          lastSeenAt: "",
          first: at,
          last: at,
          userAgents: [],
          sourceIps: [],
        };
        credentials.set(event.credentialRef, usage);
      }
      usage.count++;
      usage.identityId = ownerId;
      if (at < usage.first) usage.first = at;
      if (at > usage.last) usage.last = at;
      if (event.userAgent) unionInto(usage.userAgents, [event.userAgent], MAX_AGENTS_OR_IPS);
      unionInto(usage.sourceIps, event.sourceIps, MAX_AGENTS_OR_IPS);
    }
  }
  const withTimes = <T extends { first: number; last: number; firstSeenAt: string; lastSeenAt: string }>(
    row: T,
  ) => {
    const { first, last, ...rest } = row;
    return { ...rest, firstSeenAt: new Date(first).toISOString(), lastSeenAt: new Date(last).toISOString() };
  };
  return {
    rollups: [...rollups.values()].map(withTimes),
    credentials: [...credentials.values()].map(withTimes),
    lastUsed,
    earliest: Number.isFinite(earliest) ? new Date(earliest) : undefined,
  };
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

  const commitOnce = async (chunk: Chunk) => {
    const now = new Date();
    return db.$transaction(
      async (tx) => {
        await lockClusterUsage(tx, clusterId);
        const seenBefore = await markSeen(tx, clusterId, chunk.seenKeys());
        const fresh = seenBefore.size ? chunk.events.filter((_, i) => !seenBefore.has(i)) : chunk.events;
        const usernames = new Set<string>();
        for (const event of fresh) {
          if (!identityIds.has(event.username)) usernames.add(event.username);
          if (event.impersonatedBy && event.credentialRef && !identityIds.has(event.impersonatedBy))
            usernames.add(event.impersonatedBy);
        }
        const resolved = usernames.size
          ? await resolveIdentities(tx, clusterId, [...usernames], now)
          : new Map<string, string>();
        const ids = resolved.size ? new Map([...identityIds, ...resolved]) : identityIds;
        const writes = aggregate(fresh, ids);
        await upsertRollups(tx, clusterId, writes.rollups);
        await upsertCredentialUsage(tx, clusterId, writes.credentials);
        await raiseIdentityLastUsed(tx, writes.lastUsed);
        if (writes.earliest) await extendObservedSince(tx, clusterId, writes.earliest);
        const duplicates = chunk.duplicates + seenBefore.size;
        const sampleReasons = [...outcome.sampleReasons, ...chunk.rejections].slice(0, MAX_SAMPLE_REASONS);
        await tx.auditIngestBatch.update({
          where: { id: batch.id },
          data: {
            accepted: { increment: fresh.length },
            duplicates: { increment: duplicates },
            rejected: { increment: chunk.rejections.length },
            sampleReasons: sampleReasons.map(({ line, reason }) => ({ line, reason })),
          },
        });
        return { accepted: fresh.length, duplicates, sampleReasons, resolved };
      },
      { timeout: 10 * 60_000, maxWait: 60_000 },
    );
  };

  const commit = async (chunk: Chunk) => {
    for (let attempt = 1; ; attempt++) {
      try {
        const done = await commitOnce(chunk);
        for (const [username, id] of done.resolved) identityIds.set(username, id);
        outcome.accepted += done.accepted;
        outcome.duplicates += done.duplicates;
        outcome.rejected += chunk.rejections.length;
        outcome.sampleReasons = done.sampleReasons;
        options.onProgress?.({ ...outcome, sampleReasons: [...outcome.sampleReasons] });
        return;
      } catch (error) {
        const state = sqlState(error);
        if (attempt >= MAX_ATTEMPTS || !state || !RETRIED_SQLSTATES.includes(state)) throw error;
      }
    }
  };

  let inFlight: Promise<void> | undefined;
  try {
    let chunk = new Chunk();
    for await (const record of records) {
      chunk.add(record);
      if (chunk.records < chunkSize) continue;
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
    if (queue?.installed) await enqueueUsageAnalysis(clusterId);
  } catch (error) {
    console.error(
      `usage: re-analysis of ${clusterId} not queued: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
