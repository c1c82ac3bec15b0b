import { afterAll, beforeAll } from "vitest";
import { getPrisma, type PrismaClient } from "@/lib/db";
import { createTestDatabase, type TestDatabase } from "@/lib/db/testing";

/**
 * A fresh migrated database for this test file, also made the app's DATABASE_URL so that code under test
 * (which calls getPrisma()) uses it. Each vitest file runs in its own process, so this does not leak.
 */
export function setupTestDatabase(): { readonly prisma: PrismaClient } {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    process.env.DATABASE_URL = db.url;
  });
  afterAll(async () => {
    await getPrisma().$disconnect();
    await db?.drop();
  });
  return {
    get prisma() {
      if (!db) throw new Error("the test database is created in beforeAll");
      return db.prisma;
    },
  };
}
