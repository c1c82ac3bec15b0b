// Applies prisma/migrations/*/migration.sql without Prisma's native schema engine, recording each
// migration in `_prisma_migrations` exactly as `prisma migrate deploy` does, so the official CLI can
// take over the same database at any time (and air-gapped installs need no engine download).
import { createHash, randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";

export type MigrateOptions = {
  migrationsDir?: string;
  log?: (message: string) => void;
};

export type MigrateResult = {
  /** Migrations this call applied, in order. */
  applied: string[];
  /** Migrations that were already applied (by an earlier run or a concurrent replica). */
  alreadyApplied: string[];
};

type MigrationFile = { name: string; sql: string; checksum: string };

type MigrationRow = {
  id: string;
  checksum: string;
  migration_name: string;
  started_at: Date;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
};

export const defaultMigrationsDir = path.resolve(import.meta.dirname, "../../prisma/migrations");

// The key Prisma's own migrate commands lock on (pg_advisory_lock(72707369)), so this runner also
// serialises against the official CLI. Transaction-level: session-level locks are shared by every
// connection of the embedded PGlite server, which multiplexes them onto one session.
const MIGRATION_LOCK_KEY = 72707369;

// Prisma's DDL for its bookkeeping table, verbatim.
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export function migrationChecksum(sql: Buffer | string): string {
  return createHash("sha256").update(sql).digest("hex");
}

/** Like Prisma, a checkout that only changed line endings (git on Windows) still matches. */
function matchesChecksum(sql: string, checksum: string): boolean {
  const lf = sql.replaceAll("\r\n", "\n");
  return [sql, lf, lf.replaceAll("\n", "\r\n")].some((variant) => migrationChecksum(variant) === checksum);
}

export function readMigrations(migrationsDir: string = defaultMigrationsDir): MigrationFile[] {
  return readdirSync(migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(migrationsDir, entry.name, "migration.sql")))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const bytes = readFileSync(path.join(migrationsDir, name, "migration.sql"));
      return { name, sql: bytes.toString("utf8"), checksum: migrationChecksum(bytes) };
    });
}

export class MigrationError extends Error {
  override name = "MigrationError";
}

/** Refuses to go on when the recorded history cannot be trusted; the same checks Prisma makes. */
function assertHistoryIsSound(rows: MigrationRow[], migrations: MigrationFile[]): void {
  const live = rows.filter((row) => row.rolled_back_at === null);
  const unfinished = live.find((row) => row.finished_at === null);
  if (unfinished) {
    throw new MigrationError(
      `Migration ${unfinished.migration_name} (started ${unfinished.started_at.toISOString()}) failed or never finished` +
        (unfinished.logs ? `:\n${unfinished.logs}\n` : ". ") +
        `Inspect the database, then mark it rolled back (prisma migrate resolve --rolled-back ${unfinished.migration_name}, ` +
        `or UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE id = '${unfinished.id}') and migrate again.`,
    );
  }
  const byName = new Map(migrations.map((migration) => [migration.name, migration]));
  for (const row of live) {
    const file = byName.get(row.migration_name);
    if (file && !matchesChecksum(file.sql, row.checksum)) {
      throw new MigrationError(
        `Migration ${row.migration_name} was modified after it was applied: the database recorded checksum ` +
          `${row.checksum}, the file now has ${file.checksum}. Restore the original migration.sql and put the ` +
          `change in a new migration.`,
      );
    }
  }
}

async function readHistory(client: pg.Client): Promise<MigrationRow[]> {
  const result = await client.query<MigrationRow>(
    `SELECT id, checksum, migration_name, started_at, finished_at, rolled_back_at, logs
       FROM "_prisma_migrations" ORDER BY started_at, migration_name`,
  );
  return result.rows;
}

async function inLockedTransaction<T>(client: pg.Client, work: () => Promise<T>): Promise<T> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
    const result = await work();
    await client.query("COMMIT");
    return result;
  } catch (error) {
    // A broken connection makes ROLLBACK fail too; the original error is the one worth reporting.
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function migrate(databaseUrl: string, options: MigrateOptions = {}): Promise<MigrateResult> {
  const log = options.log ?? (() => undefined);
  const migrations = readMigrations(options.migrationsDir);
  const result: MigrateResult = { applied: [], alreadyApplied: [] };
  const client = new pg.Client({ connectionString: databaseUrl });
  // A dropped connection also rejects the query in flight; without a listener it would crash the process.
  client.on("error", (error) => log(`Database connection error: ${error.message}`));
  await client.connect();
  try {
    await inLockedTransaction(client, async () => {
      await client.query(CREATE_MIGRATIONS_TABLE);
    });
    const unknown = (await readHistory(client))
      .filter((row) => row.rolled_back_at === null && !migrations.some((m) => m.name === row.migration_name))
      .map((row) => row.migration_name);
    if (unknown.length > 0) log(`Applied migrations missing from ${options.migrationsDir ?? defaultMigrationsDir}: ${unknown.join(", ")}`);

    for (const migration of migrations) {
      try {
        const outcome = await inLockedTransaction(client, async () => {
          // Re-read under the lock: another replica may have applied it while we waited.
          const history = await readHistory(client);
          assertHistoryIsSound(history, migrations);
          const done = history.some((row) => row.migration_name === migration.name && row.rolled_back_at === null);
          if (done) return "alreadyApplied" as const;
          const id = randomUUID();
          await client.query(
            `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
             VALUES ($1, $2, $3, now(), 0)`,
            [id, migration.checksum, migration.name],
          );
          // No parameters: pg sends a simple query, which may hold many statements.
          await client.query(migration.sql);
          await client.query(
            `UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = applied_steps_count + 1
              WHERE id = $1`,
            [id],
          );
          return "applied" as const;
        });
        result[outcome].push(migration.name);
        log(outcome === "applied" ? `Applied migration ${migration.name}` : `Migration ${migration.name} already applied`);
      } catch (error) {
        if (error instanceof MigrationError) throw error;
        // The transaction rolled the migration back entirely; record the attempt as rolled back (as
        // `prisma migrate resolve --rolled-back` would) so the history shows what failed and a fixed
        // migration can be applied on the next run.
        await client
          .query(
            `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, started_at, rolled_back_at, applied_steps_count)
             VALUES ($1, $2, $3, $4, now(), now(), 0)`,
            [randomUUID(), migration.checksum, migration.name, errorMessage(error)],
          )
          .catch(() => undefined); // best effort: the connection may be what failed
        throw new MigrationError(`Migration ${migration.name} failed and was rolled back: ${errorMessage(error)}`, {
          cause: error,
        });
      }
    }
    return result;
  } finally {
    await client.end();
  }
}
