import type { IncomingMessage } from "node:http";
import { getPrisma } from "@/lib/db";
import {
  KubeApiError,
  METADATA_ONLY_WATCH,
  isTransient,
  syncReaderFor,
  type KubeReader,
} from "./kube-reader";
import {
  analyzeAfterSync,
  runFullSync,
  syncedCollections,
  type CollectionName,
  type SyncedCollection,
} from "./sync-cluster";
import {
  certificateUsers,
  mapBinding,
  mapCertificateSigningRequest,
  mapNamespace,
  mapPod,
  mapRole,
  mapServiceAccount,
  mapTokenSecret,
  type BindingRow,
  type CredentialRow,
  type IdentityRow,
  type IssuedCertificate,
  type NamespaceRow,
  type RoleRow,
  type WorkloadRow,
} from "./snapshot";
import {
  lockClusterInventory,
  markDeleted,
  markUnreferencedSubjectsDeleted,
  refreshCredentialColumns,
  tables,
  upsertRows,
  upsertSubjectIdentities,
  type TableSpec,
} from "./snapshot-writer";

export interface ClusterWatchOptions {
  /** How long the server keeps one watch open before the client re-watches from its last resourceVersion. */
  watchTimeoutSeconds?: number;
  /** Events are written in batches at most this often. */
  flushIntervalMs?: number;
  /** Analysis (owners, findings) re-runs this long after the last batch of changes, not after every event. */
  analysisDebounceMs?: number;
  log?: (message: string) => void;
}

export interface ClusterWatch {
  stop(): Promise<void>;
}

type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

/** How each watched collection's objects become inventory rows. */
type Change =
  | { table: "namespaces"; row: NamespaceRow }
  | { table: "identities"; row: IdentityRow }
  | { table: "credentials"; row: CredentialRow }
  | { table: "workloads"; row: WorkloadRow }
  | { table: "roles"; row: RoleRow }
  | { table: "bindings"; row: BindingRow }
  | { table: "certificates"; row: IssuedCertificate };

const changeMappers: Record<CollectionName, (raw: unknown) => Change | undefined> = {
  namespaces: (raw) => wrap("namespaces", mapNamespace(raw)),
  serviceaccounts: (raw) => wrap("identities", mapServiceAccount(raw)),
  secrets: (raw) => wrap("credentials", mapTokenSecret(raw)),
  pods: (raw) => wrap("workloads", mapPod(raw)),
  roles: (raw) => wrap("roles", mapRole("Role")(raw)),
  clusterroles: (raw) => wrap("roles", mapRole("ClusterRole")(raw)),
  rolebindings: (raw) => wrap("bindings", mapBinding("RoleBinding")(raw)),
  clusterrolebindings: (raw) => wrap("bindings", mapBinding("ClusterRoleBinding")(raw)),
  certificatesigningrequests: (raw) => wrap("certificates", mapCertificateSigningRequest(raw)),
};

function wrap<T extends Change["table"]>(
  table: T,
  row: Extract<Change, { table: T }>["row"] | undefined,
): Change | undefined {
  return row === undefined ? undefined : ({ table, row } as Change);
}

