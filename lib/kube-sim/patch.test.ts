import { describe, expect, it } from "vitest";
import { jsonPatch, mergePatch, strategicMergePatch } from "./patch";
import { matchesLabels, parseLabelSelector } from "./selectors";

const pod = {
  metadata: { name: "p", labels: { app: "a", tier: "web" }, finalizers: ["x"] },
  spec: {
    containers: [
      { name: "app", image: "app:1", env: [{ name: "A", value: "1" }, { name: "B", value: "2" }] },
      { name: "sidecar", image: "proxy:1" },
    ],
  },
};

describe("strategic merge patch", () => {
  it("merges maps, merges containers by name, and honours $patch directives", () => {
    const patched = strategicMergePatch(pod, {
      metadata: { labels: { tier: null, version: "2" }, finalizers: ["y"] },
      spec: {
        containers: [
          { name: "app", image: "app:2", env: [{ name: "B", $patch: "delete" }, { name: "C", value: "3" }] },
          { name: "sidecar", $patch: "delete" },
          { name: "new", image: "new:1" },
        ],
      },
    }) as typeof pod;
    expect(patched.metadata.labels).toEqual({ app: "a", version: "2" });
    expect(patched.metadata.finalizers).toEqual(["x", "y"]);
    expect(patched.spec.containers).toEqual([
      { name: "app", image: "app:2", env: [{ name: "A", value: "1" }, { name: "C", value: "3" }] },
      { name: "new", image: "new:1" },
    ]);
  });

  it("replaces RBAC rules and subjects wholesale, and $patch: replace replaces a map", () => {
    const role = { rules: [{ verbs: ["get"], resources: ["pods"] }, { verbs: ["list"], resources: ["secrets"] }], metadata: { labels: { a: "1", b: "2" } } };
    const patched = strategicMergePatch(role, { rules: [{ verbs: ["*"], resources: ["*"] }], metadata: { labels: { $patch: "replace", c: "3" } } });
    expect(patched).toEqual({ rules: [{ verbs: ["*"], resources: ["*"] }], metadata: { labels: { c: "3" } } });
  });

  it("ignores kubectl apply's bookkeeping directives", () => {
    const patched = strategicMergePatch(pod, { $setElementOrder: 1, "$setElementOrder/containers": [{ name: "app" }], metadata: { "$deleteFromPrimitiveList/finalizers": ["x"] } }) as typeof pod;
    expect(patched.metadata.finalizers).toEqual([]);
    expect(patched.spec.containers).toHaveLength(2);
  });
});

describe("merge and JSON patches", () => {
  it("applies RFC 7386 and RFC 6902", () => {
    expect(mergePatch({ a: { b: 1, c: 2 }, d: [1] }, { a: { b: null }, d: [2] })).toEqual({ a: { c: 2 }, d: [2] });
    expect(
      jsonPatch({ a: [1, 2], b: { c: 1 } }, [
        { op: "add", path: "/a/-", value: 3 },
        { op: "replace", path: "/b/c", value: 2 },
        { op: "move", from: "/b", path: "/e" },
        { op: "test", path: "/a/0", value: 1 },
      ]),
    ).toEqual({ a: [1, 2, 3], e: { c: 2 } });
    expect(() => jsonPatch({ a: 1 }, [{ op: "remove", path: "/missing" }])).toThrow(/nonexistent/);
    expect(() => jsonPatch({ a: 1 }, [{ op: "test", path: "/a", value: 2 }])).toThrow(/failed/);
  });
});

describe("label selectors", () => {
  const labels = { app: "web", env: "prod" };
  it.each([
    ["app=web", true],
    ["app==web,env=prod", true],
    ["app!=web", false],
    ["env in (prod, staging)", true],
    ["env notin (prod)", false],
    ["app", true],
    ["!app", false],
    ["!team", true],
    ["team notin (a)", true],
    ["env in (prod),app=api", false],
  ])("%s → %s", (selector, expected) => {
    expect(matchesLabels(parseLabelSelector(selector), labels)).toBe(expected);
  });

  it("rejects what kube-apiserver rejects", () => {
    expect(() => parseLabelSelector("app in prod")).toThrow(/unable to parse requirement/);
  });
});
