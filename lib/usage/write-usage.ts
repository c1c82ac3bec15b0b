// The bulk SQL of one ingestion chunk: a handful of set-based statements per few thousand events (arrays and
// jsonb_to_recordset, as lib/sync/snapshot-writer.ts does), never one statement per event. All run inside the
// chunk's transaction, on a node-postgres client of the Prisma client's own pool (see sqlPoolOf): these
// parameters run to megabytes, which Prisma's raw queries would pass through JSON twice.
import type pg from "pg";
import { parseServiceAccountUsername } from "@/lib/rbac";

type Db = pg.ClientBase;

/** Runs `work` in one transaction on a client of `pool`. */
export async function inTransaction<T>(pool: pg.Pool, work: (db: Db) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch((rollbackError: Error) => (broken = rollbackError));
    throw error;
  } finally {
    // A client that could not even roll back is dropped rather than handed to the next caller.
    client.release(broken);
  }
}

export const MAX_AGENTS_OR_IPS = 10;
export const MAX_RESOURCE_NAMES = 20;

export interface RollupRow {
  identityId: string;
  /** YYYY-MM-DD (UTC). */
  day: string;
  verb: string;
  apiGroup: string;
  resource: string;
  subresource: string;
  namespace: string;
  path: string;
  count: number;
  deniedCount: number;
  firstSeenAt: string;
  lastSeenAt: string;
  userAgents: string[];
  sourceIps: string[];
  resourceNames: string[];
  resourceNamesComplete: boolean;
}

export interface CredentialUsageRow {
  credentialRef: string;
  /** What Credential.fingerprint holds for it: the certificate's SHA-256 (lowercase hex) or the token's JTI. */
  fingerprint: string | null;
  identityId: string;
  count: number;
  firstSeenAt: string;
  lastSeenAt: string;
  userAgents: string[];
  sourceIps: string[];
}

/** A 64-bit event key as two signed 32-bit halves, and its UTC day (days since 1970-01-01). */
export interface SeenKeys {
  high: Int32Array;
  low: Int32Array;
  day: Int32Array;
  length: number;
}

const intArray = (values: Int32Array, length: number) => `{${values.subarray(0, length).join(",")}}`;

/**
 * Records the chunk's event keys as seen; returns the positions of those already seen before (another stage,
 * a redelivery, a re-upload). Concurrent ingestions of one cluster are serialised by the caller's lock.
 */
export async function markSeen(db: Db, clusterId: string, keys: SeenKeys): Promise<Set<number>> {
  if (keys.length === 0) return new Set();
  const { rows } = await db.query<{ position: number }>(
    `WITH input AS (
  SELECT (u.high::bigint << 32) | (u.low::bigint & 4294967295) AS key, date '1970-01-01' + u.day AS day, u.position
  FROM unnest($2::int[], $3::int[], $4::int[]) WITH ORDINALITY AS u(high, low, day, position)
), inserted AS (
  INSERT INTO "AuditEventSeen" ("clusterId", "day", "eventKey")
  SELECT $1, input.day, input.key FROM input
  -- In index order: the index is walked once left to right rather than hit at random pages.
  ORDER BY input.day, input.key
  ON CONFLICT DO NOTHING
  RETURNING "day", "eventKey"
)
SELECT (input.position - 1)::int AS position FROM input
LEFT JOIN inserted ON inserted."day" = input.day AND inserted."eventKey" = input.key
WHERE inserted."eventKey" IS NULL`,
    [
      clusterId,
      intArray(keys.high, keys.length),
      intArray(keys.low, keys.length),
      intArray(keys.day, keys.length),
    ],
  );
  return new Set(rows.map((row) => row.position));
}

// Live rows first; a request is made by a service account or certificate user rather than a same-named
// RBAC User subject; never by a Group.
const FIND_IDENTITIES_SQL = `SELECT DISTINCT ON ("username") "username", "id" FROM "Identity"
WHERE "clusterId" = $1 AND "username" = ANY($2::text[]) AND "kind" <> 'Group'
ORDER BY "username", ("deletedAt" IS NULL) DESC, ("kind" IN ('ServiceAccount', 'CertificateUser')) DESC, "lastSeenAt" DESC`;

