import { z } from "zod";
import { identityKinds, severities } from "@/lib/inventory/filters";
import { apiErrorStatus } from "./errors";
import { auditImportQuery, auditUploadContentTypes } from "@/lib/usage/import-api";
import { ingestHistoryQuery } from "@/lib/usage/ingest-history";
import { MAX_WEBHOOK_BODY_BYTES } from "@/lib/usage/webhook-ingest";
import { identityIdParams, identityUsageQuery, leastPrivilegeQuery, listIdentitiesQuery } from "./identities";
import { clusterIdParams, registerClusterBody, syncRunsQuery } from "./clusters";
import { whoCanQuery } from "./who-can";
import { analysisSettingsInput, effectiveAnalysisSettings } from "@/lib/findings/settings";

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
  lastUsedAt: nullableDate.describe("latest audit event with this credential, or its kubernetes.io/legacy-token-last-used label"),
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
      lastUsedAt: nullableDate.describe("latest audit event, or its credentials' legacy-token-last-used label; null: no use known"),
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
  lastUsedAt: nullableDate,
  credentials: z.array(z.looseObject({ id: z.string(), kind: z.string(), name: z.string(), lastUsedAt: nullableDate })),
  findings: z.array(findingSummarySchema.omit({ acceptedUntil: true }).extend({ id: z.string(), state: z.enum(["open", "accepted", "resolved"]) }).loose()),
  permissions: z.object({
    rules: z.array(ruleSourceSchema.extend({ rule: policyRuleSchema, namespace: z.string().nullable().describe("null = cluster-wide") })),
    matrix: z.looseObject({ verbs: z.array(z.string()), rows: z.array(z.looseObject({ key: z.string() })) }).nullable(),
  }),
});

const usageRecordSchema = z.object({
  verb: z.string(),
  apiGroup: z.string(),
  resource: z.string(),
  subresource: z.string(),
  namespace: z.string().describe('"" for cluster-scoped and all-namespace requests'),
  path: z.string().describe("non-resource URL; \"\" for resource requests"),
  resourceNames: z.array(z.string()),
  resourceNamesComplete: z.boolean().describe("false when names were capped or some request named no object"),
  count: z.number().int().describe("allowed requests in the window"),
});

const usageSourceSchema = z.object({ value: z.string(), count: z.number().int(), firstSeenAt: dateTime, lastSeenAt: dateTime });

const usedCellSchema = z.looseObject({ clusterWide: z.boolean(), namespaces: z.array(z.string()), used: z.boolean(), requests: z.number().int() });

export const identityUsageResponseSchema = z.object({
  identityId: z.string(),
  days: z.number().int(),
  since: dateTime.describe("first day of the window (UTC midnight)"),
  lastUsedAt: nullableDate,
  observedSince: nullableDate.describe("when Keyward started receiving the cluster's audit events"),
  totals: z.object({ requests: z.number().int(), denied: z.number().int(), activeDays: z.number().int() }),
  daily: z.array(z.object({ day: z.iso.date(), requests: z.number().int(), denied: z.number().int() })).describe("every day of the window, oldest first"),
  topVerbs: z.array(z.object({ verb: z.string(), requests: z.number().int() })),
  topResources: z.array(
    z.object({ key: z.string(), apiGroup: z.string(), resource: z.string(), subresource: z.string(), path: z.string(), requests: z.number().int() }),
  ),
  matrix: z
    .object({
      verbs: z.array(z.string()),
      rows: z.array(z.looseObject({ key: z.string(), apiGroup: z.string(), resource: z.string(), cells: z.record(z.string(), usedCellSchema) })),
      nonResourceUrls: z.array(z.object({ path: z.string(), verbs: z.array(z.string()), usedVerbs: z.array(z.string()) })),
    })
    .describe("effective permissions, each granted cell marked used or unused in the window"),
  credentials: z.array(
    z.object({
      id: z.string(),
      kind: z.string(),
      namespace: z.string(),
      name: z.string(),
      deletedAt: nullableDate,
      lastUsedAt: nullableDate,
      requests: z.number().int(),
    }),
  ),
  otherCredentials: z.array(z.object({ credentialRef: z.string(), lastUsedAt: dateTime, requests: z.number().int() })).describe("credential ids seen in events that match no synced credential"),
  sources: z.object({ userAgents: z.array(usageSourceSchema), sourceIps: z.array(usageSourceSchema) }),
  records: z.array(usageRecordSchema).describe("the window's rollups: allowed requests per verb, resource and namespace"),
});

const grantSchema = ruleSourceSchema.extend({ rule: policyRuleSchema, namespace: z.string().nullable().describe("null = cluster-wide") });

