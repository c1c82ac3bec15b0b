import type { KubeObject } from "../types";

// A large, realistic-looking cluster for benchmarks. For N service accounts it holds exactly:
// N/20 namespaces, N ServiceAccounts, 2N RoleBindings, N/5 Roles, N/20 ClusterRoles, N/10 ClusterRoleBindings,
// N legacy token Secrets and 3N Pods. Everything comes from one seeded PRNG, so a seed always gives the same
// cluster; no crypto and no hashing, so N = 10,000 builds in a fraction of a second.

const RBAC_GROUP = "rbac.authorization.k8s.io";
const RBAC_VERSION = `${RBAC_GROUP}/v1`;
const DAY_MS = 86_400_000;
const NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";
const TEAMS = ["payments", "checkout", "search", "data", "ml", "identity", "growth", "media", "logistics", "risk", "ads", "infra"];
const COMPONENTS = ["api", "worker", "sync", "exporter", "gateway", "consumer", "scheduler", "indexer", "cache", "notifier"];
const READ = ["get", "list", "watch"];
const WRITE = ["create", "update", "patch", "delete"];
const AGGREGATE_LABEL = "scale.keyward.io/aggregate-to";

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
  verbs: string[];
}

/** Rule sets for Roles and ordinary ClusterRoles, from harmless to risky, as real add-ons ship them. */
const RULE_TEMPLATES: Array<() => Rule[]> = [
  () => [{ apiGroups: [""], resources: ["configmaps"], verbs: [...READ] }],
  () => [{ apiGroups: [""], resources: ["configmaps", "services", "endpoints"], verbs: [...READ] }],
  () => [{ apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: [...READ, ...WRITE] }],
  () => [{ apiGroups: [""], resources: ["secrets"], verbs: ["get"] }],
  () => [{ apiGroups: [""], resources: ["secrets"], verbs: [...READ] }],
  () => [{ apiGroups: [""], resources: ["pods"], verbs: [...READ, ...WRITE] }, { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] }],
  () => [{ apiGroups: [""], resources: ["pods/exec", "pods/attach"], verbs: ["create"] }],
  () => [{ apiGroups: ["apps"], resources: ["deployments", "statefulsets"], verbs: [...READ, ...WRITE] }],
  () => [{ apiGroups: ["batch"], resources: ["jobs", "cronjobs"], verbs: [...READ, "create", "delete"] }],
  () => [{ apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] }],
];

/** ClusterRoles that give far too much: what the findings about broad access are for. */
const BROAD_TEMPLATES: Array<() => Rule[]> = [
  () => [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }],
  () => [{ apiGroups: [""], resources: ["secrets"], verbs: ["*"] }],
  () => [{ apiGroups: [""], resources: ["users", "groups", "serviceaccounts"], verbs: ["impersonate"] }],
  () => [{ apiGroups: [RBAC_GROUP], resources: ["clusterroles", "roles"], verbs: ["escalate", "bind", ...READ] }],
  () => [{ apiGroups: [""], resources: ["serviceaccounts/token"], verbs: ["create"] }],
];

/** mulberry32: small, fast and good enough to spread generated data; the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

class Generator {
  private readonly random: () => number;
  private readonly today: number;
  private readonly timestamps = new Map<number, string>();

  constructor(seed: number, now: number) {
    this.random = seededRandom(seed);
    // Ages are whole days before today's midnight (UTC), so one seed gives one cluster all day.
    this.today = Math.floor(now / DAY_MS) * DAY_MS;
  }

  int(below: number): number {
    return Math.floor(this.random() * below);
  }

  chance(probability: number): boolean {
    return this.random() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  suffix(length: number): string {
    let text = "";
    for (let i = 0; i < length; i++) text += NAME_ALPHABET[this.int(NAME_ALPHABET.length)];
    return text;
  }

  uid(): string {
    const hex = (digits: number) => {
      let text = "";
      for (let i = 0; i < digits; i++) text += this.int(16).toString(16);
      return text;
    };
    return `${hex(8)}-${hex(4)}-4${hex(3)}-${(8 + this.int(4)).toString(16)}${hex(3)}-${hex(12)}`;
  }

  /** Ages are whole days, so a few thousand distinct strings serve every object (formatting them dominated). */
  timestamp(daysAgo: number): string {
    let text = this.timestamps.get(daysAgo);
    if (text === undefined) {
      text = new Date(this.today - daysAgo * DAY_MS).toISOString().replace(/\.\d{3}Z$/, "Z");
      this.timestamps.set(daysAgo, text);
    }
    return text;
  }

  day(daysAgo: number): string {
    return this.timestamp(daysAgo).slice(0, 10);
  }
}

