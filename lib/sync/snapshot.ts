import { z } from "zod";
import { parseIssuedCertificate } from "@/lib/k8s/certificates";
import { serviceAccountUsername } from "@/lib/rbac";

/**
 * What Keyward keeps of each Kubernetes object: plain rows, ready for the bulk writer. The mappers are the
 * input boundary (zod) and drop everything else at once — a Secret's `data` never leaves the mapper.
 */

// Annotations that can carry a whole object, Secret data included (kubectl apply's copy of the manifest).
const DROPPED_ANNOTATIONS = new Set(["kubectl.kubernetes.io/last-applied-configuration"]);
const LEGACY_LAST_USED = "kubernetes.io/legacy-token-last-used";
const LEGACY_INVALID_SINCE = "kubernetes.io/legacy-token-invalid-since";
export const CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client";
export const TOKEN_SECRET_TYPE = "kubernetes.io/service-account-token";

// Postgres text cannot hold NUL; label and annotation values are free text, so a NUL must not block every sync.
const withoutNul = (value: string) => value.replaceAll("\u0000", "\uFFFD");
const stringMap = z
  .record(z.string(), z.string())
  .nullish()
  .transform((map) =>
    Object.fromEntries(Object.entries(map ?? {}).map(([key, value]) => [withoutNul(key), withoutNul(value)])),
  );
const metadataSchema = z.object({
  name: z.string().min(1),
  namespace: z.string().nullish(),
  uid: z.string().nullish(),
  resourceVersion: z.string().nullish(),
  creationTimestamp: z.string().nullish(),
  labels: stringMap,
  annotations: stringMap.transform((all) =>
    Object.fromEntries(Object.entries(all).filter(([key]) => !DROPPED_ANNOTATIONS.has(key))),
  ),
  ownerReferences: z
    .array(z.object({ kind: z.string(), name: z.string(), controller: z.boolean().nullish() }))
    .nullish(),
});
type Metadata = z.infer<typeof metadataSchema>;

const namespaced = (meta: Metadata) => meta.namespace ?? "";
const timestamp = (value: string | null | undefined) => (value ? new Date(value).toISOString() : null);
/** A `kubernetes.io/legacy-token-*` label is a date (YYYY-MM-DD). */
const labelDate = (value: string | undefined) =>
  value && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : null;

export interface NamespaceRow {
  name: string;
  uid: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  createdInClusterAt: string | null;
}

export type IdentityKindName = "ServiceAccount" | "CertificateUser" | "User" | "Group";

export interface IdentityRow {
  kind: IdentityKindName;
  namespace: string;
  name: string;
  username: string;
  uid: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  automountToken: boolean | null;
  createdInClusterAt: string | null;
  groups: string[];
}

/** The identity a credential or workload belongs to, by natural key (resolved to an id in SQL). */
export interface IdentityRef {
  identityKind: IdentityKindName;
  identityNamespace: string;
  identityName: string;
}

export interface CredentialRow extends IdentityRef {
  kind: "legacyTokenSecret" | "clientCertificate";
  namespace: string;
  name: string;
  uid: string | null;
  issuedAt: string | null;
  expiresAt: string | null;
  fingerprint: string | null;
  lastUsedAt: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  details: Record<string, unknown>;
}

export interface WorkloadRow extends IdentityRef {
  kind: "Pod";
  namespace: string;
  name: string;
  uid: string | null;
  serviceAccountName: string;
  ownerKind: string | null;
  ownerName: string | null;
  automountToken: boolean | null;
  createdInClusterAt: string | null;
}

export interface RoleRow {
  kind: "Role" | "ClusterRole";
  namespace: string;
  name: string;
  uid: string | null;
  labels: Record<string, string>;
  rules: unknown[];
  aggregationRule: unknown;
  resourceVersion: string | null;
}

export interface Subject {
  kind: string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}

export interface BindingRow {
  kind: "RoleBinding" | "ClusterRoleBinding";
  namespace: string;
  name: string;
  uid: string | null;
  roleRefKind: "Role" | "ClusterRole";
  roleRefName: string;
  subjects: Subject[];
  labels: Record<string, string>;
  resourceVersion: string | null;
}

/** An issued client certificate, before certificate users are merged by CN. */
export interface IssuedCertificate {
  credential: CredentialRow;
  commonName: string;
  groups: string[];
  notBefore: string;
}

