import { z } from "zod";
import { ApiError } from "@/lib/api/errors";
import { clusterIdParams } from "@/lib/api/clusters";
import { apiRoute, endpoint } from "@/lib/api/route";
import type { PrismaClient } from "@/lib/db";
import { chunksOf, EmptyAuditLogError, importAuditLog, TruncatedUploadError } from "./import-file";
import { ingestHistoryQuery, listIngestBatches } from "./ingest-history";
import { AuditInputCorruptError, AuditInputTooLargeError } from "./read-records";

// /api/v1/clusters/{id}/audit/imports: POST an audit log file as the raw body (streamed, never buffered), GET the
// cluster's ingest history.

/** The raw body's types: gzip or not is decided from the bytes, so the type only has to say "a file". */
export const auditUploadContentTypes = [
  "application/x-ndjson",
  "application/jsonl",
  "application/gzip",
  "application/x-gzip",
  "application/octet-stream",
];

export const auditImportQuery = z.object({
  fileName: z
    .string()
    .trim()
    .min(1)
    .max(255)
    .transform((name) => name.split(/[\\/]/).pop() || name)
    .optional()
    .describe("the uploaded file's name, shown in the ingest history"),
});

const rejectedLineSchema = z.object({ line: z.number().int().describe("1-based line in the file"), reason: z.string() });

/** POST's answer (lib/api/openapi.ts documents it; the tests check real answers against it). */
export const ingestOutcomeSchema = z.object({
  batchId: z.string(),
  accepted: z.number().int(),
  duplicates: z.number().int().describe("events already counted: another stage of the same request, or an earlier upload"),
  rejected: z.number().int(),
  sampleReasons: z.array(rejectedLineSchema).describe("the first rejections (at most 20)"),
});

/** GET's answer. */
export const ingestHistoryResponseSchema = z.object({
  items: z.array(
    ingestOutcomeSchema.omit({ batchId: true }).extend({
      id: z.string(),
      source: z.enum(["webhook", "upload"]),
      status: z.enum(["running", "completed", "failed"]),
      fileName: z.string().nullable(),
      actorLabel: z.string().describe("the uploading user's e-mail or API token's name, or the webhook"),
      error: z.string().nullable(),
      startedAt: z.iso.datetime(),
      finishedAt: z.iso.datetime().nullable(),
    }),
  ),
  page: z.number().int(),
  pageSize: z.number().int(),
  total: z.number().int(),
});

async function requireCluster(db: PrismaClient, id: string): Promise<void> {
  if (!(await db.cluster.findUnique({ where: { id }, select: { id: true } })))
    throw new ApiError("not_found", "No such cluster.");
}

function declaredLength(headers: Headers): number | undefined {
  const value = Number(headers.get("content-length") ?? Number.NaN);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** The upload endpoint for one request: its body is the stream the handler reads, which the wrapper must not touch. */
export function auditImportEndpoint(request: Request) {
  return endpoint({
    name: "cluster.audit_import",
    permission: "clusters:sync",
    params: clusterIdParams,
    query: auditImportQuery,
    target: ({ params }) => ({ type: "cluster", id: params.id }),
    async handler({ params, query, principal, db }) {
      await requireCluster(db, params.id);
      const contentType = (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
      if (!auditUploadContentTypes.includes(contentType)) {
        throw new ApiError(
          "invalid_request",
          `Send the audit log file as the raw request body with Content-Type ${auditUploadContentTypes.slice(0, 3).join(", ")} or application/octet-stream${contentType ? `, not ${contentType}` : ""}.`,
        );
      }
      if (!request.body) throw new ApiError("invalid_request", new EmptyAuditLogError().message);
      try {
        return await importAuditLog(
          db,
          { clusterId: params.id, fileName: query.fileName, actorLabel: principal.actor.label },
          chunksOf(request.body),
          { declaredBytes: declaredLength(request.headers) },
        );
      } catch (error) {
        if (error instanceof AuditInputTooLargeError || error instanceof TruncatedUploadError)
          throw new ApiError("payload_too_large", error.message);
        if (error instanceof EmptyAuditLogError) throw new ApiError("invalid_request", error.message);
        if (error instanceof AuditInputCorruptError)
          throw new ApiError("invalid_request", `The file cannot be read: ${error.message}.`);
        throw error;
      }
    },
  });
}

/** The same request without its body: what the wrapper authenticates and validates, leaving the stream unread. */
export function withoutBody(request: Request): Request {
  return new Request(request.url, {
    method: request.method,
    headers: request.headers,
    signal: request.signal,
  });
}

type RouteContext = { params: Promise<Record<string, string | string[] | undefined>> };

/** POST /api/v1/clusters/{id}/audit/imports */
export function postAuditImport(request: Request, context: RouteContext): Promise<Response> {
  return apiRoute(auditImportEndpoint(request))(withoutBody(request), context);
}

export const ingestHistoryEndpoint = endpoint({
  name: "cluster.audit_imports",
  permission: "clusters:read",
  params: clusterIdParams,
  query: ingestHistoryQuery,
  async handler({ params, query, db }) {
    await requireCluster(db, params.id);
    return listIngestBatches(db, params.id, query);
  },
});
