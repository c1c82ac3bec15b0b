import type { IncomingMessage, ServerResponse } from "node:http";
import { parse as parseYaml } from "yaml";
import type { UserInfo } from "@/lib/rbac";
import { impersonate, type Authenticator } from "./auth";
import { TYPES, type Cluster, type WriteOptions } from "./cluster";
import { coreVersions, groupDocument, groupList, resourceList, versionInfo } from "./discovery";
import type { Faults } from "./faults";
import { openApiDocument, openApiIndex, unknownFields } from "./openapi";
import { jsonPatch, mergePatch, strategicMergePatch } from "./patch";
import { findResource, groupVersion, type ResourceType } from "./resources";
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, type FieldRequirement, type LabelRequirement } from "./selectors";
import { StatusError, errors } from "./status";
import type { StoreEvent } from "./store";
import { toTable } from "./table";
import type { KubeObject } from "./types";

export interface ObjectRef {
  resource: string;
  apiGroup: string;
  apiVersion: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** What the simulator reports for every served request (the raw material of audit events). */
export interface RequestRecord {
  user: string;
  groups: string[];
  uid?: string;
  extra?: Record<string, string[]>;
  /** Set when the request impersonated another user: who really sent it. */
  impersonatedBy?: string;
  /** The groups and extra of `impersonatedBy` (an audit event's `user`; the record's user is `impersonatedUser`). */
  impersonator?: { groups: string[]; extra?: Record<string, string[]> };
  verb: string;
  requestURI: string;
  objectRef?: ObjectRef;
  userAgent: string;
  sourceIPs: string[];
  credentialId?: string;
  responseStatus: { code: number; reason?: string; message?: string };
  /** When the request arrived (an audit event's requestReceivedTimestamp). */
  receivedAt: string;
  /** When the response was written, or a watch stream started. */
  timestamp: string;
}

interface RequestInfo {
  type: ResourceType;
  verb: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);
const HEALTH_PATHS = new Set(["/healthz", "/livez", "/readyz"]);
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const DEFAULT_WATCH_TIMEOUT_SECONDS = 1800;
const BOOKMARK_INTERVAL_MS = 10_000;

function parseResourcePath(method: string, pathname: string, query: URLSearchParams): RequestInfo | undefined {
  const parts = pathname.split("/").filter((p) => p !== "").map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === "api" && parts.length >= 3) {
    group = "";
    version = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === "apis" && parts.length >= 4) {
    group = parts[1];
    version = parts[2];
    rest = parts.slice(3);
  } else return undefined;
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length >= 2) {
    namespace = rest[1];
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2])) rest = rest.slice(2);
  }
  const [resource, name, subresource, ...extra] = rest;
  if (extra.length > 0) return undefined;
  const type = findResource(group, version, resource);
  if (!type) return undefined;
  const isWatch = query.get("watch") === "true" || query.get("watch") === "1";
  const verbs: Record<string, string> = {
    GET: name ? "get" : isWatch ? "watch" : "list",
    POST: "create",
    PUT: "update",
    PATCH: "patch",
    DELETE: name ? "delete" : "deletecollection",
  };
  const verb = verbs[method];
  if (!verb) return undefined;
  return { type, verb, namespace: type.namespaced || type === TYPES.namespaces ? namespace : undefined, name, subresource };
}

function forbiddenMessage(user: UserInfo, info: RequestInfo): string {
  const resource = info.subresource ? `${info.type.resource}/${info.subresource}` : info.type.resource;
  const scope = info.namespace ? `in the namespace "${info.namespace}"` : "at the cluster scope";
  return `User "${user.username}" cannot ${info.verb} resource "${resource}" in API group "${info.type.group}" ${scope}`;
}

function listKind(type: ResourceType): string {
  return `${type.kind}List`;
}

function encodeContinue(revision: number, lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", rv: revision, start: `${lastKey}\u0000` })).toString("base64");
}

function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64").toString()) as { rv?: unknown; start?: unknown };
    if (typeof parsed.rv === "number" && typeof parsed.start === "string") return { rv: parsed.rv, start: parsed.start };
  } catch {
    // fall through to the error below
  }
  throw errors.badRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
}

