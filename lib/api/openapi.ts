import { z } from "zod";
import { identityKinds, severities } from "@/lib/inventory/filters";
import { apiErrorStatus } from "./errors";
import { auditImportQuery, auditUploadContentTypes } from "@/lib/usage/import-api";
import { ingestHistoryQuery } from "@/lib/usage/ingest-history";
import { MAX_WEBHOOK_BODY_BYTES } from "@/lib/usage/webhook-ingest";
import { identityIdParams, identityUsageQuery, leastPrivilegeQuery, listIdentitiesQuery } from "./identities";
import { clusterIdParams, registerClusterBody, syncRunsQuery } from "./clusters";
import { whoCanQuery } from "./who-can";
import {
  applyBody,
  bulkApproveBody,
  campaignIdParams,
  campaignItemParams,
  campaignItemsQuery,
  changeSetIdParams,
  createCampaignBody,
  decisionBody,
  exportScopeQuery,
  listCampaignsQuery,
  previewBody,
} from "./campaigns";
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
  trigger: z.enum(["manual", "schedule", "registration", "watch", "remediation"]),
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

const teamRefSchema = z.object({ id: z.string(), name: z.string() });
const reviewDecision = z.enum(["approve", "shrink", "revoke"]);
const campaignStatus = z.enum(["draft", "active", "closed", "cancelled"]);
const reviewItemStatus = z.enum(["pending", "decided", "applying", "applied", "failed", "rolledBack"]);
const changeSetStatus = z.enum(["planned", "applying", "applied", "failed", "rolledBack"]);

const campaignSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: campaignStatus,
  scope: z.object({
    clusterIds: z.array(z.string()),
    namespaces: z.array(z.string()),
    kinds: z.array(z.enum(identityKinds)),
    minSeverity: severity.optional(),
    onlyUnowned: z.boolean(),
    onlyUnusedAccess: z.boolean(),
  }),
  durationDays: z.number().int(),
  deadline: nullableDate.describe("set at the latest by the launch"),
  reminderDaysBefore: z.array(z.number().int()),
  escalateAfterDeadline: z.boolean(),
  undecidedPolicy: z.enum(["keep", "revoke"]),
  defaultReviewerTeamId: z.string().nullable(),
  schedule: z.object({ id: z.string(), cron: z.string(), nextRunAt: dateTime, enabled: z.boolean() }).nullable(),
  createdById: z.string(),
  createdAt: dateTime,
  launchedAt: nullableDate,
  closedAt: nullableDate,
  cancelledAt: nullableDate,
});

export const campaignListResponseSchema = z.object({
  items: z.array(campaignSchema).describe("newest first; an owner sees only campaigns holding items of its teams"),
  page: z.number().int(),
  pageSize: z.number().int(),
  total: z.number().int(),
});

export const createdCampaignResponseSchema = z.object({
  id: z.string(),
  status: z.enum(["draft", "active"]),
  scheduleId: z.string().nullable().describe("the recurring schedule, when one was given"),
  items: z.number().int().describe("review items the launch created (0 for a draft)"),
});

const reviewerProgressSchema = z.object({
  teamId: z.string().nullable().describe("null: items without a reviewer team (the security team's)"),
  teamName: z.string().nullable(),
  total: z.number().int(),
  pending: z.number().int(),
  decided: z.number().int(),
  byDecision: z.record(reviewDecision, z.number().int()),
  byStatus: z.partialRecord(reviewItemStatus, z.number().int()),
  flagged: z.number().int(),
});

export const campaignDetailResponseSchema = campaignSchema.extend({
  defaultReviewerTeam: teamRefSchema.nullable(),
  progress: z.array(reviewerProgressSchema).describe("per reviewer team, most undecided first; an owner sees its own teams' only"),
});

export const launchResponseSchema = z.object({
  launched: z.boolean().describe("false: the campaign was already active (nothing was written)"),
  items: z.number().int(),
  deadline: nullableDate,
});

const finishedCampaignSchema = z.object({ id: z.string(), status: z.enum(["closed", "cancelled"]) });

