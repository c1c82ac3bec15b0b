import { describe, expect, it } from "vitest";
import type { ClusterObject } from "@/lib/remediation/plan";
import { changeDiff, foldUnchanged, lineDiff } from "./change-diff";

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
type Lines = ReturnType<typeof changeDiff>["lines"];
const changed = (lines: Lines) =>
  lines.flatMap((line) =>
    line.type === "added"
      ? [`+${line.text.trim()}`]
      : line.type === "removed"
        ? [`-${line.text.trim()}`]
        : [],
  );
const texts = (lines: Lines) =>
  lines.map((line) => (line.type === "folded" ? `… ${line.count} unchanged` : line.text));

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

describe("foldUnchanged", () => {
  it("keeps the lines around each change and folds the rest, counting them", () => {
    const same = (text: string) => ({ type: "same" as const, text });
    const lines = [
      ...["a", "b", "c", "d", "e"].map(same),
      { type: "removed" as const, text: "x" },
      ...["f", "g", "h", "i", "j"].map(same),
    ];
    expect(foldUnchanged(lines, 2)).toEqual([
      { type: "folded", count: 3 },
      same("d"),
      same("e"),
      { type: "removed", text: "x" },
      same("f"),
      same("g"),
      { type: "folded", count: 3 },
    ]);
    expect(
      foldUnchanged(
        lines.filter((line) => line.type === "same"),
        2,
      ),
    ).toEqual([{ type: "folded", count: 10 }]);
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
    expect(texts(diff.lines).some((text) => text.includes("resourceVersion") || text.includes("uid"))).toBe(
      false,
    );
    // The unchanged head of the object is folded; the kept subject reads next to the removed one.
    expect(texts(diff.lines)).toEqual([
      "… 7 unchanged",
      "  kind: ClusterRole",
      "  name: edit",
      "subjects:",
      "  - kind: ServiceAccount",
      "    name: deployer",
      "    namespace: ci",
      "  - kind: User",
      "    name: alice",
    ]);
  });

  it("shows a created object as added and a deleted one as removed, whole", () => {
    expect(
      changeDiff({ op: "create", after: binding, reason: "new" }).lines.every(
        (line) => line.type === "added",
      ),
    ).toBe(true);
    const deleted = changeDiff({ op: "delete", before: binding, reason: "no other subject" });
    expect(deleted.lines.every((line) => line.type === "removed")).toBe(true);
    expect(texts(deleted.lines)).toContain("kind: RoleBinding");
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
