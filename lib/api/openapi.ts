import { z } from "zod";
import { identityKinds, severities } from "@/lib/inventory/filters";
import { apiErrorStatus } from "./errors";
import { identityIdParams, listIdentitiesQuery } from "./identities";
import { clusterIdParams, registerClusterBody, syncRunsQuery } from "./clusters";
import { whoCanQuery } from "./who-can";

/**
 * The OpenAPI 3.1 description of /api/v1, generated from the same zod schemas the routes validate with.
 * The response schemas below are checked against real responses in lib/api/api.test.ts, so they cannot drift.
 */

const dateTime = z.iso.datetime();
const nullableDate = dateTime.nullable();
const severity = z.enum(severities);

export const findingSummarySchema = z.object({
  type: z.string(),
  severity,
  title: z.string(),
  owasp: z.array(z.string()).describe("OWASP Non-Human Identities Top 10 (2025) ids"),
  csf: z.array(z.string()).describe("NIST CSF 2.0 ids"),
  firstSeenAt: dateTime,
  acceptedUntil: nullableDate.describe("set while a risk acceptance silences the finding"),
});

export const credentialSummarySchema = z.object({
  kind: z.enum(["legacyTokenSecret", "boundToken", "requestedToken", "clientCertificate"]),
  namespace: z.string(),
  name: z.string(),
  issuedAt: nullableDate,
  expiresAt: nullableDate,
  lastUsedAt: nullableDate,
});

const ownerSchema = z
  .object({
    team: z.object({ id: z.string(), name: z.string(), slug: z.string() }),
    source: z.enum(["annotation", "label", "namespaceRule", "manual"]).nullable(),
  })
  .nullable();

export const identityListResponseSchema = z.object({
  items: z.array(
    z.object({
      id: z.string(),
      cluster: z.string(),
      clusterId: z.string(),
      kind: z.enum(identityKinds),
      namespace: z.string().describe('"" when not namespaced'),
      name: z.string(),
      username: z.string(),
      owner: ownerSchema,
      maxSeverity: severity.nullable(),
      hasLegacyToken: z.boolean(),
      oldestCredentialAt: nullableDate,
      lastSeenAt: dateTime,
      deletedAt: nullableDate,
      credentials: z.array(credentialSummarySchema),
      findings: z.array(findingSummarySchema).describe("open findings"),
    }),
  ),
  nextCursor: z.string().nullable().describe("pass as `cursor` for the next page; null on the last page"),
});

const ruleSourceSchema = z.object({
  binding: z.object({ kind: z.enum(["RoleBinding", "ClusterRoleBinding"]), namespace: z.string().optional(), name: z.string() }),
  role: z.object({ kind: z.enum(["Role", "ClusterRole"]), namespace: z.string().optional(), name: z.string() }),
});

export const whoCanResponseSchema = z.object({
  subjects: z.array(
    z.object({
      kind: z.enum(["User", "Group", "ServiceAccount"]),
      namespace: z.string(),
      name: z.string(),
      username: z.string(),
      identityId: z.string().nullable(),
      cluster: z.string().nullable(),
      clusterId: z.string(),
      via: z.array(ruleSourceSchema),
    }),
  ),
});

const policyRuleSchema = z.object({
  verbs: z.array(z.string()),
  apiGroups: z.array(z.string()).optional(),
  resources: z.array(z.string()).optional(),
  resourceNames: z.array(z.string()).optional(),
  nonResourceURLs: z.array(z.string()).optional(),
});

export const identityDetailResponseSchema = z.looseObject({
  id: z.string(),
  cluster: z.string(),
  kind: z.enum(identityKinds),
  namespace: z.string(),
  name: z.string(),
  username: z.string(),
  groups: z.array(z.string()),
  owner: ownerSchema,
  credentials: z.array(z.looseObject({ id: z.string(), kind: z.string(), name: z.string() })),
  findings: z.array(findingSummarySchema.omit({ acceptedUntil: true }).extend({ id: z.string(), state: z.enum(["open", "accepted", "resolved"]) }).loose()),
  permissions: z.object({
    rules: z.array(ruleSourceSchema.extend({ rule: policyRuleSchema, namespace: z.string().nullable().describe("null = cluster-wide") })),
    matrix: z.looseObject({ verbs: z.array(z.string()), rows: z.array(z.looseObject({ key: z.string() })) }).nullable(),
  }),
});

const credentialPurposeSchema = z.object({ purpose: z.enum(["sync", "remediation"]), authType: z.enum(["token", "clientCertificate"]), updatedAt: dateTime });

const syncRunSchema = z.object({
  id: z.string(),
  trigger: z.enum(["manual", "schedule", "registration", "watch"]),
  status: z.enum(["running", "succeeded", "failed"]),
  startedAt: dateTime,
  durationMs: z.number().int().nullable(),
  counts: z.record(z.string(), z.unknown()),
  error: z.string().nullable(),
});

export const clusterListResponseSchema = z.object({
  items: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      apiServerUrl: z.string(),
      status: z.string(),
      statusMessage: z.string().nullable(),
      createdAt: dateTime,
      lastSyncAt: nullableDate,
      identityCount: z.number().int(),
      credentials: z.array(credentialPurposeSchema),
      lastSyncRun: syncRunSchema.nullable(),
    }),
  ),
});

export const registeredClusterResponseSchema = z.object({
  id: z.string(),
  name: z.string(),
  apiServerUrl: z.string(),
  credentials: z.array(credentialPurposeSchema).describe("never the secrets themselves"),
});