export const campaignItemSchema = z.object({
  id: z.string(),
  campaignId: z.string(),
  identityId: z.string().nullable().describe("null once the identity is gone from the inventory"),
  identity: z
    .object({
      username: z.string(),
      kind: z.enum(identityKinds),
      namespace: z.string(),
      name: z.string(),
      groups: z.array(z.string()),
      cluster: z.string(),
      clusterId: z.string(),
      ownerTeam: teamRefSchema.nullable(),
    })
    .describe("as frozen at the launch"),
  status: reviewItemStatus,
  severity: severity.nullable(),
  riskScore: z.number().int(),
  recommendation: reviewDecision,
  recommendationReason: z.string(),
  reviewerTeam: teamRefSchema.nullable().describe("null: the security team reviews it"),
  decision: reviewDecision.nullable(),
  comment: z.string().nullable(),
  decidedById: z.string().nullable(),
  decidedAt: nullableDate,
  appliedAt: nullableDate,
  flagged: z.boolean().describe("undecided at the deadline under the keep policy"),
  version: z.number().int().describe("pass as expectedVersion with a decision"),
});

export const campaignItemsResponseSchema = z.object({
  items: z.array(campaignItemSchema).describe("ordered by id; an owner sees its teams' items only"),
  nextCursor: z.string().nullable().describe("pass as `cursor` for the next page; null on the last page"),
});

const frozenEvidenceSchema = z.looseObject({
  version: z.literal(1),
  frozenAt: dateTime,
  identity: z.looseObject({ username: z.string(), kind: z.enum(identityKinds), clusterName: z.string() }),
  grants: z.array(grantSchema.extend({ text: z.string() }).loose()),
  credentials: z.array(z.looseObject({ kind: z.string(), name: z.string(), ageDays: z.number().nullable(), lastUsedAt: nullableDate })),
  usage: z.looseObject({ windowDays: z.number().int(), lastUsedAt: nullableDate, requests: z.number().int() }),
  findings: z.array(z.looseObject({ type: z.string(), severity, csf: z.array(z.string()), owasp: z.array(z.string()) })),
});

export const campaignItemDetailResponseSchema = campaignItemSchema.extend({
  campaign: z.object({ id: z.string(), name: z.string(), status: campaignStatus, deadline: nullableDate }),
  evidence: frozenEvidenceSchema.describe("grants with provenance, credentials and ages, usage and findings as the reviewer saw them at the launch"),
  changeSets: z
    .array(
      z.object({
        id: z.string(),
        decision: reviewDecision.nullable(),
        status: changeSetStatus,
        createdAt: dateTime,
        appliedAt: nullableDate,
        rolledBackAt: nullableDate,
        rollbackOfId: z.string().nullable().describe("set on a rollback: the change set it undid"),
      }),
    )
    .describe("newest first: previews, applies, rollbacks"),
});

const clusterObjectSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.looseObject({ name: z.string(), namespace: z.string().optional(), resourceVersion: z.string().optional() }),
});

const clusterChangeSchema = z
  .looseObject({
    op: z.enum(["create", "replace", "delete", "patch"]),
    reason: z.string(),
    before: clusterObjectSchema.optional().describe("the object as read, with the resourceVersion the write is conditional on"),
    after: clusterObjectSchema.optional(),
    patch: z.record(z.string(), z.unknown()).optional().describe("a JSON merge patch (op patch)"),
  })
  .describe("one write to the cluster");

const accessCheckSchema = z.looseObject({
  attributes: z.record(z.string(), z.unknown()).describe("SubjectAccessReview resourceAttributes or nonResourceAttributes"),
  expected: z.enum(["allowed", "denied"]),
  because: z.enum(["removed", "kept", "still-granted"]),
});

const remediationPlanSchema = z.object({
  decision: reviewDecision,
  changes: z.array(clusterChangeSchema),
  checks: z.array(accessCheckSchema).describe("the SubjectAccessReviews that prove the outcome"),
  notes: z.array(z.string()).describe("what Kubernetes cannot take away here, and why"),
});

const appliedChangeSchema = z.object({ change: clusterChangeSchema, result: clusterObjectSchema.nullable().describe("as the cluster stored it; null after a delete") });
const checkResultSchema = accessCheckSchema.extend({ allowed: z.boolean(), reason: z.string(), passed: z.boolean() });
const changeSetFailureSchema = z
  .looseObject({
    reason: z.enum(["refused", "dryRunRefused", "verificationFailed", "verificationUnavailable", "interrupted", "replanned"]),
    message: z.string().optional(),
    cluster: z.object({ status: z.number().int(), reason: z.string(), message: z.string() }).optional().describe("the cluster's answer to the refused change"),
  })
  .nullable();

