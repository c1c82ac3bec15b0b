// The kube-apiserver RBAC authorizer (plugin/pkg/auth/authorizer/rbac) and its rule resolver
// (pkg/registry/rbac/validation/rule.go), over an in-memory snapshot indexed by subject.
import { uncoveredSubrules } from "./coverage";
import {
  AGGREGATION_RULE_FORBIDDEN_MESSAGE,
  FULL_AUTHORITY,
  bindAttributes,
  escalateAttributes,
  escalationAllowed,
  escalationErrorMessage,
} from "./escalation";
import { SYSTEM_MASTERS, serviceAccountUsername } from "./identity";
import { isNonResourceAttributes, ruleAllows } from "./rule-matching";
import type {
  AuthorizationRequest,
  ClusterRoleBinding,
  Decision,
  EffectiveRule,
  PolicyRule,
  RbacObjects,
  ResourceAttributes,
  RoleBinding,
  RoleRef,
  RuleSource,
  Subject,
  SubjectGrant,
  UserInfo,
} from "./types";

export interface RbacAuthorizerOptions {
  /** Groups whose members are always allowed, like kube-apiserver's privileged-group authorizer. */
  privilegedGroups?: string[];
}

export interface EscalationDenied {
  allowed: false;
  /** The API status the apiserver answers with: 403 Forbidden, 404 NotFound (missing role), 422 Invalid. */
  status: "Forbidden" | "NotFound" | "Invalid";
  /** The apiserver's error text (inside `<resource> "<name>" is forbidden: …` for Forbidden). */
  message: string;
  uncovered: PolicyRule[];
}

export type EscalationCheck =
  { allowed: true; via: "system:masters" | "escalate" | "bind" | "covered" } | EscalationDenied;

/** A binding whose roleRef names a role that does not exist (it grants nothing). */
export interface DanglingBinding {
  binding: RuleSource["binding"];
  roleRef: RoleRef;
  error: string;
}

interface ResolvedRoleRef {
  rules: readonly PolicyRule[];
  /** Set when the roleRef could not be resolved, with the authorizer's error text. */
  error: string | null;
  registryError: string | null;
}

interface IndexedBinding extends ResolvedRoleRef {
  /** Position among bindings of the same kind: the order the resolver visits them in. */
  order: number;
  namespace: string;
  subjects: readonly Subject[];
  roleRef: RoleRef;
  source: RuleSource;
}

interface SubjectMatch {
  binding: IndexedBinding;
  subjectIndex: number;
}

const USER_KEY = "user:";
const GROUP_KEY = "group:";

/** The one index key under which a subject can match a user, or null if it can match nobody. */
function subjectKey(subject: Subject, bindingNamespace: string): string | null {
  switch (subject.kind) {
    case "User":
      return USER_KEY + subject.name;
    case "Group":
      return GROUP_KEY + subject.name;
    case "ServiceAccount": {
      // An SA subject without a namespace means the RoleBinding's namespace; in a ClusterRoleBinding it matches nobody.
      const namespace = subject.namespace || bindingNamespace;
      return namespace ? USER_KEY + serviceAccountUsername(namespace, subject.name) : null;
    }
    default:
      return null;
  }
}

function userKeys(user: UserInfo): string[] {
  return [USER_KEY + user.username, ...user.groups.map((group) => GROUP_KEY + group)];
}

/** Whether a binding's subject names `user` (its username or one of its groups), matched as the authorizer does. */
export function subjectAppliesTo(subject: Subject, bindingNamespace: string, user: UserInfo): boolean {
  const key = subjectKey(subject, bindingNamespace);
  return key !== null && userKeys(user).includes(key);
}

/** The subject as it applies: an SA subject's namespace defaulted to the binding's. */
function effectiveSubject(subject: Subject, bindingNamespace: string): Subject {
  if (subject.kind !== "ServiceAccount" || subject.namespace) return subject;
  return { ...subject, namespace: bindingNamespace };
}

function describeSubject(subject: Subject, bindingNamespace: string): string {
  if (subject.kind === "ServiceAccount") {
    return `${subject.kind} "${subject.name}/${subject.namespace || bindingNamespace}"`;
  }
  return `${subject.kind} "${subject.name}"`;
}

/** The text kube-apiserver puts after "RBAC: allowed by ". */
function describeSource(binding: IndexedBinding, subject: Subject): string {
  const bindingName =
    binding.source.binding.kind === "RoleBinding"
      ? `${binding.source.binding.name}/${binding.namespace}`
      : binding.source.binding.name;
  return `${binding.source.binding.kind} "${bindingName}" of ${binding.roleRef.kind} "${binding.roleRef.name}" to ${describeSubject(subject, binding.namespace)}`;
}

