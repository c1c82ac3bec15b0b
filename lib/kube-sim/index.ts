import { EventEmitter } from "node:events";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { stringify as toYaml } from "yaml";
import { AuditWebhookSender, type AuditWebhookConfig } from "./audit-webhook";
import { Authenticator } from "./auth";
import { bootstrapObjects } from "./bootstrap";
import { Cluster, TYPES } from "./cluster";
import { Faults } from "./faults";
import { CertificateAuthority, base64 } from "./pki";
import { decodeKubernetesProtobuf } from "./protobuf";
import { findKind, type ResourceType } from "./resources";
import { ApiServer, type RequestRecord } from "./server";
import { ServiceAccountTokens } from "./tokens";
import type { KubeObject } from "./types";

export type { KubeObject } from "./types";
export type { RequestRecord, ObjectRef } from "./server";
export type { FaultSettings, FaultTrigger } from "./faults";
export type { AuditWebhookConfig, AuditEvent } from "./audit-webhook";

export interface KubeSimOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a random free port. */
  port?: number;
  objects?: KubeObject[];
  /** Manifest files or directories, loaded like `kubectl apply -f` would leave them (workloads expanded to Pods). */
  loadPaths?: string[];
  /** The demo cluster from ./generators/demo. */
  demo?: boolean;
  /** `generateScaleCluster(scale)`: about ten objects per ServiceAccount. */
  scale?: number;
  /** How many changes watches and continue tokens can reach back over (default 10000). */
  watchHistory?: number;
  /** Send audit events of served requests to this webhook, as kube-apiserver's webhook backend does. */
  auditWebhook?: AuditWebhookConfig;
}

export interface SimUser {
  username: string;
  groups?: string[];
  uid?: string;
}

export interface SeedReport {
  loaded: number;
  /** Objects of kinds the simulator does not serve, by `apiVersion/kind`. */
  skipped: Record<string, number>;
}

/** Where an object lives, for the direct store helpers. */
export interface ObjectAddress {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export interface KubeSim {
  readonly url: string;
  readonly caPem: string;
  readonly faults: Faults;
  readonly seedReport: SeedReport;
  /** Admin kubeconfig (client certificate for `kubernetes-admin` in `system:masters`), as YAML. */
  adminKubeconfig(): string;
  /** A new credential that authenticates as `user` (bearer token by default). */
  kubeconfigFor(user: SimUser, options?: { auth?: "token" | "certificate" }): string;
  tokenFor(user: SimUser): string;
  on(event: "request", listener: (record: RequestRecord) => void): this;
  off(event: "request", listener: (record: RequestRecord) => void): this;
  /** Starts, replaces (the old one's queue is dropped) or, with null, stops the audit webhook. */
  setAuditWebhook(config: AuditWebhookConfig | null): void;
  /** Delivers every queued audit event now; resolves when each batch was delivered or dropped. */
  flushAudit(): Promise<void>;
  /** Creates or replaces an object, bypassing authentication and admission (controllers still react). */
  apply(object: KubeObject): KubeObject;
  get(address: ObjectAddress): KubeObject | undefined;
  list(apiVersion: string, kind: string, namespace?: string): KubeObject[];
  delete(address: ObjectAddress): boolean;
  /** Waits until controllers finished asynchronous work (token Secrets filled, CSRs signed). */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

function typeOf(apiVersion: string, kind: string): ResourceType {
  const type = findKind(apiVersion, kind);
  if (!type || type.virtual) throw new Error(`kube-sim does not serve ${apiVersion} ${kind}`);
  return type;
}

async function seedObjects(options: KubeSimOptions): Promise<KubeObject[]> {
  const objects: KubeObject[] = [...bootstrapObjects()];
  if (options.demo) {
    const { generateDemoCluster } = await import("./generators/demo");
    objects.push(...(await generateDemoCluster()));
  }
  if (options.scale) {
    const { generateScaleCluster } = await import("./generators/scale");
    objects.push(...generateScaleCluster(options.scale));
  }
  if (options.loadPaths?.length) {
    const { loadManifestFiles, expandWorkloads } = await import("./manifests");
    objects.push(...expandWorkloads(await loadManifestFiles(options.loadPaths, { defaultNamespaceFromFileName: true })));
  }
  objects.push(...(options.objects ?? []));
  return objects;
}

class KubeSimServer extends EventEmitter implements KubeSim {
  url = "";
  readonly faults: Faults;
  private readonly admin: { certPem: string; keyPem: string };
  private server: Server | undefined;
  private auditWebhook: AuditWebhookSender | undefined;

  constructor(
    private readonly ca: CertificateAuthority,
    private readonly cluster: Cluster,
    private readonly authenticator: Authenticator,
    readonly seedReport: SeedReport,
    private readonly api: { closeWatches(): void } & Pick<ApiServer, "handle">,
    faults: Faults,
  ) {
    super();
    this.faults = faults;
    this.admin = ca.clientCertificate({ username: "kubernetes-admin", groups: ["system:masters"] });
  }

  get caPem(): string {
    return this.ca.caPem;
  }

