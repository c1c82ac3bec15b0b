/** The error codes /api/v1 answers with, each with its HTTP status. Documented in the OpenAPI file. */
export const apiErrorStatus = {
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  invalid_request: 400,
  conflict: 409,
  unprocessable: 422,
  payload_too_large: 413,
  unsupported_media_type: 415,
  upstream_failed: 502,
  /** Temporarily unable to store what was sent: retry (answered with Retry-After). */
  unavailable: 503,
  internal: 500,
} as const;
export type ApiErrorCode = keyof typeof apiErrorStatus;

/** An error whose code and message are safe to send to the client. */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly fieldErrors?: Record<string, string[]>,
    /** For a conflict: the state that won (e.g. the decision that stands), so the client need not re-read it. */
    readonly current?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }

  get status(): number {
    return apiErrorStatus[this.code];
  }
}

export function errorResponse(error: ApiError, headers?: HeadersInit): Response {
  const body = { error: { code: error.code, message: error.message, ...(error.fieldErrors ? { fieldErrors: error.fieldErrors } : {}), ...(error.current !== undefined ? { current: error.current } : {}) } };
  return Response.json(body, { status: error.status, headers });
}