interface Filter {
  labels: LabelRequirement[];
  fields: FieldRequirement[];
}

function buildFilter(type: ResourceType, query: URLSearchParams): Filter {
  const supported = (field: string) => field === "metadata.name" || field === "metadata.namespace" || field in type.fieldSelectors;
  return { labels: parseLabelSelector(query.get("labelSelector")), fields: parseFieldSelector(query.get("fieldSelector"), supported) };
}

function matches(type: ResourceType, filter: Filter, object: KubeObject): boolean {
  if (filter.labels.length > 0 && !matchesLabels(filter.labels, object.metadata.labels)) return false;
  if (filter.fields.length === 0) return true;
  return matchesFields(filter.fields, (field) => {
    if (field === "metadata.name") return object.metadata.name;
    if (field === "metadata.namespace") return object.metadata.namespace ?? "";
    return type.fieldSelectors[field]?.(object);
  });
}

function wantsTable(req: IncomingMessage): boolean {
  return /as=Table/.test(req.headers.accept ?? "");
}

interface Served {
  status: number;
  body?: unknown;
  /** Pre-serialised JSON (large lists). */
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface ApiServerDeps {
  cluster: Cluster;
  authenticator: Authenticator;
  faults: Faults;
  serverAddress: () => string;
  emitRequest: (record: () => RequestRecord) => void;
  decodeProtobuf: (body: Buffer) => Promise<KubeObject>;
}

/** Routes and serves kube-apiserver's HTTP API. */
export class ApiServer {
  private readonly watches = new Set<() => void>();

  constructor(private readonly deps: ApiServerDeps) {}

  /** Ends every open watch stream (fault injection and shutdown). */
  closeWatches(): void {
    for (const close of [...this.watches]) close();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "https://kube-sim");
    const method = req.method ?? "GET";
    const receivedAt = new Date().toISOString();
    let user: UserInfo | undefined;
    let impersonator: UserInfo | undefined;
    let credentialId: string | undefined;
    let info: RequestInfo | undefined;
    let status = 200;
    let failure: StatusError | undefined;
    try {
      if (HEALTH_PATHS.has(url.pathname) || url.pathname.startsWith("/livez/") || url.pathname.startsWith("/readyz/")) {
        res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end("ok");
        return;
      }
      if (this.deps.faults.latencyMs > 0) await new Promise((r) => setTimeout(r, this.deps.faults.latencyMs));
      const fault = this.deps.faults.decide();
      if (fault?.kind === "dropConnection") {
        res.writeHead(200, { "content-type": "application/json" });
        res.write('{"kind":"Status","apiVersion":"v1","metadata":{},');
        res.socket?.destroy();
        status = 0;
        return;
      }
      if (fault?.kind === "tooManyRequests") throw errors.tooManyRequests(fault.retryAfterSeconds);
      if (fault?.kind === "serverError") throw errors.internal("injected fault");

      const authenticated = await this.deps.authenticator.authenticate(req);
      if (!authenticated) throw errors.unauthorized();
      credentialId = authenticated.credentialId;
      user = authenticated.user;
      const requester = user;
      const impersonated = impersonate(req, requester, (attrs) => this.deps.cluster.can(requester, attrs));
      if (impersonated) {
        impersonator = requester;
        user = impersonated;
      }

      info = parseResourcePath(method, url.pathname, url.searchParams);
      const served = info ? await this.serveResource(req, res, url, user, info) : this.serveNonResource(method, url, user);
      if (!served) return; // a watch stream owns the response
      status = served.status;
      const payload = served.raw ?? (typeof served.body === "string" ? served.body : JSON.stringify(served.body));
      res.writeHead(served.status, { "content-type": served.contentType ?? "application/json", ...served.headers });
      res.end(payload);
    } catch (error) {
      failure = error instanceof StatusError ? error : errors.internal(error instanceof Error ? error.message : String(error));
      if (!(error instanceof StatusError)) console.error("kube-sim:", error);
      status = failure.code;
      if (!res.headersSent) {
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (failure.details?.retryAfterSeconds !== undefined) headers["retry-after"] = String(failure.details.retryAfterSeconds);
        res.writeHead(failure.code, headers);
      }
      res.end(JSON.stringify(failure.toStatus()));
    } finally {
      const finalUser = user;
      const finalInfo = info;
      this.deps.emitRequest(() => ({
        user: finalUser?.username ?? "system:anonymous",
        groups: finalUser?.groups ?? ["system:unauthenticated"],
        ...(finalUser?.uid ? { uid: finalUser.uid } : {}),
        ...(finalUser?.extra ? { extra: finalUser.extra } : {}),
        ...(impersonator
          ? { impersonatedBy: impersonator.username, impersonator: { groups: impersonator.groups, ...(impersonator.extra ? { extra: impersonator.extra } : {}) } }
          : {}),
        verb: finalInfo?.verb ?? method.toLowerCase(),
        requestURI: req.url ?? "/",
        ...(finalInfo
          ? {
              objectRef: {
                resource: finalInfo.type.resource,
                apiGroup: finalInfo.type.group,
                apiVersion: finalInfo.type.version,
                ...(finalInfo.namespace ? { namespace: finalInfo.namespace } : {}),
                ...(finalInfo.name ? { name: finalInfo.name } : {}),
                ...(finalInfo.subresource ? { subresource: finalInfo.subresource } : {}),
              },
            }
          : {}),
        userAgent: req.headers["user-agent"] ?? "",
        sourceIPs: [req.socket.remoteAddress ?? ""],
        ...(credentialId ? { credentialId } : {}),
        responseStatus: failure ? { code: status, reason: failure.reason, message: failure.message } : { code: status },
        receivedAt,
        timestamp: new Date().toISOString(),
      }));
    }
  }

