// Decodes the Kubernetes protobuf request bodies that kubectl sends for typed commands
// (`Content-Type: application/vnd.kubernetes.protobuf`) into the equivalent JSON object.
import type protobuf from "protobufjs";
import { messageNameFor } from "./kinds";
import { schemaRoot } from "./schema";
import { assertFieldsKnown, convertMessage, type JsonValue } from "./to-json";

export { supportedKinds } from "./kinds";
export type { JsonValue } from "./to-json";

export const kubernetesProtobufContentType = "application/vnd.kubernetes.protobuf";

/** The 4 bytes "k8s\0" that start every Kubernetes protobuf body, before the runtime.Unknown envelope. */
const magic = Uint8Array.from([0x6b, 0x38, 0x73, 0x00]);

const unknownEnvelope = schemaRoot.lookupType("k8s.io.apimachinery.pkg.runtime.Unknown");

export function isKubernetesProtobuf(contentType: string | undefined): boolean {
  const mediaType = contentType?.split(";")[0]?.trim().toLowerCase();
  return mediaType === kubernetesProtobufContentType;
}

function decodeMessage(type: protobuf.Type, bytes: Uint8Array, label: string): Record<string, unknown> {
  assertFieldsKnown(type, bytes, label);
  const decoded = type.decode(bytes);
  return type.toObject(decoded, { longs: Number, bytes: String });
}

/**
 * The object exactly as the equivalent JSON request body would carry it: apiVersion, kind, metadata, spec…
 * Throws an Error naming the apiVersion/kind when the body is not a Kubernetes protobuf object this
 * decoder understands, or carries a field it does not know.
 */
export function decodeKubernetesProtobuf(body: Buffer | Uint8Array): Record<string, unknown> {
  const bytes = body instanceof Uint8Array ? body : Uint8Array.from(body);
  if (bytes.length < magic.length || magic.some((byte, index) => bytes[index] !== byte)) {
    throw new Error('Kubernetes protobuf body must start with the bytes "k8s\\0"');
  }
  let envelope: Record<string, unknown>;
  try {
    envelope = decodeMessage(unknownEnvelope, bytes.subarray(magic.length), "runtime.Unknown");
  } catch (error) {
    throw new Error(`Kubernetes protobuf envelope is malformed: ${(error as Error).message}`);
  }
  const typeMeta = (envelope.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const apiVersion = typeMeta.apiVersion ?? "";
  const kind = typeMeta.kind ?? "";
  const label = `${apiVersion || "<no apiVersion>"} ${kind || "<no kind>"}`;
  if (envelope.contentEncoding) {
    throw new Error(
      `Cannot decode ${label}: content encoding "${String(envelope.contentEncoding)}" is not supported`,
    );
  }
  const messageName = messageNameFor(apiVersion, kind);
  if (!messageName) throw new Error(`Cannot decode ${label}: this kind is not supported in protobuf`);

  const type = schemaRoot.lookupType(messageName);
  const raw = typeof envelope.raw === "string" ? Buffer.from(envelope.raw, "base64") : new Uint8Array();
  let object: JsonValue | undefined;
  try {
    object = convertMessage(type, decodeMessage(type, raw, kind));
  } catch (error) {
    throw new Error(`Cannot decode ${label}: ${(error as Error).message}`);
  }
  return { apiVersion, kind, ...(object as Record<string, JsonValue>) };
}
