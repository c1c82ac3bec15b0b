import { Readable } from "node:stream";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { ApiError, errorResponse } from "@/lib/api/errors";
import { getPrisma, type PrismaClient } from "@/lib/db";
import { chunksOf } from "./import-file";
import { ingestAuditRecords } from "./ingest-audit";
import { verifyIngestToken } from "./ingest-tokens";
import { recordsFromJsonLines, recordsFromWebhookBody, type AuditRecord } from "./read-records";

/**
 * POST /api/v1/clusters/{id}/audit: kube-apiserver's audit webhook backend delivers EventLists here. Not behind
 * the API wrapper: the caller is a cluster presenting its ingest token, not a user or API token. Answers keep the
 * wrapper's error shape. A 2xx means committed; anything the API server should retry (the database is down)
 * is a 503, anything it should not (bad token, bad body) a 4xx, and a refused request writes nothing.
 */

export const MAX_WEBHOOK_BODY_BYTES = 16 * 1024 * 1024;
// After 1 MiB of output, gzip may inflate at most this many times its input (the JSON-lines reader's guard too).
const GZIP_RATIO_GRACE_BYTES = 1024 * 1024;
const MAX_GZIP_RATIO = 100;

const JSON_TYPES = new Set(["application/json"]);
const JSON_LINES_TYPES = new Set(["application/x-ndjson", "application/jsonl", "application/json-lines"]);

/** The wrapper's error shape, plus what a cluster's webhook client needs: a challenge and a retry delay. */
function webhookErrorResponse(error: ApiError): Response {
  const headers: Record<string, string> = {};
  if (error.status === 401) headers["WWW-Authenticate"] = 'Bearer realm="keyward"';
  if (error.status === 503) headers["Retry-After"] = "10";
  return errorResponse(error, headers);
}

const tooLarge = () => new ApiError("payload_too_large", `The request body is larger than ${MAX_WEBHOOK_BODY_BYTES / 1024 / 1024} MiB.`);

/** The body, stopping (and cancelling the upload) as soon as it passes the limit. */
async function readBounded(request: Request): Promise<Buffer> {
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > MAX_WEBHOOK_BODY_BYTES) throw tooLarge();
  if (!request.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of chunksOf(request.body)) {
    size += chunk.byteLength;
    if (size > MAX_WEBHOOK_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function decoded(body: Buffer, encoding: string): Promise<Buffer> {
  if (encoding === "" || encoding === "identity") return body;
  if (encoding !== "gzip") throw new ApiError("unsupported_media_type", `Content-Encoding ${encoding} is not supported; send gzip or none.`);
  let inflated: Buffer;
  try {
    // maxOutputLength stops zlib itself at the limit: a bomb never gets further than 16 MiB into memory.
    inflated = await promisify(gunzip)(body, { maxOutputLength: MAX_WEBHOOK_BODY_BYTES });
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new ApiError("payload_too_large", `The request body decompresses to more than ${MAX_WEBHOOK_BODY_BYTES / 1024 / 1024} MiB.`);
    }
    throw new ApiError("invalid_request", "The request body is not valid gzip.");
  }
  if (inflated.length > GZIP_RATIO_GRACE_BYTES && inflated.length > MAX_GZIP_RATIO * body.length) {
    throw new ApiError("payload_too_large", `The request body inflates more than ${MAX_GZIP_RATIO}:1: refused as a decompression bomb.`);
  }
  return inflated;
}

/** Records out of the body; a body with nothing that parses as JSON is refused whole. */
async function recordsOf(body: Buffer, mediaType: string): Promise<AuditRecord[]> {
  if (JSON_TYPES.has(mediaType)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      throw new ApiError("invalid_request", "The request body is not valid JSON: send an audit.k8s.io/v1 EventList.");
    }
    return recordsFromWebhookBody(parsed);
  }
  const records: AuditRecord[] = [];
  for await (const record of recordsFromJsonLines(Readable.from([body]), { gzip: false })) records.push(record);
  if (records.length > 0 && records.every((r) => r.error === "malformed JSON")) {
    throw new ApiError("invalid_request", "No line of the request body is JSON: send audit events as JSON lines.");
  }
  return records;
}

function bearerOf(request: Request): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "");
  return match?.[1];
}

/** Handles one delivery for `clusterId` against `db`. */
export async function handleAuditWebhook(db: PrismaClient, request: Request, clusterId: string): Promise<Response> {
  try {
    // The token first: without it, an unknown cluster and a wrong token look the same, so ids cannot be probed.
    // A valid token implies its cluster exists (tokens are deleted with their cluster), hence no 404 here.
    const bearer = bearerOf(request);
    let valid: boolean;
    try {
      valid = bearer !== undefined && (await verifyIngestToken(db, clusterId, bearer));
    } catch (error) {
      console.error("audit webhook: could not check the ingest token", error);
      throw new ApiError("unavailable", "Keyward cannot check the token right now; retry.");
    }
    if (!valid) throw new ApiError("unauthenticated", "Send this cluster's audit ingest token as `Authorization: Bearer kwa_…`.");

    const mediaType = (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
    if (!JSON_TYPES.has(mediaType) && !JSON_LINES_TYPES.has(mediaType)) {
      throw new ApiError("unsupported_media_type", `Send an EventList as application/json or events as application/x-ndjson${mediaType ? `, not ${mediaType}` : ""}.`);
    }
    const encoding = (request.headers.get("content-encoding") ?? "").trim().toLowerCase();
    const records = await recordsOf(await decoded(await readBounded(request), encoding), mediaType);
    if (records.length === 0) return Response.json({ accepted: 0, duplicates: 0, rejected: 0, sampleReasons: [] });

    try {
      const outcome = await ingestAuditRecords(db, { clusterId, source: "webhook", actorLabel: "audit webhook" }, records);
      return Response.json(outcome);
    } catch (error) {
      console.error("audit webhook: ingestion failed", error);
      throw new ApiError("unavailable", "The events could not be stored; nothing was acknowledged. Retry.");
    }
  } catch (error) {
    if (error instanceof ApiError) return webhookErrorResponse(error);
    console.error("audit webhook failed", error);
    return webhookErrorResponse(new ApiError("internal", "Something went wrong. The failure was logged."));
  }
}

type RouteContext = { params: Promise<Record<string, string | string[] | undefined>> };

/** The Next.js route handler. */
export async function postAuditWebhook(request: Request, context: RouteContext): Promise<Response> {
  const { id } = await context.params;
  return handleAuditWebhook(getPrisma(), request, typeof id === "string" ? id : "");
}