  private serveNonResource(method: string, url: URL, user: UserInfo): Served {
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const verb = method === "GET" || method === "HEAD" ? "get" : method.toLowerCase();
    const decision = this.deps.cluster.authorizer().authorize({ user, nonResourceAttributes: { verb, path } });
    if (!decision.allowed) throw errors.forbiddenPath(`forbidden: User "${user.username}" cannot ${verb} path "${path}"`);
    if (verb !== "get") throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
    const parts = path.split("/").filter((p) => p !== "");
    if (path === "/version") return { status: 200, body: versionInfo() };
    if (path === "/api") return { status: 200, body: coreVersions(this.deps.serverAddress()) };
    if (path === "/apis") return { status: 200, body: groupList() };
    if (path === "/openapi/v3") return { status: 200, body: openApiIndex() };
    if (parts[0] === "openapi" && parts[1] === "v3") {
      const doc = openApiDocument(parts.slice(2).join("/"));
      if (doc) return { status: 200, raw: doc, headers: { "cache-control": "public, immutable" } };
    }
    if (parts[0] === "api" && parts.length === 2) {
      const list = resourceList("", parts[1]);
      if (list) return { status: 200, body: list };
    }
    if (parts[0] === "apis" && parts.length === 2) {
      const group = groupDocument(parts[1]);
      if (group) return { status: 200, body: group };
    }
    if (parts[0] === "apis" && parts.length === 3) {
      const list = resourceList(parts[1], parts[2]);
      if (list) return { status: 200, body: list };
    }
    throw errors.notFoundPath();
  }

  private authorizeResource(user: UserInfo, info: RequestInfo): void {
    const decision = this.deps.cluster.authorizer().authorize({
      user,
      resourceAttributes: {
        verb: info.verb,
        group: info.type.group,
        version: info.type.version,
        resource: info.type.resource,
        subresource: info.subresource ?? "",
        name: info.name ?? "",
        namespace: info.namespace ?? "",
      },
    });
    if (!decision.allowed) {
      const message = forbiddenMessage(user, info) + (decision.reason ? `: ${decision.reason}` : "");
      throw errors.forbidden(info.subresource ? { group: info.type.group, resource: info.type.resource } : info.type, info.name, message);
    }
  }

