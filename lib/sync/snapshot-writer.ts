import type { Prisma } from "@/lib/db";

/**
 * Bulk writes of synced rows: one INSERT … SELECT FROM json_to_recordset … ON CONFLICT DO UPDATE per chunk,
 * so tens of thousands of objects cost a handful of statements instead of one round trip each.
 */

type Db = Prisma.TransactionClient;

type ColumnType = "text" | "boolean" | "jsonb" | "timestamp(3)" | "text[]";

export interface TableSpec {
  table: "KubeNamespace" | "Identity" | "Credential" | "Workload" | "RbacRole" | "RbacBinding";
  /** Natural key after clusterId (the table's unique constraint). */
  key: string[];
  columns: Record<string, ColumnType>;
  /** Columns stored as a Postgres enum, cast from text. */
  enums?: Record<string, string>;
  /** Rows carry identityKind/identityNamespace/identityName, resolved to identityId by a join. */
  linksIdentity?: boolean;
  /** Columns another writer may have raised (audit usage): an upsert keeps the greater value. */
  neverLowered?: string[];
  /** More assignments when an upsert finds the row (raw SQL). */
  alsoOnUpdate?: string[];
  /** Rows matching this condition are not the sync's to delete when a snapshot lacks them (raw SQL). */
  keptWhenUnseen?: string;
}

const q = (name: string) => `"${name}"`;
const CHUNK_ROWS = 5_000;

export const tables = {
  namespaces: {
    table: "KubeNamespace",
    key: ["name"],
    columns: {
      name: "text",
      uid: "text",
      labels: "jsonb",
      annotations: "jsonb",
      createdInClusterAt: "timestamp(3)",
    },
  },
  identities: {
    table: "Identity",
    key: ["kind", "namespace", "name"],
    columns: {
      kind: "text",
      namespace: "text",
      name: "text",
      username: "text",
      uid: "text",
      labels: "jsonb",
      annotations: "jsonb",
      automountToken: "boolean",
      createdInClusterAt: "timestamp(3)",
      groups: "text[]",
    },
    enums: { kind: "IdentityKind" },
    // Identities known only from audit events are no cluster object; once the cluster shows one, it is.
    alsoOnUpdate: [`"discoveredByUsage" = false`],
    keptWhenUnseen: `"discoveredByUsage"`,
  },
  credentials: {
    table: "Credential",
    key: ["kind", "namespace", "name"],
    columns: {
      kind: "text",
      namespace: "text",
      name: "text",
      uid: "text",
      issuedAt: "timestamp(3)",
      expiresAt: "timestamp(3)",
      fingerprint: "text",
      lastUsedAt: "timestamp(3)",
      labels: "jsonb",
      annotations: "jsonb",
      details: "jsonb",
    },
    enums: { kind: "CredentialKind" },
    linksIdentity: true,
    // The legacy-token-last-used label has day precision; audit events may already know a later use.
    neverLowered: ["lastUsedAt"],
  },
  workloads: {
    table: "Workload",
    key: ["kind", "namespace", "name"],
    columns: {
      kind: "text",
      namespace: "text",
      name: "text",
      uid: "text",
      serviceAccountName: "text",
      ownerKind: "text",
      ownerName: "text",
      automountToken: "boolean",
      createdInClusterAt: "timestamp(3)",
    },
    linksIdentity: true,
  },
  roles: {
    table: "RbacRole",
    key: ["kind", "namespace", "name"],
    columns: {
      kind: "text",
      namespace: "text",
      name: "text",
      uid: "text",
      labels: "jsonb",
      rules: "jsonb",
      aggregationRule: "jsonb",
      resourceVersion: "text",
    },
    enums: { kind: "RoleKind" },
  },
  bindings: {
    table: "RbacBinding",
    key: ["kind", "namespace", "name"],
    columns: {
      kind: "text",
      namespace: "text",
      name: "text",
      uid: "text",
      roleRefKind: "text",
      roleRefName: "text",
      subjects: "jsonb",
      labels: "jsonb",
      resourceVersion: "text",
    },
    enums: { kind: "BindingKind", roleRefKind: "RoleKind" },
  },
} satisfies Record<string, TableSpec>;

