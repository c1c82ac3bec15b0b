// A fresh, migrated database per test file. With DATABASE_URL (CI: the machine's PostgreSQL) each call
// creates its own database on that server; without it, an embedded PGlite server in a temp dir.
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { createPrismaClient } from "./client";
import { startEmbeddedPostgres } from "./embedded";
import type { PrismaClient } from "./generated/prisma/client";
import { migrate } from "./migrate";
import { repoRoot } from "./prisma-cli";

export type TestDatabase = {
  url: string;
  prisma: PrismaClient;
  /** Disconnects the client and deletes the database. */
  drop(): Promise<void>;
};

/** The same server URL pointing at another database (query parameters such as sslmode are kept). */
export function withDatabaseName(databaseUrl: string, databaseName: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${databaseName}`;
  return url.toString();
}

async function onServer(serverUrl: string, sql: string): Promise<void> {
  // Administrative statements run from the server's `postgres` database.
  const admin = new pg.Client({ connectionString: withDatabaseName(serverUrl, "postgres") });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/**
 * A freshly initialised PGlite data directory, made once per machine and PGlite version: initdb takes
 * many seconds on a busy 2-core machine, copying a cleanly stopped data directory takes milliseconds.
 */
async function pgliteTemplateDir(): Promise<string> {
  const pglitePackage = path.join(repoRoot, "node_modules", "@electric-sql", "pglite", "package.json");
  const { version } = JSON.parse(readFileSync(pglitePackage, "utf8")) as { version: string };
  const templateDir = path.join(tmpdir(), `keyward-pglite-template-${version}`);
  if (existsSync(templateDir)) return templateDir;
  const buildDir = mkdtempSync(path.join(tmpdir(), "keyward-pglite-init-"));
  const server = await startEmbeddedPostgres({ dataDir: buildDir, port: 0 });
  await server.stop();
  try {
    renameSync(buildDir, templateDir);
  } catch (error) {
    // Another test process finished its template first; theirs is as good as ours.
    rmSync(buildDir, { recursive: true, force: true });
    if (!existsSync(templateDir)) throw error;
  }
  return templateDir;
}

/** An embedded server on an empty database in a new temp directory, on a random port. */
export async function startTestEmbeddedPostgres(): Promise<{ url: string; dataDir: string; stop(): Promise<void> }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "keyward-test-pg-"));
  cpSync(await pgliteTemplateDir(), dataDir, { recursive: true });
  const embedded = await startEmbeddedPostgres({ dataDir, port: 0 });
  return { url: embedded.url, dataDir, stop: embedded.stop };
}

/** An empty database, not migrated: for tests of the migrator itself. */
export async function createEmptyDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const serverUrl = process.env.DATABASE_URL;
  if (serverUrl) {
    const name = `keyward_t_${randomBytes(6).toString("hex")}`;
    await onServer(serverUrl, `CREATE DATABASE "${name}"`);
    return {
      url: withDatabaseName(serverUrl, name),
      drop: () => onServer(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
    };
  }
  const embedded = await startTestEmbeddedPostgres();
  return {
    url: embedded.url,
    async drop() {
      await embedded.stop();
      rmSync(embedded.dataDir, { recursive: true, force: true });
    },
  };
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const database = await createEmptyDatabase();
  try {
    await migrate(database.url);
  } catch (error) {
    await database.drop();
    throw error;
  }
  const prisma = createPrismaClient(database.url);
  return {
    url: database.url,
    prisma,
    async drop() {
      await prisma.$disconnect();
      await database.drop();
    },
  };
}
