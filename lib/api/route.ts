import type { z } from "zod";
import { getPrisma, type PrismaClient } from "@/lib/db";
import { recordAudit, type Actor } from "@/lib/audit/log";
import { authenticateApiToken, type ApiTokenRejection } from "@/lib/auth/api-tokens";
import { UserFacingError } from "@/lib/auth/errors";
import { can, type Permission, type Role } from "@/lib/auth/permissions";
import type { SessionUser } from "@/lib/auth/users";
import { ApiError, errorResponse, type ApiErrorCode } from "./errors";

/**
 * The one wrapper every /api/v1 route goes through: authentication (API token or browser session), scope and
 * role, input validation, JSON errors that never leak internals, and the audit trail for every write.
 */

/** Who is calling. Tokens act with the role matching their scope, so one permission matrix decides for both. */
export interface ApiPrincipal {
  actor: Actor;
  /** A token is not a person: it sees what its role sees (every identity), never one team's share. */
  user: SessionUser;
  via: "apiToken" | "session";
  /** Set for API tokens only: sessions are limited by their role alone. */
  scope?: "read" | "write";
}

// A read token may do what an auditor may; a write token what a security engineer may (never manage users or tokens).
const roleForScope: Record<"read" | "write", Role> = { read: "auditor", write: "security" };
const MAX_BODY_BYTES = 1_000_000;

export type SessionResolver = () => Promise<SessionUser | null>;

// Loaded only for session calls: Auth.js needs the Next.js request context, which token calls do without.
const browserSession: SessionResolver = async () => (await import("@/lib/auth/session")).getSessionUser();

export interface EndpointContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  principal: ApiPrincipal;
  db: PrismaClient;
}

export interface Endpoint<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  /** Verb-noun name recorded in the audit trail for writes, e.g. "cluster.register". */
  name: string;
  permission: Permission;
  params?: P;
  query?: Q;
  body?: B;
  successStatus?: number;
  target?: (input: { params: z.output<P>; body: z.output<B> }) => { type: string; id: string };
  /** Answers with JSON, or with a Response of its own (a download), sent untouched once the caller is checked. */
  handler: (ctx: EndpointContext<z.output<P>, z.output<Q>, z.output<B>>) => Promise<unknown>;
}

/** Declares an endpoint; a function so TypeScript infers the handler's input types from the schemas. */
export function endpoint<P extends z.ZodType = z.ZodUnknown, Q extends z.ZodType = z.ZodUnknown, B extends z.ZodType = z.ZodUnknown>(
  def: Endpoint<P, Q, B>,
): Endpoint<P, Q, B> {
  return def;
}

type RouteContext = { params: Promise<Record<string, string | string[] | undefined>> };

/** Turns an endpoint into a Next.js route handler (`export const GET = apiRoute(...)`). */
export function apiRoute<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(def: Endpoint<P, Q, B>) {
  return (request: Request, context?: RouteContext): Promise<Response> => handleApiRequest(def, request, context, browserSession);
}

type Issue = z.core.$ZodIssue;

/** A union's issues are those of the alternative that came closest (fewest issues), not "Invalid input". */
function flattenIssues(issues: readonly Issue[], prefix: PropertyKey[] = []): { path: PropertyKey[]; message: string }[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === "invalid_union" && issue.errors.length > 0) {
      const closest = issue.errors.reduce((best, branch) => (branch.length < best.length ? branch : best));
      return flattenIssues(closest, path);
    }
    return [{ path, message: issue.message }];
  });
}

function fieldErrorsOf(error: z.ZodError): Record<string, string[]> {
  const fieldErrors: Record<string, string[]> = {};
  for (const issue of flattenIssues(error.issues)) (fieldErrors[issue.path.map(String).join(".") || "_"] ??= []).push(issue.message);
  return fieldErrors;
}

function validate<S extends z.ZodType>(schema: S | undefined, value: unknown, what: string): z.output<S> {
  if (!schema) return value as z.output<S>;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ApiError("invalid_request", `The ${what} is not valid.`, fieldErrorsOf(parsed.error));
  return parsed.data;
}

