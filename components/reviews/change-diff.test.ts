import { describe, expect, it } from "vitest";
import type { ClusterObject } from "@/lib/remediation/plan";
import { changeDiff, lineDiff } from "./change-diff";

const binding: ClusterObject = {
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "RoleBinding",
  metadata: { name: "edit", namespace: "ci", resourceVersion: "41", uid: "u-1" },
  roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
  subjects: [
    { kind: "ServiceAccount", name: "deployer", namespace: "ci" },
    { kind: "User", name: "alice" },
  ],
};
const changed = (lines: ReturnType<typeof lineDiff>) =>
  lines
    .filter((line) => line.type !== "same")
    .map((line) => `${line.type === "added" ? "+" : "-"}${line.text.trim()}`);

describe("lineDiff", () => {
  it("keeps common lines in order and marks the rest", () => {
    expect(lineDiff(["a", "b", "c", "d"], ["a", "c", "x", "d"])).toEqual([
      { type: "same", text: "a" },
      { type: "removed", text: "b" },
      { type: "same", text: "c" },
      { type: "added", text: "x" },
      { type: "same", text: "d" },
    ]);
  });
});

describe("changeDiff", () => {
  it("shows a subject taken out of a shared binding as removed lines only, without the preconditions", () => {
    const diff = changeDiff({
      op: "replace",
      before: binding,
      after: { ...binding, subjects: [{ kind: "User", name: "alice" }] },
      reason: "remove the subject",
    });
    expect(diff).toMatchObject({
      op: "replace",
      kind: "RoleBinding",
      namespace: "ci",
      name: "edit",
      reason: "remove the subject",
    });
    expect(changed(diff.lines)).toEqual(["-- kind: ServiceAccount", "-name: deployer", "-namespace: ci"]);
    expect(
      diff.lines.some((line) => line.text.includes("resourceVersion") || line.text.includes("uid")),
    ).toBe(false);
    expect(diff.lines.some((line) => line.type === "same" && line.text.includes("name: alice"))).toBe(true);
  });

  it("shows a created object as added and a deleted one as removed, whole", () => {
    expect(
      changeDiff({ op: "create", after: binding, reason: "new" }).lines.every(
        (line) => line.type === "added",
      ),
    ).toBe(true);
    const deleted = changeDiff({ op: "delete", before: binding, reason: "no other subject" });
    expect(deleted.lines.every((line) => line.type === "removed")).toBe(true);
    expect(deleted.lines.map((line) => line.text)).toContain("kind: RoleBinding");
  });

  it("applies a merge patch to show what it changes (an added annotation)", () => {
    const sa: ClusterObject = {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "deployer", namespace: "ci", annotations: { team: "ci" } },
    };
    const diff = changeDiff({
      op: "patch",
      before: sa,
      patch: { metadata: { annotations: { "keyward.io/last-reviewed": "2026-12-02" } } },
      reason: "mark reviewed",
    });
    expect(changed(diff.lines)).toEqual(["+keyward.io/last-reviewed: 2026-12-02"]);
  });
});