const DISCOVER_SQL = `INSERT INTO "Identity" ("id", "clusterId", "kind", "namespace", "name", "username", "discoveredByUsage", "firstSeenAt", "lastSeenAt")
SELECT gen_random_uuid()::text, $1, r."kind"::"IdentityKind", r."namespace", r."name", r."username", true, $3::timestamp(3), $3::timestamp(3)
FROM jsonb_to_recordset($2::jsonb) AS r("kind" text, "namespace" text, "name" text, "username" text)
ON CONFLICT ("clusterId", "kind", "namespace", "name") DO NOTHING`;

/**
 * Identity ids for usernames of the cluster. Usernames no identity has become discovered identities: a
 * `system:serviceaccount:<ns>:<name>` a ServiceAccount, anything else a User.
 */
export async function resolveIdentities(
  db: Db,
  clusterId: string,
  usernames: readonly string[],
  now: Date,
): Promise<Map<string, string>> {
  const find = async (names: readonly string[]) =>
    (await db.query<{ username: string; id: string }>(FIND_IDENTITIES_SQL, [clusterId, names])).rows;
  const ids = new Map((await find(usernames)).map((row) => [row.username, row.id]));
  const unknown = usernames.filter((username) => !ids.has(username));
  if (unknown.length === 0) return ids;
  const discovered = unknown.map((username) => {
    const serviceAccount = parseServiceAccountUsername(username);
    return serviceAccount
      ? { kind: "ServiceAccount", ...serviceAccount, username }
      : { kind: "User", namespace: "", name: username, username };
  });
  await db.query(DISCOVER_SQL, [clusterId, JSON.stringify(discovered), now.toISOString()]);
  for (const row of await find(unknown)) ids.set(row.username, row.id);
  const missing = unknown.find((username) => !ids.has(username));
  if (missing !== undefined)
    throw new Error(`no identity could be found or created for ${JSON.stringify(missing)}`);
  return ids;
}

/** `column = union of old and new values, first ones kept, at most max` (cheap when nothing new arrived). */
const cappedUnion = (column: string, max: number) =>
  `"${column}" = CASE WHEN EXCLUDED."${column}" <@ t."${column}" OR cardinality(t."${column}") >= ${max} THEN t."${column}"
  ELSE ARRAY(SELECT v FROM unnest(t."${column}" || EXCLUDED."${column}") WITH ORDINALITY AS u(v, o) GROUP BY v ORDER BY min(o) LIMIT ${max}) END`;

const ROLLUP_SQL = `INSERT INTO "UsageRollup" AS t ("clusterId", "identityId", "day", "verb", "apiGroup", "resource", "subresource", "namespace", "path",
  "count", "deniedCount", "firstSeenAt", "lastSeenAt", "userAgents", "sourceIps", "resourceNames", "resourceNamesComplete")
SELECT $1, r."identityId", r."day"::date, r."verb", r."apiGroup", r."resource", r."subresource", r."namespace", r."path",
  r."count", r."deniedCount", r."firstSeenAt"::timestamp(3), r."lastSeenAt"::timestamp(3), r."userAgents", r."sourceIps", r."resourceNames", r."resourceNamesComplete"
FROM jsonb_to_recordset($2::jsonb) AS r("identityId" text, "day" text, "verb" text, "apiGroup" text, "resource" text, "subresource" text,
  "namespace" text, "path" text, "count" int, "deniedCount" int, "firstSeenAt" text, "lastSeenAt" text, "userAgents" text[], "sourceIps" text[],
  "resourceNames" text[], "resourceNamesComplete" boolean)
ORDER BY r."identityId", r."day", r."verb", r."apiGroup", r."resource", r."subresource", r."namespace", r."path"
ON CONFLICT ("identityId", "day", "verb", "apiGroup", "resource", "subresource", "namespace", "path") DO UPDATE SET
  "count" = t."count" + EXCLUDED."count",
  "deniedCount" = t."deniedCount" + EXCLUDED."deniedCount",
  "firstSeenAt" = LEAST(t."firstSeenAt", EXCLUDED."firstSeenAt"),
  "lastSeenAt" = GREATEST(t."lastSeenAt", EXCLUDED."lastSeenAt"),
  ${cappedUnion("userAgents", MAX_AGENTS_OR_IPS)},
  ${cappedUnion("sourceIps", MAX_AGENTS_OR_IPS)},
  ${cappedUnion("resourceNames", MAX_RESOURCE_NAMES)},
  "resourceNamesComplete" = t."resourceNamesComplete" AND EXCLUDED."resourceNamesComplete" AND (EXCLUDED."resourceNames" <@ t."resourceNames"
    OR (SELECT count(DISTINCT v) FROM unnest(t."resourceNames" || EXCLUDED."resourceNames") AS u(v)) <= ${MAX_RESOURCE_NAMES})`;

