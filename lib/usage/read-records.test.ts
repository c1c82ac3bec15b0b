import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  AuditInputCorruptError,
  AuditInputTooLargeError,
  recordsFromJsonLines,
  recordsFromWebhookBody,
  type AuditRecord,
  type JsonLinesOptions,
} from "./read-records";

async function read(input: Parameters<typeof recordsFromJsonLines>[0], options?: JsonLinesOptions) {
  const records: AuditRecord[] = [];
  for await (const record of recordsFromJsonLines(input, options)) records.push(record);
  return records;
}

/** The bytes in pieces of `size`, as a network or a file stream delivers them. */
async function* pieces(bytes: Buffer, size: number) {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

const LOG = '{"a":1}\n\n   \n{not json\r\n{"b":"é"}\r\n' + `"${"x".repeat(200)}"\n` + '{"c":2}';

describe("recordsFromJsonLines", () => {
  it("one record per non-empty line, numbered as in the file; a broken line is a record with an error", async () => {
    const expected = [
      { line: 1, value: { a: 1 } },
      { line: 4, error: "malformed JSON" },
      { line: 5, value: { b: "é" } },
      { line: 6, value: "x".repeat(200) },
      { line: 7, value: { c: 2 } },
    ];
    expect(await read([LOG])).toEqual(expected);
    // Split anywhere (inside a multi-byte character too), the records are the same.
    for (const size of [1, 2, 3, 7, 64]) expect(await read(pieces(Buffer.from(LOG), size))).toEqual(expected);
  });

  it("a line over the limit is rejected alone, also when it arrives in many pieces", async () => {
    const records = await read(pieces(Buffer.from(LOG), 5), { maxLineBytes: 100 });
    expect(records.map((r) => [r.line, r.error ?? "ok"])).toEqual([
      [1, "ok"],
      [4, "malformed JSON"],
      [5, "ok"],
      [6, "line too long"],
      [7, "ok"],
    ]);
    // Counted in bytes: 60 two-byte characters are 120 bytes.
    expect(await read([`"${"é".repeat(60)}"\n{}`], { maxLineBytes: 100 })).toEqual([
      { line: 1, error: "line too long" },
      { line: 2, value: {} },
    ]);
  });

  it("gzip is detected from its magic bytes, also as several concatenated members", async () => {
    const expected = await read([LOG]);
    expect(await read(pieces(gzipSync(LOG), 3))).toEqual(expected);
    const members = Buffer.concat([gzipSync('{"m":1}\n'), gzipSync('{"m":2}\n')]);
    expect(await read(pieces(members, 4))).toEqual([
      { line: 1, value: { m: 1 } },
      { line: 2, value: { m: 2 } },
    ]);
  });

  it("refuses a decompression bomb before it inflates, and input beyond maxDecompressedBytes", async () => {
    const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024, " "));
    const started = process.memoryUsage().rss;
    await expect(read(pieces(bomb, 64 * 1024))).rejects.toBeInstanceOf(AuditInputTooLargeError);
    expect(process.memoryUsage().rss - started).toBeLessThan(100 * 1024 * 1024);
    await expect(read([LOG], { maxDecompressedBytes: 20 })).rejects.toBeInstanceOf(AuditInputTooLargeError);
    await expect(read([gzipSync(LOG)], { maxDecompressedBytes: 20 })).rejects.toBeInstanceOf(
      AuditInputTooLargeError,
    );
  });

  it("a cut or corrupt gzip stream is an AuditInputCorruptError; the source's own error passes through", async () => {
    await expect(read([gzipSync(LOG).subarray(0, 25)])).rejects.toBeInstanceOf(AuditInputCorruptError);
    const failing = (async function* () {
      yield gzipSync(LOG).subarray(0, 10);
      throw new Error("connection reset");
    })();
    await expect(read(failing)).rejects.toThrow("connection reset");
  });
});

describe("recordsFromWebhookBody", () => {
  it("an EventList's items by position, a single Event, or anything else as one record to reject", () => {
    expect(
      recordsFromWebhookBody({
        kind: "EventList",
        apiVersion: "audit.k8s.io/v1",
        items: [{ a: 1 }, { b: 2 }],
      }),
    ).toEqual([
      { line: 1, value: { a: 1 } },
      { line: 2, value: { b: 2 } },
    ]);
    expect(recordsFromWebhookBody({ kind: "EventList", items: null })).toEqual([]);
    expect(recordsFromWebhookBody({ kind: "Event", auditID: "x" })).toEqual([
      { line: 1, value: { kind: "Event", auditID: "x" } },
    ]);
    expect(recordsFromWebhookBody("garbage")).toEqual([{ line: 1, value: "garbage" }]);
  });
});