function upsertSql(spec: TableSpec): string {
  const columns = Object.keys(spec.columns);
  const recordset = [
    ...columns.map((c) => `${q(c)} ${spec.columns[c]}`),
    ...(spec.linksIdentity ? [`"identityKind" text`, `"identityNamespace" text`, `"identityName" text`] : []),
  ].join(", ");
  const values = columns.map((c) => (spec.enums?.[c] ? `r.${q(c)}::${q(spec.enums[c])}` : `r.${q(c)}`));
  const updated = [
    ...columns.filter((c) => !spec.key.includes(c)),
    ...(spec.linksIdentity ? ["identityId"] : []),
    "lastSeenAt",
    "deletedAt",
  ];
  return `INSERT INTO ${q(spec.table)} ("id", "clusterId", ${columns.map(q).join(", ")}${spec.linksIdentity ? `, "identityId"` : ""}, "firstSeenAt", "lastSeenAt", "deletedAt")
SELECT gen_random_uuid()::text, $2, ${values.join(", ")}${spec.linksIdentity ? ", i.id" : ""}, $3::timestamp(3), $3::timestamp(3), NULL
FROM json_to_recordset($1::json) AS r(${recordset})
${
  spec.linksIdentity
    ? `LEFT JOIN "Identity" i ON i."clusterId" = $2 AND i."kind" = r."identityKind"::"IdentityKind" AND i."namespace" = r."identityNamespace" AND i."name" = r."identityName"`
    : ""
}
ON CONFLICT ("clusterId", ${spec.key.map(q).join(", ")}) DO UPDATE SET ${[
    ...updated.map((c) =>
      spec.neverLowered?.includes(c)
        ? `${q(c)} = GREATEST(${q(spec.table)}.${q(c)}, EXCLUDED.${q(c)})`
        : `${q(c)} = EXCLUDED.${q(c)}`,
    ),
    ...(spec.alsoOnUpdate ?? []),
  ].join(", ")}`;
}

const upsertStatements = new Map<TableSpec, string>();

/** Inserts or updates rows by natural key and marks them seen at `seenAt` (and not deleted). */
export async function upsertRows(
  db: Db,
  spec: TableSpec,
  clusterId: string,
  rows: readonly object[],
  seenAt: Date,
): Promise<void> {
  let sql = upsertStatements.get(spec);
  if (!sql) upsertStatements.set(spec, (sql = upsertSql(spec)));
  for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
    await db.$executeRawUnsafe(
      sql,
      JSON.stringify(rows.slice(start, start + CHUNK_ROWS)),
      clusterId,
      seenAt.toISOString(),
    );
  }
}

/** Everything of the cluster in this table that the snapshot did not contain is gone since `seenAt`. */
export async function markUnseenDeleted(
  db: Db,
  spec: TableSpec,
  clusterId: string,
  seenAt: Date,
): Promise<number> {
  return db.$executeRawUnsafe(
    `UPDATE ${q(spec.table)} SET "deletedAt" = $2::timestamp(3) WHERE "clusterId" = $1 AND "deletedAt" IS NULL AND "lastSeenAt" < $2::timestamp(3)${
      spec.keptWhenUnseen ? ` AND NOT (${spec.keptWhenUnseen})` : ""
    }`,
    clusterId,
    seenAt.toISOString(),
  );
}

/** Marks specific rows (by natural key) deleted, for watch DELETED events. */
export async function markDeleted(
  db: Db,
  spec: TableSpec,
  clusterId: string,
  keys: readonly Record<string, string>[],
  at: Date,
): Promise<void> {
  if (keys.length === 0) return;
  const match = spec.key
    .map((c) => (spec.enums?.[c] ? `t.${q(c)} = k.${q(c)}::${q(spec.enums[c])}` : `t.${q(c)} = k.${q(c)}`))
    .join(" AND ");
  await db.$executeRawUnsafe(
    `UPDATE ${q(spec.table)} t SET "deletedAt" = $3::timestamp(3) FROM json_to_recordset($1::json) AS k(${spec.key.map((c) => `${q(c)} text`).join(", ")})
WHERE t."clusterId" = $2 AND t."deletedAt" IS NULL AND ${match}`,
    JSON.stringify(keys),
    clusterId,
    at.toISOString(),
  );
}

