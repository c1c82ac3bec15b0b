// Computes a cluster's findings in memory from its inventory and RBAC policy: no I/O, so it can be tested on
// real-world manifests and runs in seconds on clusters with tens of thousands of identities.
import {
  RBAC_API_GROUP,
  SYSTEM_AUTHENTICATED,
  SYSTEM_SERVICE_ACCOUNTS,
  SYSTEM_UNAUTHENTICATED,
  apiGroupMatches,
  resourceMatches,
  verbMatches,
  type EffectiveRule,
  type PolicyRule,
  type Subject,
} from "@/lib/rbac";
import type { CredentialKind, IdentityKind, Prisma, Severity } from "@/lib/db";
import type { BindingRow, ClusterPolicy } from "@/lib/permissions/cluster-policy";
import { diffGrants } from "@/lib/usage/grant-usage";
import { findingRule, type FindingRuleId } from "./rules";
import type { AnalysisSettings } from "./settings";
import { compactRule, grantProvenance, humanClient, outsideCidrs, ownGrants, type IdentityUsageFacts, type UsageInput } from "./usage-rules";

export interface AnalyzedIdentity {
  id: string;
  kind: IdentityKind;
  namespace: string;
  name: string;
  username: string;
  groups: string[];
  /** Latest audit event, or its credentials' legacy-token-last-used label where no event is known. */
  lastUsedAt: Date | null;
}

export interface AnalyzedCredential {
  identityId: string | null;
  kind: CredentialKind;
  namespace: string;
  name: string;
  issuedAt: Date | null;
  expiresAt: Date | null;
}

export interface AnalyzedWorkload {
  identityId: string | null;
  name: string;
  ownerKind: string | null;
  ownerName: string | null;
}

export interface AnalysisInput {
  now: Date;
  settings: AnalysisSettings;
  policy: ClusterPolicy;
  bindings: readonly BindingRow[];
  /** Live identities. */
  identities: readonly AnalyzedIdentity[];
  /** identity id → owning team id (after owner resolution). */
  owners: ReadonlyMap<string, string | null>;
  credentials: readonly AnalyzedCredential[];
  workloads: readonly AnalyzedWorkload[];
  usage: UsageInput;
}

export interface ComputedFinding {
  fingerprint: string;
  type: FindingRuleId;
  severity: Severity;
  title: string;
  details: Prisma.InputJsonObject;
  owasp: string[];
  csf: string[];
  identityId: string | null;
}

const DAY_MS = 86_400_000;
/** How many grants a finding's details list (the identity page shows all effective rules anyway). */
const MAX_LISTED_GRANTS = 20;
const BOOTSTRAP_LABEL = "kubernetes.io/bootstrapping";
const BROAD_GROUPS = new Set([SYSTEM_AUTHENTICATED, SYSTEM_SERVICE_ACCOUNTS, SYSTEM_UNAUTHENTICATED]);

/** A permission that matters for risk: any of `verbs` on any of `resources` (resource or resource/subresource). */
interface Capability {
  label: string;
  group: string;
  verbs: string[];
  resources: string[];
  /** Only cluster-wide grants give it (the objects are cluster-scoped, or the check is made without a namespace). */
  clusterWideOnly?: boolean;
  /** The rule must also allow one of these names (empty resourceNames allows them all). */
  names?: string[];
  /** Another capability that must be held too (CSR approval needs the approval subresource and the signer). */
  alsoNeeds?: Capability;
}

