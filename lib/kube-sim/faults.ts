/** A fault that hits the next `count` requests, or each request with probability `ratio`. */
export interface FaultTrigger {
  count?: number;
  ratio?: number;
}

export interface FaultSettings {
  /** Added to every API request before it is served. */
  latencyMs?: number;
  /** 429 Too Many Requests with a Retry-After header. */
  tooManyRequests?: FaultTrigger & { retryAfterSeconds?: number };
  /** 500 Internal Server Error. */
  serverErrors?: FaultTrigger;
  /** The connection is destroyed after the response headers and part of the body were sent. */
  dropConnections?: FaultTrigger;
}

export type FaultDecision = { kind: "tooManyRequests"; retryAfterSeconds: number } | { kind: "serverError" } | { kind: "dropConnection" } | undefined;

function fires(trigger: FaultTrigger | undefined): boolean {
  if (!trigger) return false;
  if (trigger.count !== undefined && trigger.count > 0) {
    trigger.count--;
    return true;
  }
  return trigger.ratio !== undefined && Math.random() < trigger.ratio;
}

/** Fault injection for clients' error handling: set/clear in-process, or through the CLI flags. */
export class Faults {
  private settings: FaultSettings = {};

  constructor(private readonly onExpireWatches: () => void) {}

  /** Merges into the current settings (count-based triggers count down as requests hit them). */
  set(settings: FaultSettings): void {
    this.settings = { ...this.settings, ...structuredClone(settings) };
  }

  clear(): void {
    this.settings = {};
  }

  current(): FaultSettings {
    return structuredClone(this.settings);
  }

  /** Closes every open watch and forgets history, so clients re-watching from their last resourceVersion get 410 Gone. */
  expireWatches(): void {
    this.onExpireWatches();
  }

  get latencyMs(): number {
    return this.settings.latencyMs ?? 0;
  }

  decide(): FaultDecision {
    if (fires(this.settings.dropConnections)) return { kind: "dropConnection" };
    if (fires(this.settings.tooManyRequests)) return { kind: "tooManyRequests", retryAfterSeconds: this.settings.tooManyRequests?.retryAfterSeconds ?? 1 };
    if (fires(this.settings.serverErrors)) return { kind: "serverError" };
    return undefined;
  }
}