export function mapNamespace(raw: unknown): NamespaceRow | undefined {
  const parsed = z.object({ metadata: metadataSchema }).safeParse(raw);
  if (!parsed.success) return undefined;
  const meta = parsed.data.metadata;
  return {
    name: meta.name,
    uid: meta.uid ?? null,
    labels: meta.labels,
    annotations: meta.annotations,
    createdInClusterAt: timestamp(meta.creationTimestamp),
  };
}

export function mapServiceAccount(raw: unknown): IdentityRow | undefined {
  const parsed = z
    .object({ metadata: metadataSchema, automountServiceAccountToken: z.boolean().nullish() })
    .safeParse(raw);
  if (!parsed.success) return undefined;
  const { metadata: meta, automountServiceAccountToken } = parsed.data;
  const namespace = namespaced(meta);
  return {
    kind: "ServiceAccount",
    namespace,
    name: meta.name,
    username: serviceAccountUsername(namespace, meta.name),
    uid: meta.uid ?? null,
    labels: meta.labels,
    annotations: meta.annotations,
    automountToken: automountServiceAccountToken ?? null,
    createdInClusterAt: timestamp(meta.creationTimestamp),
    groups: [],
  };
}

/**
 * A legacy token Secret: metadata and type only (the schema has no `data`, so it is never even parsed). A
 * PartialObjectMetadata has no `type`: the list's field selector already guarantees it.
 */
export function mapTokenSecret(raw: unknown): CredentialRow | undefined {
  const parsed = z.object({ metadata: metadataSchema, type: z.string().nullish() }).safeParse(raw);
  if (!parsed.success || (parsed.data.type && parsed.data.type !== TOKEN_SECRET_TYPE)) return undefined;
  const meta = parsed.data.metadata;
  const namespace = namespaced(meta);
  const serviceAccountName = meta.annotations["kubernetes.io/service-account.name"] ?? "";
  return {
    kind: "legacyTokenSecret",
    namespace,
    name: meta.name,
    uid: meta.uid ?? null,
    issuedAt: timestamp(meta.creationTimestamp),
    expiresAt: null,
    fingerprint: null,
    lastUsedAt: labelDate(meta.labels[LEGACY_LAST_USED]),
    labels: meta.labels,
    annotations: meta.annotations,
    details: {
      secretType: TOKEN_SECRET_TYPE,
      serviceAccountName,
      serviceAccountUid: meta.annotations["kubernetes.io/service-account.uid"] ?? null,
      invalidSince: labelDate(meta.labels[LEGACY_INVALID_SINCE]),
    },
    identityKind: "ServiceAccount",
    identityNamespace: namespace,
    identityName: serviceAccountName,
  };
}

export function mapPod(raw: unknown): WorkloadRow | undefined {
  const parsed = z
    .object({
      metadata: metadataSchema,
      spec: z
        .object({
          serviceAccountName: z.string().nullish(),
          automountServiceAccountToken: z.boolean().nullish(),
        })
        .nullish(),
    })
    .safeParse(raw);
  if (!parsed.success) return undefined;
  const { metadata: meta, spec } = parsed.data;
  const namespace = namespaced(meta);
  const serviceAccountName = spec?.serviceAccountName || "default";
  const owner = meta.ownerReferences?.find((ref) => ref.controller) ?? meta.ownerReferences?.[0];
  return {
    kind: "Pod",
    namespace,
    name: meta.name,
    uid: meta.uid ?? null,
    serviceAccountName,
    ownerKind: owner?.kind ?? null,
    ownerName: owner?.name ?? null,
    automountToken: spec?.automountServiceAccountToken ?? null,
    createdInClusterAt: timestamp(meta.creationTimestamp),
    identityKind: "ServiceAccount",
    identityNamespace: namespace,
    identityName: serviceAccountName,
  };
}

const roleSchema = z.object({
  metadata: metadataSchema,
  rules: z.array(z.unknown()).nullish(),
  aggregationRule: z.unknown().nullish(),
});