export const decisionPreviewResponseSchema = z.object({
  changeSetId: z.string().describe("confirm with POST …/apply { changeSetId }"),
  plan: remediationPlanSchema,
  dryRun: z.array(z.looseObject({ ok: z.boolean() })).describe("the API server's dryRun=All answer to each change, in plan order"),
});

export const applyResultSchema = z.union([
  z.object({
    status: z.enum(["applied", "failed"]),
    changeSetId: z.string(),
    plan: remediationPlanSchema.describe("the planned changes"),
    applied: z.array(appliedChangeSchema).describe("the changes that reached the cluster, with their before-snapshots"),
    verification: z.array(checkResultSchema).describe("SubjectAccessReview results after the apply"),
    failure: changeSetFailureSchema,
  }),
  z.object({
    status: z.literal("replanned").describe("the cluster changed since the preview: nothing was applied; confirm the new preview"),
    changeSetId: z.string(),
    preview: decisionPreviewResponseSchema,
  }),
]);

export const decisionResponseSchema = z.object({
  decision: z.object({ itemId: z.string(), decision: reviewDecision, comment: z.string().nullable(), version: z.number().int() }),
  carriedOut: applyResultSchema.nullable().describe("null unless apply was true"),
});

export const bulkApproveResponseSchema = z.object({
  results: z.array(
    z.object({
      id: z.string(),
      outcome: z.enum(["approved", "conflict", "refused", "notLowRisk", "invalid"]),
      version: z.number().int().optional(),
      message: z.string().optional(),
    }),
  ).describe("one per item, in the order sent"),
});

export const rollbackResponseSchema = z.object({
  status: z.enum(["applied", "failed"]),
  changeSetId: z.string().describe("the rollback's own change set"),
  applied: z.array(appliedChangeSchema),
  irreversible: z.array(z.string()).describe("what no rollback brings back (deleted credentials), and why"),
  failure: changeSetFailureSchema,
  verification: z.array(checkResultSchema).describe("the removed access is back"),
});