interface ServiceAccountRef {
  namespace: string;
  name: string;
}

type OwnerKind = "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job";

/** Most workloads are Deployments (pods owned by a ReplicaSet); the rest as in a typical cluster. */
function ownerKindFor(generator: Generator): OwnerKind {
  const percent = generator.int(100);
  if (percent < 70) return "ReplicaSet";
  if (percent < 85) return "StatefulSet";
  if (percent < 95) return "DaemonSet";
  return "Job";
}

const OWNER_API_VERSION: Record<OwnerKind, string> = { ReplicaSet: "apps/v1", StatefulSet: "apps/v1", DaemonSet: "apps/v1", Job: "batch/v1" };

/**
 * Generates the cluster. `now` only anchors the creation times (whole days before that day's midnight, UTC);
 * structure and names depend on `seed` alone.
 */
export function generateScaleCluster(serviceAccounts: number, seed = 1, now: number = Date.now()): KubeObject[] {
  if (!Number.isInteger(serviceAccounts) || serviceAccounts < 20) throw new RangeError("generateScaleCluster needs at least 20 service accounts");
  const generator = new Generator(seed, now);
  const namespaceCount = Math.floor(serviceAccounts / 20);
  const objects: KubeObject[] = [];

  const namespaces = Array.from({ length: namespaceCount }, (_, index) => {
    const team = TEAMS[index % TEAMS.length];
    return { name: `${team}-${String(index).padStart(4, "0")}`, team, ageDays: 200 + generator.int(1500) };
  });
  for (const namespace of namespaces) {
    objects.push({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: namespace.name, labels: { "kubernetes.io/metadata.name": namespace.name, team: namespace.team }, creationTimestamp: generator.timestamp(namespace.ageDays) },
      spec: { finalizers: ["kubernetes"] },
      status: { phase: "Active" },
    });
  }

  // Service accounts, round-robin over the namespaces; about a third have no owner.
  const accounts: ServiceAccountRef[] = [];
  const accountsByNamespace = namespaces.map((): ServiceAccountRef[] => []);
  for (let index = 0; index < serviceAccounts; index++) {
    const namespaceIndex = index % namespaceCount;
    const namespace = namespaces[namespaceIndex];
    const account = { namespace: namespace.name, name: `${generator.pick(COMPONENTS)}-${index}` };
    accounts.push(account);
    accountsByNamespace[namespaceIndex].push(account);
    const metadata: KubeObject["metadata"] = { name: account.name, namespace: account.namespace, creationTimestamp: generator.timestamp(generator.int(namespace.ageDays)) };
    if (generator.chance(0.65)) metadata.annotations = { "keyward.io/owner": namespace.team };
    objects.push({ apiVersion: "v1", kind: "ServiceAccount", metadata });
  }

  // ClusterRoles: 10% aggregate others by label, 10% are broad, the rest ordinary (some feeding an aggregate).
  const clusterRoleCount = Math.floor(serviceAccounts / 20);
  const aggregatedCount = Math.max(1, Math.floor(clusterRoleCount / 10));
  const broadCount = Math.max(1, Math.floor(clusterRoleCount / 10));
  const clusterRoleNames: string[] = [];
  for (let index = 0; index < clusterRoleCount; index++) {
    const name = index < aggregatedCount ? `aggregate-${index}` : index < aggregatedCount + broadCount ? `operator-broad-${index}` : `addon-${index}`;
    clusterRoleNames.push(name);
    const metadata: KubeObject["metadata"] = { name, creationTimestamp: generator.timestamp(generator.int(1500)) };
    if (index < aggregatedCount) {
      objects.push({
        apiVersion: RBAC_VERSION,
        kind: "ClusterRole",
        metadata,
        aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [AGGREGATE_LABEL]: name } }] },
        rules: [],
      });
      continue;
    }
    if (index >= aggregatedCount + broadCount && generator.chance(0.3)) {
      metadata.labels = { [AGGREGATE_LABEL]: `aggregate-${generator.int(aggregatedCount)}` };
    }
    const rules = index < aggregatedCount + broadCount ? BROAD_TEMPLATES[index % BROAD_TEMPLATES.length]() : generator.pick(RULE_TEMPLATES)();
    objects.push({ apiVersion: RBAC_VERSION, kind: "ClusterRole", metadata, rules });
  }

  // Roles, spread over the namespaces like the SAs.
  const roleCount = Math.floor(serviceAccounts / 5);
  const rolesByNamespace = namespaces.map((): string[] => []);
  for (let index = 0; index < roleCount; index++) {
    const namespaceIndex = index % namespaceCount;
    const name = `${generator.pick(COMPONENTS)}-role-${index}`;
    rolesByNamespace[namespaceIndex].push(name);
    objects.push({
      apiVersion: RBAC_VERSION,
      kind: "Role",
      metadata: { name, namespace: namespaces[namespaceIndex].name, creationTimestamp: generator.timestamp(generator.int(1500)) },
      rules: generator.pick(RULE_TEMPLATES)(),
    });
  }

  const serviceAccountSubject = (account: ServiceAccountRef) => ({ kind: "ServiceAccount", name: account.name, namespace: account.namespace });

  // RoleBindings: mostly a namespace's own SAs bound to one of its Roles, some to ClusterRoles, a few to
  // SAs of other namespaces, broad groups, humans' Users, or roles that no longer exist.
  for (let index = 0; index < 2 * serviceAccounts; index++) {
    const namespaceIndex = index % namespaceCount;
    const namespace = namespaces[namespaceIndex].name;
    const localRoles = rolesByNamespace[namespaceIndex];
    const roleRef =
      generator.chance(0.005)
        ? { apiGroup: RBAC_GROUP, kind: "Role", name: `deleted-role-${index}` }
        : localRoles.length > 0 && generator.chance(0.65)
          ? { apiGroup: RBAC_GROUP, kind: "Role", name: generator.pick(localRoles) }
          : { apiGroup: RBAC_GROUP, kind: "ClusterRole", name: generator.pick(clusterRoleNames) };
    const subjects: Array<Record<string, string>> = [];
    const localAccounts = accountsByNamespace[namespaceIndex];
    const subjectCount = 1 + (generator.chance(0.3) ? generator.int(3) : 0);
    for (let s = 0; s < subjectCount; s++) {
      const account = generator.chance(0.9) ? generator.pick(localAccounts) : generator.pick(accounts);
      subjects.push(serviceAccountSubject(account));
    }
    if (generator.chance(0.02)) subjects.push({ kind: "Group", apiGroup: RBAC_GROUP, name: `system:serviceaccounts:${namespace}` });
    if (generator.chance(0.02)) subjects.push({ kind: "User", apiGroup: RBAC_GROUP, name: `deploy-bot-${generator.int(50)}` });
    objects.push({
      apiVersion: RBAC_VERSION,
      kind: "RoleBinding",
      metadata: { name: `${roleRef.name}-binding-${index}`, namespace, creationTimestamp: generator.timestamp(generator.int(1200)) },
      roleRef,
      subjects,
    });
  }

  // ClusterRoleBindings: one or two SAs anywhere, now and then a group.
  for (let index = 0; index < Math.floor(serviceAccounts / 10); index++) {
    const clusterRole = generator.pick(clusterRoleNames);
    const subjects: Array<Record<string, string>> = [serviceAccountSubject(generator.pick(accounts))];
    if (generator.chance(0.3)) subjects.push(serviceAccountSubject(generator.pick(accounts)));
    if (generator.chance(0.01)) subjects.push({ kind: "Group", apiGroup: RBAC_GROUP, name: "system:authenticated" });
    objects.push({
      apiVersion: RBAC_VERSION,
      kind: "ClusterRoleBinding",
      metadata: { name: `${clusterRole}-${index}`, creationTimestamp: generator.timestamp(generator.int(1200)) },
      roleRef: { apiGroup: RBAC_GROUP, kind: "ClusterRole", name: clusterRole },
      subjects,
    });
  }

  // Legacy token Secrets: most SAs have one, some two, some none; most were used at some point.
  const secretNames = new Set<string>();
  for (let index = 0; index < serviceAccounts; index++) {
    const account = generator.chance(0.8) ? accounts[index] : generator.pick(accounts);
    let name = `${account.name}-token-${generator.suffix(5)}`;
    while (secretNames.has(`${account.namespace}/${name}`)) name = `${account.name}-token-${generator.suffix(5)}`;
    secretNames.add(`${account.namespace}/${name}`);
    const ageDays = generator.int(1500);
    const metadata: KubeObject["metadata"] = {
      name,
      namespace: account.namespace,
      creationTimestamp: generator.timestamp(ageDays),
      annotations: { "kubernetes.io/service-account.name": account.name },
    };
    if (generator.chance(0.6)) metadata.labels = { "kubernetes.io/legacy-token-last-used": generator.day(generator.int(Math.min(ageDays, 365) + 1)) };
    objects.push({ apiVersion: "v1", kind: "Secret", type: "kubernetes.io/service-account-token", metadata });
  }

  objects.push(...scalePods(generator, accounts, 3 * serviceAccounts));
  return objects;
}

