import https from "node:https";
import type { IncomingMessage } from "node:http";
import { getPrisma } from "@/lib/db";
import { open } from "@/lib/crypto/secret-box";
import { clusterSecretSchema, type ClusterEndpoint, type ClusterSecret } from "@/lib/k8s/credentials";
import { credentialContext } from "@/lib/clusters/register-cluster";

/** An HTTP answer from the API server that is not a success, with the server's Status message. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(`the cluster answered HTTP ${status}: ${message}`);
    this.name = "KubeApiError";
  }
}

/** How often and how long a failing request is retried: bounded, so a dead cluster fails the sync in seconds. */
export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 250, maxDelayMs: 8_000 };

/** 429, 5xx and broken connections are transient; 4xx (forbidden, not found, gone) are answers. */
export function isTransient(error: unknown): boolean {
  if (error instanceof KubeApiError) return error.status === 429 || error.status >= 500;
  if (error instanceof TransientConnectionError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && TRANSIENT_NETWORK_CODES.has(code);
}

const TRANSIENT_NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/** A connection that broke mid-answer or timed out: worth another try. */
export class TransientConnectionError extends Error {}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `attempt` until it succeeds, retrying transient failures with exponential backoff (or Retry-After). */
export async function withRetry<T>(
  attempt: () => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (n >= policy.attempts || !isTransient(error)) throw error;
      const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (n - 1));
      const retryAfter =
        error instanceof KubeApiError && error.retryAfterSeconds !== undefined
          ? error.retryAfterSeconds * 1000
          : 0;
      await sleep(Math.min(policy.maxDelayMs, Math.max(backoff, retryAfter)) * (0.8 + Math.random() * 0.4));
    }
  }
}

/**
 * Asks kube-apiserver for PartialObjectMetadata (metadata only: a Secret's data never crosses the wire), with
 * plain JSON as the fallback for servers that cannot (the mappers read both shapes).
 */
export const METADATA_ONLY_LIST =
  "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
export const METADATA_ONLY_WATCH =
  "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";

interface ListPage {
  items: unknown[];
  metadata?: { continue?: string; resourceVersion?: string };
}

/**
 * Reads the Kubernetes API with one stored credential over plain HTTPS. Lists are parsed page by page and
 * handed to a mapper at once, so the raw objects (and anything secret in them) are dropped immediately.
 */
export class KubeReader {
  private readonly agent: https.Agent;
  private readonly headers: Record<string, string>;

  constructor(
    readonly endpoint: ClusterEndpoint,
    secret: ClusterSecret,
    readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {
    this.agent = new https.Agent({
      keepAlive: true,
      // Room for one long-lived watch per collection besides the lists.
      maxSockets: 32,
      ca: endpoint.caCertPem ?? undefined,
      ...(secret.type === "clientCertificate"
        ? { cert: secret.certificatePem, key: secret.privateKeyPem }
        : {}),
    });
    this.headers = {
      accept: "application/json",
      ...(secret.type === "token" ? { authorization: `Bearer ${secret.token}` } : {}),
    };
  }

  /** Opens a request and returns the response once headers arrive; non-2xx answers become KubeApiError. */
  async open(
    path: string,
    query: Record<string, string | undefined> = {},
    accept?: string,
  ): Promise<IncomingMessage> {
    const url = new URL(path, this.endpoint.apiServerUrl);
    for (const [key, value] of Object.entries(query))
      if (value !== undefined && value !== "") url.searchParams.set(key, value);
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = https.get(
        url,
        { agent: this.agent, headers: accept ? { ...this.headers, accept } : this.headers, timeout: 60_000 },
        resolve,
      );
      req.on("timeout", () =>
        req.destroy(new TransientConnectionError(`request to ${url.pathname} timed out`)),
      );
      req.on("error", reject);
    });
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300) return response;
    const body = await readBody(response).catch(() => "");
    let message = body;
    try {
      message = (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      // not a Status object: keep the raw body
    }
    const retryAfter = Number(response.headers["retry-after"]);
    throw new KubeApiError(
      status,
      message.slice(0, 1000),
      Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined,
    );
  }

  async getJson<T>(
    path: string,
    query: Record<string, string | undefined> = {},
    accept?: string,
  ): Promise<T> {
    return withRetry(async () => {
      const response = await this.open(path, query, accept);
      return parseJson(await readBody(response)) as T;
    }, this.retry);
  }

  /**
   * Lists every page (`limit`/`continue`), each page retried on transient errors. An expired continue token
   * (410) restarts the list, since its pages would otherwise mix two versions of the collection.
   * Returns the mapped items and the collection's resourceVersion (where a watch can start).
   */
  async listAll<T>(
    path: string,
    map: (item: unknown) => T | undefined,
    options: { fieldSelector?: string; limit?: number; metadataOnly?: boolean } = {},
  ): Promise<{ items: T[]; resourceVersion: string }> {
    for (let restarts = 0; ; restarts++) {
      const items: T[] = [];
      let token: string | undefined;
      let resourceVersion = "";
      try {
        do {
          const page = await this.getJson<ListPage>(
            path,
            { limit: String(options.limit ?? 500), continue: token, fieldSelector: options.fieldSelector },
            options.metadataOnly ? METADATA_ONLY_LIST : undefined,
          );
          for (const raw of page.items) {
            const mapped = map(raw);
            if (mapped !== undefined) items.push(mapped);
          }
          if (!token) resourceVersion = page.metadata?.resourceVersion ?? "";
          token = page.metadata?.continue || undefined;
        } while (token);
        return { items, resourceVersion };
      } catch (error) {
        if (!(error instanceof KubeApiError && error.status === 410) || restarts >= 3) throw error;
      }
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new TransientConnectionError(`unparseable answer from the cluster (${(error as Error).message})`);
  }
}

function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on("data", (chunk: Buffer) => chunks.push(chunk));
    response.on("aborted", () =>
      reject(new TransientConnectionError("the connection closed before the answer was complete")),
    );
    response.on("error", reject);
    response.on("end", () => {
      if (!response.complete)
        reject(new TransientConnectionError("the connection closed before the answer was complete"));
      else resolve(Buffer.concat(chunks).toString("utf8"));
    });
  });
}

/** The cluster's endpoint and its decrypted sync credential (read-only by design). */
export async function loadSyncCredential(
  clusterId: string,
): Promise<{ endpoint: ClusterEndpoint; secret: ClusterSecret }> {
  const cluster = await getPrisma().cluster.findUniqueOrThrow({
    where: { id: clusterId },
    select: {
      apiServerUrl: true,
      caCertPem: true,
      credentials: { where: { purpose: "sync" }, select: { secretCiphertext: true } },
    },
  });
  const sealed = cluster.credentials[0]?.secretCiphertext;
  if (!sealed) throw new Error("the cluster has no sync credential");
  const secret = clusterSecretSchema.parse(JSON.parse(open(sealed, credentialContext(clusterId, "sync"))));
  return { endpoint: { apiServerUrl: cluster.apiServerUrl, caCertPem: cluster.caCertPem }, secret };
}

export async function syncReaderFor(clusterId: string, retry?: RetryPolicy): Promise<KubeReader> {
  const { endpoint, secret } = await loadSyncCredential(clusterId);
  return new KubeReader(endpoint, secret, retry);
}
