// The embedded default database: PGlite (Postgres in WASM) served over the Postgres wire protocol on
// 127.0.0.1, so Prisma, pg-boss and psql connect to it like to any server. Data persists in dataDir.
// A real PostgreSQL is one DATABASE_URL away (resolveDatabase).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { CycleAwareQueryQueue } from "./embedded-query-queue";

export const defaultEmbeddedDataDir = path.resolve(import.meta.dirname, "../../.keyward/pgdata");

// Prisma's pool, pg-boss's pool and the migrator each hold connections; the server multiplexes them
// onto PGlite's single session, one transaction at a time.
const MAX_CONNECTIONS = 64;

export type EmbeddedPostgres = { url: string; stop(): Promise<void> };

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * PGlite has no postmaster to stop a second process opening the same data directory, and two writers
 * would corrupt it (say `npm run db:migrate` while the demo runs). A pid file beside the directory
 * refuses the second one; a stale file from a crashed process is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const lockPath = `${path.resolve(dataDir)}.pid`;
  for (;;) {
    try {
      writeFileSync(lockPath, String(process.pid), { flag: "wx" });
      return () => rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number(readFileSync(lockPath, "utf8"));
      if (Number.isInteger(owner) && owner > 0 && isProcessAlive(owner)) {
        throw new Error(`The embedded database in ${dataDir} is already open in process ${owner}; stop it first`);
      }
      rmSync(lockPath, { force: true });
    }
  }
}

export async function startEmbeddedPostgres(
  options: { dataDir?: string; port?: number } = {},
): Promise<EmbeddedPostgres> {
  const dataDir = options.dataDir ?? defaultEmbeddedDataDir;
  mkdirSync(dataDir, { recursive: true });
  const unlock = lockDataDir(dataDir);
  let db: PGlite;
  try {
    db = await PGlite.create(dataDir);
  } catch (error) {
    unlock();
    throw error;
  }
  const server = new PGLiteSocketServer({
    db,
    host: "127.0.0.1",
    port: options.port ?? 0,
    maxConnections: MAX_CONNECTIONS,
  });
  // Set before start(): every connection's handler takes the server's queue when it is created.
  (server as unknown as { queryQueue: CycleAwareQueryQueue }).queryQueue = new CycleAwareQueryQueue(db);
  try {
    await server.start();
  } catch (error) {
    await db.close();
    unlock();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    // PGlite ignores the user, password and database name; they are there for clients that need one.
    url: `postgresql://postgres:postgres@${server.getServerConn()}/postgres`,
    stop() {
      stopping ??= (async () => {
        await server.stop();
        await db.close();
        unlock();
      })();
      return stopping;
    },
  };
}

export type ResolvedDatabase = EmbeddedPostgres & { embedded: boolean };

/** DATABASE_URL when set; otherwise the embedded server on its default data directory. */
export async function resolveDatabase(options: { port?: number } = {}): Promise<ResolvedDatabase> {
  const configuredUrl = process.env.DATABASE_URL;
  if (configuredUrl) return { url: configuredUrl, embedded: false, stop: async () => undefined };
  const embedded = await startEmbeddedPostgres({ port: options.port });
  return { ...embedded, embedded: true };
}
