import { randomUUID } from "node:crypto";
import type { KubeObject } from "./types";
import type { ResourceType } from "./resources";
import { resourceKey } from "./resources";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoreEvent {
  type: WatchEventType;
  revision: number;
  key: string;
  object: KubeObject;
  /** The object before a MODIFIED/DELETED change (watch filters need it to tell "left the selection"). */
  previous?: KubeObject;
}

interface Entry {
  object: KubeObject;
  /** Serialised once per write: listing 30k pods must not re-stringify them. */
  json: string;
}

type Listener = (event: StoreEvent) => void;

/**
 * The simulator's etcd: objects indexed by resource, then namespace, then name, with a global
 * revision counter (resourceVersion) and a bounded event history for watches and continue tokens.
 */
export class ObjectStore {
  private readonly resources = new Map<string, Map<string, Map<string, Entry>>>();
  private readonly sortedKeysCache = new Map<string, string[]>();
  private history: StoreEvent[] = [];
  private readonly listeners = new Set<Listener>();
  revision = 1;
  /** Revisions at or below this can no longer be watched from or continued. */
  compactedRevision = 0;

  constructor(private readonly historyLimit: number) {}

  onEvent(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(type: ResourceType, namespace: string, name: string): KubeObject | undefined {
    return this.bucket(type, namespace)?.get(name)?.object;
  }

  /** Entries sorted by namespace then name, like etcd's key order. `namespace` undefined = all. */
  entries(type: ResourceType, namespace: string | undefined): Array<{ key: string; object: KubeObject; json: string }> {
    const byNamespace = this.resources.get(resourceKey(type.group, type.resource));
    if (!byNamespace) return [];
    const namespaces = namespace === undefined ? [...byNamespace.keys()].sort() : [namespace];
    const result: Array<{ key: string; object: KubeObject; json: string }> = [];
    for (const ns of namespaces) {
      const bucket = byNamespace.get(ns);
      if (!bucket) continue;
      for (const name of this.sortedNames(type, ns, bucket)) {
        const entry = bucket.get(name)!;
        result.push({ key: `${ns}/${name}`, object: entry.object, json: entry.json });
      }
    }
    return result;
  }

  count(type: ResourceType): number {
    let n = 0;
    for (const bucket of this.resources.get(resourceKey(type.group, type.resource))?.values() ?? []) n += bucket.size;
    return n;
  }

  namespacesWithObjects(type: ResourceType): string[] {
    return [...(this.resources.get(resourceKey(type.group, type.resource))?.keys() ?? [])];
  }

  /** Stores `object` as new or replacing; assigns resourceVersion (and uid/creationTimestamp when missing). */
  put(type: ResourceType, object: KubeObject, options: { recordHistory?: boolean } = {}): KubeObject {
    const namespace = type.namespaced ? (object.metadata.namespace ?? "") : "";
    const bucket = this.ensureBucket(type, namespace);
    const existing = bucket.get(object.metadata.name);
    this.revision++;
    const metadata = { ...object.metadata };
    metadata.resourceVersion = String(this.revision);
    metadata.uid ??= existing?.object.metadata.uid ?? randomUUID();
    metadata.creationTimestamp ??= existing?.object.metadata.creationTimestamp ?? nowTimestamp();
    if (type.namespaced) metadata.namespace = namespace;
    else delete metadata.namespace;
    const stored: KubeObject = { ...object, metadata };
    if (!existing) this.sortedKeysCache.delete(this.cacheKey(type, namespace));
    bucket.set(metadata.name, { object: stored, json: JSON.stringify(stored) });
    this.emit(
      {
        type: existing ? "MODIFIED" : "ADDED",
        revision: this.revision,
        key: resourceKey(type.group, type.resource),
        object: stored,
        previous: existing?.object,
      },
      options.recordHistory ?? true,
    );
    return stored;
  }

  remove(type: ResourceType, namespace: string, name: string): KubeObject | undefined {
    const bucket = this.bucket(type, namespace);
    const existing = bucket?.get(name);
    if (!bucket || !existing) return undefined;
    bucket.delete(name);
    this.sortedKeysCache.delete(this.cacheKey(type, namespace));
    this.revision++;
    const deleted: KubeObject = {
      ...existing.object,
      metadata: { ...existing.object.metadata, resourceVersion: String(this.revision) },
    };
    this.emit(
      { type: "DELETED", revision: this.revision, key: resourceKey(type.group, type.resource), object: deleted, previous: existing.object },
      true,
    );
    return deleted;
  }

  /** Events after `revision` for one resource, or undefined when that revision was compacted away. */
  eventsSince(key: string, revision: number): StoreEvent[] | undefined {
    if (revision < this.compactedRevision) return undefined;
    return this.history.filter((e) => e.revision > revision && e.key === key);
  }

  /**
   * Forgets all history: watches and continue tokens from any revision handed out so far get 410 Gone.
   * The revision moves on so that a fresh list gives clients a resourceVersion they can watch from.
   */
  compact(): void {
    this.history = [];
    this.revision++;
    this.compactedRevision = this.revision;
  }

  private emit(event: StoreEvent, recordHistory: boolean): void {
    if (recordHistory) {
      this.history.push(event);
      if (this.history.length > this.historyLimit + Math.max(5, this.historyLimit / 10)) {
        // Trim in batches so a busy store does not shift the array on every write.
        const dropped = this.history.splice(0, this.history.length - this.historyLimit);
        this.compactedRevision = dropped[dropped.length - 1].revision;
      }
    } else {
      this.compactedRevision = this.revision;
    }
    for (const listener of this.listeners) listener(event);
  }

  private cacheKey(type: ResourceType, namespace: string): string {
    return `${type.group}/${type.resource}/${namespace}`;
  }

  private sortedNames(type: ResourceType, namespace: string, bucket: Map<string, Entry>): string[] {
    const key = this.cacheKey(type, namespace);
    let names = this.sortedKeysCache.get(key);
    if (!names) {
      names = [...bucket.keys()].sort();
      this.sortedKeysCache.set(key, names);
    }
    return names;
  }

  private bucket(type: ResourceType, namespace: string): Map<string, Entry> | undefined {
    return this.resources.get(resourceKey(type.group, type.resource))?.get(type.namespaced ? namespace : "");
  }

  private ensureBucket(type: ResourceType, namespace: string): Map<string, Entry> {
    const key = resourceKey(type.group, type.resource);
    let byNamespace = this.resources.get(key);
    if (!byNamespace) {
      byNamespace = new Map();
      this.resources.set(key, byNamespace);
    }
    let bucket = byNamespace.get(namespace);
    if (!bucket) {
      bucket = new Map();
      byNamespace.set(namespace, bucket);
    }
    return bucket;
  }
}

export function nowTimestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}
