/** Kubernetes `Status` errors, with kube-apiserver's wording. */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: Array<{ reason?: string; message: string; field?: string }>;
  retryAfterSeconds?: number;
}

export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

export interface QualifiedResource {
  group: string;
  resource: string;
}

function qualified(r: QualifiedResource): string {
  return r.group ? `${r.resource}.${r.group}` : r.resource;
}

function subject(r: QualifiedResource, name: string | undefined): string {
  return name ? `${qualified(r)} "${name}"` : qualified(r);
}

export const errors = {
  notFound: (r: QualifiedResource, name: string) =>
    new StatusError(404, "NotFound", `${subject(r, name)} not found`, { name, group: r.group, kind: r.resource }),
  alreadyExists: (r: QualifiedResource, name: string) =>
    new StatusError(409, "AlreadyExists", `${subject(r, name)} already exists`, {
      name,
      group: r.group,
      kind: r.resource,
    }),
  preconditionFailed: (r: QualifiedResource, name: string, field: "UID" | "ResourceVersion", wanted: string, actual: string) =>
    new StatusError(
      409,
      "Conflict",
      `Operation cannot be fulfilled on ${subject(r, name)}: Precondition failed: ${field} in precondition: ${wanted}, ${field} in object meta: ${actual}`,
      { name, group: r.group, kind: r.resource },
    ),
  conflict: (r: QualifiedResource, name: string) =>
    new StatusError(
      409,
      "Conflict",
      `Operation cannot be fulfilled on ${subject(r, name)}: the object has been modified; please apply your changes to the latest version and try again`,
      { name, group: r.group, kind: r.resource },
    ),
  /** `qualifiedKind` is e.g. `RoleBinding.rbac.authorization.k8s.io`. */
  invalid: (qualifiedKind: string, kind: string, group: string, name: string, causes: Array<{ field: string; message: string }>) =>
    new StatusError(
      422,
      "Invalid",
      `${qualifiedKind} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(", ")}`,
      {
        name,
        group,
        kind,
        causes: causes.map((c) => ({ reason: "FieldValueInvalid", message: c.message, field: c.field })),
      },
    ),
  forbidden: (r: QualifiedResource, name: string | undefined, message: string) =>
    new StatusError(403, "Forbidden", `${subject(r, name)} is forbidden: ${message}`, {
      ...(name ? { name } : {}),
      group: r.group,
      kind: r.resource,
    }),
  forbiddenPath: (message: string) => new StatusError(403, "Forbidden", message, {}),
  unauthorized: () => new StatusError(401, "Unauthorized", "Unauthorized"),
  badRequest: (message: string) => new StatusError(400, "BadRequest", message),
  methodNotAllowed: (message: string) => new StatusError(405, "MethodNotAllowed", message),
  unsupportedMediaType: (message: string) => new StatusError(415, "UnsupportedMediaType", message),
  expired: (message: string) => new StatusError(410, "Expired", message),
  tooManyRequests: (retryAfterSeconds: number) =>
    new StatusError(429, "TooManyRequests", "Too many requests, please try again later.", { retryAfterSeconds }),
  internal: (message: string) =>
    new StatusError(500, "InternalError", `Internal error occurred: ${message}`, {
      causes: [{ message }],
    }),
  /** A patch that cannot be applied (kube-apiserver answers 422 for these). */
  unprocessable: (message: string, op: string) =>
    new StatusError(422, "Invalid", `the server rejected our request due to an error in our request: ${op}: ${message}`),
  notFoundPath: () => new StatusError(404, "NotFound", "the server could not find the requested resource", {}),
};
