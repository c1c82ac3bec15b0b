import { rmSync } from "node:fs";
import pg from "pg";
import { afterAll, describe, expect, it, vi } from "vitest";
import { resolveDatabase, startEmbeddedPostgres } from "./embedded";
import { startTestEmbeddedPostgres } from "./testing";

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe("embedded PostgreSQL", () => {
  let dataDir: string | undefined;

  afterAll(() => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("serves several connections at once, refuses a second server on its directory, keeps its data across a restart", async () => {
    const first = await startTestEmbeddedPostgres();
    dataDir = first.dataDir;
    try {
      expect(first.url).toMatch(/^postgresql:\/\/postgres:postgres@127\.0\.0\.1:\d+\/postgres$/);
      await withClient(first.url, (client) => client.query("CREATE TABLE kept (note TEXT)"));
      // A second writer on the same directory would corrupt it.
      await expect(startEmbeddedPostgres({ dataDir: first.dataDir, port: 0 })).rejects.toThrow(/already open in process/);

      // Three clients open together, as Prisma's pool and pg-boss do; a transaction on one holds the others.
      const clients = await Promise.all([1, 2, 3].map(async () => {
        const client = new pg.Client({ connectionString: first.url });
        await client.connect();
        return client;
      }));
      try {
        await Promise.all(
          clients.map(async (client, i) => {
            await client.query("BEGIN");
            await client.query("INSERT INTO kept (note) VALUES ($1)", [`from client ${i}`]);
            await client.query("COMMIT");
          }),
        );
      } finally {
        await Promise.all(clients.map((client) => client.end()));
      }
    } finally {
      await first.stop();
    }
    await expect(withClient(first.url, (client) => client.query("SELECT 1"))).rejects.toThrow();

    const second = await startEmbeddedPostgres({ dataDir, port: 0 });
    try {
      const notes = await withClient(second.url, (client) => client.query<{ note: string }>("SELECT note FROM kept ORDER BY note"));
      expect(notes.rows.map((row) => row.note)).toEqual(["from client 0", "from client 1", "from client 2"]);
    } finally {
      await second.stop();
      await second.stop(); // stopping twice is harmless (signal handlers and finally blocks may both stop)
    }
  });

  it("uses DATABASE_URL instead when it is set", async () => {
    vi.stubEnv("DATABASE_URL", "postgresql://keyward@db.example:5432/keyward");
    try {
      const database = await resolveDatabase();
      expect(database).toMatchObject({ url: "postgresql://keyward@db.example:5432/keyward", embedded: false });
      await database.stop();
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
