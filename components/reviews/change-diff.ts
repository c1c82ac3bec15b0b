// A cluster change as the reviewer reads it: the object before and after, as YAML, line by line. Fields the API
// server maintains (resourceVersion, uid, managedFields...) are left out: they are the change's preconditions,
// not what it changes.
import { stringify } from "yaml";
import type { ClusterChange, ClusterObject } from "@/lib/remediation/plan";

export interface DiffLine {
  type: "same" | "added" | "removed";
  text: string;
}

/** Unchanged lines folded away, as `diff -U` does. */
export interface FoldedLines {
  type: "folded";
  count: number;
}

export interface ChangeDiff {
  op: ClusterChange["op"];
  kind: string;
  namespace: string;
  name: string;
  reason: string;
  lines: (DiffLine | FoldedLines)[];
}

const SERVER_FIELDS = [
  "resourceVersion",
  "uid",
  "creationTimestamp",
  "managedFields",
  "generation",
  "selfLink",
];
/** Unchanged lines kept around each change, so the change reads in its place. */
const CONTEXT_LINES = 3;
/** Beyond this many lines a side, the diff shows both sides whole instead of matching lines (quadratic). */
const MAX_MATCHED_LINES = 1500;

function shown(object: ClusterObject | null): string[] {
  if (!object) return [];
  const { apiVersion, kind, metadata, ...rest } = object;
  const kept = Object.fromEntries(Object.entries(metadata).filter(([key]) => !SERVER_FIELDS.includes(key)));
  // In the order kubectl shows an object, whatever order the plan built it in.
  return stringify({ apiVersion, kind, metadata: kept, ...rest })
    .trimEnd()
    .split("\n");
}

/** RFC 7386 JSON merge patch: what a patch change leaves of the object. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!patch || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> =
    target && typeof target === "object" && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** The lines of `before` and `after`, matched by their longest common subsequence. */
export function lineDiff(before: readonly string[], after: readonly string[]): DiffLine[] {
  if (before.length > MAX_MATCHED_LINES || after.length > MAX_MATCHED_LINES) {
    return [
      ...before.map((text) => ({ type: "removed" as const, text })),
      ...after.map((text) => ({ type: "added" as const, text })),
    ];
  }
  // common[i][j]: length of the longest common subsequence of before[i..] and after[j..].
  const common = Array.from({ length: before.length + 1 }, () => new Array<number>(after.length + 1).fill(0));
  for (let i = before.length - 1; i >= 0; i--) {
    for (let j = after.length - 1; j >= 0; j--) {
      common[i][j] =
        before[i] === after[j] ? common[i + 1][j + 1] + 1 : Math.max(common[i + 1][j], common[i][j + 1]);
    }
  }
  const lines: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < before.length || j < after.length) {
    if (i < before.length && j < after.length && before[i] === after[j]) {
      lines.push({ type: "same", text: before[i] });
      i++;
      j++;
    } else if (j < after.length && (i === before.length || common[i][j + 1] >= common[i + 1][j])) {
      lines.push({ type: "added", text: after[j++] });
    } else {
      lines.push({ type: "removed", text: before[i++] });
    }
  }
  return lines;
}

/** Keeps `context` unchanged lines around each change and folds the rest, so a change is never scrolled out of sight. */
export function foldUnchanged(
  lines: readonly DiffLine[],
  context = CONTEXT_LINES,
): (DiffLine | FoldedLines)[] {
  const near = lines.map(() => false);
  lines.forEach((line, index) => {
    if (line.type === "same") return;
    for (let at = Math.max(0, index - context); at <= Math.min(lines.length - 1, index + context); at++)
      near[at] = true;
  });
  const result: (DiffLine | FoldedLines)[] = [];
  for (const [index, line] of lines.entries()) {
    if (near[index]) result.push(line);
    else if (result.at(-1)?.type === "folded") (result.at(-1) as FoldedLines).count++;
    else result.push({ type: "folded", count: 1 });
  }
  return result;
}

export function changeDiff(change: ClusterChange): ChangeDiff {
  const object = change.op === "create" ? change.after : change.before;
  const after =
    change.op === "create" || change.op === "replace"
      ? change.after
      : change.op === "patch"
        ? (mergePatch(change.before, change.patch) as ClusterObject)
        : null;
  const before = change.op === "create" ? null : change.before;
  return {
    op: change.op,
    kind: object.kind,
    namespace: object.metadata.namespace ?? "",
    name: object.metadata.name,
    reason: change.reason,
    lines: foldUnchanged(lineDiff(shown(before), shown(after))),
  };
}