export function mapRole(kind: RoleRow["kind"]) {
  return (raw: unknown): RoleRow | undefined => {
    const parsed = roleSchema.safeParse(raw);
    if (!parsed.success) return undefined;
    const { metadata: meta, rules, aggregationRule } = parsed.data;
    return {
      kind,
      namespace: kind === "Role" ? namespaced(meta) : "",
      name: meta.name,
      uid: meta.uid ?? null,
      labels: meta.labels,
      rules: rules ?? [],
      aggregationRule: aggregationRule ?? null,
      resourceVersion: meta.resourceVersion ?? null,
    };
  };
}

const subjectSchema = z.object({
  kind: z.string(),
  name: z.string(),
  namespace: z.string().nullish(),
  apiGroup: z.string().nullish(),
});
const bindingSchema = z.object({
  metadata: metadataSchema,
  roleRef: z.object({ kind: z.enum(["Role", "ClusterRole"]), name: z.string() }),
  subjects: z.array(subjectSchema).nullish(),
});

export function mapBinding(kind: BindingRow["kind"]) {
  return (raw: unknown): BindingRow | undefined => {
    const parsed = bindingSchema.safeParse(raw);
    if (!parsed.success) return undefined;
    const { metadata: meta, roleRef, subjects } = parsed.data;
    return {
      kind,
      namespace: kind === "RoleBinding" ? namespaced(meta) : "",
      name: meta.name,
      uid: meta.uid ?? null,
      roleRefKind: roleRef.kind,
      roleRefName: roleRef.name,
      subjects: (subjects ?? []).map((s) => ({
        kind: s.kind,
        name: s.name,
        ...(s.namespace ? { namespace: s.namespace } : {}),
        ...(s.apiGroup ? { apiGroup: s.apiGroup } : {}),
      })),
      labels: meta.labels,
      resourceVersion: meta.resourceVersion ?? null,
    };
  };
}

/** A CSR of the kube-apiserver-client signer with an issued certificate; other CSRs grant no identity. */
export function mapCertificateSigningRequest(raw: unknown): IssuedCertificate | undefined {
  const parsed = z
    .object({
      metadata: metadataSchema,
      spec: z.object({ signerName: z.string().nullish(), username: z.string().nullish() }).nullish(),
      status: z.object({ certificate: z.string().nullish() }).nullish(),
    })
    .safeParse(raw);
  if (!parsed.success || parsed.data.spec?.signerName !== CLIENT_SIGNER) return undefined;
  const { metadata: meta, spec, status } = parsed.data;
  let cert;
  try {
    cert = parseIssuedCertificate(status?.certificate ?? undefined);
  } catch {
    return undefined; // an unparseable certificate authenticates nobody
  }
  if (!cert || !cert.commonName) return undefined;
  return {
    commonName: cert.commonName,
    groups: cert.organizations,
    notBefore: cert.notBefore.toISOString(),
    credential: {
      kind: "clientCertificate",
      namespace: "",
      name: meta.name,
      uid: meta.uid ?? null,
      issuedAt: cert.notBefore.toISOString(),
      expiresAt: cert.notAfter.toISOString(),
      fingerprint: cert.sha256Fingerprint,
      lastUsedAt: null,
      labels: meta.labels,
      annotations: meta.annotations,
      details: {
        commonName: cert.commonName,
        groups: cert.organizations,
        signerName: CLIENT_SIGNER,
        requestedBy: spec?.username ?? null,
        serialNumber: cert.serialNumber,
        issuer: cert.issuer,
      },
      identityKind: "CertificateUser",
      identityNamespace: "",
      identityName: cert.commonName,
    },
  };
}

/** One identity per certificate CN; its groups are every O its certificates carry (any of them can be used). */
export function certificateUsers(certificates: IssuedCertificate[]): IdentityRow[] {
  const byName = new Map<string, IdentityRow>();
  for (const cert of certificates) {
    const existing = byName.get(cert.commonName);
    if (existing) {
      existing.groups = [...new Set([...existing.groups, ...cert.groups])].sort();
      if (existing.createdInClusterAt && cert.notBefore < existing.createdInClusterAt)
        existing.createdInClusterAt = cert.notBefore;
      continue;
    }
    byName.set(cert.commonName, {
      kind: "CertificateUser",
      namespace: "",
      name: cert.commonName,
      username: cert.commonName,
      uid: null,
      labels: {},
      annotations: {},
      automountToken: null,
      createdInClusterAt: cert.notBefore,
      groups: [...new Set(cert.groups)].sort(),
    });
  }
  return [...byName.values()];
}
