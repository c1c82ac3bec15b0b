import { randomBytes } from "node:crypto";
import {
  RbacAuthorizer,
  aggregateClusterRoles,
  clusterRoleRulesChanged,
  escalationAllowed,
  type ClusterRole,
  type ClusterRoleBinding,
  type PolicyRule,
  type ResourceAttributes,
  type Role,
  type RoleBinding,
  type UserInfo,
} from "@/lib/rbac";
import type { CertificateAuthority } from "./pki";
import { base64 } from "./pki";
import { RESOURCE_TYPES, findKind, findResource, qualifiedKind, resourceKey, type ResourceType } from "./resources";
import { ObjectStore, nowTimestamp, type StoreEvent } from "./store";
import { StatusError, errors } from "./status";
import type { ServiceAccountTokens } from "./tokens";
import type { KubeObject } from "./types";

const core = (resource: string) => findResource("", "v1", resource)!;
const rbac = (resource: string) => findResource("rbac.authorization.k8s.io", "v1", resource)!;
export const TYPES = {
  namespaces: core("namespaces"),
  serviceaccounts: core("serviceaccounts"),
  secrets: core("secrets"),
  pods: core("pods"),
  roles: rbac("roles"),
  clusterroles: rbac("clusterroles"),
  rolebindings: rbac("rolebindings"),
  clusterrolebindings: rbac("clusterrolebindings"),
  csrs: findResource("certificates.k8s.io", "v1", "certificatesigningrequests")!,
};

const TYPES_BY_KEY = new Map(RESOURCE_TYPES.map((t) => [resourceKey(t.group, t.resource), t]));

export const SERVICE_ACCOUNT_TOKEN_TYPE = "kubernetes.io/service-account-token";
export const CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client";
const UNDELETABLE_NAMESPACES = new Set(["default", "kube-system", "kube-public"]);
const NAME_PATTERN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const DAY_SECONDS = 24 * 60 * 60;

export interface WriteOptions {
  dryRun?: boolean;
  /** The requesting user: needed for RBAC escalation checks and CSR `spec.username`. Undefined = trusted. */
  user?: UserInfo;
  /** DeleteOptions.preconditions: the delete fails with a conflict unless the object still has these. */
  preconditions?: { uid?: string; resourceVersion?: string };
}

function metadataOf(value: unknown): KubeObject["metadata"] {
  return ((value as KubeObject | undefined)?.metadata ?? {}) as KubeObject["metadata"];
}

function randomSuffix(): string {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join("");
}

function isCondition(obj: KubeObject, type: string): boolean {
  const conditions = (obj.status as { conditions?: Array<{ type?: string; status?: string }> } | undefined)?.conditions ?? [];
  return conditions.some((c) => c.type === type && (c.status ?? "True") === "True");
}

function formatRule(rule: PolicyRule): string {
  const parts: string[] = [];
  const list = (items: string[]) => `[${items.map((i) => JSON.stringify(i)).join(" ")}]`;
  if (rule.apiGroups?.length) parts.push(`APIGroups:${list(rule.apiGroups)}`);
  if (rule.resources?.length) parts.push(`Resources:${list(rule.resources)}`);
  if (rule.resourceNames?.length) parts.push(`ResourceNames:${list(rule.resourceNames)}`);
  if (rule.nonResourceURLs?.length) parts.push(`NonResourceURLs:${list(rule.nonResourceURLs)}`);
  parts.push(`Verbs:${list(rule.verbs)}`);
  return `{${parts.join(", ")}}`;
}

/**
 * The cluster's state and the behaviour kube-apiserver and kube-controller-manager add on top of
 * storage: validation, RBAC escalation prevention, and the controllers a real cluster runs.
 */
