// The bulk SQL of one ingestion chunk: a handful of set-based statements per hundred thousand events (arrays in
// Postgres' binary format, or jsonb_to_recordset for the smaller ones), never one statement per event. All run inside the
// chunk's transaction, on a node-postgres client of the Prisma client's own pool (see sqlPoolOf): these
// parameters run to megabytes, which Prisma's raw queries would pass through JSON twice.
import type pg from "pg";
import { boolArray, int4Array, int8Array, int8ArrayOfNumbers, textArray } from "@/lib/db/binary-arrays";
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

// Days are counted from 1970-01-01 (UTC) and times are epoch milliseconds: numbers, which a chunk of tens of
// thousands of rows neither formats nor compares as strings.
const fromEpochDay = (expression: string) => `(date '1970-01-01' + ${expression})`;
const fromEpochMs = (expression: string) =>
  `(timestamp '1970-01-01' + ${expression} * interval '1 millisecond')`;

export interface RollupRow {
  identityId: string;
  /** Days since 1970-01-01 (UTC). */
  day: number;
  verb: string;
  apiGroup: string;
  resource: string;
  subresource: string;
  namespace: string;
  path: string;
  count: number;
  deniedCount: number;
  /** Epoch milliseconds. */
  firstSeenAt: number;
  lastSeenAt: number;
  userAgents: string[];
  sourceIps: string[];
  resourceNames: string[];
  resourceNamesComplete: boolean;
  /** Users that made these requests as the identity (impersonation). */
  impersonators: string[];
}

export interface CredentialUsageRow {
  credentialRef: string;
  /** What Credential.fingerprint holds for it: the certificate's SHA-256 (lowercase hex) or the token's JTI. */
  fingerprint: string | null;
  identityId: string;
  count: number;
  /** Epoch milliseconds. */
  firstSeenAt: number;
  lastSeenAt: number;
  userAgents: string[];
  sourceIps: string[];
}

/** The chunk's 64-bit event keys and their UTC days (days since 1970-01-01), position by position. */
export interface SeenKeys {
  key: BigInt64Array;
  day: Int32Array;
  length: number;
}

/** The keys ordered by day, then key: the index is walked once left to right rather than hit at random pages. */
function inIndexOrder(keys: SeenKeys): { day: Int32Array; key: BigInt64Array } {
  const perDay = new Map<number, number>();
  for (let i = 0; i < keys.length; i++) perDay.set(keys.day[i], (perDay.get(keys.day[i]) ?? 0) + 1);
  const days = [...perDay.keys()].sort((a, b) => a - b);
  const start = new Map<number, number>();
  let offset = 0;
  for (const day of days) {
    start.set(day, offset);
    offset += perDay.get(day)!;
  }
  const day = new Int32Array(keys.length);
  const key = new BigInt64Array(keys.length);
  const next = new Map(start);
  for (let i = 0; i < keys.length; i++) {
    const at = next.get(keys.day[i])!;
    next.set(keys.day[i], at + 1);
    key[at] = keys.key[i];
    day[at] = keys.day[i];
  }
  for (const first of days) key.subarray(start.get(first)!, start.get(first)! + perDay.get(first)!).sort();
  return { day, key };
}

const INSERT_SEEN_SQL = `INSERT INTO "AuditEventSeen" ("clusterNumber", "day", "eventKey")
SELECT $1, date '1970-01-01' + u.day, u.key FROM unnest($2::int4[], $3::int8[]) AS u(day, key)
ON CONFLICT DO NOTHING`;

/**
 * Records the chunk's event keys as seen; returns the positions of those already seen before (another stage,
 * a redelivery, a re-upload). Keys must be distinct; concurrent ingestions of one cluster are serialised by
 * the caller's lock. Usually none was seen: the insert says so by its row count, and only otherwise is it
 * done again, returning what it inserted.
 */
