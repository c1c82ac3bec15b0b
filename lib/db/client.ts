// The app's Prisma client: the generated client (no native engine) on node-postgres via
// @prisma/adapter-pg. No "server-only" import: CLI scripts and tests use it too.
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/prisma/client";

const pools = new WeakMap<PrismaClient, pg.Pool>();

export function createPrismaClient(databaseUrl: string): PrismaClient {
  const pool = new pg.Pool({ connectionString: databaseUrl });
  const client = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(client, pool);
  return client;
}

/**
 * The node-postgres pool under a client, for bulk statements only (audit ingestion): Prisma passes raw-query
 * parameters through JSON twice, which costs more than the statement for multi-megabyte arrays.
 */
export function sqlPoolOf(client: PrismaClient): pg.Pool {
  const pool = pools.get(client);
  if (!pool) throw new Error("this Prisma client was not made by createPrismaClient");
  return pool;
}

// Next's dev server re-evaluates modules on every change; keeping the client on globalThis stops
// each reload from opening another pool.
const globalForPrisma = globalThis as typeof globalThis & { keywardPrisma?: PrismaClient };
let productionClient: PrismaClient | undefined;

/** The shared client for process.env.DATABASE_URL, created on first use (so importing needs no database). */
export function getPrisma(): PrismaClient {
  const existing = process.env.NODE_ENV === "production" ? productionClient : globalForPrisma.keywardPrisma;
  if (existing) return existing;
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl)
    throw new Error("DATABASE_URL is not set: start through `npm run demo` or set it to a PostgreSQL URL");
  const client = createPrismaClient(databaseUrl);
  if (process.env.NODE_ENV === "production") productionClient = client;
  else globalForPrisma.keywardPrisma = client;
  return client;
}

/** The shared client as a value; every property access goes to getPrisma(), so it too is lazy. */
export const prisma: PrismaClient = new Proxy({} as PrismaClient, {
  get(_target, property) {
    const client = getPrisma();
    const value: unknown = Reflect.get(client, property, client);
    return typeof value === "function" ? value.bind(client) : value;
  },
});