const errorSchema = z.object({
  error: z.object({
    code: z.enum(Object.keys(apiErrorStatus) as [keyof typeof apiErrorStatus, ...(keyof typeof apiErrorStatus)[]]),
    message: z.string(),
    fieldErrors: z.record(z.string(), z.array(z.string())).optional().describe("per field, for invalid_request"),
    current: z.unknown().optional().describe("for a conflict: the state that won (a decision conflict: the item's status, decision, comment, decidedById, decidedAt, version)"),
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
  response?: z.ZodType;
  /** A file download (e.g. CSV) instead of JSON: its media type and what it holds. */
  download?: { contentType: string; description: string };
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
        content: op.download
          ? { [op.download.contentType]: { schema: { type: "string", description: op.download.description } } }
          : { "application/json": { schema: jsonSchema(op.response!, "output") }, ...Object.fromEntries(Object.entries(op.alsoAs ?? {}).map(([type, schema]) => [type, { schema }])) },
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
        "Inventory, effective permissions and risks of Kubernetes non-human identities, and the access reviews that certify them. Authenticate with `Authorization: Bearer kw_…` (an admin issues tokens under Admin → API tokens or with `npm run keyward -- token create`). Errors are `{ error: { code, message } }`.",
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
      "/campaigns": {
        get: operation({ summary: "List access-review campaigns, newest first (paged)", scope: "read", query: listCampaignsQuery, response: campaignListResponseSchema, errors: [400] }),
        post: operation({
          summary: "Create a campaign (a draft, launched at once with launch: true; recurring with schedule.cron). Security and admin only",
          scope: "write",
          body: createCampaignBody,
          response: createdCampaignResponseSchema,
          status: 201,
          errors: [400, 409, 422],
        }),
      },
      "/campaigns/{id}": {
        get: operation({ summary: "One campaign with its progress per reviewer team", scope: "read", params: campaignIdParams, response: campaignDetailResponseSchema, errors: [404] }),
      },
      "/campaigns/{id}/launch": {
        post: operation({
          summary: "Launch a draft: every identity in scope becomes an item with its evidence frozen (launching an active campaign again changes nothing)",
          scope: "write",
          params: campaignIdParams,
          response: launchResponseSchema,
          errors: [404, 409, 422],
        }),
      },
      "/campaigns/{id}/close": {
        post: operation({ summary: "Close an active campaign (final: start a new one to review again)", scope: "write", params: campaignIdParams, response: finishedCampaignSchema, errors: [404, 409] }),
      },
      "/campaigns/{id}/cancel": {
        post: operation({ summary: "Cancel a draft or active campaign (final)", scope: "write", params: campaignIdParams, response: finishedCampaignSchema, errors: [404, 409] }),
      },
      "/campaigns/{id}/schedule/stop": {
        post: operation({
          summary: "Stop the recurring schedule that launches this campaign (final; the campaigns it launched stay as they are)",
          scope: "write",
          params: campaignIdParams,
          response: z.object({ id: z.string(), scheduleStopped: z.literal(true) }),
          errors: [404, 409],
        }),
      },
      "/campaigns/{id}/items": {
        get: operation({
          summary: "The campaign's review items (keyset-paged by id); an owner sees only its teams' items",
          scope: "read",
          params: campaignIdParams,
          query: campaignItemsQuery,
          response: campaignItemsResponseSchema,
          errors: [400, 404],
        }),
      },
      "/campaigns/{id}/items/{itemId}": {
        get: operation({
          summary: "One item with its frozen evidence and change sets (another campaign's item, or one the caller may not see, is not found)",
          scope: "read",
          params: campaignItemParams,
          response: campaignItemDetailResponseSchema,
          errors: [404],
        }),
      },
      "/campaigns/{id}/items/{itemId}/decision": {
        post: operation({
          summary:
            "Decide an item (approve, shrink, revoke); with apply: true also carry it out on the cluster (plan, dry run, apply with preconditions, verify with SubjectAccessReviews). An owner decides its teams' items only (403 otherwise, nothing changes); a decision on a changed item is 409 with the decision that stands. Once recorded, a decision stands even if carrying it out is refused: retry with …/apply",
          scope: "write",
          params: campaignItemParams,
          body: decisionBody,
          response: decisionResponseSchema,
          errors: [400, 404, 409, 422, 502],
        }),
      },
      "/campaigns/{id}/items/{itemId}/preview": {
        post: operation({
          summary: "Preview carrying out the item's decision: the exact changes and the API server's dry-run answer, stored as a change set to confirm",
          scope: "write",
          params: campaignItemParams,
          body: previewBody,
          response: decisionPreviewResponseSchema,
          errors: [400, 404, 409, 422],
        }),
      },
      "/campaigns/{id}/items/{itemId}/apply": {
        post: operation({
          summary: "Carry the item's decision out: confirm a preview (changeSetId; a cluster changed since answers replanned), or plan, apply and verify in one step (a retry after a failure)",
          scope: "write",
          params: campaignItemParams,
          body: applyBody,
          response: applyResultSchema,
          errors: [400, 404, 409, 422],
        }),
      },
      "/campaigns/{id}/items/bulk-approve": {
        post: operation({
          summary: "Approve several low-risk items of the campaign, each on its own (high and critical items are refused per item)",
          scope: "write",
          params: campaignIdParams,
          body: bulkApproveBody,
          response: bulkApproveResponseSchema,
          errors: [400],
        }),
      },
      "/campaigns/{id}/export.csv": {
        get: operation({
          summary: "The campaign's decisions as CSV (streamed): one row per item with the NIST CSF 2.0 subcategories and OWASP NHI ids it evidences",
          scope: "read",
          params: campaignIdParams,
          download: { contentType: "text/csv", description: "a CSV file (Content-Disposition: attachment); formula-like cells are neutralised" },
          errors: [404],
        }),
      },
      "/changes/{id}/rollback": {
        post: operation({
          summary: "Roll back a carried-out decision's change set: the objects as they were before, verified; a failed rollback run again resumes",
          scope: "write",
          params: changeSetIdParams,
          response: rollbackResponseSchema,
          errors: [404, 409, 422],
        }),
      },
      "/exports/inventory.csv": {
        get: operation({
          summary: "The identity inventory as CSV (streamed), with NIST CSF 2.0 and OWASP NHI mappings",
          scope: "read",
          query: exportScopeQuery,
          download: { contentType: "text/csv", description: "a CSV file (Content-Disposition: attachment)" },
          errors: [400, 404],
        }),
      },
      "/exports/findings.csv": {
        get: operation({
          summary: "Unresolved findings (with any risk acceptance) as CSV (streamed), with NIST CSF 2.0 and OWASP NHI mappings",
          scope: "read",
          query: exportScopeQuery,
          download: { contentType: "text/csv", description: "a CSV file (Content-Disposition: attachment)" },
          errors: [400, 404],
        }),
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