/**
 * RBAC subjects that are no object in the cluster become identities: every Group subject, and User subjects
 * whose name is no live service account's or certificate user's username. Marks them seen at `seenAt`;
 * referenced subjects not touched here are the caller's to mark deleted. Returns how many there are.
 */
export async function upsertSubjectIdentities(db: Db, clusterId: string, seenAt: Date): Promise<number> {
  return db.$executeRawUnsafe(
    `INSERT INTO "Identity" ("id", "clusterId", "kind", "namespace", "name", "username", "firstSeenAt", "lastSeenAt", "deletedAt")
SELECT gen_random_uuid()::text, $1, s.kind::"IdentityKind", '', s.name, s.name, $2::timestamp(3), $2::timestamp(3), NULL
FROM (
  SELECT DISTINCT subject->>'kind' AS kind, subject->>'name' AS name
  FROM "RbacBinding" b CROSS JOIN LATERAL jsonb_array_elements(b."subjects") AS subject
  WHERE b."clusterId" = $1 AND b."deletedAt" IS NULL AND subject->>'kind' IN ('User', 'Group')
) AS s
WHERE s.kind = 'Group' OR NOT EXISTS (
  SELECT 1 FROM "Identity" k
  WHERE k."clusterId" = $1 AND k."deletedAt" IS NULL AND k."kind" IN ('ServiceAccount', 'CertificateUser') AND k."username" = s.name
)
ON CONFLICT ("clusterId", "kind", "namespace", "name") DO UPDATE SET "lastSeenAt" = EXCLUDED."lastSeenAt", "deletedAt" = NULL, "discoveredByUsage" = false`,
    clusterId,
    seenAt.toISOString(),
  );
}

/**
 * Subject identities (User/Group) that the last upsertSubjectIdentities at `seenAt` did not find are gone;
 * users known only from audit events stay (no binding ever named them).
 */
export async function markUnreferencedSubjectsDeleted(
  db: Db,
  clusterId: string,
  seenAt: Date,
): Promise<void> {
  await db.$executeRawUnsafe(
    `UPDATE "Identity" SET "deletedAt" = $2::timestamp(3)
WHERE "clusterId" = $1 AND "deletedAt" IS NULL AND "kind" IN ('User', 'Group') AND "lastSeenAt" < $2::timestamp(3) AND NOT "discoveredByUsage"`,
    clusterId,
    seenAt.toISOString(),
  );
}

/**
 * Identity columns derived from live credentials: legacy token present, oldest credential issue date, and
 * lastUsedAt raised to the latest credential use (the legacy-token-last-used label where no audit event is known).
 */
export async function refreshCredentialColumns(db: Db, clusterId: string): Promise<void> {
  await db.$executeRawUnsafe(
    `UPDATE "Identity" AS t SET "hasLegacyToken" = agg.legacy, "oldestCredentialAt" = agg.oldest, "lastUsedAt" = GREATEST(t."lastUsedAt", agg.used)
FROM (
  SELECT i.id, COALESCE(bool_or(c."kind" = 'legacyTokenSecret'), false) AS legacy, min(c."issuedAt") AS oldest, max(c."lastUsedAt") AS used
  FROM "Identity" i LEFT JOIN "Credential" c ON c."identityId" = i.id AND c."deletedAt" IS NULL
  WHERE i."clusterId" = $1
  GROUP BY i.id
) AS agg
WHERE t.id = agg.id AND (t."hasLegacyToken" IS DISTINCT FROM agg.legacy OR t."oldestCredentialAt" IS DISTINCT FROM agg.oldest
  OR agg.used > t."lastUsedAt" OR (t."lastUsedAt" IS NULL AND agg.used IS NOT NULL))`,
    clusterId,
  );
}

/** Serialises writers of one cluster's inventory (full syncs and watch batches) within their transactions. */
export async function lockClusterInventory(db: Db, clusterId: string): Promise<void> {
  await db.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(hashtext($1))`, `keyward-inventory:${clusterId}`);
}