/** The natural key of a change's row in its table, for DELETED events and for collapsing repeated events. */
function keyOf(change: Change): { spec: TableSpec; key: Record<string, string> } {
  if (change.table === "namespaces") return { spec: tables.namespaces, key: { name: change.row.name } };
  if (change.table === "certificates") {
    const row = change.row.credential;
    return { spec: tables.credentials, key: { kind: row.kind, namespace: row.namespace, name: row.name } };
  }
  const row = change.row;
  return { spec: tables[change.table], key: { kind: row.kind, namespace: row.namespace, name: row.name } };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Keeps one cluster's inventory current: a full sync, then a watch per collection from the list's
 * resourceVersion. Events are applied in batches within seconds; `410 Gone` relists (full sync); 429/5xx
 * and lost connections back off and re-watch from the last resourceVersion seen.
 */
class ClusterWatcher implements ClusterWatch {
  private stopped = false;
  private reader: KubeReader | undefined;
  private readonly streams = new Set<IncomingMessage>();
  private pending = new Map<string, { type: WatchEventType; change: Change }>();
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private relisting: Promise<void> | undefined;
  private generation = 0;
  private readonly loops = new Set<Promise<void>>();

  constructor(
    private readonly clusterId: string,
    private readonly options: Required<
      Pick<ClusterWatchOptions, "watchTimeoutSeconds" | "flushIntervalMs" | "analysisDebounceMs">
    > &
      ClusterWatchOptions,
  ) {}

  private log(message: string): void {
    this.options.log?.(`[watch ${this.clusterId}] ${message}`);
  }

  /** Full sync, then (re)start every watch from the fresh resourceVersions. Retries until it succeeds or stops. */
  relist(): Promise<void> {
    this.relisting ??= (async () => {
      this.generation++;
      this.closeStreams();
      // Events of the old streams are superseded by the relist: drop them, and let a write in flight finish first.
      this.pending = new Map();
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
      await this.flushing;
      for (let attempt = 0; !this.stopped; attempt++) {
        const { outcome, resourceVersions } = await runFullSync(this.clusterId, "watch");
        if (outcome.ok && resourceVersions) {
          if (this.stopped) return;
          const generation = ++this.generation;
          for (const name of Object.keys(syncedCollections) as CollectionName[])
            this.track(this.watchLoop(name, resourceVersions[name], generation));
          return;
        }
        if (!outcome.ok) this.log(`relist failed: ${outcome.error}`);
        await sleep(Math.min(30_000, 1000 * 2 ** attempt));
      }
    })().finally(() => {
      this.relisting = undefined;
    });
    return this.relisting;
  }

  private track(loop: Promise<void>): void {
    this.loops.add(loop);
    void loop.finally(() => this.loops.delete(loop));
  }

  private async watchLoop(name: CollectionName, startVersion: string, generation: number): Promise<void> {
    const collection: SyncedCollection = syncedCollections[name];
    let resourceVersion = startVersion;
    let failures = 0;
    while (!this.stopped && generation === this.generation) {
      try {
        this.reader ??= await syncReaderFor(this.clusterId);
        const response = await this.reader.open(
          collection.path,
          {
            watch: "1",
            resourceVersion,
            allowWatchBookmarks: "true",
            timeoutSeconds: String(this.options.watchTimeoutSeconds),
            fieldSelector: collection.fieldSelector,
          },
          collection.metadataOnly ? METADATA_ONLY_WATCH : undefined,
        );
        if (this.stopped || generation !== this.generation) {
          response.destroy();
          return;
        }
        const gone = await this.consume(name, response, (version) => {
          resourceVersion = version;
          failures = 0;
        });
        if (gone) {
          this.log(`${name}: resourceVersion ${resourceVersion} is gone, relisting`);
          void this.relist();
          return;
        }
      } catch (error) {
        if (this.stopped || generation !== this.generation) return;
        if (error instanceof KubeApiError && error.status === 410) {
          void this.relist();
          return;
        }
        failures++;
        const retryAfter =
          error instanceof KubeApiError && error.retryAfterSeconds !== undefined
            ? error.retryAfterSeconds * 1000
            : 0;
        const delay = Math.max(retryAfter, Math.min(30_000, 200 * 2 ** Math.min(failures, 8)));
        this.log(
          `${name}: ${error instanceof Error ? error.message : String(error)}; retrying in ${delay} ms${isTransient(error) ? "" : " (not transient)"}`,
        );
        await sleep(delay);
      }
    }
  }

  /**
   * Reads one watch stream to its end. Returns true when the server said the resourceVersion is gone (410).
   * A stream that ends normally (server timeout) returns false and is re-opened; a broken one throws.
   */
  private consume(
    name: CollectionName,
    response: IncomingMessage,
    advance: (resourceVersion: string) => void,
  ): Promise<boolean> {
    this.streams.add(response);
    return new Promise<boolean>((resolve, reject) => {
      let buffered = "";
      let gone = false;
      response.setEncoding("utf8");
      const handleLine = (line: string) => {
        const event = JSON.parse(line) as {
          type: string;
          object?: { code?: number; metadata?: { resourceVersion?: string } };
        };
        if (event.type === "ERROR") {
          if (event.object?.code === 410) gone = true;
          return;
        }
        if (event.type === "ADDED" || event.type === "MODIFIED" || event.type === "DELETED")
          this.enqueue(name, event.type, event.object);
        const version = event.object?.metadata?.resourceVersion;
        if (version) advance(version);
      };
      response.on("data", (chunk: string) => {
        buffered += chunk;
        let newline: number;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          try {
            if (line) handleLine(line);
          } catch (error) {
            response.destroy(error instanceof Error ? error : new Error(String(error)));
            return;
          }
        }
      });
      const finish = () => {
        this.streams.delete(response);
        if (gone) resolve(true);
        else if (response.complete) resolve(false);
        else reject(new Error(`${name} watch: the connection was lost`));
      };
      response.on("end", finish);
      response.on("close", finish);
      response.on("error", () => finish());
    });
  }

  private enqueue(name: CollectionName, type: WatchEventType, raw: unknown): void {
    const change = changeMappers[name](raw);
    if (!change) return;
    const { spec, key } = keyOf(change);
    // Only the last event per object matters within a batch.
    this.pending.set(`${spec.table}/${Object.values(key).join("/")}`, { type, change });
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      this.flushing = this.flushing.then(() => this.flush());
    }, this.options.flushIntervalMs);
  }

  /** Writes a batch of changes in one transaction, in dependency order (identities before what links to them). */
  private async flush(): Promise<void> {
    const batch = [...this.pending.values()];
    this.pending = new Map();
    if (batch.length === 0) return;
    const now = new Date();
    const upserts = (table: Change["table"]) =>
      batch.filter((e) => e.type !== "DELETED" && e.change.table === table).map((e) => e.change.row);
    const certificates = upserts("certificates") as IssuedCertificate[];
    const touches = (...names: Change["table"][]) => batch.some((e) => names.includes(e.change.table));
    try {
      await getPrisma().$transaction(
        async (tx) => {
          await lockClusterInventory(tx, this.clusterId);
          await upsertRows(tx, tables.namespaces, this.clusterId, upserts("namespaces"), now);
          await upsertRows(
            tx,
            tables.identities,
            this.clusterId,
            [...upserts("identities"), ...certificateUsers(certificates)],
            now,
          );
          await upsertRows(
            tx,
            tables.credentials,
            this.clusterId,
            [...upserts("credentials"), ...certificates.map((c) => c.credential)],
            now,
          );
          await upsertRows(tx, tables.workloads, this.clusterId, upserts("workloads"), now);
          await upsertRows(tx, tables.roles, this.clusterId, upserts("roles"), now);
          await upsertRows(tx, tables.bindings, this.clusterId, upserts("bindings"), now);
          const deletions = new Map<TableSpec, Record<string, string>[]>();
          for (const event of batch.filter((e) => e.type === "DELETED")) {
            const { spec, key } = keyOf(event.change);
            deletions.set(spec, [...(deletions.get(spec) ?? []), key]);
          }
          for (const [spec, keys] of deletions) await markDeleted(tx, spec, this.clusterId, keys, now);
          if (touches("identities", "certificates", "bindings")) {
            await upsertSubjectIdentities(tx, this.clusterId, now);
            await markUnreferencedSubjectsDeleted(tx, this.clusterId, now);
          }
          if (touches("identities", "credentials", "certificates"))
            await refreshCredentialColumns(tx, this.clusterId);
        },
        { timeout: 120_000, maxWait: 60_000 },
      );
    } catch (error) {
      // The inventory may now miss these events: a relist brings it back to the cluster's state.
      this.log(
        `applying ${batch.length} changes failed (${error instanceof Error ? error.message : String(error)}), relisting`,
      );
      if (!this.stopped) void this.relist();
      return;
    }
    this.scheduleAnalysis();
  }

  private analysisTimer: NodeJS.Timeout | undefined;
  private analysing: Promise<void> = Promise.resolve();

  private scheduleAnalysis(): void {
    clearTimeout(this.analysisTimer);
    this.analysisTimer = setTimeout(() => {
      this.analysisTimer = undefined;
      this.analysing = this.analysing.then(() =>
        this.stopped ? undefined : analyzeAfterSync(this.clusterId),
      );
    }, this.options.analysisDebounceMs);
  }

  private closeStreams(): void {
    for (const stream of this.streams) stream.destroy();
    this.streams.clear();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.generation++;
    this.closeStreams();
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    clearTimeout(this.analysisTimer);
    await this.relisting?.catch(() => undefined);
    await Promise.allSettled([...this.loops]);
    await this.flushing;
    await this.analysing;
    this.reader?.close();
  }

  async start(): Promise<void> {
    await this.relist();
  }
}

/** Starts keeping a cluster's inventory current (full sync first, then watches). Resolves once watching. */
export async function startClusterWatch(
  clusterId: string,
  options: ClusterWatchOptions = {},
): Promise<ClusterWatch> {
  const watcher = new ClusterWatcher(clusterId, {
    watchTimeoutSeconds: 300,
    flushIntervalMs: 250,
    analysisDebounceMs: 2_000,
    ...options,
  });
  await watcher.start();
  return watcher;
}