  private async serveResource(req: IncomingMessage, res: ServerResponse, url: URL, user: UserInfo, info: RequestInfo): Promise<Served | undefined> {
    this.authorizeResource(user, info);
    const { type, verb, namespace, name, subresource } = info;
    const query = url.searchParams;
    const cluster = this.deps.cluster;
    const dryRun = query.getAll("dryRun").includes("All");
    const write = { dryRun, user };
    if (type.virtual) {
      if (verb !== "create") throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
      return { status: 201, body: await this.review(type, namespace, await this.readObject(req), user) };
    }
    if (subresource && !type.subresources.includes(subresource)) throw errors.notFoundPath();
    const clusterNamespace = type.namespaced ? namespace : undefined;
    switch (verb) {
      case "get":
        if (subresource === "token") throw errors.methodNotAllowed("the server does not allow this method on the requested resource");
        return this.single(req, type, cluster.get(type, clusterNamespace, name!), query);
      case "list":
        return this.list(req, type, clusterNamespace, query);
      case "watch":
        this.watch(req, res, type, clusterNamespace, query);
        return undefined;
      case "create": {
        const body = await this.readObject(req);
        if (subresource === "token") return { status: 201, body: await cluster.requestToken(namespace!, name!, body, write) };
        if (name) throw errors.methodNotAllowed("the server does not allow this method on the requested resource");
        this.strictFields(type, body, query, res);
        return { status: 201, body: cluster.create(type, clusterNamespace, body, write) };
      }
      case "update": {
        const body = await this.readObject(req);
        this.strictFields(type, body, query, res);
        return { status: 200, body: cluster.update(type, clusterNamespace, name!, this.subresourceUpdate(type, clusterNamespace, name!, subresource, body, user), write) };
      }
      case "patch": {
        const contentType = (req.headers["content-type"] ?? "").split(";")[0].trim();
        const patchBody = await this.readBody(req);
        if (contentType === "application/apply-patch+yaml" && !cluster.store.get(type, clusterNamespace ?? "", name!)) {
          const object = parseYaml(patchBody.toString("utf8")) as KubeObject;
          return { status: 201, body: cluster.create(type, clusterNamespace, { ...object, metadata: { ...object.metadata, name: name! } }, write) };
        }
        const current = cluster.get(type, clusterNamespace, name!);
        const patched = this.applyPatch(contentType, current, patchBody) as KubeObject;
        this.strictFields(type, patched, query, res);
        if (patched?.metadata && patched.metadata.resourceVersion === undefined) patched.metadata.resourceVersion = current.metadata.resourceVersion;
        return { status: 200, body: cluster.update(type, clusterNamespace, name!, this.subresourceUpdate(type, clusterNamespace, name!, subresource, patched, user), write) };
      }
      case "delete": {
        const deleted = cluster.delete(type, clusterNamespace, name!, { ...write, preconditions: await this.deletePreconditions(req) });
        return { status: 200, body: deleted };
      }
      case "deletecollection": {
        const filter = buildFilter(type, query);
        const items = cluster.store
          .entries(type, clusterNamespace)
          .filter((e) => matches(type, filter, e.object))
          .map((e) => cluster.delete(type, clusterNamespace ?? e.object.metadata.namespace, e.object.metadata.name, write));
        return { status: 200, body: { kind: listKind(type), apiVersion: groupVersion(type), metadata: { resourceVersion: String(cluster.store.revision) }, items } };
      }
    }
    throw errors.methodNotAllowed("the server does not allow this method on the requested resource");
  }