const tokenRejections: Record<ApiTokenRejection, string> = {
  unknown: "This API token is not valid.",
  expired: "This API token is expired.",
  revoked: "This API token is revoked.",
  orphaned: "This API token is no longer valid: the admin who issued it is disabled or no longer an admin.",
};

async function authenticate(db: PrismaClient, request: Request, resolveSession: SessionResolver): Promise<ApiPrincipal> {
  const authorization = request.headers.get("authorization");
  if (authorization !== null) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw new ApiError("unauthenticated", "Send an API token as `Authorization: Bearer kw_…`.");
    const result = await authenticateApiToken(db, match[1]);
    if (!result.ok) throw new ApiError("unauthenticated", tokenRejections[result.reason]);
    const { token } = result;
    const role = roleForScope[token.scope];
    return {
      via: "apiToken",
      scope: token.scope,
      actor: { type: "apiToken", id: token.id, label: token.name },
      // In the issuing admin's name (a decision records them as its reviewer), with the scope's role.
      user: { id: token.issuer.id, email: token.issuer.email, name: `${token.name} (API token of ${token.issuer.name})`, role },
    };
  }
  const user = await resolveSession();
  if (!user) throw new ApiError("unauthenticated", "Sign in, or send an API token as `Authorization: Bearer kw_…`.");
  return { via: "session", actor: { type: "user", id: user.id, label: user.email }, user };
}

async function readJsonBody(request: Request): Promise<unknown> {
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw new ApiError("payload_too_large", "The request body is larger than 1 MB.");
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError("invalid_request", "The request body is not valid JSON.");
  }
}

function queryObject(url: URL): Record<string, string> {
  // `?cluster=` means no filter, as an empty form field does.
  return Object.fromEntries([...url.searchParams].filter(([, value]) => value !== ""));
}

const userFacingCodes: Record<UserFacingError["status"], ApiErrorCode> = {
  400: "invalid_request",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
  422: "unprocessable",
  502: "upstream_failed",
};

function toApiError(error: unknown, endpointName: string): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof UserFacingError) return new ApiError(userFacingCodes[error.status], error.message);
  console.error(`api ${endpointName} failed`, error);
  return new ApiError("internal", "Something went wrong. The failure was logged.");
}

/** The request pipeline behind apiRoute; `resolveSession` is where the browser's session comes from. */
export async function handleApiRequest<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
  def: Endpoint<P, Q, B>,
  request: Request,
  context: RouteContext | undefined,
  resolveSession: SessionResolver,
): Promise<Response> {
  const db = getPrisma();
  const isWrite = !["GET", "HEAD"].includes(request.method);
  let principal: ApiPrincipal | undefined;
  let target: { type: string; id: string } | undefined;
  try {
    principal = await authenticate(db, request, resolveSession);
    if (isWrite && principal.scope === "read") {
      throw new ApiError("forbidden", "This API token has the read scope; this request needs the write scope.");
    }
    if (!can(principal.user.role, def.permission)) throw new ApiError("forbidden", "Your role does not allow this.");
    const params = validate(def.params, (await context?.params) ?? {}, "path");
    const query = validate(def.query, queryObject(new URL(request.url)), "query");
    const body = validate(def.body, isWrite ? await readJsonBody(request) : undefined, "request body");
    target = def.target?.({ params, body });
    const result = await def.handler({ params, query, body, principal, db });
    if (isWrite) await recordAudit(db, { actor: principal.actor, action: def.name, target, outcome: "success" });
    // A handler that answers with its own Response (a streamed CSV download) is passed through as it is.
    return result instanceof Response ? result : Response.json(result, { status: def.successStatus ?? 200 });
  } catch (error) {
    const apiError = toApiError(error, def.name);
    if (isWrite && principal && apiError.code !== "invalid_request") {
      const outcome = apiError.code === "forbidden" ? "denied" : "failure";
      const message = error instanceof Error ? error.message : String(error);
      await recordAudit(db, { actor: principal.actor, action: def.name, target, outcome, details: { error: message.slice(0, 2000) } }).catch(
        (auditError: unknown) => console.error("could not record the API failure in the audit trail", auditError),
      );
    }
    return errorResponse(apiError, apiError.code === "unauthenticated" ? { "WWW-Authenticate": 'Bearer realm="keyward"' } : undefined);
  }
}
