import { errors } from "./status";

type Json = unknown;
type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function decodePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw errors.badRequest(`invalid JSON pointer: ${pointer}`);
  return pointer
    .slice(1)
    .split("/")
    .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function resolveParent(doc: Json, tokens: string[], op: string): { parent: JsonObject | Json[]; key: string } {
  let current = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(current)) current = current[Number(token)];
    else if (isObject(current)) current = current[token];
    else current = undefined;
    if (current === undefined) throw errors.unprocessable(`doc is missing path: ${tokens.join("/")}: missing value`, op);
  }
  if (!Array.isArray(current) && !isObject(current)) throw errors.unprocessable(`doc is missing path: ${tokens.join("/")}`, op);
  return { parent: current, key: tokens[tokens.length - 1] };
}

function getAt(doc: Json, pointer: string): Json {
  let current = doc;
  for (const token of decodePointer(pointer)) {
    if (Array.isArray(current)) current = current[Number(token)];
    else if (isObject(current)) current = current[token];
    else return undefined;
  }
  return current;
}

function removeAt(doc: Json, pointer: string, op: string): Json {
  const tokens = decodePointer(pointer);
  const { parent, key } = resolveParent(doc, tokens, op);
  if (Array.isArray(parent)) {
    const index = Number(key);
    if (!(index >= 0 && index < parent.length)) throw errors.unprocessable(`Unable to remove nonexistent key: ${key}`, op);
    return parent.splice(index, 1)[0];
  }
  if (!(key in parent)) throw errors.unprocessable(`Unable to remove nonexistent key: ${key}: missing value`, op);
  const removed = parent[key];
  delete parent[key];
  return removed;
}

function addAt(doc: Json, pointer: string, value: Json, op: string, replace: boolean): Json {
  const tokens = decodePointer(pointer);
  if (tokens.length === 0) return clone(value);
  const { parent, key } = resolveParent(doc, tokens, op);
  if (Array.isArray(parent)) {
    const index = key === "-" ? parent.length : Number(key);
    if (!(index >= 0 && index <= parent.length)) throw errors.unprocessable(`add operation does not apply: index out of bounds: ${key}`, op);
    if (replace) parent[index] = clone(value);
    else parent.splice(index, 0, clone(value));
  } else {
    if (replace && !(key in parent)) throw errors.unprocessable(`replace operation does not apply: doc is missing key: ${pointer}: missing value`, op);
    parent[key] = clone(value);
  }
  return doc;
}

/** RFC 6902 JSON patch. */
export function jsonPatch(target: Json, operations: unknown): Json {
  if (!Array.isArray(operations)) throw errors.badRequest("json patch must be an array of operations");
  let doc = clone(target);
  for (const raw of operations) {
    if (!isObject(raw) || typeof raw.op !== "string" || typeof raw.path !== "string") throw errors.badRequest("invalid json patch operation");
    const { op, path } = raw;
    switch (op) {
      case "add":
        doc = addAt(doc, path, raw.value, op, false);
        break;
      case "replace":
        doc = addAt(doc, path, raw.value, op, true);
        break;
      case "remove":
        removeAt(doc, path, op);
        break;
      case "move": {
        const value = removeAt(doc, String(raw.from), op);
        doc = addAt(doc, path, value, op, false);
        break;
      }
      case "copy":
        doc = addAt(doc, path, getAt(doc, String(raw.from)), op, false);
        break;
      case "test":
        if (JSON.stringify(getAt(doc, path)) !== JSON.stringify(raw.value)) throw errors.unprocessable(`testing value ${path} failed`, op);
        break;
      default:
        throw errors.badRequest(`Unexpected kind: ${op}`);
    }
  }
  return doc;
}

/**
 * Merge keys of the lists in the kinds the simulator serves (from k8s.io/api's patchMergeKey tags).
 * Lists not named here are replaced wholesale, like `rules` and `subjects` in RBAC objects.
 */
export const PATCH_MERGE_KEYS: Record<string, string> = {
  containers: "name",
  initContainers: "name",
  ephemeralContainers: "name",
  volumes: "name",
  env: "name",
  ports: "containerPort",
  volumeMounts: "mountPath",
  volumeDevices: "devicePath",
  imagePullSecrets: "name",
  secrets: "name",
  ownerReferences: "uid",
  conditions: "type",
  tolerations: "key",
  hostAliases: "ip",
  resourceClaims: "name",
};

/** Primitive lists merged as sets (patchStrategy "merge" without a key). */
const MERGED_PRIMITIVE_LISTS = new Set(["finalizers"]);

/** Kubernetes strategic merge patch, for the list semantics of the kinds served here. */
export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  if (patch.$patch === "replace") {
    const { $patch: _directive, ...rest } = patch;
    void _directive;
    return clone(rest);
  }
  if (patch.$patch === "delete") return undefined;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === "$patch" || key === "$retainKeys" || key.startsWith("$setElementOrder/")) continue;
    if (key.startsWith("$deleteFromPrimitiveList/")) {
      const field = key.slice("$deleteFromPrimitiveList/".length);
      const current = result[field];
      if (Array.isArray(current) && Array.isArray(value)) result[field] = current.filter((v) => !value.includes(v));
      continue;
    }
    if (value === null) {
      delete result[key];
      continue;
    }
    const current = result[key];
    if (Array.isArray(value)) {
      result[key] = mergeList(key, Array.isArray(current) ? current : [], value);
      continue;
    }
    if (isObject(value)) {
      const merged = strategicMergePatch(current, value);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
      continue;
    }
    result[key] = value;
  }
  return result;
}

function mergeList(field: string, current: Json[], patch: Json[]): Json[] {
  const mergeKey = PATCH_MERGE_KEYS[field];
  const replaceDirective = patch.find((item) => isObject(item) && item.$patch === "replace" && Object.keys(item).length === 1);
  if (replaceDirective) return clone(patch.filter((item) => item !== replaceDirective));
  if (MERGED_PRIMITIVE_LISTS.has(field)) return [...current, ...patch.filter((v) => !current.includes(v))];
  if (!mergeKey) return clone(patch);
  const result = current.map((item) => clone(item));
  for (const item of patch) {
    if (!isObject(item)) continue;
    const index = result.findIndex((existing) => isObject(existing) && existing[mergeKey] === item[mergeKey]);
    if (item.$patch === "delete") {
      if (index >= 0) result.splice(index, 1);
      continue;
    }
    if (index >= 0) result[index] = strategicMergePatch(result[index], item);
    else result.push(strategicMergePatch({}, item));
  }
  return result;
}
