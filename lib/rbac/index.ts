export * from "./types";
export * from "./identity";
export * from "./label-selector";
export * from "./rule-matching";
export * from "./coverage";
export * from "./aggregation";
export * from "./authorizer";
export * from "./escalation";
