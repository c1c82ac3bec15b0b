// The input boundary of usage: one audit record (a JSON line or an EventList item) in, one attributed
// UsageEvent or one rejection reason out. The zod schema is the definition of a valid audit.k8s.io/v1 Event;
// the reasons follow the validation policy (docs in lib/usage/types.ts and the issue), most important first.
import { z } from "zod";
import type { UsageEvent } from "./types";

const CREDENTIAL_ID = "authentication.kubernetes.io/credential-id";
const DECISION = "authorization.k8s.io/decision";
const TIMESTAMP_FIELDS = ["requestReceivedTimestamp", "stageTimestamp", "timestamp"] as const;

// Postgres text holds no NUL and its json no lone surrogate: either would fail a whole chunk's statement.
const DB_UNSAFE = /[\u0000\ud800-\udfff]/;
const NUL_OR_LONE_SURROGATE =
  /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const dbSafe = (value: string) =>
  DB_UNSAFE.test(value) ? value.replace(NUL_OR_LONE_SURROGATE, "\uFFFD") : value;

// Events repeat the same few usernames, verbs, resources and agents, and each JSON.parse makes fresh copies of
// them. One copy each, made safe for the database once: the rows and lists a chunk keeps hold that copy (the
// event's own copies die young), and a list's search finds it by identity. Bounded, so a flood of distinct
// names cannot grow it without end.
const INTERNED_MAX = 100_000;
const interned = new Map<string, string>();
const kept = (value: string): string => {
  const known = interned.get(value);
  if (known !== undefined) return known;
  if (interned.size >= INTERNED_MAX) interned.clear();
  const safe = dbSafe(value);
  interned.set(value, safe);
  return safe;
};

// Rollup key columns are in a btree index (entries must stay well under 2.7 kB); no real request comes near.
const KEY_PART_MAX = 512;
const TEXT_MAX = 4096;
const keyPart = z.string().max(KEY_PART_MAX);
const text = z.string().max(TEXT_MAX);

// RFC 3339 as Kubernetes' (Micro)Time decoder reads it: "T", seconds, optional fraction, "Z" or an offset.
// Read by character code: a regex plus Date's string parser cost several times more, per event, at 1M events.
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digits(value: string, start: number, count: number): number {
  let n = 0;
  for (let i = start; i < start + count; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** The instant of an RFC 3339 timestamp, or undefined when it is not one (also for impossible dates). */
export function parseRfc3339(value: string): Date | undefined {
  if (value.length < 20 || value.length > 35) return undefined;
  const year = digits(value, 0, 4);
  const month = digits(value, 5, 2);
  const day = digits(value, 8, 2);
  const hour = digits(value, 11, 2);
  const minute = digits(value, 14, 2);
  const second = digits(value, 17, 2);
  if (value[4] !== "-" || value[7] !== "-" || value[10] !== "T" || value[13] !== ":" || value[16] !== ":")
    return undefined;
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59)
    return undefined;
  if (second < 0 || second > 59) return undefined;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1])) return undefined;
  let i = 19;
  let millis = 0;
  if (value.charCodeAt(i) === 46 /* . */) {
    const end = i + 1;
    for (i++; i < value.length && value.charCodeAt(i) >= 48 && value.charCodeAt(i) <= 57; i++)
      if (i - end < 3) millis += (value.charCodeAt(i) - 48) * 10 ** (2 - (i - end));
    if (i === end || i - end > 9) return undefined;
  }
  let offsetMinutes = 0;
  if (value[i] === "Z" && i + 1 === value.length) {
    // UTC
  } else if ((value[i] === "+" || value[i] === "-") && i + 6 === value.length && value[i + 3] === ":") {
    const oh = digits(value, i + 1, 2);
    const om = digits(value, i + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return undefined;
    offsetMinutes = (value[i] === "+" ? 1 : -1) * (oh * 60 + om);
  } else return undefined;
  let utc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  if (year < 100) utc = new Date(utc).setUTCFullYear(year); // Date.UTC reads years 0-99 as 1900-1999
  return new Date(utc - offsetMinutes * 60_000);
}

const timestamp = z
  .string()
  .refine((value) => parseRfc3339(value) !== undefined, { message: "not RFC 3339" });

const userInfo = z.object({
  username: keyPart.optional(),
  uid: z.string().nullish(),
  groups: z.array(z.string()).nullish(),
  extra: z.record(z.string(), z.array(z.string()).nullish()).nullish(),
});