export async function markSeen(db: Db, clusterNumber: number, keys: SeenKeys): Promise<Set<number>> {
  if (keys.length === 0) return new Set();
  const ordered = inIndexOrder(keys);
  const params = [clusterNumber, int4Array(ordered.day), int8Array(ordered.key)];
  await db.query("SAVEPOINT mark_seen");
  const { rowCount } = await db.query(INSERT_SEEN_SQL, params);
  if (rowCount === keys.length) {
    await db.query("RELEASE SAVEPOINT mark_seen");
    return new Set();
  }
  await db.query("ROLLBACK TO SAVEPOINT mark_seen");
  const { rows } = await db.query<{ day: number; key: string }>(
    `${INSERT_SEEN_SQL} RETURNING ("day" - date '1970-01-01') AS "day", "eventKey"::text AS "key"`,
    params,
  );
  const inserted = new Set(rows.map((row) => `${row.day}:${row.key}`));
  const seen = new Set<number>();
  for (let i = 0; i < keys.length; i++) if (!inserted.has(`${keys.day[i]}:${keys.key[i]}`)) seen.add(i);
  return seen;
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
  "count", "deniedCount", "firstSeenAt", "lastSeenAt", "userAgents", "sourceIps", "resourceNames", "resourceNamesComplete", "impersonators")
SELECT $1, r."identityId", ${fromEpochDay('r."day"')}, r."verb", r."apiGroup", r."resource", r."subresource", r."namespace", r."path",
  r."count", r."deniedCount", ${fromEpochMs('r."firstSeenAt"')}, ${fromEpochMs('r."lastSeenAt"')},
  r."userAgents"::text[], r."sourceIps"::text[], r."resourceNames"::text[], r."resourceNamesComplete", r."impersonators"::text[]