export class Cluster {
  readonly store: ObjectStore;
  private rbacAuthorizer: RbacAuthorizer | undefined;
  private seeding = false;
  private aggregating = false;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    historyLimit: number,
    private readonly ca: CertificateAuthority,
    private readonly tokens: ServiceAccountTokens,
  ) {
    this.store = new ObjectStore(historyLimit);
    this.store.onEvent((event) => this.react(event));
  }

  // ---------- authorization ----------

  authorizer(): RbacAuthorizer {
    if (!this.rbacAuthorizer) {
      const all = (type: ResourceType) => this.store.entries(type, undefined).map((e) => e.object);
      this.rbacAuthorizer = new RbacAuthorizer(
        {
          roles: all(TYPES.roles) as unknown as Role[],
          clusterRoles: all(TYPES.clusterroles) as unknown as ClusterRole[],
          roleBindings: all(TYPES.rolebindings) as unknown as RoleBinding[],
          clusterRoleBindings: all(TYPES.clusterrolebindings) as unknown as ClusterRoleBinding[],
        },
        { privilegedGroups: ["system:masters"] },
      );
    }
    return this.rbacAuthorizer;
  }

  can(user: UserInfo, attributes: ResourceAttributes): boolean {
    return this.authorizer().authorize({ user, resourceAttributes: attributes }).allowed;
  }

  // ---------- seeding ----------

  /** Loads objects as they are (timestamps kept), creating missing namespaces; returns skipped kinds. */
  seed(objects: KubeObject[]): { loaded: number; skipped: Record<string, number> } {
    this.seeding = true;
    const skipped: Record<string, number> = {};
    let loaded = 0;
    try {
      for (const object of objects) {
        const type = findKind(object.apiVersion, object.kind);
        if (!type || type.virtual) {
          const kind = `${object.apiVersion}/${object.kind}`;
          skipped[kind] = (skipped[kind] ?? 0) + 1;
          continue;
        }
        const namespace = type.namespaced ? (object.metadata.namespace || "default") : undefined;
        if (namespace && !this.store.get(TYPES.namespaces, "", namespace)) {
          this.store.put(TYPES.namespaces, this.newNamespace(namespace), { recordHistory: false });
        }
        const stored = { ...object, metadata: { ...object.metadata, ...(namespace ? { namespace } : {}) } };
        delete stored.metadata.resourceVersion;
        this.store.put(type, this.withDefaults(type, stored), { recordHistory: false });
        loaded++;
      }
    } finally {
      this.seeding = false;
    }
    this.reconcileAll();
    this.store.compact();
    return { loaded, skipped };
  }

  /** Waits for asynchronous controller work (token signing, certificate issuing). */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  // ---------- writes ----------

  create(type: ResourceType, namespace: string | undefined, body: KubeObject, options: WriteOptions = {}): KubeObject {
    const object = this.prepare(type, namespace, body);
    if (!object.metadata.name && object.metadata.generateName) object.metadata.name = object.metadata.generateName + randomSuffix();
    this.validate(type, object, undefined);
    const ns = object.metadata.namespace ?? "";
    if (type.namespaced && !this.store.get(TYPES.namespaces, "", ns)) throw errors.notFound(TYPES.namespaces, ns);
    if (this.store.get(type, ns, object.metadata.name)) throw errors.alreadyExists(type, object.metadata.name);
    this.admit(type, object, undefined, options);
    delete object.metadata.resourceVersion;
    delete object.metadata.uid;
    object.metadata.creationTimestamp = nowTimestamp();
    const withDefaults = this.withDefaults(type, object);
    if (options.dryRun) return withDefaults;
    return this.store.put(type, withDefaults);
  }

  update(type: ResourceType, namespace: string | undefined, name: string, body: KubeObject, options: WriteOptions = {}): KubeObject {
    const object = this.prepare(type, namespace, body);
    if (object.metadata.name !== name) {
      throw errors.badRequest(`the name of the object (${object.metadata.name}) does not match the name on the URL (${name})`);
    }
    const existing = this.store.get(type, object.metadata.namespace ?? "", name);
    if (!existing) throw errors.notFound(type, name);
    const requested = object.metadata.resourceVersion;
    if (requested && requested !== existing.metadata.resourceVersion) throw errors.conflict(type, name);
    object.metadata.uid = existing.metadata.uid;
    object.metadata.creationTimestamp = existing.metadata.creationTimestamp;
    this.validate(type, object, existing);
    this.admit(type, object, existing, options);
    const withDefaults = this.withDefaults(type, object);
    if (options.dryRun) return { ...withDefaults, metadata: { ...withDefaults.metadata, resourceVersion: existing.metadata.resourceVersion } };
    return this.store.put(type, withDefaults);
  }

  delete(type: ResourceType, namespace: string | undefined, name: string, options: WriteOptions = {}): KubeObject {
    const ns = type.namespaced ? (namespace ?? "") : "";
    const existing = this.store.get(type, ns, name);
    if (!existing) throw errors.notFound(type, name);
    if (type === TYPES.namespaces && UNDELETABLE_NAMESPACES.has(name)) {
      throw errors.forbidden(type, name, "this namespace may not be deleted");
    }
    const { uid, resourceVersion } = options.preconditions ?? {};
    if (uid && uid !== existing.metadata.uid) throw errors.preconditionFailed(type, name, "UID", uid, existing.metadata.uid ?? "");
    if (resourceVersion && resourceVersion !== existing.metadata.resourceVersion) {
      throw errors.preconditionFailed(type, name, "ResourceVersion", resourceVersion, existing.metadata.resourceVersion ?? "");
    }
    if (options.dryRun) return existing;
    return this.store.remove(type, ns, name)!;
  }

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const found = this.store.get(type, type.namespaced ? (namespace ?? "") : "", name);
    if (!found) throw errors.notFound(type, name);
    return found;
  }

  /** A TokenRequest (`kubectl create token`): a signed, expiring JWT for an existing ServiceAccount. */
  async requestToken(namespace: string, name: string, body: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    const sa = this.get(TYPES.serviceaccounts, namespace, name);
    const spec = (body.spec ?? {}) as { audiences?: string[] | null; expirationSeconds?: number | null; boundObjectRef?: { kind?: string; name?: string; uid?: string } | null };
    const expirationSeconds = spec.expirationSeconds ?? 3600;
    if (expirationSeconds < 600) {
      throw errors.invalid("TokenRequest.authentication.k8s.io", "TokenRequest", "authentication.k8s.io", name, [
        { field: "spec.expirationSeconds", message: `Invalid value: ${expirationSeconds}: may not specify a duration less than 10 minutes` },
      ]);
    }
    if (expirationSeconds > 2 ** 32) {
      throw errors.invalid("TokenRequest.authentication.k8s.io", "TokenRequest", "authentication.k8s.io", name, [
        { field: "spec.expirationSeconds", message: `Invalid value: ${expirationSeconds}: may not specify a duration larger than 2^32 seconds` },
      ]);
    }
    let boundObject: { kind: "Pod" | "Secret"; name: string; uid: string } | undefined;
    if (spec.boundObjectRef?.name) {
      const kind = spec.boundObjectRef.kind === "Secret" ? "Secret" : "Pod";
      const target = this.get(kind === "Pod" ? TYPES.pods : TYPES.secrets, namespace, spec.boundObjectRef.name);
      if (spec.boundObjectRef.uid && spec.boundObjectRef.uid !== target.metadata.uid) {
        throw errors.conflict(kind === "Pod" ? TYPES.pods : TYPES.secrets, spec.boundObjectRef.name);
      }
      boundObject = { kind, name: target.metadata.name, uid: target.metadata.uid! };
    }
    const audiences = spec.audiences?.length ? spec.audiences : ["https://kubernetes.default.svc.cluster.local"];
    const issued = options.dryRun
      ? { token: "", expiresAt: new Date(Date.now() + expirationSeconds * 1000) }
      : this.tokens.issueBound(
          { namespace, name, uid: sa.metadata.uid! },
          { audiences, expirationSeconds, boundObject },
        );
    return {
      kind: "TokenRequest",
      apiVersion: "authentication.k8s.io/v1",
      metadata: { name, namespace, creationTimestamp: nowTimestamp() },
      spec: { audiences, expirationSeconds, boundObjectRef: spec.boundObjectRef ?? null },
      status: { token: issued.token, expirationTimestamp: issued.expiresAt.toISOString().replace(/\.\d{3}Z$/, "Z") },
    };
  }

  // ---------- internals ----------

  private prepare(type: ResourceType, namespace: string | undefined, body: KubeObject): KubeObject {
    if (body === null || typeof body !== "object" || Array.isArray(body)) throw errors.badRequest("the request body must be an object");
    const object = structuredClone(body);
    object.metadata = { ...metadataOf(object) };
    const expectedApiVersion = type.group ? `${type.group}/${type.version}` : type.version;
    object.apiVersion ??= expectedApiVersion;
    object.kind ??= type.kind;
    if (object.kind !== type.kind || object.apiVersion !== expectedApiVersion) {
      throw errors.badRequest(`the API version in the data (${object.apiVersion}) does not match the expected API version (${expectedApiVersion})`);
    }
    if (type.namespaced) {
      const bodyNamespace = object.metadata.namespace;
      if (bodyNamespace && namespace && bodyNamespace !== namespace) {
        throw errors.badRequest("the namespace of the provided object does not match the namespace sent on the request");
      }
      object.metadata.namespace = namespace || bodyNamespace || "default";
    } else {
      delete object.metadata.namespace;
    }
    return object;
  }

  private validate(type: ResourceType, object: KubeObject, existing: KubeObject | undefined): void {
    const causes: Array<{ field: string; message: string }> = [];
    const name = object.metadata.name ?? "";
    if (!name) causes.push({ field: "metadata.name", message: "Required value: name or generateName is required" });
    else if (type.group !== "rbac.authorization.k8s.io" && (!NAME_PATTERN.test(name) || name.length > 253)) {
      causes.push({
        field: "metadata.name",
        message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
      });
    }
    if (type === TYPES.rolebindings || type === TYPES.clusterrolebindings) {
      const roleRef = object.roleRef as { apiGroup?: string; kind?: string; name?: string } | undefined;
      if (!roleRef?.name) causes.push({ field: "roleRef.name", message: "Required value" });
      else if (roleRef.kind !== "ClusterRole" && !(roleRef.kind === "Role" && type === TYPES.rolebindings)) {
        causes.push({ field: "roleRef.kind", message: `Unsupported value: "${roleRef.kind ?? ""}": supported values: ${type === TYPES.rolebindings ? '"Role", ' : ""}"ClusterRole"` });
      }
      if (existing && JSON.stringify(existing.roleRef) !== JSON.stringify({ ...(existing.roleRef as object), ...(roleRef ?? {}) })) {
        causes.push({ field: "roleRef", message: `Invalid value: ${JSON.stringify(roleRef)}: cannot change roleRef` });
      }
      const subjects = (object.subjects ?? []) as Array<{ kind?: string; name?: string; namespace?: string }>;
      subjects.forEach((s, i) => {
        if (!s.name) causes.push({ field: `subjects[${i}].name`, message: "Required value" });
        if (!["User", "Group", "ServiceAccount"].includes(s.kind ?? "")) {
          causes.push({ field: `subjects[${i}].kind`, message: `Unsupported value: "${s.kind ?? ""}": supported values: "ServiceAccount", "User", "Group"` });
        }
        if (s.kind === "ServiceAccount" && type === TYPES.clusterrolebindings && !s.namespace) {
          causes.push({ field: `subjects[${i}].namespace`, message: "Required value" });
        }
      });
    }
    if (type === TYPES.csrs && !existing) {
      const spec = (object.spec ?? {}) as { request?: string; signerName?: string; usages?: string[] };
      if (!spec.request) causes.push({ field: "spec.request", message: "Required value" });
      if (!spec.signerName) causes.push({ field: "spec.signerName", message: "Required value" });
    }
    if (type === TYPES.csrs && existing && JSON.stringify(existing.spec) !== JSON.stringify({ ...(existing.spec as object), ...((object.spec as object) ?? {}) })) {
      causes.push({ field: "spec", message: "Forbidden: updates to spec are forbidden" });
    }
    if (causes.length > 0) throw errors.invalid(qualifiedKind(type), type.kind, type.group, name, causes);
  }

  /** Admission: RBAC escalation prevention and CSR requester fields. */
  private admit(type: ResourceType, object: KubeObject, existing: KubeObject | undefined, options: WriteOptions): void {
    const user = options.user;
    if (type === TYPES.csrs && !existing) {
      const spec = (object.spec ?? {}) as Record<string, unknown>;
      spec.username = user?.username ?? spec.username ?? "";
      spec.groups = user?.groups ?? spec.groups ?? [];
      if (user?.uid) spec.uid = user.uid;
      if (user?.extra) spec.extra = user.extra;
      object.spec = spec;
    }
    if (!user || escalationAllowed(user)) return;
    const namespace = object.metadata.namespace ?? "";
    if (type === TYPES.roles || type === TYPES.clusterroles) {
      if (this.can(user, { verb: "escalate", group: type.group, resource: type.resource, name: object.metadata.name, namespace })) return;
      const selectors = (object.aggregationRule as { clusterRoleSelectors?: unknown[] } | undefined)?.clusterRoleSelectors;
      if (type === TYPES.clusterroles && selectors && selectors.length > 0) {
        // An aggregated role can pick up any rule later, so kube-apiserver demands full authority up front.
        const fullAuthority: PolicyRule[] = [
          { verbs: ["*"], apiGroups: ["*"], resources: ["*"] },
          { verbs: ["*"], nonResourceURLs: ["*"] },
        ];
        if (this.authorizer().uncoveredRules(user, "", fullAuthority).length > 0) {
          throw errors.forbidden(type, object.metadata.name, "must have cluster-admin privileges to use the aggregationRule");
        }
      }
      const rules = ((object.rules ?? []) as PolicyRule[]) ?? [];
      this.requireCovered(type, object, user, namespace, rules);
    }
    if (type === TYPES.rolebindings || type === TYPES.clusterrolebindings) {
      const roleRef = object.roleRef as { kind: string; name: string };
      const roleType = roleRef.kind === "Role" ? TYPES.roles : TYPES.clusterroles;
      if (this.can(user, { verb: "bind", group: roleType.group, resource: roleType.resource, name: roleRef.name, namespace: roleRef.kind === "Role" ? namespace : namespace })) return;
      const role = this.store.get(roleType, roleRef.kind === "Role" ? namespace : "", roleRef.name);
      if (!role) {
        throw errors.forbidden(type, object.metadata.name, `user "${user.username}" (groups=${JSON.stringify(user.groups)}) is attempting to grant RBAC permissions not currently held (roleRef ${roleRef.kind} "${roleRef.name}" not found)`);
      }
      this.requireCovered(type, object, user, namespace, ((role.rules ?? []) as PolicyRule[]) ?? []);
    }
  }

  private requireCovered(type: ResourceType, object: KubeObject, user: UserInfo, namespace: string, rules: PolicyRule[]): void {
    const missing = this.authorizer().uncoveredRules(user, namespace, rules);
    if (missing.length === 0) return;
    throw errors.forbidden(
      type,
      object.metadata.name,
      `user "${user.username}" (groups=${JSON.stringify(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${missing.map(formatRule).join("\n")}`,
    );
  }

  private withDefaults(type: ResourceType, object: KubeObject): KubeObject {
    if (type === TYPES.namespaces) {
      return { ...object, spec: object.spec ?? { finalizers: ["kubernetes"] }, status: { phase: "Active", ...(object.status as object) } };
    }
    if (type === TYPES.secrets) {
      // kube-apiserver folds write-only stringData into data.
      const { stringData, ...rest } = object;
      const encoded = Object.fromEntries(Object.entries((stringData ?? {}) as Record<string, string>).map(([k, v]) => [k, base64(v)]));
      const data = { ...((object.data as Record<string, string> | undefined) ?? {}), ...encoded };
      return { ...rest, type: object.type ?? "Opaque", ...(Object.keys(data).length > 0 ? { data } : {}) };
    }
    if (type === TYPES.pods) {
      const spec = (object.spec ?? {}) as Record<string, unknown>;
      return { ...object, spec: { ...spec, serviceAccountName: spec.serviceAccountName ?? "default" }, status: object.status ?? { phase: "Pending" } };
    }
    return object;
  }

  private newNamespace(name: string): KubeObject {
    return this.withDefaults(TYPES.namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { "kubernetes.io/metadata.name": name } } });
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => console.error("kube-sim controller:", error)).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  // ---------- controllers ----------

  private react(event: StoreEvent): void {
    const type = TYPES_BY_KEY.get(event.key);
    if (!type) return;
    if (type.group === "rbac.authorization.k8s.io") this.rbacAuthorizer = undefined;
    if (this.seeding) return;
    const object = event.object;
    if (type === TYPES.namespaces) {
      if (event.type === "ADDED") this.ensureDefaultServiceAccount(object.metadata.name);
      if (event.type === "DELETED") this.deleteNamespaceContents(object.metadata.name);
    } else if (type === TYPES.serviceaccounts) {
      if (event.type === "DELETED") this.serviceAccountDeleted(object);
    } else if (type === TYPES.secrets) {
      if (event.type !== "DELETED") this.populateTokenSecret(object);
    } else if (type === TYPES.clusterroles) {
      if (event.type === "ADDED" || event.type === "DELETED" || !event.previous || clusterRoleRulesChanged(event.previous as unknown as ClusterRole, object as unknown as ClusterRole) || JSON.stringify(event.previous.metadata.labels) !== JSON.stringify(object.metadata.labels) || JSON.stringify(event.previous.aggregationRule) !== JSON.stringify(object.aggregationRule)) {
        this.aggregate();
      }
    } else if (type === TYPES.csrs) {
      if (event.type !== "DELETED") this.signApprovedCsr(object);
    }
  }

  private reconcileAll(): void {
    for (const ns of this.store.entries(TYPES.namespaces, undefined)) this.ensureDefaultServiceAccount(ns.object.metadata.name);
    for (const secret of this.store.entries(TYPES.secrets, undefined)) this.populateTokenSecret(secret.object);
    for (const csr of this.store.entries(TYPES.csrs, undefined)) this.signApprovedCsr(csr.object);
    this.aggregate();
  }

  /** The serviceaccount controller: every namespace has a `default` ServiceAccount. */
  private ensureDefaultServiceAccount(namespace: string): void {
    if (!this.store.get(TYPES.namespaces, "", namespace)) return;
    if (this.store.get(TYPES.serviceaccounts, namespace, "default")) return;
    this.store.put(TYPES.serviceaccounts, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace } });
  }

  /** The namespace controller (immediately rather than through a Terminating phase). */
  private deleteNamespaceContents(namespace: string): void {
    for (const type of RESOURCE_TYPES) {
      if (!type.namespaced || type.virtual) continue;
      for (const entry of this.store.entries(type, namespace)) this.store.remove(type, namespace, entry.object.metadata.name);
    }
  }

  private serviceAccountDeleted(sa: KubeObject): void {
    const namespace = sa.metadata.namespace ?? "";
    // The token controller deletes the legacy token Secrets of a deleted ServiceAccount.
    for (const entry of this.store.entries(TYPES.secrets, namespace)) {
      const secret = entry.object;
      if (secret.type === SERVICE_ACCOUNT_TOKEN_TYPE && secret.metadata.annotations?.["kubernetes.io/service-account.name"] === sa.metadata.name) {
        this.store.remove(TYPES.secrets, namespace, secret.metadata.name);
      }
    }
    if (sa.metadata.name === "default") this.ensureDefaultServiceAccount(namespace);
  }

  /** The legacy token controller: fills token, ca.crt and namespace into service-account-token Secrets. */
  private populateTokenSecret(secret: KubeObject): void {
    if (secret.type !== SERVICE_ACCOUNT_TOKEN_TYPE) return;
    const data = (secret.data ?? {}) as Record<string, string>;
    if (data.token) return;
    const namespace = secret.metadata.namespace ?? "";
    const saName = secret.metadata.annotations?.["kubernetes.io/service-account.name"];
    const sa = saName ? this.store.get(TYPES.serviceaccounts, namespace, saName) : undefined;
    if (!sa) return;
    const token = this.tokens.issueLegacy({ namespace, name: sa.metadata.name, uid: sa.metadata.uid! }, secret.metadata.name);
    this.store.put(TYPES.secrets, {
      ...secret,
      metadata: { ...secret.metadata, annotations: { ...secret.metadata.annotations, "kubernetes.io/service-account.uid": sa.metadata.uid! } },
      data: { ...data, token: base64(token), "ca.crt": base64(this.ca.caPem), namespace: base64(namespace) },
    });
  }

  /** The kube-apiserver-client signer: issues the certificate of an approved CSR. */
  private signApprovedCsr(csr: KubeObject): void {
    const spec = (csr.spec ?? {}) as { signerName?: string; request?: string; expirationSeconds?: number };
    const status = (csr.status ?? {}) as { certificate?: string; conditions?: Array<{ type: string; lastUpdateTime?: string; lastTransitionTime?: string }> };
    if (spec.signerName !== CLIENT_SIGNER || status.certificate || !isCondition(csr, "Approved") || isCondition(csr, "Denied") || isCondition(csr, "Failed")) return;
    const approved = status.conditions?.find((c) => c.type === "Approved");
    const approvedAt = approved?.lastUpdateTime ?? approved?.lastTransitionTime ?? csr.metadata.creationTimestamp;
    const notBefore = new Date(approvedAt ?? Date.now());
    const lifetimeSeconds = Math.max(600, spec.expirationSeconds ?? 365 * DAY_SECONDS);
    const notAfter = new Date(notBefore.getTime() + lifetimeSeconds * 1000);
    this.track(
      (async () => {
        let update: Record<string, unknown>;
        try {
          const pem = await this.ca.signCsr(Buffer.from(spec.request ?? "", "base64").toString("utf8"), notBefore, notAfter);
          update = { certificate: base64(pem) };
        } catch (error) {
          const now = nowTimestamp();
          update = {
            conditions: [
              ...(status.conditions ?? []),
              { type: "Failed", status: "True", reason: "SignerValidationFailure", message: error instanceof Error ? error.message : String(error), lastUpdateTime: now, lastTransitionTime: now },
            ],
          };
        }
        const current = this.store.get(TYPES.csrs, "", csr.metadata.name);
        if (!current || (current.status as { certificate?: string } | undefined)?.certificate) return;
        this.store.put(TYPES.csrs, { ...current, status: { ...((current.status as object) ?? {}), ...update } });
      })(),
    );
  }

  /** The clusterrole aggregation controller. */
  private aggregate(): void {
    // Writes below re-trigger this controller; the outer call loops until nothing changes.
    if (this.aggregating) return;
    this.aggregating = true;
    try {
      while (this.aggregateOnce());
    } finally {
      this.aggregating = false;
    }
  }

  private aggregateOnce(): boolean {
    let changed = false;
    const current = this.store.entries(TYPES.clusterroles, undefined).map((e) => e.object);
    const aggregated = aggregateClusterRoles(current as unknown as ClusterRole[]);
    aggregated.forEach((role, index) => {
      const before = current[index];
      if (role === (before as unknown)) return;
      if (JSON.stringify(role.rules ?? []) === JSON.stringify(before.rules ?? [])) return;
      this.store.put(TYPES.clusterroles, { ...before, rules: role.rules ?? [] });
      changed = true;
    });
    return changed;
  }
}

export function isStatusError(error: unknown): error is StatusError {
  return error instanceof StatusError;
}
