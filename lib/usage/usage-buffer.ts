// The usage of several committed (staged) chunks summed up in memory, so that the rollups are written once per
// flush instead of once per chunk: a rollup row costs Postgres far more than an event does, and consecutive
// chunks mostly touch the same rows. Merging follows the SQL upserts in write-usage.ts exactly.
import {
  MAX_AGENTS_OR_IPS,
  MAX_RESOURCE_NAMES,
  type CredentialUsageRow,
  type RollupRow,
  type UsageWrites,
} from "./write-usage";

/** `target` ∪ `values`, first ones kept, at most `max`; true when something did not fit. */
function unionCapped(target: string[], values: readonly string[], max: number): boolean {
  let overflow = false;
  for (const value of values) {
    if (target.includes(value)) continue;
    if (target.length < max) target.push(value);
    else overflow = true;
  }
  return overflow;
}

const earlier = (a: string, b: string) => (a <= b ? a : b);
const later = (a: string, b: string) => (a >= b ? a : b);

const rollupKey = (row: RollupRow) =>
  `${row.identityId}\u0000${row.day}\u0000${row.verb}\u0000${row.apiGroup}\u0000${row.resource}\u0000${row.subresource}\u0000${row.namespace}\u0000${row.path}`;

export class UsageBuffer {
  private rollups = new Map<string, RollupRow>();
  private credentials = new Map<string, CredentialUsageRow>();
  private lastUsed: Record<string, string> = {};
  private earliest: string | null = null;
  /** The staged chunks summed up here, which a flush claims. */
  readonly seqs: number[] = [];

  get rollupCount(): number {
    return this.rollups.size;
  }

  get isEmpty(): boolean {
    return this.seqs.length === 0;
  }

  /** Takes the rows of `writes` over: they are merged into in place, so the caller must not use them again. */
  add(seq: number, writes: UsageWrites): void {
    this.seqs.push(seq);
    for (const row of writes.rollups) {
      const key = rollupKey(row);
      const into = this.rollups.get(key);
      if (!into) {
        this.rollups.set(key, row);
        continue;
      }
      into.count += row.count;
      into.deniedCount += row.deniedCount;
      into.firstSeenAt = earlier(into.firstSeenAt, row.firstSeenAt);
      into.lastSeenAt = later(into.lastSeenAt, row.lastSeenAt);
      unionCapped(into.userAgents, row.userAgents, MAX_AGENTS_OR_IPS);
      unionCapped(into.sourceIps, row.sourceIps, MAX_AGENTS_OR_IPS);
      const overflow = unionCapped(into.resourceNames, row.resourceNames, MAX_RESOURCE_NAMES);
      into.resourceNamesComplete = into.resourceNamesComplete && row.resourceNamesComplete && !overflow;
    }
    for (const row of writes.credentials) {
      const into = this.credentials.get(row.credentialRef);
      if (!into) {
        this.credentials.set(row.credentialRef, row);
        continue;
      }
      // The latest chunk's owner wins, as in the upsert.
      into.identityId = row.identityId;
      into.count += row.count;
      into.firstSeenAt = earlier(into.firstSeenAt, row.firstSeenAt);
      into.lastSeenAt = later(into.lastSeenAt, row.lastSeenAt);
      unionCapped(into.userAgents, row.userAgents, MAX_AGENTS_OR_IPS);
      unionCapped(into.sourceIps, row.sourceIps, MAX_AGENTS_OR_IPS);
    }
    for (const [identityId, at] of Object.entries(writes.lastUsed)) {
      const known = this.lastUsed[identityId];
      this.lastUsed[identityId] = known === undefined ? at : later(known, at);
    }
    if (writes.earliest !== null)
      this.earliest = this.earliest === null ? writes.earliest : earlier(this.earliest, writes.earliest);
  }

  writes(): UsageWrites {
    return {
      rollups: [...this.rollups.values()],
      credentials: [...this.credentials.values()],
      lastUsed: this.lastUsed,
      earliest: this.earliest,
    };
  }

  clear(): void {
    this.rollups = new Map();
    this.credentials = new Map();
    this.lastUsed = {};
    this.earliest = null;
    this.seqs.length = 0;
  }
}
