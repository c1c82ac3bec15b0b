// Converts a decoded Kubernetes protobuf message to the JSON object the API server would accept for it:
// Go json names, RFC 3339 times, base64 bytes, IntOrString/Quantity as scalars, and zero values of
// non-pointer Go fields omitted (go-to-protobuf writes those unconditionally, JSON's omitempty does not).
import protobuf from "protobufjs";

export type JsonValue = string | number | boolean | JsonValue[] | { [key: string]: JsonValue };
type JsonObject = { [key: string]: JsonValue };

const meta = ".k8s.io.apimachinery.pkg.apis.meta.v1";

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function hasField(message: Record<string, unknown>, name: string): boolean {
  return (
    Object.prototype.hasOwnProperty.call(message, name) &&
    message[name] !== undefined &&
    message[name] !== null
  );
}

/** Go's time.RFC3339 (whole seconds) or RFC3339Micro, both in UTC like metav1.Time's JSON marshalling. */
function formatTime(message: Record<string, unknown>, precision: "seconds" | "micros"): string | undefined {
  // An empty Time message is Go's zero time, which metav1.Time marshals as JSON null.
  if (!hasField(message, "seconds") && !hasField(message, "nanos")) return undefined;
  const seconds = Number(message.seconds ?? 0);
  const nanos = Number(message.nanos ?? 0);
  const iso = new Date(seconds * 1000).toISOString().slice(0, 19);
  if (precision === "seconds") return `${iso}Z`;
  return `${iso}.${String(Math.floor(nanos / 1000)).padStart(6, "0")}Z`;
}

/** Messages whose JSON form is not an object of their fields. */
function convertSpecial(
  type: protobuf.Type,
  message: Record<string, unknown>,
): { value: JsonValue | undefined } | undefined {
  switch (type.fullName) {
    case `${meta}.Time`:
      return { value: formatTime(message, "seconds") };
    case `${meta}.MicroTime`:
      return { value: formatTime(message, "micros") };
    case `${meta}.FieldsV1`: {
      const raw = typeof message.Raw === "string" ? Buffer.from(message.Raw, "base64").toString("utf8") : "";
      return { value: raw === "" ? undefined : (JSON.parse(raw) as JsonValue) };
    }
    case ".k8s.io.apimachinery.pkg.util.intstr.IntOrString":
      return {
        value: Number(message.type ?? 0) === 1 ? String(message.strVal ?? "") : Number(message.intVal ?? 0),
      };
    case ".k8s.io.apimachinery.pkg.api.resource.Quantity":
      return { value: String(message.string ?? "") };
  }
  // Every group's ExtraValue is a `[]string` in Go, so a bare JSON array.
  if (type.name === "ExtraValue") {
    return { value: Array.isArray(message.items) ? message.items.map(String) : [] };
  }
  return undefined;
}

function convertValue(field: protobuf.Field, value: unknown): JsonValue | undefined {
  const valueType = field.resolvedType;
  if (valueType instanceof protobuf.Type) {
    if (!isPlainObject(value)) throw new Error(`field ${field.name} is not a message`);
    return convertMessage(valueType, value);
  }
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  throw new Error(`field ${field.name} has an unexpected value`);
}

function isZero(value: JsonValue | undefined): boolean {
  if (value === undefined || value === "" || value === 0 || value === false) return true;
  if (Array.isArray(value)) return value.length === 0;
  return isPlainObject(value) && Object.keys(value).length === 0;
}

/**
 * `message` is the protobufjs plain object of a decoded message (`Type.toObject` with longs as numbers and
 * bytes as base64 strings), holding only the fields present on the wire.
 */
export function convertMessage(type: protobuf.Type, message: Record<string, unknown>): JsonValue | undefined {
  const special = convertSpecial(type, message);
  if (special) return special.value;

  const json: JsonObject = {};
  for (const field of type.fieldsArray) {
    if (!hasField(message, field.name)) continue;
    const raw = message[field.name];
    const options = field.options ?? {};
    const jsonName = typeof options.json_name === "string" ? options.json_name : field.name;

    if (field.map) {
      if (!isPlainObject(raw)) throw new Error(`field ${field.name} is not a map`);
      const entries: JsonObject = {};
      for (const [key, entry] of Object.entries(raw)) {
        const converted = convertValue(field, entry);
        if (converted !== undefined) entries[key] = converted;
      }
      if (Object.keys(entries).length > 0) json[jsonName] = entries;
      continue;
    }
    if (field.repeated) {
      if (!Array.isArray(raw)) throw new Error(`field ${field.name} is not a list`);
      const items = raw.map((item) => convertValue(field, item)).filter((item) => item !== undefined);
      if (items.length > 0) json[jsonName] = items;
      continue;
    }

    const converted = convertValue(field, raw);
    if (options["(json_inline)"] === true) {
      if (isPlainObject(converted)) Object.assign(json, converted);
      continue;
    }
    // A present pointer field was set by the client, so its zero value (false, 0, {}) is meaningful.
    const keepZero = options["(go_pointer)"] === true && converted !== undefined;
    if (keepZero || !isZero(converted)) json[jsonName] = converted as JsonValue;
  }
  return json;
}

/**
 * Throws when the encoded message carries a field number the trimmed schema does not define, so that no
 * data the client sent is silently dropped (protobufjs skips unknown fields).
 */
export function assertFieldsKnown(type: protobuf.Type, bytes: Uint8Array, path: string): void {
  const reader = protobuf.Reader.create(bytes);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const fieldNumber = tag >>> 3;
    const wireType = tag & 7;
    const field = type.fieldsById[fieldNumber];
    if (!field)
      throw new Error(`${path} has field number ${fieldNumber}, which ${type.name} does not define here`);
    const fieldPath = `${path}.${field.options?.json_name ?? field.name}`;
    const valueType = field.resolvedType;
    if (wireType !== 2 || !(field.map || valueType instanceof protobuf.Type)) {
      reader.skipType(wireType);
      continue;
    }
    const nested = reader.bytes();
    if (!field.map) {
      assertFieldsKnown(valueType as protobuf.Type, nested, fieldPath);
    } else if (valueType instanceof protobuf.Type) {
      assertMapEntryKnown(valueType, nested, fieldPath);
    }
  }
}

/** A map entry is a message with the key as field 1 and the value as field 2. */
function assertMapEntryKnown(valueType: protobuf.Type, entry: Uint8Array, path: string): void {
  const reader = protobuf.Reader.create(entry);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    if (tag >>> 3 === 2 && wireType === 2) assertFieldsKnown(valueType, reader.bytes(), `${path}[]`);
    else if (tag >>> 3 === 1) reader.skipType(wireType);
    else throw new Error(`${path} has a map entry with field number ${tag >>> 3}`);
  }
}
