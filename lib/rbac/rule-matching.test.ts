import { describe, expect, it } from "vitest";
import { ruleAllows } from "./index";
import type { NonResourceAttributes, PolicyRule, ResourceAttributes } from "./index";

const podsReader: PolicyRule = { verbs: ["get", "list"], apiGroups: [""], resources: ["pods"] };

const resourceCases: Array<[string, PolicyRule, ResourceAttributes, boolean]> = [
  ["exact verb, group and resource", podsReader, { verb: "get", resource: "pods" }, true],
  ["verb not listed", podsReader, { verb: "delete", resource: "pods" }, false],
  ["verbs are case-sensitive", podsReader, { verb: "GET", resource: "pods" }, false],
  [
    "verb *",
    { verbs: ["*"], apiGroups: [""], resources: ["pods"] },
    { verb: "escalate", resource: "pods" },
    true,
  ],
  ["core group is the empty string", podsReader, { verb: "get", group: "", resource: "pods" }, true],
  ["group not listed", podsReader, { verb: "get", group: "apps", resource: "pods" }, false],
  [
    "apiGroups *",
    { verbs: ["get"], apiGroups: ["*"], resources: ["deployments"] },
    { verb: "get", group: "apps", resource: "deployments" },
    true,
  ],
  [
    "no apiGroups matches no resource request",
    { verbs: ["get"], resources: ["pods"] },
    { verb: "get", resource: "pods" },
    false,
  ],
  [
    "resources *",
    { verbs: ["get"], apiGroups: [""], resources: ["*"] },
    { verb: "get", resource: "secrets" },
    true,
  ],
  [
    "resources * covers subresources",
    { verbs: ["get"], apiGroups: [""], resources: ["*"] },
    { verb: "get", resource: "pods", subresource: "log" },
    true,
  ],
  [
    "resource does not cover its subresource",
    podsReader,
    { verb: "get", resource: "pods", subresource: "log" },
    false,
  ],
  [
    "resource/subresource",
    { verbs: ["get"], apiGroups: [""], resources: ["pods/log"] },
    { verb: "get", resource: "pods", subresource: "log" },
    true,
  ],
  [
    "resource/subresource does not grant the resource",
    { verbs: ["get"], apiGroups: [""], resources: ["pods/log"] },
    { verb: "get", resource: "pods" },
    false,
  ],
  [
    "*/subresource",
    { verbs: ["update"], apiGroups: ["*"], resources: ["*/scale"] },
    { verb: "update", group: "apps", resource: "deployments", subresource: "scale" },
    true,
  ],
  [
    "*/subresource is not the resource",
    { verbs: ["update"], apiGroups: ["*"], resources: ["*/scale"] },
    { verb: "update", group: "apps", resource: "deployments" },
    false,
  ],
  [
    "*/subresource needs that subresource",
    { verbs: ["get"], apiGroups: [""], resources: ["*/status"] },
    { verb: "get", resource: "pods", subresource: "log" },
    false,
  ],
  [
    "resource/* is not a wildcard",
    { verbs: ["create"], apiGroups: [""], resources: ["pods/*"] },
    { verb: "create", resource: "pods", subresource: "exec" },
    false,
  ],
  [
    "resource/* matches only a subresource literally named *",
    { verbs: ["create"], apiGroups: [""], resources: ["pods/*"] },
    { verb: "create", resource: "pods", subresource: "*" },
    true,
  ],
  [
    "resourceNames: listed name",
    { verbs: ["get"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["app"] },
    { verb: "get", resource: "configmaps", name: "app" },
    true,
  ],
  [
    "resourceNames: other name",
    { verbs: ["get"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["app"] },
    { verb: "get", resource: "configmaps", name: "other" },
    false,
  ],
  [
    "resourceNames: a request without a name (list) does not match",
    { verbs: ["list"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["app"] },
    { verb: "list", resource: "configmaps" },
    false,
  ],
  [
    "empty resourceNames = every name",
    { verbs: ["get"], apiGroups: [""], resources: ["configmaps"], resourceNames: [] },
    { verb: "get", resource: "configmaps", name: "any" },
    true,
  ],
  [
    "resourceNames on a subresource",
    { verbs: ["create"], apiGroups: [""], resources: ["serviceaccounts/token"], resourceNames: ["builder"] },
    { verb: "create", resource: "serviceaccounts", subresource: "token", name: "builder" },
    true,
  ],
  [
    "namespace plays no part in a rule",
    podsReader,
    { verb: "get", resource: "pods", namespace: "team-a" },
    true,
  ],
  [
    "a nonResourceURL rule grants no resource",
    { verbs: ["get"], nonResourceURLs: ["*"] },
    { verb: "get", resource: "pods" },
    false,
  ],
];

const nonResourceCases: Array<[string, PolicyRule, NonResourceAttributes, boolean]> = [
  ["exact path", { verbs: ["get"], nonResourceURLs: ["/healthz"] }, { verb: "get", path: "/healthz" }, true],
  [
    "exact path is not a prefix",
    { verbs: ["get"], nonResourceURLs: ["/healthz"] },
    { verb: "get", path: "/healthz/etcd" },
    false,
  ],
  [
    "trailing * is a prefix",
    { verbs: ["get"], nonResourceURLs: ["/healthz/*"] },
    { verb: "get", path: "/healthz/etcd" },
    true,
  ],
  [
    "trailing * prefix includes the slash",
    { verbs: ["get"], nonResourceURLs: ["/healthz/*"] },
    { verb: "get", path: "/healthz" },
    false,
  ],
  [
    "prefix without slash",
    { verbs: ["get"], nonResourceURLs: ["/api*"] },
    { verb: "get", path: "/apis/apps" },
    true,
  ],
  [
    "* alone matches every path",
    { verbs: ["get"], nonResourceURLs: ["*"] },
    { verb: "get", path: "/metrics" },
    true,
  ],
  [
    "* in the middle is literal",
    { verbs: ["get"], nonResourceURLs: ["/a/*/b"] },
    { verb: "get", path: "/a/x/b" },
    false,
  ],
  [
    "verb must match",
    { verbs: ["get"], nonResourceURLs: ["/metrics"] },
    { verb: "post", path: "/metrics" },
    false,
  ],
  ["verb *", { verbs: ["*"], nonResourceURLs: ["/metrics"] }, { verb: "post", path: "/metrics" }, true],
  [
    "a resource rule grants no path",
    { verbs: ["*"], apiGroups: ["*"], resources: ["*"] },
    { verb: "get", path: "/metrics" },
    false,
  ],
];

describe("ruleAllows", () => {
  it.each(resourceCases)("resource request: %s", (_name, rule, attrs, expected) => {
    expect(ruleAllows(rule, attrs)).toBe(expected);
  });
  it.each(nonResourceCases)("non-resource request: %s", (_name, rule, attrs, expected) => {
    expect(ruleAllows(rule, attrs)).toBe(expected);
  });
});
