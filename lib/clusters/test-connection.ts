import { ApiException, AuthenticationV1Api, AuthorizationV1Api, type V1ResourceRule } from "@kubernetes/client-node";
import { getPrisma } from "@/lib/db";
import { open } from "@/lib/crypto/secret-box";
import { kubeConfigFor } from "@/lib/k8s/client";
import { clusterSecretSchema } from "@/lib/k8s/credentials";
import { ruleAllows } from "@/lib/rbac";
import { credentialContext } from "./register-cluster";

/**
 * "Test connection": for each stored credential, who the cluster says it is (SelfSubjectReview) and what it
 * may do (SelfSubjectRulesReview). The sync identity must be read-only: any other verb is a warning, since a
 * leaked sync token would then let an attacker change the cluster.
 */

const READ_VERBS = new Set(["get", "list", "watch"]);
// Every authenticated user may create these (system:basic-user): asking about oneself changes nothing.
const SELF_REVIEWS = new Set(["selfsubjectaccessreviews", "selfsubjectrulesreviews", "selfsubjectreviews"]);
const isWriteRule = (rule: V1ResourceRule) =>
  rule.verbs.some((verb) => !READ_VERBS.has(verb)) && !(rule.resources ?? []).every((resource) => SELF_REVIEWS.has(resource));

/** What a full sync reads (see deploy/keyward-sync.yaml). */
export const SYNC_READS = [
  { group: "", resource: "namespaces" },
  { group: "", resource: "serviceaccounts" },
  { group: "", resource: "secrets" },
  { group: "", resource: "pods" },
  { group: "rbac.authorization.k8s.io", resource: "roles" },
  { group: "rbac.authorization.k8s.io", resource: "clusterroles" },
  { group: "rbac.authorization.k8s.io", resource: "rolebindings" },
  { group: "rbac.authorization.k8s.io", resource: "clusterrolebindings" },
  { group: "certificates.k8s.io", resource: "certificatesigningrequests" },
] as const;

export interface CredentialTestResult {
  purpose: "sync" | "remediation";
  authType: string;
  ok: boolean;
  /** Why the cluster could not be asked, when ok is false. */
  error?: string;
  subject?: { username: string; groups: string[] };
  /** Namespaces the rules were reviewed in (rules reviews are per namespace; cluster-wide grants show in each). */
  namespaces: string[];
  /** One line per rule, e.g. "get,list,watch pods (core) in every reviewed namespace". */
  canDo: string[];
  /** Reads a sync needs that this credential lacks. */
  cannot: string[];
  writes: boolean;
  warnings: string[];
}

export interface ConnectionTestResult {
  clusterId: string;
  credentials: CredentialTestResult[];
}

const ruleText = (rule: V1ResourceRule) =>
  `${rule.verbs.join(",")} ${(rule.resources ?? []).join(",")} (${(rule.apiGroups ?? []).map((g) => g || "core").join(",")})` +
  (rule.resourceNames?.length ? ` named ${rule.resourceNames.join(",")}` : "");

