import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { defaultMigrationsDir, migrate, migrationChecksum, readMigrations } from "./migrate";
import { createEmptyDatabase } from "./testing";

type MigrationRow = {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
};

// One database per file (an embedded server takes seconds to start); each test starts from an empty schema.
describe("migrate", () => {
  let database: Awaited<ReturnType<typeof createEmptyDatabase>> | undefined;
  let client: pg.Client;
  let migrationsDir: string;

  async function history(): Promise<MigrationRow[]> {
    const result = await client.query<MigrationRow>(`SELECT * FROM "_prisma_migrations" ORDER BY migration_name, started_at`);
    return result.rows;
  }

  function addMigration(name: string, sql: string): void {
    mkdirSync(path.join(migrationsDir, name));
    writeFileSync(path.join(migrationsDir, name, "migration.sql"), sql);
  }

  beforeAll(async () => {
    database = await createEmptyDatabase();
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
    await database?.drop();
  });

  beforeEach(async () => {
    await client.query("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    migrationsDir = mkdtempSync(path.join(tmpdir(), "keyward-migrations-"));
    cpSync(defaultMigrationsDir, migrationsDir, { recursive: true });
  });

  afterEach(() => {
    rmSync(migrationsDir, { recursive: true, force: true });
  });

  it("applies every migration once and records it as Prisma does", async () => {
    const migrations = readMigrations(migrationsDir);
    expect(migrations.length).toBeGreaterThan(0);

    const first = await migrate(database!.url, { migrationsDir });
    expect(first).toEqual({ applied: migrations.map((m) => m.name), alreadyApplied: [] });
    const second = await migrate(database!.url, { migrationsDir });
    expect(second).toEqual({ applied: [], alreadyApplied: migrations.map((m) => m.name) });

    const rows = await history();
    expect(rows.map((row) => row.migration_name)).toEqual(migrations.map((m) => m.name));
    for (const row of rows) {
      const file = readFileSync(path.join(migrationsDir, row.migration_name, "migration.sql"));
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row.checksum).toBe(migrationChecksum(file));
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.logs).toBeNull();
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
    }

    // The bookkeeping table has the columns and types Prisma's CLI creates and reads.
    const columns = await client.query<{ column_name: string; data_type: string; is_nullable: string }>(
      `SELECT column_name, data_type, is_nullable FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(columns.rows.map((c) => `${c.column_name} ${c.data_type} ${c.is_nullable}`)).toEqual([
      "id character varying NO",
      "checksum character varying NO",
      "finished_at timestamp with time zone YES",
      "migration_name character varying NO",
      "logs text YES",
      "rolled_back_at timestamp with time zone YES",
      "started_at timestamp with time zone NO",
      "applied_steps_count integer NO",
    ]);
  });

  it("applies only the migrations added since the last run", async () => {
    await migrate(database!.url, { migrationsDir });
    addMigration("29990101000000_add_note", `CREATE TABLE "Note" ("id" TEXT NOT NULL, CONSTRAINT "Note_pkey" PRIMARY KEY ("id"));`);
    const result = await migrate(database!.url, { migrationsDir });
    expect(result.applied).toEqual(["29990101000000_add_note"]);
    await expect(client.query(`SELECT count(*) FROM "Note"`)).resolves.toBeTruthy();
  });

  it("refuses a migration that was modified after it was applied", async () => {
    await migrate(database!.url, { migrationsDir });
    const [first] = readMigrations(migrationsDir);
    const file = path.join(migrationsDir, first.name, "migration.sql");
    const original = readFileSync(file, "utf8");
    // Only the line endings changed (a Windows checkout): the same migration, as for Prisma.
    writeFileSync(file, original.replaceAll("\n", "\r\n"));
    await expect(migrate(database!.url, { migrationsDir })).resolves.toMatchObject({ applied: [] });
    writeFileSync(file, `${original}\n-- edited afterwards\n`);
    await expect(migrate(database!.url, { migrationsDir })).rejects.toThrow(/was modified after it was applied/);
  });

  it("refuses to run while a migration is recorded as failed or unfinished", async () => {
    await migrate(database!.url, { migrationsDir });
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, started_at, applied_steps_count)
       VALUES ('00000000-0000-4000-8000-000000000000', $1, '29990101000000_broken', 'boom', now(), 0)`,
      ["0".repeat(64)],
    );
    addMigration("29990102000000_next", `SELECT 1;`);
    await expect(migrate(database!.url, { migrationsDir })).rejects.toThrow(/29990101000000_broken .*failed or never finished/s);
    expect((await history()).map((row) => row.migration_name)).not.toContain("29990102000000_next");
  });

  it("rolls a failing migration back entirely, records the attempt, and applies the fixed one later", async () => {
    await migrate(database!.url, { migrationsDir });
    addMigration("29990101000000_half", `CREATE TABLE "Half" ("id" TEXT NOT NULL);\nSELECT 1 / 0;`);
    await expect(migrate(database!.url, { migrationsDir })).rejects.toThrow(/29990101000000_half failed and was rolled back: division by zero/);
    const halfTable = await client.query(`SELECT to_regclass('"Half"') AS half`);
    expect(halfTable.rows[0].half).toBeNull();
    const attempt = (await history()).find((row) => row.migration_name === "29990101000000_half");
    expect(attempt?.rolled_back_at).toBeInstanceOf(Date);
    expect(attempt?.finished_at).toBeNull();
    expect(attempt?.logs).toMatch(/division by zero/);

    writeFileSync(path.join(migrationsDir, "29990101000000_half", "migration.sql"), `CREATE TABLE "Half" ("id" TEXT NOT NULL);`);
    expect((await migrate(database!.url, { migrationsDir })).applied).toEqual(["29990101000000_half"]);
    expect((await client.query(`SELECT to_regclass('"Half"') AS half`)).rows[0].half).not.toBeNull();
  });

  it("lets concurrent runs apply each migration exactly once", async () => {
    addMigration("29990101000000_second", `CREATE TABLE "Second" ("id" TEXT NOT NULL);`);
    addMigration("29990102000000_third", `ALTER TABLE "Second" ADD COLUMN "note" TEXT;`);
    const names = readMigrations(migrationsDir).map((m) => m.name);

    const runs = await Promise.all([1, 2, 3].map(() => migrate(database!.url, { migrationsDir })));

    expect(runs.flatMap((run) => run.applied).sort()).toEqual(names);
    for (const run of runs) expect([...run.applied, ...run.alreadyApplied].sort()).toEqual(names);
    const rows = await history();
    expect(rows.map((row) => row.migration_name)).toEqual(names);
    expect(rows.every((row) => row.finished_at !== null && row.rolled_back_at === null)).toBe(true);
  });
});