const ESCALATION: Capability[] = [
  { label: "escalate roles", group: RBAC_API_GROUP, verbs: ["escalate"], resources: ["roles", "clusterroles"] },
  { label: "bind roles", group: RBAC_API_GROUP, verbs: ["bind"], resources: ["roles", "clusterroles"] },
  { label: "impersonate users or groups", group: "", verbs: ["impersonate"], resources: ["users", "groups"], clusterWideOnly: true },
  { label: "impersonate service accounts", group: "", verbs: ["impersonate"], resources: ["serviceaccounts"] },
  { label: "impersonate user extras or uids", group: "authentication.k8s.io", verbs: ["impersonate"], resources: ["userextras/*", "uids"], clusterWideOnly: true },
  { label: "create service account tokens", group: "", verbs: ["create"], resources: ["serviceaccounts/token"] },
  {
    label: "approve kube-apiserver client certificates",
    group: "certificates.k8s.io",
    verbs: ["update", "patch"],
    resources: ["certificatesigningrequests/approval"],
    clusterWideOnly: true,
    alsoNeeds: {
      label: "approve for the kube-apiserver-client signer",
      group: "certificates.k8s.io",
      verbs: ["approve"],
      resources: ["signers"],
      clusterWideOnly: true,
      names: ["kubernetes.io/kube-apiserver-client", "kubernetes.io/*"],
    },
  },
  {
    label: "write admission webhook configurations",
    group: "admissionregistration.k8s.io",
    verbs: ["create", "update", "patch"],
    resources: ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"],
    clusterWideOnly: true,
  },
];

const SECRETS_READ: Capability = { label: "read secrets", group: "", verbs: ["get", "list", "watch"], resources: ["secrets"] };

const WORKLOAD_CREATE: Capability[] = [
  { label: "create pods", group: "", verbs: ["create"], resources: ["pods", "replicationcontrollers"] },
  { label: "create workloads", group: "apps", verbs: ["create"], resources: ["deployments", "replicasets", "statefulsets", "daemonsets"] },
  { label: "create jobs", group: "batch", verbs: ["create"], resources: ["jobs", "cronjobs"] },
  { label: "exec or attach into pods", group: "", verbs: ["create", "get"], resources: ["pods/exec", "pods/attach"] },
  { label: "proxy to nodes", group: "", verbs: ["get", "create"], resources: ["nodes/proxy"], clusterWideOnly: true },
];

function ruleGives(rule: PolicyRule, capability: Capability): boolean {
  if (!capability.verbs.some((verb) => verbMatches(rule, verb))) return false;
  if (!apiGroupMatches(rule, capability.group)) return false;
  const resourceOk = capability.resources.some((combined) => {
    const subresource = combined.includes("/") ? combined.slice(combined.indexOf("/") + 1) : "";
    return resourceMatches(rule, combined, subresource === "*" ? "" : subresource);
  });
  if (!resourceOk) return false;
  const names = rule.resourceNames ?? [];
  return !capability.names || names.length === 0 || capability.names.some((name) => names.includes(name));
}

function grantsOf(rules: readonly EffectiveRule[], capability: Capability): EffectiveRule[] {
  const held = rules.filter(
    (grant) => (!capability.clusterWideOnly || grant.namespace === null) && ruleGives(grant.rule, capability),
  );
  if (held.length === 0 || !capability.alsoNeeds) return held;
  const needed = grantsOf(rules, capability.alsoNeeds);
  return needed.length === 0 ? [] : [...held, ...needed];
}

function describeGrant(grant: EffectiveRule, capability?: string) {
  return {
    ...(capability ? { capability } : {}),
    binding: grant.binding,
    role: grant.role,
    namespace: grant.namespace,
    via: { kind: grant.viaSubject.kind, name: grant.viaSubject.name },
    rule: grant.rule,
  } as unknown as Prisma.InputJsonObject;
}

function scopeOf(grants: readonly EffectiveRule[]) {
  const clusterWide = grants.some((grant) => grant.namespace === null);
  const namespaces = [...new Set(grants.flatMap((grant) => (grant.namespace === null ? [] : [grant.namespace])))].sort();
  const limitedToNames = grants.every((grant) => (grant.rule.resourceNames ?? []).length > 0);
  return { clusterWide, namespaces, limitedToNames };
}

function scopeText(scope: ReturnType<typeof scopeOf>): string {
  if (scope.clusterWide) return "cluster-wide";
  return scope.namespaces.length === 1 ? `in namespace ${scope.namespaces[0]}` : `in ${scope.namespaces.length} namespaces`;
}

export function identityKey(identity: Pick<AnalyzedIdentity, "kind" | "namespace" | "name">): string {
  return `${identity.kind}/${identity.namespace}/${identity.name}`;
}