  /** Status-like subresources only change their part of the object; `approval` is gated by the signer's `approve` verb. */
  private subresourceUpdate(type: ResourceType, namespace: string | undefined, name: string, subresource: string | undefined, body: KubeObject, user: UserInfo): KubeObject {
    if (!subresource) {
      // The main resource cannot change status of kinds with a status subresource.
      if (type.subresources.includes("status")) {
        const current = this.deps.cluster.store.get(type, namespace ?? "", name);
        if (current && current.status !== undefined) return { ...body, status: current.status };
      }
      return body;
    }
    const current = this.deps.cluster.get(type, namespace, name);
    if (subresource === "approval") {
      const signerName = String((current.spec as { signerName?: string } | undefined)?.signerName ?? "");
      const allowed = [signerName, `${signerName.split("/")[0]}/*`].some((signer) =>
        this.deps.cluster.can(user, { verb: "approve", group: "certificates.k8s.io", resource: "signers", name: signer }),
      );
      if (!allowed) throw errors.forbidden(type, name, `user not permitted to approve requests with signerName "${signerName}"`);
      const conditions = ((body.status as { conditions?: Array<Record<string, unknown>> } | undefined)?.conditions ?? []).map((c) => {
        const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
        return { status: "True", lastUpdateTime: now, lastTransitionTime: now, ...c };
      });
      return { ...current, metadata: { ...current.metadata, resourceVersion: body.metadata?.resourceVersion }, status: { ...((current.status as object) ?? {}), conditions } };
    }
    if (subresource === "status") return { ...current, metadata: { ...current.metadata, resourceVersion: body.metadata?.resourceVersion }, status: body.status };
    return current; // namespaces/finalize: nothing to finalize in the simulator
  }