const ROWS_PER_STATEMENT = 5_000;

async function upsertRollups(db: Db, clusterId: string, rows: readonly RollupRow[]): Promise<void> {
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT)
    await db.query(ROLLUP_SQL, [clusterId, JSON.stringify(rows.slice(start, start + ROWS_PER_STATEMENT))]);
}

/**
 * Per-credential use, matched to the synced Credential by fingerprint (a live one first), and that
 * Credential's lastUsedAt raised to the latest use.
 */
const CREDENTIAL_USAGE_SQL = `WITH r AS (
  SELECT * FROM jsonb_to_recordset($2::jsonb) AS r("credentialRef" text, "fingerprint" text, "identityId" text, "count" int,
    "firstSeenAt" text, "lastSeenAt" text, "userAgents" text[], "sourceIps" text[])
), known AS (
  SELECT DISTINCT ON (c."fingerprint") c."fingerprint", c."id" FROM "Credential" c
  WHERE c."clusterId" = $1 AND c."fingerprint" IN (SELECT "fingerprint" FROM r)
  ORDER BY c."fingerprint", (c."deletedAt" IS NULL) DESC, c."lastSeenAt" DESC
), used AS (
  INSERT INTO "CredentialUsage" AS t ("clusterId", "credentialRef", "identityId", "credentialId", "count", "firstSeenAt", "lastSeenAt", "userAgents", "sourceIps")
  SELECT $1, r."credentialRef", r."identityId", known."id", r."count", r."firstSeenAt"::timestamp(3), r."lastSeenAt"::timestamp(3), r."userAgents", r."sourceIps"
  FROM r LEFT JOIN known ON known."fingerprint" = r."fingerprint"
  ORDER BY r."credentialRef"
  ON CONFLICT ("clusterId", "credentialRef") DO UPDATE SET
    "identityId" = EXCLUDED."identityId",
    "credentialId" = COALESCE(EXCLUDED."credentialId", t."credentialId"),
    "count" = t."count" + EXCLUDED."count",
    "firstSeenAt" = LEAST(t."firstSeenAt", EXCLUDED."firstSeenAt"),
    "lastSeenAt" = GREATEST(t."lastSeenAt", EXCLUDED."lastSeenAt"),
    ${cappedUnion("userAgents", MAX_AGENTS_OR_IPS)},
    ${cappedUnion("sourceIps", MAX_AGENTS_OR_IPS)}
  RETURNING "credentialId", "lastSeenAt"
)
UPDATE "Credential" AS c SET "lastUsedAt" = latest."at"
FROM (SELECT "credentialId", max("lastSeenAt") AS "at" FROM used WHERE "credentialId" IS NOT NULL GROUP BY 1) AS latest
WHERE c."id" = latest."credentialId" AND (c."lastUsedAt" IS NULL OR c."lastUsedAt" < latest."at")`;

async function upsertCredentialUsage(
  db: Db,
  clusterId: string,
  rows: readonly CredentialUsageRow[],
): Promise<void> {
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT)
    await db.query(CREDENTIAL_USAGE_SQL, [
      clusterId,
      JSON.stringify(rows.slice(start, start + ROWS_PER_STATEMENT)),
    ]);
}