function bindingKey(binding: Pick<BindingRow, "kind" | "namespace" | "name">): string {
  return `${binding.kind}/${binding.namespace}/${binding.name}`;
}

/** Users and groups Kubernetes itself defines (system:…): the control plane's, not anyone's NHIs to govern. */
export function isKubernetesBuiltIn(identity: Pick<AnalyzedIdentity, "kind" | "name">): boolean {
  return (identity.kind === "User" || identity.kind === "Group") && identity.name.startsWith("system:");
}

/** A grant made to the identity itself rather than to one of its groups. */
function isDirectGrant(grant: EffectiveRule): boolean {
  return grant.viaSubject.kind !== "Group";
}

/** The controller a pod belongs to, with the generated suffixes of ReplicaSets and CronJob Jobs removed. */
function workloadKey(workload: AnalyzedWorkload): string {
  if (!workload.ownerKind || !workload.ownerName) return `Pod/${workload.name}`;
  if (workload.ownerKind === "ReplicaSet") return `Deployment/${workload.ownerName.replace(/-[a-z0-9]{5,10}$/, "")}`;
  if (workload.ownerKind === "Job") return `CronJob/${workload.ownerName.replace(/-\d{8,}$/, "")}`;
  return `${workload.ownerKind}/${workload.ownerName}`;
}

function isRbacDefault(binding: BindingRow): boolean {
  const labels = binding.labels as Record<string, unknown> | null;
  return labels?.[BOOTSTRAP_LABEL] === "rbac-defaults";
}

function subjectsOf(binding: BindingRow): Subject[] {
  return Array.isArray(binding.subjects) ? (binding.subjects as unknown as Subject[]) : [];
}

/** Stable within a cluster: the rule and the natural key of what it is about (identity, credential or binding). */
export function findingFingerprint(type: FindingRuleId, key: string): string {
  return `${type}:${key}`;
}

