import { StatusError, errors } from "./status";

/** One parsed requirement of a label selector (the subset `kubectl -l` and client libraries send). */
export type LabelRequirement =
  | { key: string; op: "=" | "!="; value: string }
  | { key: string; op: "in" | "notin"; values: string[] }
  | { key: string; op: "exists" | "!" };

export type Labels = Record<string, string> | undefined;

const setPattern = /^\s*([^\s!=(),]+)\s+(in|notin)\s+\(([^)]*)\)\s*$/;
const equalityPattern = /^\s*([^\s!=(),]+)\s*(==|=|!=)\s*([^\s,]*)\s*$/;
const existsPattern = /^\s*(!?)\s*([^\s!=(),]+)\s*$/;

/** Splits on commas that are not inside `( … )` (set-based values contain commas). */
function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      parts.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(selector.slice(start));
  return parts.filter((p) => p.trim() !== "");
}

export function parseLabelSelector(selector: string | null | undefined): LabelRequirement[] {
  if (!selector) return [];
  return splitTopLevel(selector).map((part): LabelRequirement => {
    let m = setPattern.exec(part);
    if (m) {
      const values = m[3]
        .split(",")
        .map((v) => v.trim())
        .filter((v) => v !== "");
      return { key: m[1], op: m[2] as "in" | "notin", values };
    }
    m = equalityPattern.exec(part);
    if (m) return { key: m[1], op: m[2] === "!=" ? "!=" : "=", value: m[3] };
    m = existsPattern.exec(part);
    if (m) return { key: m[2], op: m[1] ? "!" : "exists" };
    throw errors.badRequest(`unable to parse requirement: ${JSON.stringify(part.trim())}`);
  });
}

export function matchesLabels(requirements: LabelRequirement[], labels: Labels): boolean {
  for (const r of requirements) {
    const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
    const value = has ? labels![r.key] : undefined;
    switch (r.op) {
      case "=":
        if (value !== r.value) return false;
        break;
      case "!=":
        if (value === r.value) return false;
        break;
      case "in":
        if (!has || !r.values.includes(value!)) return false;
        break;
      case "notin":
        if (has && r.values.includes(value!)) return false;
        break;
      case "exists":
        if (!has) return false;
        break;
      case "!":
        if (has) return false;
        break;
    }
  }
  return true;
}

export interface FieldRequirement {
  field: string;
  op: "=" | "!=";
  value: string;
}

export function parseFieldSelector(selector: string | null | undefined, supported: (field: string) => boolean): FieldRequirement[] {
  if (!selector) return [];
  return selector
    .split(",")
    .filter((p) => p.trim() !== "")
    .map((part) => {
      const m = /^\s*([^\s!=]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(part);
      if (!m) throw errors.badRequest(`invalid selector: '${selector}'; can't understand '${part}'`);
      if (!supported(m[1])) throw new StatusError(400, "BadRequest", `field label not supported: ${m[1]}`);
      return { field: m[1], op: m[2] === "!=" ? "!=" : "=", value: m[3] } satisfies FieldRequirement;
    });
}

export function matchesFields(requirements: FieldRequirement[], read: (field: string) => string | undefined): boolean {
  for (const r of requirements) {
    const value = read(r.field) ?? "";
    if (r.op === "=" ? value !== r.value : value === r.value) return false;
  }
  return true;
}