/** Pods in workloads of one owner each; most SAs run a few, some many, a few none. */
function scalePods(generator: Generator, accounts: ServiceAccountRef[], count: number): KubeObject[] {
  const pods: KubeObject[] = [];
  const podNames = new Set<string>();
  const workloads = new Map<ServiceAccountRef, { kind: OwnerKind; name: string; uid: string; image: string; ordinal: number; ageDays: number }>();
  for (let index = 0; index < count; index++) {
    const account = generator.chance(0.85) ? accounts[Math.floor(index / 3)] : generator.pick(accounts);
    let workload = workloads.get(account);
    if (!workload) {
      const kind = ownerKindFor(generator);
      const name = kind === "ReplicaSet" ? `${account.name}-${generator.suffix(10)}` : account.name;
      const image = `registry.acme.internal/${account.namespace}/${account.name}:1.0.${generator.int(40)}`;
      workload = { kind, name, uid: generator.uid(), image, ordinal: 0, ageDays: generator.int(400) };
      workloads.set(account, workload);
    }
    let name = workload.kind === "StatefulSet" ? `${workload.name}-${workload.ordinal++}` : `${workload.name}-${generator.suffix(5)}`;
    while (podNames.has(`${account.namespace}/${name}`)) name = `${workload.name}-${generator.suffix(5)}`;
    podNames.add(`${account.namespace}/${name}`);
    pods.push({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name,
        namespace: account.namespace,
        labels: { "app.kubernetes.io/name": account.name },
        creationTimestamp: generator.timestamp(workload.ageDays),
        ownerReferences: [
          { apiVersion: OWNER_API_VERSION[workload.kind], kind: workload.kind, name: workload.name, uid: workload.uid, controller: true, blockOwnerDeletion: true },
        ],
      },
      spec: {
        serviceAccountName: account.name,
        serviceAccount: account.name,
        containers: [{ name: "main", image: workload.image }],
      },
      status: { phase: workload.kind === "Job" ? "Succeeded" : "Running" },
    });
  }
  return pods;
}