  async listen(host: string, port: number): Promise<void> {
    const serving = await this.ca.servingCertificate();
    const server = createServer(
      { key: serving.keyPem, cert: serving.certPem, ca: this.ca.caPem, requestCert: true, rejectUnauthorized: false },
      (req, res) => void this.api.handle(req, res),
    );
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const address = server.address() as AddressInfo;
    const printableHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
    this.url = `https://${printableHost}:${address.port}`;
  }

  adminKubeconfig(): string {
    return this.kubeconfig("kubernetes-admin", { "client-certificate-data": base64(this.admin.certPem), "client-key-data": base64(this.admin.keyPem) });
  }

  kubeconfigFor(user: SimUser, options: { auth?: "token" | "certificate" } = {}): string {
    if (options.auth === "certificate") {
      const issued = this.ca.clientCertificate({ username: user.username, groups: user.groups ?? [] });
      return this.kubeconfig(user.username, { "client-certificate-data": base64(issued.certPem), "client-key-data": base64(issued.keyPem) });
    }
    return this.kubeconfig(user.username, { token: this.tokenFor(user) });
  }

  tokenFor(user: SimUser): string {
    return this.authenticator.issueStaticToken(user);
  }

  apply(object: KubeObject): KubeObject {
    const type = typeOf(object.apiVersion, object.kind);
    const namespace = type.namespaced ? (object.metadata.namespace ?? "default") : undefined;
    if (namespace && !this.cluster.store.get(TYPES.namespaces, "", namespace)) {
      this.cluster.store.put(TYPES.namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace }, status: { phase: "Active" } });
    }
    const existing = this.cluster.store.get(type, namespace ?? "", object.metadata.name);
    const metadata = { ...object.metadata, ...(namespace ? { namespace } : {}) };
    delete metadata.resourceVersion;
    if (existing) {
      metadata.uid = existing.metadata.uid;
      metadata.creationTimestamp ??= existing.metadata.creationTimestamp;
    }
    return this.cluster.store.put(type, { ...object, metadata });
  }

  get(address: ObjectAddress): KubeObject | undefined {
    return this.cluster.store.get(typeOf(address.apiVersion, address.kind), address.namespace ?? "", address.name);
  }

  list(apiVersion: string, kind: string, namespace?: string): KubeObject[] {
    return this.cluster.store.entries(typeOf(apiVersion, kind), namespace).map((e) => e.object);
  }

  delete(address: ObjectAddress): boolean {
    const type = typeOf(address.apiVersion, address.kind);
    return this.cluster.store.remove(type, type.namespaced ? (address.namespace ?? "") : "", address.name) !== undefined;
  }

  settle(): Promise<void> {
    return this.cluster.settle();
  }

  setAuditWebhook(config: AuditWebhookConfig | null): void {
    this.auditWebhook?.close();
    this.auditWebhook = config ? new AuditWebhookSender(config) : undefined;
  }

  async flushAudit(): Promise<void> {
    await this.auditWebhook?.flush();
  }

  /** Called for every served request; builds the record only when someone wants it. */
  recordRequest(record: () => RequestRecord): void {
    if (!this.auditWebhook && this.listenerCount("request") === 0) return;
    const built = record();
    this.auditWebhook?.enqueue(built);
    this.emit("request", built);
  }

  async stop(): Promise<void> {
    this.setAuditWebhook(null);
    this.api.closeWatches();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private kubeconfig(userName: string, credentials: Record<string, string>): string {
    return toYaml({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "kube-sim", cluster: { server: this.url, "certificate-authority-data": base64(this.ca.caPem) } }],
      users: [{ name: userName, user: credentials }],
      contexts: [{ name: "kube-sim", context: { cluster: "kube-sim", user: userName } }],
      "current-context": "kube-sim",
      preferences: {},
    });
  }
}

/** Starts an HTTPS Kubernetes API server that real kubectl and client libraries accept. */
export async function startKubeSim(options: KubeSimOptions = {}): Promise<KubeSim> {
  const [ca, tokens, objects] = await Promise.all([CertificateAuthority.create(), ServiceAccountTokens.create(), seedObjects(options)]);
  const cluster = new Cluster(options.watchHistory ?? 10_000, ca, tokens);
  const seedReport = cluster.seed(objects);
  await cluster.settle();
  const authenticator = new Authenticator(ca, tokens, cluster);
  // The callbacks below run only once requests arrive, after `api` and `sim` exist.
  const faults = new Faults(() => {
    api.closeWatches();
    cluster.store.compact();
  });
  const api: ApiServer = new ApiServer({
    cluster,
    authenticator,
    faults,
    serverAddress: (): string => new URL(sim.url).host,
    emitRequest: (record) => sim.recordRequest(record),
    decodeProtobuf: async (body) => decodeKubernetesProtobuf(body) as KubeObject,
  });
  const sim: KubeSimServer = new KubeSimServer(ca, cluster, authenticator, seedReport, api, faults);
  if (options.auditWebhook) sim.setAuditWebhook(options.auditWebhook);
  await sim.listen(options.host ?? "127.0.0.1", options.port ?? 0);
  return sim;
}


