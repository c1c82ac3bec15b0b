import { describe, expect, it } from "vitest";
import {
  SYSTEM_AUTHENTICATED,
  SYSTEM_SERVICE_ACCOUNTS,
  parseServiceAccountUsername,
  serviceAccountGroups,
  serviceAccountUsername,
  userInfoForServiceAccount,
} from "./index";

describe("service account identities", () => {
  it("builds the username and groups the token authenticator gives", () => {
    expect(serviceAccountUsername("kube-system", "coredns")).toBe(
      "system:serviceaccount:kube-system:coredns",
    );
    expect(serviceAccountGroups("team-a")).toEqual([
      SYSTEM_SERVICE_ACCOUNTS,
      "system:serviceaccounts:team-a",
    ]);
    expect(userInfoForServiceAccount("team-a", "builder", "uid-1")).toEqual({
      username: "system:serviceaccount:team-a:builder",
      groups: ["system:serviceaccounts", "system:serviceaccounts:team-a", SYSTEM_AUTHENTICATED],
      uid: "uid-1",
    });
    expect(userInfoForServiceAccount("a", "b")).not.toHaveProperty("uid");
  });

  it.each([
    ["system:serviceaccount:kube-system:coredns", { namespace: "kube-system", name: "coredns" }],
    ["system:serviceaccount:ns:name.with.dots", { namespace: "ns", name: "name.with.dots" }],
    ["system:serviceaccount:ns", null],
    ["system:serviceaccount:ns:a:b", null],
    ["system:serviceaccount::name", null],
    ["system:serviceaccount:ns:", null],
    ["system:serviceaccount:Upper:name", null],
    ["system:serviceaccount:ns.dotted:name", null],
    ["system:serviceaccounts:ns", null],
    ["alice", null],
    [`system:serviceaccount:${"a".repeat(64)}:name`, null],
  ])("parses %s", (username, expected) => {
    expect(parseServiceAccountUsername(username)).toEqual(expected);
  });

  it("round-trips", () => {
    const username = serviceAccountUsername("monitoring", "prometheus-k8s");
    expect(parseServiceAccountUsername(username)).toEqual({
      namespace: "monitoring",
      name: "prometheus-k8s",
    });
  });
});