export function computeFindings(input: AnalysisInput): ComputedFinding[] {
  const findings: ComputedFinding[] = [];
  const emit = (
    type: FindingRuleId,
    key: string,
    identityId: string | null,
    details: Prisma.InputJsonObject,
    title?: string,
  ) => {
    const rule = findingRule(type);
    findings.push({
      fingerprint: findingFingerprint(type, key),
      type,
      severity: rule.severity,
      title: title ?? rule.title,
      details,
      owasp: [...rule.owasp],
      csf: [...rule.csf],
      identityId,
    });
  };

  const workloadsByIdentity = new Map<string, Set<string>>();
  for (const workload of input.workloads) {
    if (!workload.identityId) continue;
    const keys = workloadsByIdentity.get(workload.identityId) ?? new Set<string>();
    keys.add(workloadKey(workload));
    workloadsByIdentity.set(workload.identityId, keys);
  }

  for (const identity of input.identities) {
    if (isKubernetesBuiltIn(identity)) continue;
    const key = identityKey(identity);
    const rules = input.policy.effectiveRules(identity);

    const wildcard = rules.filter(
      (grant) =>
        (grant.role.kind === "ClusterRole" && grant.role.name === "cluster-admin") ||
        (grant.rule.verbs.includes("*") &&
          (grant.rule.resources ?? []).includes("*") &&
          (grant.rule.apiGroups ?? []).includes("*") &&
          (grant.rule.resourceNames ?? []).length === 0),
    );
    const fullControlEverywhere = wildcard.some((grant) => grant.namespace === null);
    if (wildcard.length > 0) {
      const scope = scopeOf(wildcard);
      emit("cluster-admin", key, identity.id, { ...scope, grants: wildcard.slice(0, MAX_LISTED_GRANTS).map((grant) => describeGrant(grant)) },
        `Full control ${scopeText(scope)} (${wildcard[0].role.kind} ${wildcard[0].role.name} via ${wildcard[0].binding.kind} ${wildcard[0].binding.name})`);
    }
    // Full control everywhere implies every narrower permission finding: one critical finding says it all.
    if (!fullControlEverywhere) {
      const escalation = ESCALATION.flatMap((capability) =>
        grantsOf(rules, capability).map((grant) => describeGrant(grant, capability.label)),
      );
      if (escalation.length > 0) {
        const capabilities = [...new Set(escalation.map((grant) => String(grant.capability)))];
        emit("privilege-escalation", key, identity.id, { capabilities, grants: escalation.slice(0, MAX_LISTED_GRANTS) },
          `Can escalate privileges: ${capabilities.join(", ")}`);
      }
      const secrets = grantsOf(rules, SECRETS_READ);
      if (secrets.length > 0) {
        const scope = scopeOf(secrets);
        const verbs = [...new Set(secrets.flatMap((grant) => grant.rule.verbs))].sort();
        emit("secrets-read", key, identity.id, { ...scope, verbs, grants: secrets.slice(0, MAX_LISTED_GRANTS).map((grant) => describeGrant(grant)) },
          `Can ${verbs.join("/")} ${scope.limitedToNames ? "named " : ""}secrets ${scopeText(scope)}`);
      }
      const workloads = WORKLOAD_CREATE.flatMap((capability) =>
        grantsOf(rules, capability).map((grant) => ({ grant, capability: capability.label })),
      );
      if (workloads.length > 0) {
        const capabilities = [...new Set(workloads.map((entry) => entry.capability))];
        const scope = scopeOf(workloads.map((entry) => entry.grant));
        emit("workload-create", key, identity.id,
          { ...scope, capabilities, grants: workloads.slice(0, MAX_LISTED_GRANTS).map((entry) => describeGrant(entry.grant, entry.capability)) },
          `Can run code ${scopeText(scope)}: ${capabilities.join(", ")}`);
      }
    }

    if (!input.owners.get(identity.id)) emit("no-owner", key, identity.id, {});

    // Groups are not used, their members are: usage is attributed to users and service accounts.
    if (identity.kind !== "Group") {
      const usage = input.usage.byIdentity.get(identity.id);
      if (usage) usedIdentityFindings(identity, key, rules, usage, input, emit);
      else unusedIdentityFinding(identity, key, workloadsByIdentity.has(identity.id), input, emit);
    }

    if (identity.kind === "ServiceAccount") {
      const direct = rules.filter(isDirectGrant);
      const bindings = [...new Map(direct.map((grant) => [`${grant.binding.kind}/${grant.binding.namespace ?? ""}/${grant.binding.name}`, grant.binding])).values()];
      const workloads = workloadsByIdentity.get(identity.id);
      if (bindings.length > 0 && !workloads) {
        emit("bindings-without-workload", key, identity.id, { bindings: bindings.slice(0, MAX_LISTED_GRANTS) });
      }
      if (workloads && workloads.size >= input.settings.sharedServiceAccountWorkloads) {
        emit("shared-service-account", key, identity.id, { workloads: [...workloads].sort().slice(0, MAX_LISTED_GRANTS), count: workloads.size },
          `Service account shared by ${workloads.size} workloads`);
      }
      if (identity.name === "default" && bindings.length > 0) {
        emit("default-sa-bindings", key, identity.id, { bindings: bindings.slice(0, MAX_LISTED_GRANTS) },
          `The default service account of ${identity.namespace} has bindings`);
      }
    }
  }

  const { now, settings } = input;
  for (const credential of input.credentials) {
    const key = `${credential.kind}/${credential.namespace}/${credential.name}`;
    const facts = {
      credential: { kind: credential.kind, namespace: credential.namespace, name: credential.name },
      issuedAt: credential.issuedAt?.toISOString() ?? null,
      expiresAt: credential.expiresAt?.toISOString() ?? null,
    };
    if (credential.kind === "legacyTokenSecret") {
      emit("legacy-token", key, credential.identityId, facts, `Legacy long-lived token Secret ${credential.namespace}/${credential.name}`);
    }
    // Bound tokens are rotated by the kubelet every hour: their pods' ages say nothing about rotation.
    if (credential.kind === "boundToken") continue;
    if (credential.issuedAt) {
      const ageDays = Math.floor((now.getTime() - credential.issuedAt.getTime()) / DAY_MS);
      if (ageDays > settings.rotationDays) {
        emit("credential-age", key, credential.identityId, { ...facts, ageDays, rotationDays: settings.rotationDays },
          `Credential ${credential.name} is ${ageDays} days old (policy: ${settings.rotationDays})`);
      }
    }
    if (credential.kind === "clientCertificate" && credential.issuedAt && credential.expiresAt) {
      const validityDays = Math.round((credential.expiresAt.getTime() - credential.issuedAt.getTime()) / DAY_MS);
      if (validityDays > settings.maxCertificateValidityDays) {
        emit("certificate-validity", key, credential.identityId, { ...facts, validityDays, maxValidityDays: settings.maxCertificateValidityDays },
          `Certificate ${credential.name} is valid for ${validityDays} days (policy: ${settings.maxCertificateValidityDays})`);
      }
    }
    if (credential.expiresAt) {
      const daysLeft = Math.floor((credential.expiresAt.getTime() - now.getTime()) / DAY_MS);
      if (daysLeft < settings.expiryWarningDays) {
        emit("credential-expiring", key, credential.identityId, { ...facts, daysLeft },
          daysLeft < 0 ? `Credential ${credential.name} has expired` : `Credential ${credential.name} expires in ${daysLeft} days`);
      }
    }
  }

  const liveServiceAccounts = new Set(
    input.identities.filter((identity) => identity.kind === "ServiceAccount").map((identity) => `${identity.namespace}/${identity.name}`),
  );
  const groupIdentities = new Map(
    input.identities.filter((identity) => identity.kind === "Group").map((identity) => [identity.name, identity.id]),
  );
  const dangling = new Set(input.policy.authorizer.danglingBindings().map(({ binding }) => bindingKey({ ...binding, namespace: binding.namespace ?? "" })));
  for (const binding of input.bindings) {
    const key = bindingKey(binding);
    const summary = { binding: { kind: binding.kind, namespace: binding.namespace, name: binding.name }, role: { kind: binding.roleRefKind, name: binding.roleRefName } };
    if (dangling.has(key)) {
      emit("dangling-binding", key, null, summary, `${binding.kind} ${binding.name} refers to missing ${binding.roleRefKind} ${binding.roleRefName}`);
    }
    // The bootstrap policy's own grants (discovery, basic-user, controllers' accounts) are Kubernetes', not a finding.
    if (isRbacDefault(binding)) continue;
    for (const subject of subjectsOf(binding)) {
      if (subject.kind === "Group" && BROAD_GROUPS.has(subject.name)) {
        emit("broad-group-binding", `${key}:${subject.name}`, groupIdentities.get(subject.name) ?? null, { ...summary, group: subject.name },
          `${binding.kind} ${binding.name} grants ${binding.roleRefKind} ${binding.roleRefName} to ${subject.name}`);
      }
      if (subject.kind === "ServiceAccount") {
        const namespace = subject.namespace || binding.namespace;
        if (namespace && !liveServiceAccounts.has(`${namespace}/${subject.name}`)) {
          emit("missing-subject", `${key}:${namespace}/${subject.name}`, null, { ...summary, subject: { kind: subject.kind, namespace, name: subject.name } },
            `${binding.kind} ${binding.name} grants to missing service account ${namespace}/${subject.name}`);
        }
      }
    }
  }
  return dedupe(findings);
}