export const leastPrivilegeResponseSchema = z.object({
  days: z.number().int(),
  since: dateTime,
  observedSince: nullableDate,
  covered: z.boolean().describe("false: no event in the window and no audit events ever received, so the role says nothing"),
  role: z.object({
    name: z.string(),
    clusterRoles: z.array(z.looseObject({ metadata: z.looseObject({ name: z.string() }) })),
    roles: z.array(z.looseObject({ metadata: z.looseObject({ name: z.string(), namespace: z.string() }) })),
    clusterRoleBindings: z.array(z.looseObject({ metadata: z.looseObject({ name: z.string() }) })),
    roleBindings: z.array(z.looseObject({ metadata: z.looseObject({ name: z.string(), namespace: z.string() }) })),
    yaml: z.string().describe("every object as multi-document YAML; \"\" when nothing was used"),
  }),
  kept: z.array(grantSchema).describe("granted rules some request of the window fell under"),
  removed: z.array(grantSchema).describe("granted rules never used in the window"),
});

export const ingestOutcomeSchema = z.object({
  batchId: z.string().optional().describe("absent when the body held no event"),
  accepted: z.number().int(),
  duplicates: z.number().int().describe("already counted: another stage of the same request, a redelivery or a re-upload"),
  rejected: z.number().int(),
  sampleReasons: z.array(z.object({ line: z.number().int(), reason: z.string() })).describe("the first rejections"),
});

export const ingestHistoryResponseSchema = z.object({
  items: z.array(
    z.object({
      id: z.string(),
      source: z.enum(["webhook", "upload"]),
      status: z.enum(["running", "completed", "failed"]),
      fileName: z.string().nullable(),
      actorLabel: z.string(),
      accepted: z.number().int(),
      duplicates: z.number().int(),
      rejected: z.number().int(),
      sampleReasons: z.array(z.object({ line: z.number().int(), reason: z.string() })),
      error: z.string().nullable(),
      startedAt: dateTime,
      finishedAt: nullableDate,
    }),
  ),
  page: z.number().int(),
  pageSize: z.number().int(),
  total: z.number().int(),
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

export const clusterSettingsResponseSchema = z.object({
  clusterId: z.string(),
  settings: effectiveAnalysisSettings.describe("in effect: the stored values, the defaults for the rest"),
});

export const clusterSettingsUpdateResponseSchema = clusterSettingsResponseSchema.extend({
  changed: z.array(z.string()).describe("settings whose stored value changed; none: nothing was written or re-analysed"),
  analysis: z.object({ opened: z.number().int(), resolved: z.number().int(), open: z.number().int() }).nullable().describe("the re-analysis the change triggered"),
});

export const syncRunsResponseSchema = z.object({ items: z.array(syncRunSchema.extend({ finishedAt: nullableDate })) });

const errorSchema = z.object({
  error: z.object({
    code: z.enum(Object.keys(apiErrorStatus) as [keyof typeof apiErrorStatus, ...(keyof typeof apiErrorStatus)[]]),
    message: z.string(),
    fieldErrors: z.record(z.string(), z.array(z.string())).optional().describe("per field, for invalid_request"),
  }),
});

const webhookErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

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
  /** A body that is not JSON (a file): its media types. */
  rawBody?: { contentTypes: string[]; description: string };
  response: z.ZodType;
  /** Other representations of the success response, by media type (e.g. a YAML download). */
  alsoAs?: Record<string, JsonSchema>;
  status?: number;
  errors: number[];
}

const binary = { type: "string", format: "binary" };

function operation(op: Operation): JsonSchema {
  return {
    summary: op.summary,
    description: `Needs a token with the ${op.scope} scope${op.scope === "read" ? " (or write)" : ""}, or a signed-in session whose role allows it.`,
    parameters: [...parameters(op.params, "path"), ...parameters(op.query, "query")],
    ...(op.body ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(op.body, "input") } } } } : {}),
    ...(op.rawBody
      ? { requestBody: { required: true, description: op.rawBody.description, content: Object.fromEntries(op.rawBody.contentTypes.map((type) => [type, { schema: binary }])) } }
      : {}),
    responses: {
      [String(op.status ?? 200)]: {
        description: "OK",
        content: { "application/json": { schema: jsonSchema(op.response, "output") }, ...Object.fromEntries(Object.entries(op.alsoAs ?? {}).map(([type, schema]) => [type, { schema }])) },
      },
      ...errorResponses([401, 403, 500, ...op.errors]),
    },
  };
}

