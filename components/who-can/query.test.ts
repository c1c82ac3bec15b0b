import { describe, expect, it } from "vitest";
import { describeQuestion, exampleQuestions, parseWhoCanParams, whoCanHref } from "./query";

const clusters = ["c1", "c2"];

describe("parseWhoCanParams", () => {
  it("is in the initial state until a verb or a resource is asked", () => {
    expect(parseWhoCanParams({}, clusters)).toEqual({ state: "initial", values: {} });
    expect(parseWhoCanParams({ cluster: "c1", verb: " ", namespace: "x" }, clusters)).toMatchObject({
      state: "initial",
      values: { cluster: "c1" },
    });
  });

  it("turns a cluster-wide question into a whoCan query without a namespace", () => {
    const form = parseWhoCanParams(
      { verb: "get", resource: "secrets", group: "", subresource: "", namespace: "" },
      clusters,
    );
    expect(form).toEqual({
      state: "query",
      values: { cluster: "", verb: "get", group: "", resource: "secrets", subresource: "", namespace: "" },
      query: { verb: "get", group: "", resource: "secrets" },
    });
  });

  it("keeps cluster, group, subresource and namespace, trimmed, and takes the first of repeated parameters", () => {
    const form = parseWhoCanParams(
      {
        cluster: "c2",
        verb: [" create ", "delete"],
        group: "apps",
        resource: "deployments",
        subresource: "scale",
        namespace: " team-a ",
      },
      clusters,
    );
    expect(form).toMatchObject({
      state: "query",
      query: {
        clusterId: "c2",
        verb: "create",
        group: "apps",
        resource: "deployments",
        subresource: "scale",
        namespace: "team-a",
      },
    });
  });

  it("accepts wildcards where Kubernetes does", () => {
    expect(parseWhoCanParams({ verb: "*", resource: "*", group: "*" }, clusters)).toMatchObject({
      state: "query",
      query: { verb: "*", resource: "*", group: "*" },
    });
  });

  it("explains what is wrong instead of answering nobody", () => {
    const missingVerb = parseWhoCanParams({ resource: "secrets" }, clusters);
    expect(missingVerb).toMatchObject({ state: "invalid", errors: [expect.stringMatching(/verb/)] });
    const bad = parseWhoCanParams(
      { verb: "GET", resource: "secrets", namespace: "Not_A_Namespace", subresource: "a/b" },
      clusters,
    );
    expect(bad.state).toBe("invalid");
    if (bad.state !== "invalid") return;
    expect(bad.errors).toHaveLength(3);
    expect(bad.errors.join(" ")).toMatch(/verb.*subresource.*namespace/s);
    expect(bad.values).toMatchObject({ verb: "GET", namespace: "Not_A_Namespace" });
    expect(parseWhoCanParams({ cluster: "gone", verb: "get", resource: "pods" }, clusters)).toMatchObject({
      state: "invalid",
      errors: [expect.stringMatching(/cluster does not exist/)],
    });
  });
});

describe("whoCanHref and describeQuestion", () => {
  it("round-trips every example question through the URL", () => {
    for (const example of exampleQuestions) {
      const href = whoCanHref(example.params);
      const raw = Object.fromEntries(new URL(href, "http://x").searchParams);
      const form = parseWhoCanParams(raw, clusters);
      expect(form.state, href).toBe("query");
      expect(form.values).toMatchObject(example.params);
    }
    expect(whoCanHref({})).toBe("/who-can");
    expect(whoCanHref({ verb: "get", resource: "secrets", namespace: "" })).toBe(
      "/who-can?verb=get&resource=secrets",
    );
  });

  it("reads the question back in words", () => {
    expect(
      describeQuestion({ verb: "get", group: "", resource: "secrets", subresource: "", namespace: "" }),
    ).toBe("get secrets cluster-wide");
    expect(
      describeQuestion({
        verb: "create",
        group: "",
        resource: "pods",
        subresource: "exec",
        namespace: "default",
      }),
    ).toBe("create pods/exec in namespace default");
    expect(
      describeQuestion({
        verb: "patch",
        group: "apps",
        resource: "deployments",
        subresource: "",
        namespace: "",
      }),
    ).toBe("patch deployments (apps) cluster-wide");
  });
});
