import { randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { KUBERNETES_VERSION } from "./discovery";
import type { RequestRecord } from "./server";

/**
 * kube-apiserver's audit webhook backend (--audit-webhook-config-file) for the simulator: every served request
 * becomes `audit.k8s.io/v1` Events at level Metadata, batched into EventLists (--audit-webhook-batch-max-size,
 * --audit-webhook-batch-max-wait) and POSTed with a bearer token. Delivery runs beside request serving: a slow or
 * absent receiver costs retries and, past a bound, dropped batches (logged), never a slower API.
 */

export interface AuditWebhookConfig {
  url: string;
  token: string;
  /** PEM of the CA that signed the receiver's certificate (https only). */
  caPem?: string;
  /** Events per EventList (kube-apiserver's default is 400). */
  batchMaxSize?: number;
  /** How long a partial batch waits for more events (kube-apiserver's default is 30 s). */
  batchMaxWaitMs?: number;
  /** Delivery attempts per batch before it is dropped (default 10: about 3 minutes of backoff). */
  maxAttempts?: number;
  /** First retry delay, doubled per attempt up to 30 s (default 500 ms). */
  initialBackoffMs?: number;
  /** Events held while the receiver is unreachable; newer events are dropped past it (default 10000). */
  bufferSize?: number;
  /** Share of non-watch requests that also get a ResponseStarted stage (watches always do). Default 0.1. */
  responseStartedRatio?: number;
  log?: (message: string) => void;
}

interface AuditUser {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** The fields of an `audit.k8s.io/v1` Event that a Metadata-level policy records. */
export interface AuditEvent {
  kind: "Event";
  apiVersion: "audit.k8s.io/v1";
  level: "Metadata";
  auditID: string;
  stage: "ResponseStarted" | "ResponseComplete";
  requestURI: string;
  verb: string;
  user: AuditUser;
  impersonatedUser?: AuditUser;
  sourceIPs: string[];
  userAgent: string;
  objectRef?: RequestRecord["objectRef"];
  responseStatus: { metadata: Record<string, never>; code: number; status?: "Failure"; reason?: string; message?: string };
  requestReceivedTimestamp: string;
  stageTimestamp: string;
  annotations?: Record<string, string>;
}

const CREDENTIAL_ID = "authentication.kubernetes.io/credential-id";
const MAX_BACKOFF_MS = 30_000;
const REQUEST_TIMEOUT_MS = 30_000;

/** Kubernetes' MicroTime: RFC 3339 with six fractional digits. */
function microTime(iso: string): string {
  return iso.replace(/\.(\d{3})Z$/, ".$1000Z");
}

/** The Events a kube-apiserver with a Metadata-level policy (omitting RequestReceived) writes for one request. */
export function auditEventsFor(record: RequestRecord, options: { responseStarted: boolean }): AuditEvent[] {
  const served: AuditUser = {
    username: record.user,
    ...(record.uid ? { uid: record.uid } : {}),
    groups: record.groups,
    ...(record.extra ? { extra: record.extra } : {}),
  };
  // The credential belongs to whoever authenticated: the impersonator when there is one.
  const authenticated: AuditUser = record.impersonatedBy
    ? { username: record.impersonatedBy, groups: record.impersonator?.groups ?? [], ...(record.impersonator?.extra ? { extra: record.impersonator.extra } : {}) }
    : served;
  const user =
    record.credentialId && !authenticated.extra?.[CREDENTIAL_ID]
      ? { ...authenticated, extra: { ...authenticated.extra, [CREDENTIAL_ID]: [record.credentialId] } }
      : authenticated;
  const { code, reason, message } = record.responseStatus;
  const failed = code >= 400 || code === 0;
  // Authorization runs after authentication: a 401 never reached it.
  const annotations: Record<string, string> | undefined =
    code === 401 ? undefined : { "authorization.k8s.io/decision": code === 403 ? "forbid" : "allow", "authorization.k8s.io/reason": "" };
  const base = {
    kind: "Event" as const,
    apiVersion: "audit.k8s.io/v1" as const,
    level: "Metadata" as const,
    auditID: randomUUID(),
    requestURI: record.requestURI,
    verb: record.verb,
    user,
    ...(record.impersonatedBy ? { impersonatedUser: served } : {}),
    sourceIPs: record.sourceIPs,
    userAgent: record.userAgent,
    ...(record.objectRef ? { objectRef: record.objectRef } : {}),
    responseStatus: { metadata: {}, code, ...(failed ? { status: "Failure" as const, ...(reason ? { reason } : {}), ...(message ? { message } : {}) } : {}) },
    requestReceivedTimestamp: microTime(record.receivedAt),
    ...(annotations ? { annotations } : {}),
  };
  const complete: AuditEvent = { ...base, stage: "ResponseComplete", stageTimestamp: microTime(record.timestamp) };
  if (!options.responseStarted) return [complete];
  return [{ ...base, stage: "ResponseStarted", stageTimestamp: microTime(record.timestamp) }, complete];
}

/** POSTs one EventList; resolves with the HTTP status, rejects on a network error or timeout. */
function post(config: AuditWebhookConfig, body: string): Promise<number> {
  const url = new URL(config.url);
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          authorization: `Bearer ${config.token}`,
          "user-agent": `kube-apiserver/${KUBERNETES_VERSION.gitVersion} (linux/amd64) kubernetes/kube-sim`,
        },
        ...(config.caPem ? { ca: config.caPem } : {}),
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        res.resume(); // the answer's body is not needed, but must be read for the socket to be reused
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** Network errors, 429 and 5xx may pass on a later try; any other answer will not. */
function retryable(status: number): boolean {
  return status === 429 || status >= 500;
}

/** Queues, batches and delivers audit events for one webhook configuration. */
export class AuditWebhookSender {
  private readonly queue: AuditEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private wakeBackoff: (() => void) | undefined;
  private sending: Promise<void> | undefined;
  private closed = false;
  private readonly log: (message: string) => void;
  /** Totals since start, for tests and the CLI. */
  readonly stats = { delivered: 0, dropped: 0, batches: 0 };

  constructor(private readonly config: AuditWebhookConfig) {
    this.log = config.log ?? ((message) => console.warn(`kube-sim audit webhook: ${message}`));
  }

  private get maxSize(): number {
    return this.config.batchMaxSize ?? 400;
  }

  enqueue(record: RequestRecord): void {
    if (this.closed) return;
    const responseStarted = record.verb === "watch" || Math.random() < (this.config.responseStartedRatio ?? 0.1);
    const events = auditEventsFor(record, { responseStarted });
    if (this.queue.length + events.length > (this.config.bufferSize ?? 10_000)) {
      this.stats.dropped += events.length;
      this.log(`buffer full: dropped the events of ${record.verb} ${record.requestURI}`);
      return;
    }
    this.queue.push(...events);
    if (this.queue.length >= this.maxSize) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.config.batchMaxWaitMs ?? 30_000);
  }

  /** Sends everything queued now, retries included; resolves once each batch was delivered or dropped. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.sending) {
      this.wakeBackoff?.();
      this.kick();
      await this.sending;
    }
  }

  /** Stops sending: pending events are dropped (logged), a retry in progress gives up. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.wakeBackoff?.();
    if (this.queue.length > 0) {
      this.stats.dropped += this.queue.length;
      this.log(`closed with ${this.queue.length} undelivered events`);
      this.queue.length = 0;
    }
  }

  private kick(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.sending || this.queue.length === 0) return;
    this.sending = this.drain().finally(() => {
      this.sending = undefined;
      // Events that arrived during delivery wait for their own batch window.
      if (this.queue.length > 0 && !this.closed) this.timer ??= setTimeout(() => this.kick(), this.config.batchMaxWaitMs ?? 30_000);
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.closed) {
      const batch = this.queue.splice(0, this.maxSize);
      await this.deliver(batch);
    }
  }

  private async deliver(items: AuditEvent[]): Promise<void> {
    const body = JSON.stringify({ kind: "EventList", apiVersion: "audit.k8s.io/v1", metadata: {}, items });
    const maxAttempts = this.config.maxAttempts ?? 10;
    let delay = this.config.initialBackoffMs ?? 500;
    for (let attempt = 1; ; attempt++) {
      let problem: string;
      let final = false;
      try {
        const status = await post(this.config, body);
        if (status >= 200 && status < 300) {
          this.stats.delivered += items.length;
          this.stats.batches++;
          return;
        }
        problem = `HTTP ${status}`;
        final = !retryable(status);
      } catch (error) {
        problem = error instanceof Error ? error.message : String(error);
      }
      if (final || attempt >= maxAttempts || this.closed) {
        this.stats.dropped += items.length;
        this.log(`dropped a batch of ${items.length} events after ${attempt} attempt(s): ${problem}`);
        return;
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.wakeBackoff = undefined;
          resolve();
        };
        const timer = setTimeout(wake, delay);
        this.wakeBackoff = wake;
      });
      delay = Math.min(delay * 2, MAX_BACKOFF_MS);
    }
  }
}