type Emit = (type: FindingRuleId, key: string, identityId: string | null, details: Prisma.InputJsonObject, title?: string) => void;

const isoDay = (date: Date) => date.toISOString().slice(0, 10);

/**
 * No event in the window. Claimed only when that means something: Keyward has received the cluster's events for
 * the whole window, or the identity's last known use (an older event, or the legacy-token-last-used label) is
 * older than the window. A cluster that never sent usage has no unused identities.
 */
function unusedIdentityFinding(identity: AnalyzedIdentity, key: string, hasWorkloads: boolean, input: AnalysisInput, emit: Emit): void {
  const { windowStart, observedSince } = input.usage;
  const { lastUsedAt } = identity;
  if (lastUsedAt && lastUsedAt >= windowStart) return;
  const observedWholeWindow = observedSince !== null && observedSince <= windowStart;
  if (!observedWholeWindow) {
    // Only an old last use to go on. The legacy-token label tracks legacy tokens alone: pods use bound tokens,
    // which leave no trace outside audit events, so a service account that runs pods may well be in use.
    if (!lastUsedAt || hasWorkloads) return;
  }
  const windowDays = input.settings.usageWindowDays;
  emit("unused", key, identity.id,
    { lastUsedAt: lastUsedAt?.toISOString() ?? null, observedSince: observedSince?.toISOString() ?? null, windowDays },
    lastUsedAt ? `Unused: last used ${isoDay(lastUsedAt)}, nothing in the last ${windowDays} days` : `Unused: no use in the last ${windowDays} days`);
}

