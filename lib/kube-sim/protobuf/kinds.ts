// Which message in descriptor.generated.json encodes each apiVersion/kind the decoder accepts.

const packageByApiVersion: Record<string, string> = {
  v1: "k8s.io.api.core.v1",
  "authorization.k8s.io/v1": "k8s.io.api.authorization.v1",
  "authentication.k8s.io/v1": "k8s.io.api.authentication.v1",
  "certificates.k8s.io/v1": "k8s.io.api.certificates.v1",
  "rbac.authorization.k8s.io/v1": "k8s.io.api.rbac.v1",
};

const kindsByApiVersion: Record<string, readonly string[]> = {
  v1: ["ServiceAccount", "Namespace", "Secret", "Pod"],
  "authorization.k8s.io/v1": [
    "SelfSubjectAccessReview",
    "SubjectAccessReview",
    "LocalSubjectAccessReview",
    "SelfSubjectRulesReview",
  ],
  "authentication.k8s.io/v1": ["TokenRequest", "SelfSubjectReview", "TokenReview"],
  "certificates.k8s.io/v1": ["CertificateSigningRequest"],
  "rbac.authorization.k8s.io/v1": ["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"],
};

const metaPackage = "k8s.io.apimachinery.pkg.apis.meta.v1";

/** The fully qualified message name for apiVersion/kind, or undefined when it is not supported. */
export function messageNameFor(apiVersion: string, kind: string): string | undefined {
  // DeleteOptions is registered in every group version (and in meta.k8s.io/v1) with the same schema.
  if (kind === "DeleteOptions") return `${metaPackage}.DeleteOptions`;
  if (!kindsByApiVersion[apiVersion]?.includes(kind)) return undefined;
  return `${packageByApiVersion[apiVersion]}.${kind}`;
}

export const supportedKinds: ReadonlyArray<{ apiVersion: string; kind: string }> = Object.entries(
  kindsByApiVersion,
).flatMap(([apiVersion, kinds]) => kinds.map((kind) => ({ apiVersion, kind })));