const connectionTestResponseSchema = z.object({
  clusterId: z.string(),
  credentials: z.array(
    z.object({
      purpose: z.enum(["sync", "remediation"]),
      authType: z.string(),
      ok: z.boolean(),
      error: z.string().optional(),
      subject: z.object({ username: z.string(), groups: z.array(z.string()) }).optional(),
      namespaces: z.array(z.string()),
      canDo: z.array(z.string()),
      cannot: z.array(z.string()).describe("reads a full sync needs that the credential lacks"),
      writes: z.boolean(),
      warnings: z.array(z.string()),
    }),
  ),
});

const syncQueuedSchema = z.object({
  jobId: z.string(),
  status: z.literal("queued"),
  syncRuns: z.string().describe("where the run appears once a worker has picked it up"),
});

export const syncRunsResponseSchema = z.object({ items: z.array(syncRunSchema.extend({ finishedAt: nullableDate })) });

const errorSchema = z.object({
  error: z.object({
    code: z.enum(Object.keys(apiErrorStatus) as [keyof typeof apiErrorStatus, ...(keyof typeof apiErrorStatus)[]]),
    message: z.string(),
    fieldErrors: z.record(z.string(), z.array(z.string())).optional().describe("per field, for invalid_request"),
  }),
});

type JsonSchema = Record<string, unknown>;
const jsonSchema = (schema: z.ZodType, io: "input" | "output"): JsonSchema => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as JsonSchema;
  return rest;
};

/** Query or path parameters from an object schema, one per property. */
function parameters(schema: z.ZodObject | undefined, location: "query" | "path"): JsonSchema[] {
  if (!schema) return [];
  const object = jsonSchema(schema, "input") as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(object.properties ?? {}).map(([name, property]) => ({
    name,
    in: location,
    required: location === "path" || (object.required ?? []).includes(name),
    ...(typeof property.description === "string" ? { description: property.description } : {}),
    schema: property,
  }));
}

const errorResponses = (codes: number[]) =>
  Object.fromEntries(
    codes.map((status) => [String(status), { description: statusText[status] ?? "Error", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } }]),
  );
const statusText: Record<number, string> = {
  400: "Invalid query, path or body (see fieldErrors)",
  401: "Missing, unknown, expired or revoked token",
  403: "The token's scope or the user's role does not allow this",
  404: "Not found (or not visible to the caller)",
  409: "Conflict",
  422: "The input is well-formed but cannot be used",
  500: "Internal error (details are logged, never returned)",
  502: "The cluster failed",
};

interface Operation {
  summary: string;
  scope: "read" | "write";
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  response: z.ZodType;
  status?: number;
  errors: number[];
}

function operation(op: Operation): JsonSchema {
  return {
    summary: op.summary,
    description: `Needs a token with the ${op.scope} scope${op.scope === "read" ? " (or write)" : ""}, or a signed-in session whose role allows it.`,
    parameters: [...parameters(op.params, "path"), ...parameters(op.query, "query")],
    ...(op.body ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(op.body, "input") } } } } : {}),
    responses: {
      [String(op.status ?? 200)]: { description: "OK", content: { "application/json": { schema: jsonSchema(op.response, "output") } } },
      ...errorResponses([401, 403, 500, ...op.errors]),
    },
  };
}

export function openApiDocument(): JsonSchema {
  return {
    openapi: "3.1.0",
    info: {
      title: "Keyward API",
      version: "1",
      description:
        "Inventory, effective permissions and risks of Kubernetes non-human identities. Authenticate with `Authorization: Bearer kw_…` (an admin issues tokens under Admin → API tokens or with `npm run keyward -- token create`). Errors are `{ error: { code, message } }`.",
    },
    servers: [{ url: "/api/v1" }],
    security: [{ bearerToken: [] }],
    paths: {
      "/identities": {
        get: operation({ summary: "List identities (filtered, keyset-paged)", scope: "read", query: listIdentitiesQuery, response: identityListResponseSchema, errors: [400] }),
      },
      "/identities/{id}": {
        get: operation({
          summary: "One identity with its effective permissions (with provenance), credentials, workloads and findings",
          scope: "read",
          params: identityIdParams,
          response: identityDetailResponseSchema,
          errors: [404],
        }),
      },
      "/who-can": {
        get: operation({ summary: "Who can VERB RESOURCE in NAMESPACE (no namespace = cluster-wide)", scope: "read", query: whoCanQuery, response: whoCanResponseSchema, errors: [400, 404] }),
      },
      "/clusters": {
        get: operation({ summary: "List clusters with their last sync", scope: "read", response: clusterListResponseSchema, errors: [] }),
        post: operation({
          summary: "Register a cluster: URL, CA and credentials, or kubeconfigs and the user to take from each",
          scope: "write",
          body: registerClusterBody,
          response: registeredClusterResponseSchema,
          status: 201,
          errors: [400, 409, 422],
        }),
      },
      "/clusters/{id}/test": {
        post: operation({ summary: "Test each stored credential (who it is, what it can and cannot do)", scope: "write", params: clusterIdParams, response: connectionTestResponseSchema, errors: [404] }),
      },
      "/clusters/{id}/sync": {
        post: operation({
          summary: "Queue a full sync now (a sync already queued for the cluster is reused)",
          scope: "write",
          params: clusterIdParams,
          response: syncQueuedSchema,
          status: 202,
          errors: [404],
        }),
      },
      "/clusters/{id}/sync-runs": {
        get: operation({ summary: "The cluster's sync history, newest first", scope: "read", params: clusterIdParams, query: syncRunsQuery, response: syncRunsResponseSchema, errors: [404] }),
      },
    },
    components: {
      securitySchemes: { bearerToken: { type: "http", scheme: "bearer", description: "A Keyward API token (kw_…)" } },
      schemas: { Error: jsonSchema(errorSchema, "output") },
    },
  };
}