/** Identity.lastUsedAt never goes back: only later uses raise it. */
async function raiseIdentityLastUsed(db: Db, lastUsed: Readonly<Record<string, string>>): Promise<void> {
  const rows = Object.entries(lastUsed)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([id, at]) => ({ id, at }));
  if (rows.length === 0) return;
  await db.query(
    `UPDATE "Identity" AS i SET "lastUsedAt" = r."at"::timestamp(3)
FROM jsonb_to_recordset($1::jsonb) AS r("id" text, "at" text)
WHERE i."id" = r."id" AND (i."lastUsedAt" IS NULL OR i."lastUsedAt" < r."at"::timestamp(3))`,
    [JSON.stringify(rows)],
  );
}

/** Cluster.usageObservedSince = the earliest event ever ingested. */
async function extendObservedSince(db: Db, clusterId: string, earliest: string): Promise<void> {
  await db.query(
    `UPDATE "Cluster" SET "usageObservedSince" = $2::timestamp(3)
WHERE "id" = $1 AND ("usageObservedSince" IS NULL OR "usageObservedSince" > $2::timestamp(3))`,
    [clusterId, earliest],
  );
}

/** What one chunk, or several merged, adds to a cluster's usage, by identity id: what is staged, then written. */
export interface UsageWrites {
  rollups: RollupRow[];
  credentials: CredentialUsageRow[];
  /** Latest use per identity id (ISO 8601). */
  lastUsed: Record<string, string>;
  /** The earliest event (ISO 8601); null when there was none. */
  earliest: string | null;
}

/** Adds `writes` to the rollups, credential use, last-used times and the cluster's observed-since. */
export async function writeUsage(db: Db, clusterId: string, writes: UsageWrites): Promise<void> {
  await upsertRollups(db, clusterId, writes.rollups);
  await upsertCredentialUsage(db, clusterId, writes.credentials);
  await raiseIdentityLastUsed(db, writes.lastUsed);
  if (writes.earliest !== null) await extendObservedSince(db, clusterId, writes.earliest);
}

/** Keeps a committed chunk's usage, one row, until it is merged into the rollups (see claimStaged). */
export async function stageUsage(
  db: Db,
  staged: { batchId: string; seq: number; clusterId: string },
  writes: UsageWrites,
): Promise<void> {
  await db.query(
    `INSERT INTO "UsageStaged" ("batchId", "seq", "clusterId", "payload") VALUES ($1, $2, $3, $4)`,
    [staged.batchId, staged.seq, staged.clusterId, JSON.stringify(writes)],
  );
}

/**
 * Deletes staged chunks about to be merged; returns how many were still there. Deleting is what claims them:
 * whoever deletes a staged chunk merges it in the same transaction, so it is counted exactly once.
 */
export async function claimStaged(db: Db, batchId: string, seqs: readonly number[]): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM "UsageStaged" WHERE "batchId" = $1 AND "seq" = ANY($2::int[])`,
    [batchId, seqs],
  );
  return rowCount ?? 0;
}

/** Claims one staged chunk and returns its usage, or null when someone else merged it first. */
export async function takeStaged(db: Db, batchId: string, seq: number): Promise<UsageWrites | null> {
  const {
    rows: [row],
  } = await db.query<{ payload: string }>(
    `DELETE FROM "UsageStaged" WHERE "batchId" = $1 AND "seq" = $2 RETURNING "payload"`,
    [batchId, seq],
  );
  return row ? (JSON.parse(row.payload) as UsageWrites) : null;
}

/** Serialises the chunk transactions of one cluster's ingestions (webhook batches may arrive side by side). */
export async function lockClusterUsage(db: Db, clusterId: string): Promise<void> {
  await db.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`keyward-usage:${clusterId}`]);
}

/** Adds one chunk's counts to its batch, with the first rejections so far. */
export async function countIntoBatch(
  db: Db,
  batchId: string,
  counts: {
    accepted: number;
    duplicates: number;
    rejected: number;
    sampleReasons: { line: number; reason: string }[];
  },
): Promise<void> {
  await db.query(
    `UPDATE "AuditIngestBatch" SET "accepted" = "accepted" + $2, "duplicates" = "duplicates" + $3,
  "rejected" = "rejected" + $4, "sampleReasons" = $5::jsonb WHERE "id" = $1`,
    [batchId, counts.accepted, counts.duplicates, counts.rejected, JSON.stringify(counts.sampleReasons)],
  );
}