/** utilerrors.NewAggregate(...).Error(): one message as is, several deduplicated inside brackets. */
function aggregateErrorMessage(messages: readonly string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? unique[0] : `[${unique.join(", ")}]`;
}

function addToIndex(index: Map<string, SubjectMatch[]>, key: string, match: SubjectMatch): void {
  const matches = index.get(key);
  if (!matches) {
    index.set(key, [match]);
    return;
  }
  // A binding listing the same subject twice applies through its first listing.
  if (matches[matches.length - 1].binding !== match.binding) matches.push(match);
}

/** The bindings in `index` that apply to `user`, in visit order, each with the first subject that applies. */
function matchingBindings(
  index: Map<string, SubjectMatch[]> | undefined,
  keys: readonly string[],
): SubjectMatch[] {
  if (!index) return [];
  const matches: SubjectMatch[] = [];
  for (const key of keys) {
    const found = index.get(key);
    if (found) for (const match of found) matches.push(match);
  }
  if (matches.length < 2) return matches;
  matches.sort((a, b) => a.binding.order - b.binding.order || a.subjectIndex - b.subjectIndex);
  // A binding reached through several of the user's names applies once, through its first listed subject.
  return matches.filter(
    (match, position) => position === 0 || matches[position - 1].binding !== match.binding,
  );
}

export class RbacAuthorizer {
  private readonly privilegedGroups: ReadonlySet<string>;
  private readonly clusterRoleBindings: IndexedBinding[];
  private readonly roleBindings: IndexedBinding[];
  private readonly clusterRoleBindingsBySubject = new Map<string, SubjectMatch[]>();
  /** Namespace → subject key → RoleBindings: what authorize and rulesFor look at for one namespace. */
  private readonly roleBindingsByNamespacedSubject = new Map<string, Map<string, SubjectMatch[]>>();
  /** Keyed by subject key across all namespaces: what effectiveRules looks at. */
  private readonly roleBindingsBySubject = new Map<string, SubjectMatch[]>();
  private readonly roleBindingsByNamespace = new Map<string, IndexedBinding[]>();
  private readonly roleRules = new Map<string, readonly PolicyRule[]>();
  private readonly clusterRoleRules = new Map<string, readonly PolicyRule[]>();

  constructor(objects: RbacObjects, options: RbacAuthorizerOptions = {}) {
    this.privilegedGroups = new Set(options.privilegedGroups ?? [SYSTEM_MASTERS]);

    for (const role of objects.roles) {
      const key = `${role.metadata.namespace ?? ""}/${role.metadata.name}`;
      if (!this.roleRules.has(key)) this.roleRules.set(key, role.rules ?? []);
    }
    for (const clusterRole of objects.clusterRoles) {
      if (!this.clusterRoleRules.has(clusterRole.metadata.name)) {
        this.clusterRoleRules.set(clusterRole.metadata.name, clusterRole.rules ?? []);
      }
    }

    const indexBinding = (
      binding: RoleBinding | ClusterRoleBinding,
      kind: RuleSource["binding"]["kind"],
      order: number,
    ): IndexedBinding => {
      const namespace = kind === "RoleBinding" ? (binding.metadata.namespace ?? "") : "";
      // Shared by every Decision, EffectiveRule and SubjectGrant that cites this binding: frozen so no caller can
      // alter the authorizer's own state through them.
      const source: RuleSource = Object.freeze({
        binding: Object.freeze(
          kind === "RoleBinding"
            ? { kind, namespace, name: binding.metadata.name }
            : { kind, name: binding.metadata.name },
        ),
        role: Object.freeze(
          binding.roleRef.kind === "Role" && namespace
            ? { kind: "Role" as const, namespace, name: binding.roleRef.name }
            : { kind: binding.roleRef.kind, name: binding.roleRef.name },
        ),
      });
      return {
        order,
        namespace,
        subjects: binding.subjects ?? [],
        roleRef: binding.roleRef,
        source,
        ...this.resolveRoleRef(binding.roleRef, namespace),
      };
    };

    this.clusterRoleBindings = objects.clusterRoleBindings.map((binding, order) =>
      indexBinding(binding, "ClusterRoleBinding", order),
    );
    for (const binding of this.clusterRoleBindings) {
      binding.subjects.forEach((subject, subjectIndex) => {
        const key = subjectKey(subject, "");
        if (key) addToIndex(this.clusterRoleBindingsBySubject, key, { binding, subjectIndex });
      });
    }

    this.roleBindings = objects.roleBindings.map((binding, order) =>
      indexBinding(binding, "RoleBinding", order),
    );
    for (const binding of this.roleBindings) {
      // A RoleBinding without a namespace cannot exist in a cluster and would apply nowhere.
      if (!binding.namespace) continue;
      const inNamespace = this.roleBindingsByNamespace.get(binding.namespace);
      if (inNamespace) inNamespace.push(binding);
      else this.roleBindingsByNamespace.set(binding.namespace, [binding]);
      binding.subjects.forEach((subject, subjectIndex) => {
        const key = subjectKey(subject, binding.namespace);
        if (!key) return;
        addToIndex(this.roleBindingsBySubject, key, { binding, subjectIndex });
        let namespaceIndex = this.roleBindingsByNamespacedSubject.get(binding.namespace);
        if (!namespaceIndex) {
          namespaceIndex = new Map();
          this.roleBindingsByNamespacedSubject.set(binding.namespace, namespaceIndex);
        }
        addToIndex(namespaceIndex, key, { binding, subjectIndex });
      });
    }
  }