/** audit.k8s.io/v1 Event; strict at the top level (plus v1beta1's `metadata` and `timestamp`, which old logs carry). */
export const auditEventSchema = z
  .strictObject({
    kind: z.literal("Event"),
    apiVersion: z.literal("audit.k8s.io/v1"),
    level: z.string().nullish(),
    auditID: z.string().min(1).max(256),
    stage: z.string().nullish(),
    requestURI: text.nullish(),
    verb: keyPart.min(1),
    user: userInfo.extend({ username: keyPart.min(1) }),
    impersonatedUser: userInfo.nullish(),
    sourceIPs: z.array(z.string().max(256)).nullish(),
    userAgent: text.nullish(),
    objectRef: z
      .object({
        resource: keyPart.nullish(),
        namespace: keyPart.nullish(),
        name: text.nullish(),
        uid: z.string().nullish(),
        apiGroup: keyPart.nullish(),
        apiVersion: z.string().nullish(),
        resourceVersion: z.string().nullish(),
        subresource: keyPart.nullish(),
      })
      .nullish(),
    responseStatus: z.looseObject({ code: z.number().int().nullish() }).nullish(),
    requestObject: z.unknown().optional(),
    responseObject: z.unknown().optional(),
    requestReceivedTimestamp: timestamp.optional(),
    stageTimestamp: timestamp.optional(),
    annotations: z.record(z.string(), z.string()).nullish(),
    metadata: z.unknown().optional(),
    timestamp: timestamp.optional(),
  })
  .refine((event) => TIMESTAMP_FIELDS.some((field) => event[field] !== undefined), {
    message: "missing timestamp",
  });

export type AuditEventInput = z.infer<typeof auditEventSchema>;

export type ParsedAuditEvent = { ok: true; event: UsageEvent } | { ok: false; reason: string };

const quoted = (value: unknown) => JSON.stringify(typeof value === "string" ? value.slice(0, 64) : value);
const isMissing = (value: unknown) => value === undefined || value === null || value === "";

/** The one reason a record is refused: the first failing rule in the policy's order, else the first zod issue. */
function rejection(value: Record<string, unknown>, issues: readonly z.core.$ZodIssue[]): string {
  if (value.kind !== "Event" || value.apiVersion !== "audit.k8s.io/v1")
    return `not an audit.k8s.io/v1 Event (kind ${quoted(value.kind)}, apiVersion ${quoted(value.apiVersion)})`;
  const unknown = issues.find((issue) => issue.code === "unrecognized_keys");
  if (unknown?.code === "unrecognized_keys") return `unknown field ${unknown.keys[0]}`;
  const at = (path: string) => issues.find((issue) => issue.path.join(".") === path);
  if (isMissing(value.auditID)) return "missing auditID";
  if (isMissing(value.verb)) return "missing verb";
  const user = value.user as { username?: unknown } | undefined;
  if (typeof user !== "object" || user === null || isMissing(user.username)) return "missing user.username";
  for (const field of TIMESTAMP_FIELDS) {
    if (at(field) && typeof value[field] === "string")
      return `bad timestamp ${quoted(value[field])} in ${field}`;
  }
  const first = issues[0];
  if (!first) return "invalid event";
  return first.path.length ? `${first.path.join(".")}: ${first.message}` : first.message;
}