function describeFailure(error: unknown): string {
  if (error instanceof ApiException) {
    if (error.code === 401) return "The cluster rejected the credential (401 Unauthorized): it is wrong, expired or revoked.";
    if (error.code === 403) return "The credential may not review its own rules (403 Forbidden).";
    return `The cluster answered ${error.code}.`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return `Cannot reach the cluster: ${message.split("\n")[0].slice(0, 300)}`;
}

function serviceAccountNamespace(username: string): string | undefined {
  const match = /^system:serviceaccount:([^:]+):[^:]+$/.exec(username);
  return match?.[1];
}

async function testCredential(
  cluster: { id: string; apiServerUrl: string; caCertPem: string | null },
  credential: { purpose: "sync" | "remediation"; authType: string; secretCiphertext: string },
): Promise<CredentialTestResult> {
  const result: CredentialTestResult = {
    purpose: credential.purpose,
    authType: credential.authType,
    ok: false,
    namespaces: [],
    canDo: [],
    cannot: [],
    writes: false,
    warnings: [],
  };
  const secret = clusterSecretSchema.parse(JSON.parse(open(credential.secretCiphertext, credentialContext(cluster.id, credential.purpose))));
  const kc = kubeConfigFor(cluster, secret);
  try {
    const review = await kc.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" } });
    const userInfo = review.status?.userInfo;
    if (userInfo?.username) result.subject = { username: userInfo.username, groups: userInfo.groups ?? [] };
  } catch (error) {
    // Older clusters lack SelfSubjectReview (before 1.28); the rules review below still answers what it can do.
    if (!(error instanceof ApiException && (error.code === 404 || error.code === 403))) {
      result.error = describeFailure(error);
      return result;
    }
  }
  const ownNamespace = result.subject && serviceAccountNamespace(result.subject.username);
  result.namespaces = [...new Set(["default", "kube-system", ...(ownNamespace ? [ownNamespace] : [])])];
  const authz = kc.makeApiClient(AuthorizationV1Api);
  const rulesByText = new Map<string, { rule: V1ResourceRule; namespaces: string[] }>();
  const nonResource = new Set<string>();
  try {
    for (const namespace of result.namespaces) {
      const review = await authz.createSelfSubjectRulesReview({
        body: { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectRulesReview", spec: { namespace } },
      });
      for (const rule of review.status?.resourceRules ?? []) {
        const entry = rulesByText.get(ruleText(rule)) ?? { rule, namespaces: [] };
        entry.namespaces.push(namespace);
        rulesByText.set(ruleText(rule), entry);
      }
      for (const rule of review.status?.nonResourceRules ?? []) nonResource.add(`${rule.verbs.join(",")} ${(rule.nonResourceURLs ?? []).join(",")}`);
      if (review.status?.incomplete) result.warnings.push(`The rules review in ${namespace} is incomplete (another authorizer is in use): the cluster may allow more.`);
    }
  } catch (error) {
    result.error = describeFailure(error);
    return result;
  }
  result.ok = true;
  const rules = [...rulesByText.values()];
  result.canDo = [
    ...rules.map(({ rule, namespaces }) =>
      `${ruleText(rule)} in ${namespaces.length === result.namespaces.length ? "every reviewed namespace" : namespaces.join(", ")}`,
    ),
    ...[...nonResource].map((line) => `${line} (non-resource URLs)`),
  ];
  const writeRules = rules.filter(({ rule }) => isWriteRule(rule));
  result.writes = writeRules.length > 0;
  if (credential.purpose === "sync") {
    // A rule limited to resourceNames cannot list.
    const unrestricted = rules.map(({ rule }) => rule).filter((rule) => !rule.resourceNames?.length);
    result.cannot = SYNC_READS.filter((read) => !unrestricted.some((rule) => ruleAllows(rule, { verb: "list", ...read }))).map(
      (read) => `list ${read.resource}${read.group ? ` (${read.group})` : ""}`,
    );
    if (result.cannot.length > 0) result.warnings.push(`The sync identity cannot ${result.cannot.join(", ")}: the inventory will be incomplete.`);
    if (result.writes) {
      const verbs = [...new Set(writeRules.flatMap(({ rule }) => rule.verbs.filter((verb) => !READ_VERBS.has(verb))))];
      result.warnings.push(
        `The sync identity can write (${verbs.join(", ")}), but it needs only get, list and watch: bind it to the read-only role in deploy/keyward-sync.yaml instead.`,
      );
    }
  }
  return result;
}

/** Tests every credential stored for the cluster; null when there is no such cluster. */
export async function testClusterConnection(clusterId: string): Promise<ConnectionTestResult | null> {
  const cluster = await getPrisma().cluster.findUnique({
    where: { id: clusterId },
    select: {
      id: true,
      apiServerUrl: true,
      caCertPem: true,
      credentials: { orderBy: { purpose: "asc" }, select: { purpose: true, authType: true, secretCiphertext: true } },
    },
  });
  if (!cluster) return null;
  const credentials: CredentialTestResult[] = [];
  for (const credential of cluster.credentials) credentials.push(await testCredential(cluster, credential));
  return { clusterId: cluster.id, credentials };
}
