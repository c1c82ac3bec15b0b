// The shapes usage is passed around in: a validated audit event reduced to what Keyward keeps, the rollup key
// the least-privilege generator and the usage findings read, and an ingestion's outcome.

/** One valid audit event, attributed: what a rollup row and a credential's last use are built from. */
export interface UsageEvent {
  auditId: string;
  /** The identity it counts for: `impersonatedUser.username` when present, else `user.username`. */
  username: string;
  /** The user that impersonated `username`, if any. */
  impersonatedBy?: string;
  verb: string;
  apiGroup: string;
  resource: string;
  subresource: string;
  /** "" for cluster-scoped requests and for requests across all namespaces. */
  namespace: string;
  /** objectRef.name, "" when the request named no object. */
  name: string;
  /** Non-resource URL without its query (e.g. "/api", "/healthz"); "" for resource requests. */
  path: string;
  userAgent: string;
  sourceIps: string[];
  /** `authentication.kubernetes.io/credential-id`: "JTI=…" or "X509SHA256=…". */
  credentialRef?: string;
  /** requestReceivedTimestamp (stageTimestamp when absent). */
  at: Date;
  /** The cluster refused it (401/403 or an authorization "forbid" decision). */
  denied: boolean;
}

/** What the least-privilege generator and the unused-permission finding need of a rollup row. */
export interface UsageRecord {
  verb: string;
  apiGroup: string;
  resource: string;
  subresource: string;
  namespace: string;
  path: string;
  resourceNames: string[];
  /** False when names were capped or some request named no object: then names cannot narrow a rule. */
  resourceNamesComplete: boolean;
  count: number;
}

export interface RejectedLine {
  /** 1-based line number in a file, or 1-based position in an EventList. */
  line: number;
  reason: string;
}

export interface IngestOutcome {
  batchId: string;
  accepted: number;
  duplicates: number;
  rejected: number;
  /** The first rejections (at most 20). */
  sampleReasons: RejectedLine[];
}