FROM unnest($2::text[], $3::int4[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::int4[], $11::int4[],
  $12::int8[], $13::int8[], $14::text[], $15::text[], $16::text[], $17::bool[], $18::text[])
  AS r("identityId", "day", "verb", "apiGroup", "resource", "subresource", "namespace", "path", "count", "deniedCount",
    "firstSeenAt", "lastSeenAt", "userAgents", "sourceIps", "resourceNames", "resourceNamesComplete", "impersonators")
ORDER BY r."identityId", r."day", r."verb", r."apiGroup", r."resource", r."subresource", r."namespace", r."path"
ON CONFLICT ("identityId", "day", "verb", "apiGroup", "resource", "subresource", "namespace", "path") DO UPDATE SET
  "count" = t."count" + EXCLUDED."count",
  "deniedCount" = t."deniedCount" + EXCLUDED."deniedCount",
  "firstSeenAt" = LEAST(t."firstSeenAt", EXCLUDED."firstSeenAt"),
  "lastSeenAt" = GREATEST(t."lastSeenAt", EXCLUDED."lastSeenAt"),
  ${cappedUnion("userAgents", MAX_AGENTS_OR_IPS)},
  ${cappedUnion("sourceIps", MAX_AGENTS_OR_IPS)},
  ${cappedUnion("resourceNames", MAX_RESOURCE_NAMES)},
  ${cappedUnion("impersonators", MAX_AGENTS_OR_IPS)},
  "resourceNamesComplete" = t."resourceNamesComplete" AND EXCLUDED."resourceNamesComplete" AND (EXCLUDED."resourceNames" <@ t."resourceNames"
    OR (SELECT count(DISTINCT v) FROM unnest(t."resourceNames" || EXCLUDED."resourceNames") AS u(v)) <= ${MAX_RESOURCE_NAMES})`;

const ROWS_PER_STATEMENT = 5_000;

const escaped = (value: string) =>
  value.includes('"') || value.includes("\\") ? value.replace(/["\\]/g, "\\$&") : value;

/** A text[] literal (`{"a","b"}`): a row's list, cast by the statement, inside an array of such lists. */
const arrayLiteral = (values: readonly string[]) =>
  `{${values.map((value) => `"${escaped(value)}"`).join(",")}}`;

async function upsertRollups(db: Db, clusterId: string, rows: readonly RollupRow[]): Promise<void> {
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    const part = rows.slice(start, start + ROWS_PER_STATEMENT);
    const column = <T>(value: (row: RollupRow) => T) => part.map(value);
    await db.query(ROLLUP_SQL, [
      clusterId,
      textArray(column((row) => row.identityId)),
      int4Array(column((row) => row.day)),
      textArray(column((row) => row.verb)),
      textArray(column((row) => row.apiGroup)),
      textArray(column((row) => row.resource)),
      textArray(column((row) => row.subresource)),
      textArray(column((row) => row.namespace)),
      textArray(column((row) => row.path)),
      int4Array(column((row) => row.count)),
      int4Array(column((row) => row.deniedCount)),
      int8ArrayOfNumbers(column((row) => row.firstSeenAt)),
      int8ArrayOfNumbers(column((row) => row.lastSeenAt)),
      textArray(column((row) => arrayLiteral(row.userAgents))),
      textArray(column((row) => arrayLiteral(row.sourceIps))),
      textArray(column((row) => arrayLiteral(row.resourceNames))),
      boolArray(column((row) => row.resourceNamesComplete)),
      textArray(column((row) => arrayLiteral(row.impersonators))),
    ]);
  }
}

/**
 * Per-credential use, matched to the synced Credential by fingerprint (a live one first), and that
 * Credential's lastUsedAt raised to the latest use.
 */
const CREDENTIAL_USAGE_SQL = `WITH r AS (
  SELECT "credentialRef", "fingerprint", "identityId", "count", ${fromEpochMs('"firstSeenAt"')} AS "firstSeenAt",
    ${fromEpochMs('"lastSeenAt"')} AS "lastSeenAt", "userAgents", "sourceIps"
  FROM jsonb_to_recordset($2::jsonb) AS r("credentialRef" text, "fingerprint" text, "identityId" text, "count" int,
    "firstSeenAt" bigint, "lastSeenAt" bigint, "userAgents" text[], "sourceIps" text[])
), known AS (
  SELECT DISTINCT ON (c."fingerprint") c."fingerprint", c."id" FROM "Credential" c
  WHERE c."clusterId" = $1 AND c."fingerprint" IN (SELECT "fingerprint" FROM r)
  ORDER BY c."fingerprint", (c."deletedAt" IS NULL) DESC, c."lastSeenAt" DESC
), used AS (
  INSERT INTO "CredentialUsage" AS t ("clusterId", "credentialRef", "identityId", "credentialId", "count", "firstSeenAt", "lastSeenAt", "userAgents", "sourceIps")
  SELECT $1, r."credentialRef", r."identityId", known."id", r."count", r."firstSeenAt", r."lastSeenAt", r."userAgents", r."sourceIps"
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
async function raiseIdentityLastUsed(db: Db, lastUsed: Readonly<Record<string, number>>): Promise<void> {
  const rows = Object.entries(lastUsed)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([id, at]) => ({ id, at }));
  if (rows.length === 0) return;
  await db.query(
    `UPDATE "Identity" AS i SET "lastUsedAt" = r."at"
FROM (SELECT "id", ${fromEpochMs('"at"')} AS "at" FROM jsonb_to_recordset($1::jsonb) AS r("id" text, "at" bigint)) AS r
WHERE i."id" = r."id" AND (i."lastUsedAt" IS NULL OR i."lastUsedAt" < r."at")`,
    [JSON.stringify(rows)],
  );
}

/** Cluster.usageObservedSince = the earliest event ever ingested. */
async function extendObservedSince(db: Db, clusterId: string, earliest: number): Promise<void> {
  await db.query(
    `UPDATE "Cluster" SET "usageObservedSince" = ${fromEpochMs("$2::bigint")}
WHERE "id" = $1 AND ("usageObservedSince" IS NULL OR "usageObservedSince" > ${fromEpochMs("$2::bigint")})`,
    [clusterId, earliest],
  );
}

/** What one chunk adds to a cluster's usage, by identity id. */
export interface UsageWrites {
  rollups: RollupRow[];
  credentials: CredentialUsageRow[];
  /** Latest use per identity id (epoch milliseconds). */
  lastUsed: Record<string, number>;
  /** The earliest event (epoch milliseconds); null when there was none. */
  earliest: number | null;
}

/** Adds `writes` to the rollups, credential use, last-used times and the cluster's observed-since. */
export async function writeUsage(db: Db, clusterId: string, writes: UsageWrites): Promise<void> {
  await upsertRollups(db, clusterId, writes.rollups);
  await upsertCredentialUsage(db, clusterId, writes.credentials);
  await raiseIdentityLastUsed(db, writes.lastUsed);
  if (writes.earliest !== null) await extendObservedSince(db, clusterId, writes.earliest);
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
  "rejected" = "rejected" + $4, "sampleReasons" = $5::jsonb, "lastCommitAt" = $6::timestamp(3) WHERE "id" = $1`,
    [
      batchId,
      counts.accepted,
      counts.duplicates,
      counts.rejected,
      JSON.stringify(counts.sampleReasons),
      new Date().toISOString(),
    ],
  );
}