/** The audit webhook: kube-apiserver's webhook backend authenticates with the cluster's ingest token, not an API token. */
function auditWebhookOperation(): JsonSchema {
  const webhookError = { description: "", content: { "application/json": { schema: { $ref: "#/components/schemas/WebhookError" } } } };
  const error = (description: string) => ({ ...webhookError, description });
  return {
    summary: "Audit webhook backend: receive a batch of the cluster's audit events",
    description:
      "Point kube-apiserver's `--audit-webhook-config-file` at this URL (the cluster page offers the kubeconfig and the audit policy). Authenticated with the cluster's audit ingest token (`Authorization: Bearer kwa_…`), never an API token. Events are acknowledged only once committed; redelivered events count as duplicates.",
    security: [{ ingestToken: [] }],
    parameters: parameters(clusterIdParams, "path"),
    requestBody: {
      required: true,
      description: `An audit.k8s.io/v1 EventList (or a single Event) as JSON, or Events as JSON lines; gzip with Content-Encoding: gzip. At most ${MAX_WEBHOOK_BODY_BYTES / 1024 / 1024} MiB decoded.`,
      content: {
        "application/json": { schema: { type: "object", description: "audit.k8s.io/v1 EventList or Event" } },
        "application/x-ndjson": { schema: binary },
      },
    },
    responses: {
      "200": { description: "Committed", content: { "application/json": { schema: jsonSchema(ingestOutcomeSchema, "output") } } },
      "400": error("Not JSON, or not an EventList or Event"),
      "401": error("Missing or wrong ingest token, or a token of another cluster (an unknown cluster answers the same)"),
      "413": error("Body, or its decompression, too large; or a decompression bomb"),
      "415": error("Not application/json or application/x-ndjson"),
      "500": error("Internal error (details are logged, never returned)"),
      "503": error("Nothing was stored; retry (Retry-After)"),
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
      "/identities/{id}/usage": {
        get: operation({
          summary: "How the identity used its access in the window: requests per day, top verbs and resources, used-vs-granted matrix, credentials' last use, sources, and the rollups",
          scope: "read",
          params: identityIdParams,
          query: identityUsageQuery,
          response: identityUsageResponseSchema,
          errors: [400, 404],
        }),
      },
      "/identities/{id}/least-privilege": {
        get: operation({
          summary: "The least-privilege Role/ClusterRole and bindings for what the identity used in the window, and the diff with the rules it holds (kept, removed)",
          scope: "read",
          params: identityIdParams,
          query: leastPrivilegeQuery,
          response: leastPrivilegeResponseSchema,
          alsoAs: { "application/yaml": { type: "string", description: "with format=yaml: the objects as a file download (Content-Disposition: attachment)" } },
          errors: [400, 404],
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
      "/clusters/{id}/audit": { post: auditWebhookOperation() },
      "/clusters/{id}/audit/imports": {
        post: operation({
          summary: "Upload an audit log file (JSON lines, plain or gzip), streamed; answers with the accepted, duplicate and rejected counts",
          scope: "write",
          params: clusterIdParams,
          query: auditImportQuery,
          rawBody: { contentTypes: auditUploadContentTypes, description: "The file as the raw request body (not multipart). Gzip is recognised from its bytes." },
          response: ingestOutcomeSchema,
          errors: [400, 404, 413],
        }),
        get: operation({
          summary: "The cluster's audit ingest history (webhook deliveries and uploads), newest first",
          scope: "read",
          params: clusterIdParams,
          query: ingestHistoryQuery,
          response: ingestHistoryResponseSchema,
          errors: [400, 404],
        }),
      },
      "/clusters/{id}/settings": {
        get: operation({ summary: "The cluster's analysis settings in effect", scope: "read", params: clusterIdParams, response: clusterSettingsResponseSchema, errors: [404] }),
        patch: operation({
          summary: "Change some analysis settings (null resets one to its default); the change is audited and the cluster re-analysed at once",
          scope: "write",
          params: clusterIdParams,
          body: analysisSettingsInput,
          response: clusterSettingsUpdateResponseSchema,
          errors: [400, 404, 422],
        }),
      },
      "/clusters/{id}/sync-runs": {
        get: operation({ summary: "The cluster's sync history, newest first", scope: "read", params: clusterIdParams, query: syncRunsQuery, response: syncRunsResponseSchema, errors: [404] }),
      },
    },
    components: {
      securitySchemes: {
        bearerToken: { type: "http", scheme: "bearer", description: "A Keyward API token (kw_…)" },
        ingestToken: { type: "http", scheme: "bearer", description: "A cluster's audit ingest token (kwa_…), for the audit webhook only" },
      },
      schemas: { Error: jsonSchema(errorSchema, "output"), WebhookError: jsonSchema(webhookErrorSchema, "output") },
    },
  };
}
