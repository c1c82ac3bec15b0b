import type { PrismaClient } from "@/lib/db";
import { ingestAuditRecords, type IngestOptions } from "./ingest-audit";
import { recordsFromJsonLines, type AuditRecord } from "./read-records";
import type { IngestOutcome } from "./types";

// An uploaded audit log file (the API's raw body, or a file the CLI reads) streamed into the ingester: chunks in,
// records out, committed batch by batch, so a 1 GB log never sits in memory.

/** Nothing in the file was even a line: refused before a batch is opened. */
export class EmptyAuditLogError extends Error {
  constructor() {
    super("The file holds no audit events: it is empty or has only blank lines.");
    this.name = "EmptyAuditLogError";
  }
}

/** Fewer bytes arrived than the sender declared: something on the way cut the body, and the rest was never counted. */
export class TruncatedUploadError extends Error {
  constructor(received: number, declared: number) {
    super(
      `Only ${received} of the ${declared} bytes sent arrived; the upload was cut on the way. Nothing after that point was counted.`,
    );
    this.name = "TruncatedUploadError";
  }
}

export interface ImportTarget {
  clusterId: string;
  fileName?: string;
  /** Who uploaded it: a user's e-mail, an API token's name, "cli". */
  actorLabel: string;
}

/** Reads a web stream (a request body) chunk by chunk, cancelling it if the reader stops early (a refused file). */
export async function* chunksOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      yield value;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

async function* checkedLength(
  chunks: AsyncIterable<Uint8Array>,
  declaredBytes: number | undefined,
): AsyncGenerator<Uint8Array> {
  let received = 0;
  for await (const chunk of chunks) {
    received += chunk.byteLength;
    yield chunk;
  }
  if (declaredBytes !== undefined && received < declaredBytes)
    throw new TruncatedUploadError(received, declaredBytes);
}

async function* prepend(first: AuditRecord, rest: AsyncIterator<AuditRecord>): AsyncGenerator<AuditRecord> {
  yield first;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

/**
 * Ingests one audit log file (JSON lines, gzip detected from its first bytes) as an upload batch. Throws
 * AuditInputTooLargeError (from read-records) for a decompression bomb, EmptyAuditLogError for a file without a
 * single line, TruncatedUploadError when `declaredBytes` (Content-Length) were not all received.
 */
export async function importAuditLog(
  db: PrismaClient,
  target: ImportTarget,
  chunks: AsyncIterable<Uint8Array>,
  options: { declaredBytes?: number; onProgress?: IngestOptions["onProgress"] } = {},
): Promise<IngestOutcome> {
  const records = recordsFromJsonLines(checkedLength(chunks, options.declaredBytes), { gzip: "auto" })[
    Symbol.asyncIterator
  ]();
  // The first record is read before the batch is opened: an empty file or a bomb that blows up at once writes nothing.
  const first = await records.next();
  if (first.done) throw new EmptyAuditLogError();
  return ingestAuditRecords(db, { ...target, source: "upload" }, prepend(first.value, records), {
    onProgress: options.onProgress,
  });
}
