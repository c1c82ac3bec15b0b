// Kubernetes RBAC semantics as pure functions over plain objects: the kube-apiserver authorizer and its rule
// resolver, SelfSubjectRulesReview, escalation prevention and the clusterrole-aggregation controller.
// Shared by the Kubernetes simulator (lib/kube-sim) and Keyward's permission engine; imports no I/O.
export * from "./types";
export * from "./identity";
export * from "./label-selector";
export * from "./rule-matching";
export * from "./coverage";
export * from "./aggregation";
export * from "./escalation";
export * from "./authorizer";