/** Findings from what an identity that was used in the window did: grants it never needed, and human use. */
function usedIdentityFindings(
  identity: AnalyzedIdentity,
  key: string,
  rules: readonly EffectiveRule[],
  usage: IdentityUsageFacts,
  input: AnalysisInput,
  emit: Emit,
): void {
  const { settings, now, usage: window } = input;
  const granted = ownGrants(rules);
  if (granted.length > 0) {
    const { kept, removed } = diffGrants(granted, usage.records);
    if (removed.length > 0) {
      // Until Keyward has watched a whole window, say how many days the claim rests on.
      const observedDays = window.observedSince ? Math.max(1, Math.ceil((now.getTime() - window.observedSince.getTime()) / DAY_MS)) : settings.usageWindowDays;
      const days = Math.min(settings.usageWindowDays, observedDays);
      emit("unused-permissions", key, identity.id,
        {
          windowDays: settings.usageWindowDays,
          observedSince: window.observedSince?.toISOString() ?? null,
          keptCount: kept.length,
          removedCount: removed.length,
          unusedRules: removed.slice(0, MAX_LISTED_GRANTS).map((grant) => ({ rule: compactRule(grant), ...grantProvenance(grant) })),
        },
        `${removed.length} of ${granted.length} granted rules not used in ${days} ${days === 1 ? "day" : "days"}`);
    }
  }
  if (identity.kind !== "ServiceAccount") return;
  const humanAgents = usage.userAgents.flatMap((source) => {
    const client = humanClient(source.value);
    return client ? [{ client, ...sourceFacts(source) }] : [];
  });
  const outside = outsideCidrs(settings.clusterCidrs);
  const foreignIps = outside ? usage.sourceIps.filter((source) => outside(source.value)).map(sourceFacts) : [];
  if (humanAgents.length === 0 && foreignIps.length === 0) return;
  const clients = [...new Set(humanAgents.map((agent) => agent.client))];
  const because = [
    ...(clients.length > 0 ? [`with ${clients.join(", ")}`] : []),
    ...(foreignIps.length > 0 ? [`from ${foreignIps.length === 1 ? foreignIps[0].value : `${foreignIps.length} addresses`} outside the cluster`] : []),
  ];
  emit("human-use", key, identity.id,
    {
      userAgents: humanAgents.slice(0, MAX_LISTED_GRANTS),
      sourceIps: foreignIps.slice(0, MAX_LISTED_GRANTS),
      clusterCidrs: settings.clusterCidrs,
      windowDays: settings.usageWindowDays,
    },
    `Service account token used ${because.join(" and ")}`);
}

function sourceFacts(source: IdentityUsageFacts["userAgents"][number]) {
  return { value: source.value, count: source.count, firstSeenAt: source.firstSeenAt.toISOString(), lastSeenAt: source.lastSeenAt.toISOString() };
}

/** A fingerprint appears once (a binding can list the same subject twice). */
function dedupe(findings: ComputedFinding[]): ComputedFinding[] {
  const seen = new Set<string>();
  return findings.filter((finding) => !seen.has(finding.fingerprint) && seen.add(finding.fingerprint));
}