  /**
   * GetRoleReferenceRules: a Role is looked up in the binding's namespace ("" for a ClusterRoleBinding, so never
   * found). `error` is the authorizer's (informer lister's) text; `registryError` the text the RBAC storage gives
   * when it resolves the same roleRef during an escalation check.
   */
  private resolveRoleRef(roleRef: RoleRef, namespace: string): ResolvedRoleRef {
    const found =
      roleRef.kind === "Role"
        ? namespace
          ? this.roleRules.get(`${namespace}/${roleRef.name}`)
          : undefined
        : roleRef.kind === "ClusterRole"
          ? this.clusterRoleRules.get(roleRef.name)
          : undefined;
    if (found) return { rules: found, error: null, registryError: null };
    if (roleRef.kind !== "Role" && roleRef.kind !== "ClusterRole") {
      const unsupported = `unsupported role reference kind: "${String(roleRef.kind)}"`;
      return { rules: [], error: unsupported, registryError: unsupported };
    }
    const resource = roleRef.kind.toLowerCase();
    return {
      rules: [],
      error: `${resource}.rbac.authorization.k8s.io "${roleRef.name}" not found`,
      registryError: `${resource}s.rbac.authorization.k8s.io "${roleRef.name}" not found`,
    };
  }

  /** The bindings that apply to `user` in `namespace`, in the order the apiserver's resolver visits them. */
  private applicableBindings(user: UserInfo, namespace: string): SubjectMatch[] {
    const keys = userKeys(user);
    const clusterWide = matchingBindings(this.clusterRoleBindingsBySubject, keys);
    if (!namespace) return clusterWide;
    const namespaced = matchingBindings(this.roleBindingsByNamespacedSubject.get(namespace), keys);
    return namespaced.length === 0 ? clusterWide : [...clusterWide, ...namespaced];
  }

  private privilegedGroupOf(user: UserInfo): string | undefined {
    return user.groups.find((group) => this.privilegedGroups.has(group));
  }

  authorize(request: AuthorizationRequest): Decision {
    const { user } = request;
    const privilegedGroup = this.privilegedGroupOf(user);
    if (privilegedGroup !== undefined) return { allowed: true, reason: "", privilegedGroup };

    const attrs =
      "resourceAttributes" in request ? request.resourceAttributes : request.nonResourceAttributes;
    // Non-resource requests and cluster-scoped (or all-namespace) requests have no namespace: RoleBindings never apply.
    const namespace = isNonResourceAttributes(attrs) ? "" : (attrs.namespace ?? "");
    const errors: string[] = [];
    // VisitRulesFor order: ClusterRoleBindings, then the namespace's RoleBindings; the first allowing rule wins.
    for (const { binding, subjectIndex } of this.applicableBindings(user, namespace)) {
      if (binding.error !== null) {
        errors.push(binding.error);
        continue;
      }
      const rule = binding.rules.find((candidate) => ruleAllows(candidate, attrs));
      if (rule) {
        return {
          allowed: true,
          reason: `RBAC: allowed by ${describeSource(binding, binding.subjects[subjectIndex])}`,
          source: { binding: binding.source.binding, role: binding.source.role, rule },
        };
      }
    }
    return { allowed: false, reason: errors.length > 0 ? `RBAC: ${aggregateErrorMessage(errors)}` : "" };
  }

