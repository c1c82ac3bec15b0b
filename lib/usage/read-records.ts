// Audit records out of what arrives: a JSON-lines stream (a log file, plain or gzip) or a webhook's EventList.
// Streamed: a line at a time in constant memory, so a 1 GB log needs no 1 GB; a broken line becomes a record
// with an error (rejected later, counted) and never stops the lines after it.
import { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { createGunzip } from "node:zlib";

/** One record: its line (1-based; position in an EventList) and the parsed JSON, or why it is already rejected. */
export interface AuditRecord {
  line: number;
  value?: unknown;
  error?: string;
}

export interface JsonLinesOptions {
  /** "auto" (default) detects gzip from its magic bytes. */
  gzip?: boolean | "auto";
  /** Refuse more than this many bytes after decompression (default: no limit beyond the ratio check). */
  maxDecompressedBytes?: number;
  /** Longer lines are rejected as "line too long" (default 1 MiB). */
  maxLineBytes?: number;
}

/** The gzip stream is corrupt or cut short. Callers answer 400. */
export class AuditInputCorruptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuditInputCorruptError";
  }
}

/** The input would decompress to more than allowed, or inflates like a decompression bomb. Callers answer 413. */
export class AuditInputTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuditInputTooLargeError";
  }
}

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
/** After this much output, gzip may inflate its input at most MAX_GZIP_RATIO times. */
const RATIO_GRACE_BYTES = 1024 * 1024;
const MAX_GZIP_RATIO = 100;

type Input = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string> | NodeJS.ReadableStream;

async function* bytes(input: Input): AsyncGenerator<Buffer> {
  for await (const chunk of input as AsyncIterable<Uint8Array | string>) {
    if (typeof chunk === "string") yield Buffer.from(chunk, "utf8");
    else if (chunk.byteLength > 0)
      yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
}

/** Decompresses, counting bytes in and out, and throws before a bomb can fill memory or disk. */
async function* gunzipped(compressed: AsyncIterable<Buffer>, maxBytes: number): AsyncGenerator<Buffer> {
  let bytesIn = 0;
  let bytesOut = 0;
  const counted = Readable.from(
    (async function* () {
      for await (const chunk of compressed) {
        bytesIn += chunk.length;
        yield chunk;
      }
    })(),
  );
  const gunzip = createGunzip();
  // The source's own error (a cut upload, say) reaches the reader as it is; zlib's own become AuditInputCorruptError.
  let sourceError: unknown;
  counted.on("error", (error) => {
    sourceError = error;
    gunzip.destroy(error);
  });
  counted.pipe(gunzip);
  const inflated = (async function* () {
    try {
      yield* gunzip as AsyncIterable<Buffer>;
    } catch (error) {
      if (error === sourceError) throw error;
      throw new AuditInputCorruptError(
        `the gzip data is corrupt: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  })();
  try {
    for await (const chunk of inflated) {
      bytesOut += chunk.length;
      if (bytesOut > maxBytes)
        throw new AuditInputTooLargeError(`the input decompresses to more than ${maxBytes} bytes`);
      if (bytesOut > RATIO_GRACE_BYTES && bytesOut > MAX_GZIP_RATIO * bytesIn)
        throw new AuditInputTooLargeError(
          `the input inflates more than ${MAX_GZIP_RATIO}:1 (${bytesIn} compressed bytes gave ${bytesOut}): refused as a decompression bomb`,
        );
      yield chunk;
    }
  } finally {
    counted.destroy();
    gunzip.destroy();
  }
}

/** The first chunk, looked at (for gzip's magic bytes), then everything again from the start. */
async function peeked(
  chunks: AsyncGenerator<Buffer>,
): Promise<{ first: Buffer | undefined; all: AsyncGenerator<Buffer> }> {
  let first = await chunks.next();
  // Two bytes decide; a first chunk of one byte is joined with the next.
  while (!first.done && first.value.length < 2) {
    const next = await chunks.next();
    if (next.done) break;
    first = { done: false, value: Buffer.concat([first.value, next.value]) };
  }
  const head = first.done ? undefined : first.value;
  return {
    first: head,
    all: (async function* () {
      if (head) yield head;
      yield* chunks;
    })(),
  };
}

const isGzip = (head: Buffer | undefined) => head !== undefined && head[0] === 0x1f && head[1] === 0x8b;

function recordOf(line: number, text: string): AuditRecord | undefined {
  // Whitespace-only lines are no records; JSON.parse skips surrounding whitespace (and a trailing \r) itself.
  if (text.trim() === "") return undefined;
  try {
    return { line, value: JSON.parse(text) };
  } catch {
    return { line, error: "malformed JSON" };
  }
}

/**
 * Audit records from JSON lines: one per non-empty line, in order. A line that is not JSON or is longer than
 * maxLineBytes becomes a record with an error; reading goes on at the next line. Gzip is detected from its
 * magic bytes (also several concatenated gzip members). Throws AuditInputTooLargeError for a bomb.
 */
export async function* recordsFromJsonLines(
  input: Input,
  options: JsonLinesOptions = {},
): AsyncGenerator<AuditRecord> {
  const maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const maxBytes = options.maxDecompressedBytes ?? Infinity;
  const { first, all } = await peeked(bytes(input));
  const gzip = options.gzip === "auto" || options.gzip === undefined ? isGzip(first) : options.gzip;
  const source = gzip ? gunzipped(all, maxBytes) : all;

  const decoder = new StringDecoder("utf8");
  let line = 1;
  let partial = "";
  /** The current line is over the limit: drop everything up to its newline. */
  let skipping = false;
  let total = 0;
  // A string's length in UTF-16 units is at most its UTF-8 byte length, and at least a third of it.
  const tooLong = (text: string) =>
    text.length > maxLine || (text.length * 3 > maxLine && Buffer.byteLength(text) > maxLine);

  for await (const chunk of source) {
    if (!gzip) {
      total += chunk.length;
      if (total > maxBytes) throw new AuditInputTooLargeError(`the input is larger than ${maxBytes} bytes`);
    }
    let text = decoder.write(chunk);
    if (line === 1 && partial === "" && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    let start = 0;
    for (let end = text.indexOf("\n"); end >= 0; end = text.indexOf("\n", start)) {
      if (skipping) skipping = false;
      else {
        const whole = partial === "" ? text.slice(start, end) : partial + text.slice(start, end);
        const record = tooLong(whole) ? { line, error: "line too long" } : recordOf(line, whole);
        if (record) yield record;
      }
      partial = "";
      line++;
      start = end + 1;
    }
    if (skipping) continue;
    partial += text.slice(start);
    if (tooLong(partial)) {
      yield { line, error: "line too long" };
      partial = "";
      skipping = true;
    }
  }
  if (!skipping) {
    const rest = partial + decoder.end();
    const record = tooLong(rest) ? { line, error: "line too long" } : recordOf(line, rest);
    if (record) yield record;
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The records of a webhook body: an audit.k8s.io/v1 EventList (what the API server's webhook backend posts),
 * or a single Event. Anything else is one record, which validation then rejects with its reason.
 */
export function recordsFromWebhookBody(body: unknown): AuditRecord[] {
  if (isObject(body) && body.kind === "EventList") {
    if (body.items === undefined || body.items === null) return [];
    if (Array.isArray(body.items)) return body.items.map((value, index) => ({ line: index + 1, value }));
  }
  return [{ line: 1, value: body }];
}