  private applyPatch(contentType: string, current: KubeObject, body: Buffer): unknown {
    const text = body.toString("utf8");
    const parse = () => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw errors.badRequest("the request body is not valid JSON");
      }
    };
    switch (contentType) {
      case "application/merge-patch+json":
        return mergePatch(current, parse());
      case "application/json-patch+json":
        return jsonPatch(current, parse());
      case "application/strategic-merge-patch+json":
        return strategicMergePatch(current, parse());
      case "application/apply-patch+yaml":
        return strategicMergePatch(current, parseYaml(text));
      default:
        throw errors.unsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`);
    }
  }

  /** Server-side field validation: Strict rejects unknown fields, Warn reports them in Warning headers. */
  private strictFields(type: ResourceType, body: KubeObject, query: URLSearchParams, res: ServerResponse): void {
    const mode = query.get("fieldValidation");
    if (mode !== "Strict" && mode !== "Warn") return;
    const unknown = unknownFields(type.kind, body).map((f) => `unknown field "${f}"`);
    if (unknown.length === 0) return;
    if (mode === "Strict") throw errors.badRequest(`strict decoding error: ${unknown.join(", ")}`);
    res.setHeader("warning", unknown.map((message) => `299 - ${JSON.stringify(message)}`));
  }

  private single(req: IncomingMessage, type: ResourceType, object: KubeObject, query: URLSearchParams): Served {
    if (wantsTable(req)) return { status: 200, body: this.table(type, [object], { resourceVersion: object.metadata.resourceVersion }, query) };
    return { status: 200, body: object };
  }

  private table(type: ResourceType, objects: KubeObject[], metadata: Record<string, unknown>, query: URLSearchParams): unknown {
    return toTable(type, objects, metadata, query.get("includeObject") ?? "Metadata");
  }

  private list(req: IncomingMessage, type: ResourceType, namespace: string | undefined, query: URLSearchParams): Served {
    const store = this.deps.cluster.store;
    const filter = buildFilter(type, query);
    const limit = Number(query.get("limit") ?? "0");
    const continueToken = query.get("continue");
    let revision = store.revision;
    let start = "";
    if (continueToken) {
      const decoded = decodeContinue(continueToken);
      if (decoded.rv < store.compactedRevision) {
        throw errors.expired(
          "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
        );
      }
      revision = decoded.rv;
      start = decoded.start;
    }
    const entries = store.entries(type, namespace);
    const selected: Array<{ key: string; object: KubeObject; json: string }> = [];
    let more = false;
    let remaining = 0;
    const filtering = filter.labels.length > 0 || filter.fields.length > 0;
    for (const entry of entries) {
      if (start && entry.key < start) continue;
      if (filtering && !matches(type, filter, entry.object)) continue;
      if (limit > 0 && selected.length >= limit) {
        more = true;
        if (filtering) break;
        remaining++;
        continue;
      }
      selected.push(entry);
    }
    const metadata: Record<string, unknown> = { resourceVersion: String(revision) };
    if (more) {
      metadata.continue = encodeContinue(revision, selected[selected.length - 1].key);
      if (!filtering) metadata.remainingItemCount = remaining;
    }
    if (wantsTable(req)) return { status: 200, body: this.table(type, selected.map((e) => e.object), metadata, query) };
    const head = `{"kind":${JSON.stringify(listKind(type))},"apiVersion":${JSON.stringify(groupVersion(type))},"metadata":${JSON.stringify(metadata)},"items":[`;
    return { status: 200, raw: `${head}${selected.map((e) => e.json).join(",")}]}` };
  }

  private watch(req: IncomingMessage, res: ServerResponse, type: ResourceType, namespace: string | undefined, query: URLSearchParams): void {
    const store = this.deps.cluster.store;
    const filter = buildFilter(type, query);
    const bookmarks = query.get("allowWatchBookmarks") === "true";
    const requestedVersion = query.get("resourceVersion") ?? "";
    const timeoutSeconds = Number(query.get("timeoutSeconds") ?? DEFAULT_WATCH_TIMEOUT_SECONDS);
    const key = `${type.group}/${type.resource}`;
    const inScope = (object: KubeObject) => (namespace === undefined || object.metadata.namespace === namespace) && matches(type, filter, object);
    res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked", "cache-control": "no-cache" });
    res.flushHeaders();
    const send = (eventType: string, object: unknown) => res.write(`${JSON.stringify({ type: eventType, object })}\n`);
    let lastRevision = store.revision;
    const sendEvent = (event: StoreEvent) => {
      if (event.key !== key) return;
      const now = inScope(event.object);
      const before = event.previous ? inScope(event.previous) : false;
      lastRevision = event.revision;
      if (event.type === "ADDED" && now) send("ADDED", event.object);
      else if (event.type === "MODIFIED") {
        if (now && before) send("MODIFIED", event.object);
        else if (now) send("ADDED", event.object);
        else if (before) send("DELETED", event.object);
      } else if (event.type === "DELETED" && before) send("DELETED", event.object);
    };

    if (requestedVersion === "" || requestedVersion === "0") {
      for (const entry of store.entries(type, namespace)) if (matches(type, filter, entry.object)) res.write(`{"type":"ADDED","object":${entry.json}}\n`);
    } else {
      const since = Number(requestedVersion);
      const events = Number.isFinite(since) ? store.eventsSince(key, since) : undefined;
      if (!events) {
        const gone = errors.expired(`too old resource version: ${requestedVersion} (${store.compactedRevision})`);
        res.end(`${JSON.stringify({ type: "ERROR", object: gone.toStatus() })}\n`);
        return;
      }
      events.forEach(sendEvent);
    }
    const bookmark = () =>
      send("BOOKMARK", { kind: type.kind, apiVersion: groupVersion(type), metadata: { resourceVersion: String(Math.max(lastRevision, store.revision)) } });
    if (bookmarks) bookmark();
    const unsubscribe = store.onEvent(sendEvent);
    const bookmarkTimer = bookmarks ? setInterval(bookmark, BOOKMARK_INTERVAL_MS) : undefined;
    const close = () => {
      unsubscribe();
      clearInterval(bookmarkTimer);
      clearTimeout(timeout);
      this.watches.delete(close);
      if (!res.writableEnded) res.end();
    };
    const timeout = setTimeout(close, Math.max(1, timeoutSeconds) * 1000);
    this.watches.add(close);
    req.on("close", close);
    res.on("close", close);
  }

  private async review(type: ResourceType, namespace: string | undefined, body: KubeObject, user: UserInfo): Promise<KubeObject> {
    const spec = (body.spec ?? {}) as Record<string, unknown>;
    const authorizer = this.deps.cluster.authorizer();
    const accessReview = (subject: UserInfo) => {
      const resourceAttributes = spec.resourceAttributes as Record<string, string> | undefined;
      const nonResourceAttributes = spec.nonResourceAttributes as { verb: string; path: string } | undefined;
      if (!resourceAttributes && !nonResourceAttributes) {
        throw errors.invalid(`${type.kind}.${type.group}`, type.kind, type.group, "", [
          { field: "spec.resourceAttributes", message: "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified" },
        ]);
      }
      const decision = resourceAttributes
        ? authorizer.authorize({
            user: subject,
            resourceAttributes: {
              verb: resourceAttributes.verb ?? "",
              group: resourceAttributes.group ?? "",
              version: resourceAttributes.version ?? "",
              resource: resourceAttributes.resource ?? "",
              subresource: resourceAttributes.subresource ?? "",
              name: resourceAttributes.name ?? "",
              namespace: type.namespaced ? (namespace ?? "") : (resourceAttributes.namespace ?? ""),
            },
          })
        : authorizer.authorize({ user: subject, nonResourceAttributes: nonResourceAttributes! });
      return { ...body, metadata: { ...(body.metadata ?? {}), creationTimestamp: null }, status: { allowed: decision.allowed, ...(decision.reason ? { reason: decision.reason } : {}) } } as unknown as KubeObject;
    };
    switch (type.kind) {
      case "SelfSubjectAccessReview":
        return accessReview(user);
      case "SubjectAccessReview":
      case "LocalSubjectAccessReview":
        return accessReview({
          username: String(spec.user ?? ""),
          groups: (spec.groups as string[] | undefined) ?? [],
          ...(spec.uid ? { uid: String(spec.uid) } : {}),
          ...(spec.extra ? { extra: spec.extra as Record<string, string[]> } : {}),
        });
      case "SelfSubjectRulesReview": {
        const rules = authorizer.rulesFor(user, String(spec.namespace ?? ""));
        return {
          ...body,
          metadata: { ...(body.metadata ?? {}), creationTimestamp: null },
          status: {
            resourceRules: rules.resourceRules,
            nonResourceRules: rules.nonResourceRules,
            incomplete: rules.incomplete,
            ...(rules.evaluationError ? { evaluationError: rules.evaluationError } : {}),
          },
        } as unknown as KubeObject;
      }
      case "SelfSubjectReview":
        return {
          kind: "SelfSubjectReview",
          apiVersion: "authentication.k8s.io/v1",
          metadata: { creationTimestamp: null },
          status: { userInfo: { username: user.username, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups, ...(user.extra ? { extra: user.extra } : {}) } },
        } as unknown as KubeObject;
      case "TokenReview": {
        const authenticated = await this.deps.authenticator.authenticateToken(String(spec.token ?? ""));
        return {
          ...body,
          metadata: { ...(body.metadata ?? {}), creationTimestamp: null },
          status: authenticated
            ? { authenticated: true, user: authenticated.user, audiences: ["https://kubernetes.default.svc.cluster.local"] }
            : { authenticated: false, error: "invalid bearer token" },
        } as unknown as KubeObject;
      }
    }
    throw errors.notFoundPath();
  }

  private async readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) throw new StatusError(413, "RequestEntityTooLarge", "Request entity too large");
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  /** DeleteOptions sent as the body of a DELETE: only its preconditions matter here. */
  private async deletePreconditions(req: IncomingMessage): Promise<WriteOptions["preconditions"]> {
    const body = await this.readBody(req);
    if (body.length === 0) return undefined;
    try {
      return (JSON.parse(body.toString("utf8")) as { preconditions?: WriteOptions["preconditions"] | null }).preconditions ?? undefined;
    } catch {
      throw errors.badRequest("the body of the request is not valid DeleteOptions JSON");
    }
  }

  private async readObject(req: IncomingMessage): Promise<KubeObject> {
    const body = await this.readBody(req);
    const contentType = (req.headers["content-type"] ?? "application/json").split(";")[0].trim();
    let parsed: unknown;
    if (contentType === "application/vnd.kubernetes.protobuf") {
      try {
        parsed = await this.deps.decodeProtobuf(body);
      } catch (error) {
        throw errors.unsupportedMediaType(`the body of the request could not be decoded as protobuf: ${error instanceof Error ? error.message : String(error)}`);
      }
    } else if (contentType === "application/yaml") {
      parsed = parseYaml(body.toString("utf8"));
    } else if (contentType === "application/json" || contentType === "") {
      try {
        parsed = JSON.parse(body.toString("utf8"));
      } catch (error) {
        throw errors.badRequest(`the request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
      }
    } else {
      throw errors.unsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw errors.badRequest("the request body must be an object");
    return parsed as KubeObject;
  }
}