  /** RulesFor; `registryErrors` picks the error texts of the RBAC storage's resolver over the authorizer's. */
  private collectRules(
    user: UserInfo,
    namespace: string,
    registryErrors = false,
  ): { rules: PolicyRule[]; errors: string[] } {
    const rules: PolicyRule[] = [];
    const errors: string[] = [];
    for (const { binding } of this.applicableBindings(user, namespace)) {
      const error = registryErrors ? binding.registryError : binding.error;
      if (error !== null) errors.push(error);
      else rules.push(...binding.rules);
    }
    return { rules, errors };
  }

  /**
   * SelfSubjectRulesReview as kube-apiserver answers it from RBAC: ClusterRoleBinding rules plus the rules of the
   * namespace's RoleBindings. Unresolvable roleRefs are reported in evaluationError; like the RBAC rule resolver,
   * `incomplete` stays false (the listed rules are still all valid). Privileged groups add no rules here.
   */
  rulesFor(
    user: UserInfo,
    namespace: string,
  ): {
    resourceRules: PolicyRule[];
    nonResourceRules: PolicyRule[];
    incomplete: boolean;
    evaluationError?: string;
  } {
    const { rules, errors } = this.collectRules(user, namespace);
    const resourceRules: PolicyRule[] = [];
    const nonResourceRules: PolicyRule[] = [];
    for (const rule of rules) {
      if ((rule.resources ?? []).length > 0) {
        resourceRules.push({
          verbs: rule.verbs,
          apiGroups: rule.apiGroups ?? [],
          resources: rule.resources,
          ...(rule.resourceNames?.length ? { resourceNames: rule.resourceNames } : {}),
        });
      }
      if ((rule.nonResourceURLs ?? []).length > 0) {
        nonResourceRules.push({ verbs: rule.verbs, nonResourceURLs: rule.nonResourceURLs });
      }
    }
    const result: ReturnType<RbacAuthorizer["rulesFor"]> = {
      resourceRules,
      nonResourceRules,
      incomplete: false,
    };
    if (errors.length > 0) result.evaluationError = aggregateErrorMessage(errors);
    return result;
  }

  /**
   * Every rule granted to `user` anywhere, with its scope and provenance: ClusterRoleBinding rules (namespace null)
   * first, then RoleBinding rules per namespace. Rules of a RoleBinding that name no resources (nonResourceURLs
   * only) are left out: a RoleBinding cannot grant them.
   */
  effectiveRules(user: UserInfo): EffectiveRule[] {
    const keys = userKeys(user);
    const effective: EffectiveRule[] = [];
    for (const { binding, subjectIndex } of matchingBindings(this.clusterRoleBindingsBySubject, keys)) {
      const viaSubject = binding.subjects[subjectIndex];
      for (const rule of binding.rules)
        effective.push({
          binding: binding.source.binding,
          role: binding.source.role,
          rule,
          namespace: null,
          viaSubject,
        });
    }
    for (const { binding, subjectIndex } of matchingBindings(this.roleBindingsBySubject, keys)) {
      const viaSubject = effectiveSubject(binding.subjects[subjectIndex], binding.namespace);
      for (const rule of binding.rules) {
        if ((rule.resources ?? []).length === 0) continue;
        effective.push({
          binding: binding.source.binding,
          role: binding.source.role,
          rule,
          namespace: binding.namespace,
          viaSubject,
        });
      }
    }
    return effective;
  }

  /**
   * Like `kubectl who-can`: the subjects of the bindings whose role grants `attrs` (ClusterRoleBindings, plus the
   * RoleBindings of attrs.namespace when it is set), each with every binding that grants it. Membership of a
   * privileged group is not a binding and is not listed.
   */
  subjectsWhoCan(attrs: ResourceAttributes): SubjectGrant[] {
    const namespace = attrs.namespace ?? "";
    const candidates = namespace
      ? [...this.clusterRoleBindings, ...(this.roleBindingsByNamespace.get(namespace) ?? [])]
      : this.clusterRoleBindings;
    const grants = new Map<string, SubjectGrant>();
    for (const binding of candidates) {
      if (!binding.rules.some((rule) => ruleAllows(rule, attrs))) continue;
      for (const listed of binding.subjects) {
        if (subjectKey(listed, binding.namespace) === null) continue;
        const subject = effectiveSubject(listed, binding.namespace);
        const key = `${subject.kind}\u0000${subject.namespace ?? ""}\u0000${subject.name}`;
        const grant = grants.get(key);
        if (!grant) grants.set(key, { subject, via: [binding.source] });
        else if (!grant.via.includes(binding.source)) grant.via.push(binding.source);
      }
    }
    return [...grants.values()];
  }