/** `/apis/x?watch=1` → `/apis/x`. */
const withoutQuery = (uri: string) => {
  const cut = uri.search(/[?#]/);
  return cut < 0 ? uri : uri.slice(0, cut);
};

const TOP_LEVEL_FIELDS = new Set(Object.keys(auditEventSchema.shape));

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const absent = (value: unknown) => value === undefined || value === null;
const optionalText = (value: unknown, max: number) =>
  absent(value) || (typeof value === "string" && value.length <= max);
const stringArray = (value: unknown, max = Infinity) =>
  Array.isArray(value) && value.every((item) => typeof item === "string" && item.length <= max);

function fastUserInfo(value: unknown, usernameRequired: boolean): boolean {
  if (!isRecord(value)) return false;
  const { username, uid, groups, extra } = value;
  if (
    username === undefined ? usernameRequired : typeof username !== "string" || username.length > KEY_PART_MAX
  )
    return false;
  if (usernameRequired && username === "") return false;
  if (!optionalText(uid, Infinity) || !(absent(groups) || stringArray(groups))) return false;
  if (absent(extra)) return true;
  if (!isRecord(extra)) return false;
  for (const key in extra) if (!(absent(extra[key]) || stringArray(extra[key]))) return false;
  return true;
}

/**
 * The common case without zod (several times faster at 1M events): accepts only events the schema accepts and
 * returns undefined for anything unusual, which then goes to zod — zod alone decides every rejection.
 */
function fastAccept(value: Record<string, unknown>): { event: AuditEventInput; at: Date } | undefined {
  for (const key in value) if (!TOP_LEVEL_FIELDS.has(key)) return undefined;
  const { auditID, verb, objectRef, responseStatus, annotations, sourceIPs } = value;
  if (value.kind !== "Event" || value.apiVersion !== "audit.k8s.io/v1") return undefined;
  if (typeof auditID !== "string" || auditID.length === 0 || auditID.length > 256) return undefined;
  if (typeof verb !== "string" || verb.length === 0 || verb.length > KEY_PART_MAX) return undefined;
  if (!optionalText(value.level, Infinity) || !optionalText(value.stage, Infinity)) return undefined;
  if (!optionalText(value.requestURI, TEXT_MAX) || !optionalText(value.userAgent, TEXT_MAX)) return undefined;
  if (!fastUserInfo(value.user, true)) return undefined;
  if (!absent(value.impersonatedUser) && !fastUserInfo(value.impersonatedUser, false)) return undefined;
  if (!absent(sourceIPs) && !stringArray(sourceIPs, 256)) return undefined;
  if (!absent(objectRef)) {
    if (!isRecord(objectRef)) return undefined;
    const { resource, namespace, name, uid, apiGroup, apiVersion, resourceVersion, subresource } = objectRef;
    if (!optionalText(resource, KEY_PART_MAX) || !optionalText(namespace, KEY_PART_MAX)) return undefined;
    if (!optionalText(apiGroup, KEY_PART_MAX) || !optionalText(subresource, KEY_PART_MAX)) return undefined;
    if (!optionalText(name, TEXT_MAX) || !optionalText(uid, Infinity)) return undefined;
    if (!optionalText(apiVersion, Infinity) || !optionalText(resourceVersion, Infinity)) return undefined;
  }
  if (!absent(responseStatus)) {
    if (!isRecord(responseStatus)) return undefined;
    if (!absent(responseStatus.code) && !Number.isSafeInteger(responseStatus.code)) return undefined;
  }
  if (!absent(annotations)) {
    if (!isRecord(annotations)) return undefined;
    for (const key in annotations) if (typeof annotations[key] !== "string") return undefined;
  }
  let at: Date | undefined;
  for (const field of TIMESTAMP_FIELDS) {
    const stamp = value[field];
    if (stamp === undefined) continue;
    const instant = typeof stamp === "string" ? parseRfc3339(stamp) : undefined;
    if (!instant) return undefined;
    at ??= instant;
  }
  return at && { event: value as AuditEventInput, at };
}

/** Reduces a valid event to what Keyward keeps, attributed to the impersonated user when there is one. */
function toUsageEvent(event: AuditEventInput, at: Date): UsageEvent {
  const impersonated = event.impersonatedUser?.username;
  const ref = event.objectRef;
  const credentialRef = event.user.extra?.[CREDENTIAL_ID]?.[0];
  const code = event.responseStatus?.code;
  const usage: UsageEvent = {
    auditId: event.auditID,
    username: kept(impersonated || event.user.username),
    verb: kept(event.verb),
    apiGroup: kept(ref?.apiGroup ?? ""),
    resource: kept(ref?.resource ?? ""),
    subresource: kept(ref?.subresource ?? ""),
    namespace: kept(ref?.namespace ?? ""),
    name: kept(ref?.name ?? ""),
    path: ref ? "" : kept(withoutQuery(event.requestURI ?? "")),
    userAgent: kept(event.userAgent ?? ""),
    sourceIps: (event.sourceIPs ?? []).map(kept),
    at,
    denied: code === 401 || code === 403 || event.annotations?.[DECISION] === "forbid",
  };
  if (impersonated) usage.impersonatedBy = kept(event.user.username);
  if (credentialRef) usage.credentialRef = kept(credentialRef);
  return usage;
}

/** Validates one audit record and attributes it. Pure: no I/O, never throws. */
export function parseAuditEvent(value: unknown): ParsedAuditEvent {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return { ok: false, reason: "not an object" };
  const fast = fastAccept(value as Record<string, unknown>);
  if (fast) return { ok: true, event: toUsageEvent(fast.event, fast.at) };
  const parsed = auditEventSchema.safeParse(value);
  if (!parsed.success)
    return { ok: false, reason: rejection(value as Record<string, unknown>, parsed.error.issues) };
  const { requestReceivedTimestamp, stageTimestamp, timestamp } = parsed.data;
  return {
    ok: true,
    event: toUsageEvent(
      parsed.data,
      parseRfc3339((requestReceivedTimestamp ?? stageTimestamp ?? timestamp)!)!,
    ),
  };
}
