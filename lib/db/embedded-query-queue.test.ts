import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "./embedded";

let dataDir: string;
let server: EmbeddedPostgres;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "keyward-queue-"));
  server = await startEmbeddedPostgres({ dataDir: path.join(dataDir, "pgdata") });
});
afterAll(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("embedded server under concurrent connections", () => {
  it("keeps each connection's extended-protocol queries whole", async () => {
    // Many clients at once, each with parameterised (Parse/Bind/Execute/Sync) writes of different arity: writes
    // make PGlite flush to disk between messages, which is when another connection's messages can slip in, and
    // interleaved cycles would bind one client's parameters to another's statement.
    const setup = new pg.Client({ connectionString: server.url });
    await setup.connect();
    await setup.query("CREATE TABLE IF NOT EXISTS totals (v int)");
    await setup.end();
    const clients = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const c = new pg.Client({ connectionString: server.url });
        await c.connect();
        return c;
      }),
    );
    try {
      const results = await Promise.all(
        clients.flatMap((c, i) =>
          Array.from({ length: 25 }, async (_, j) => {
            const args = Array.from({ length: (i % 4) + 1 }, (_, k) => i * 1000 + j * 10 + k);
            // A large parameter splits the Bind across TCP reads, so the cycle spans several socket events.
            const padding = "x".repeat(64 * 1024 * ((j % 3) + 1));
            const sql = `INSERT INTO totals (v) SELECT ${args.map((_, k) => `$${k + 1}::int`).join(" + ")} + 0 * length($${args.length + 1}::text) RETURNING v AS total`;
            const { rows } = await c.query<{ total: number }>(sql, [...args, padding]);
            return rows[0]!.total === args.reduce((a, b) => a + b, 0);
          }),
        ),
      );
      expect(results.every(Boolean)).toBe(true);
      expect(results).toHaveLength(200);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it("gives an open transaction the session until it ends", async () => {
    const a = new pg.Client({ connectionString: server.url });
    const b = new pg.Client({ connectionString: server.url });
    await Promise.all([a.connect(), b.connect()]);
    try {
      await a.query("CREATE TABLE IF NOT EXISTS queue_probe (v int)");
      await a.query("BEGIN");
      await a.query("INSERT INTO queue_probe VALUES ($1)", [1]);
      const fromB = b.query<{ n: string }>("SELECT count(*) AS n FROM queue_probe WHERE v = $1", [1]);
      await a.query("ROLLBACK");
      expect((await fromB).rows[0]!.n).toBe("0");
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });
});

describe("CycleAwareQueryQueue", () => {
  const cstr = (s: string) => Buffer.concat([Buffer.from(s), Buffer.from([0])]);
  const frame = (type: string, body: Buffer) => {
    const head = Buffer.alloc(5);
    head.write(type, 0);
    head.writeInt32BE(body.length + 4, 1);
    return new Uint8Array(Buffer.concat([head, body]));
  };
  const int16 = (n: number) => Buffer.from([n >> 8, n & 255]);
  const int32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    return b;
  };
  const parse = (sql: string) => frame("P", Buffer.concat([cstr(""), cstr(sql), int16(0)]));
  const bind = (params: string[]) =>
    frame("B", Buffer.concat([cstr(""), cstr(""), int16(0), int16(params.length), ...params.flatMap((p) => [int32(Buffer.byteLength(p)), Buffer.from(p)]), int16(0)]));
  const execute = frame("E", Buffer.concat([cstr(""), int32(0)]));
  const sync = frame("S", Buffer.alloc(0));

  /** The backend message types in a response stream ("E" = ErrorResponse, "D" = DataRow). */
  function messageTypes(chunks: Uint8Array[]): string[] {
    const all = Buffer.concat(chunks);
    const types: string[] = [];
    for (let at = 0; at + 5 <= all.length; at += 1 + all.readInt32BE(at + 1)) types.push(String.fromCharCode(all[at]!));
    return types;
  }

  it("does not let another connection's messages into an open extended-query cycle", async () => {
    const { PGlite } = await import("@electric-sql/pglite");
    const { CycleAwareQueryQueue } = await import("./embedded-query-queue");
    const db = await PGlite.create();
    try {
      const queue = new CycleAwareQueryQueue(db);
      const out: Record<"a" | "b", Uint8Array[]> = { a: [], b: [] };
      const send = (who: "a" | "b", id: number, message: Uint8Array) => queue.enqueue(id, message, (d) => out[who].push(Uint8Array.from(d)));
      // Arrival order as two sockets might deliver it: B's Parse lands between A's Parse and A's Bind.
      await Promise.all([
        send("a", 1, parse("SELECT $1::int + $2::int")),
        send("b", 2, parse("SELECT $1::int")),
        send("a", 1, bind(["1", "2"])),
        send("a", 1, execute),
        send("a", 1, sync),
        send("b", 2, bind(["7"])),
        send("b", 2, execute),
        send("b", 2, sync),
      ]);
      expect(messageTypes(out.a)).not.toContain("E");
      expect(messageTypes(out.b)).not.toContain("E");
      expect(messageTypes(out.a)).toContain("D");
      expect(messageTypes(out.b)).toContain("D");
    } finally {
      await db.close();
    }
  });
});