  /**
   * ConfirmNoEscalation: the broken-down parts of `requested` that the rules `user` holds in `namespace`
   * ("" = cluster-wide only) do not cover. Empty = no escalation. The apiserver skips this check for
   * system:masters (see escalationAllowed) and for users allowed to `escalate`/`bind` the role.
   */
  uncoveredRules(user: UserInfo, namespace: string, requested: PolicyRule[]): PolicyRule[] {
    return uncoveredSubrules(this.collectRules(user, namespace).rules, requested);
  }

  /** ConfirmNoEscalation: null when `user` holds `rules` in `namespace`, else the Forbidden outcome. */
  private confirmNoEscalation(
    user: UserInfo,
    namespace: string,
    rules: readonly PolicyRule[],
  ): EscalationDenied | null {
    const held = this.collectRules(user, namespace, true);
    const uncovered = uncoveredSubrules(held.rules, rules);
    if (uncovered.length === 0) return null;
    const resolutionError = held.errors.length > 0 ? aggregateErrorMessage(held.errors) : undefined;
    return {
      allowed: false,
      status: "Forbidden",
      message: escalationErrorMessage(user, uncovered, resolutionError),
      uncovered,
    };
  }

  /**
   * What the RBAC storage decides when `user` creates or updates a Role or ClusterRole: members of system:masters
   * and users allowed to `escalate` it may write anything; others only rules they hold in the role's namespace
   * (cluster-wide for a ClusterRole), and only holders of `*` on everything may set an aggregationRule (on the new
   * or the old object). `name` counts for `escalate` only on updates: a create request carries no name.
   */
  checkRoleWrite(
    user: UserInfo,
    write: {
      kind: "Role" | "ClusterRole";
      name: string;
      namespace?: string;
      rules: readonly PolicyRule[];
      operation: "create" | "update";
      hasAggregationRule?: boolean;
    },
  ): EscalationCheck {
    if (escalationAllowed(user)) return { allowed: true, via: "system:masters" };
    const namespace = write.kind === "Role" ? (write.namespace ?? "") : "";
    const requestName = write.operation === "create" ? "" : write.name;
    if (
      this.authorize({ user, resourceAttributes: escalateAttributes(write.kind, requestName, namespace) })
        .allowed
    ) {
      return { allowed: true, via: "escalate" };
    }
    const denied = this.confirmNoEscalation(user, namespace, write.rules);
    if (denied) return denied;
    if (write.kind === "ClusterRole" && write.hasAggregationRule) {
      const lacksFullAuthority = this.confirmNoEscalation(user, "", FULL_AUTHORITY);
      if (lacksFullAuthority) return { ...lacksFullAuthority, message: AGGREGATION_RULE_FORBIDDEN_MESSAGE };
    }
    return { allowed: true, via: "covered" };
  }

  /**
   * What the RBAC storage decides when `user` creates or updates a RoleBinding (in `namespace`) or a
   * ClusterRoleBinding: system:masters and users allowed to `bind` the role may; others only if they hold every
   * rule of the referenced role there. A roleRef to a missing role is then a NotFound error.
   */
  checkBindingWrite(
    user: UserInfo,
    write: { kind: "RoleBinding" | "ClusterRoleBinding"; namespace?: string; roleRef: RoleRef },
  ): EscalationCheck {
    if (escalationAllowed(user)) return { allowed: true, via: "system:masters" };
    const namespace = write.kind === "RoleBinding" ? (write.namespace ?? "") : "";
    const bind = bindAttributes(write.roleRef, namespace);
    if (bind && this.authorize({ user, resourceAttributes: bind }).allowed)
      return { allowed: true, via: "bind" };
    const resolved = this.resolveRoleRef(write.roleRef, namespace);
    if (resolved.registryError !== null) {
      return {
        allowed: false,
        status: bind ? "NotFound" : "Invalid",
        message: resolved.registryError,
        uncovered: [],
      };
    }
    return this.confirmNoEscalation(user, namespace, resolved.rules) ?? { allowed: true, via: "covered" };
  }

  /** Bindings whose roleRef points to a Role or ClusterRole that does not exist. */
  danglingBindings(): DanglingBinding[] {
    return [...this.clusterRoleBindings, ...this.roleBindings].flatMap((binding) =>
      binding.error === null
        ? []
        : [{ binding: binding.source.binding, roleRef: binding.roleRef, error: binding.error }],
    );
  }
}
