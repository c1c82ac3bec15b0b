// Conversion rules and error paths for messages kubectl does not send in protobuf (other clients do, e.g.
// client-go with protobuf content type). Bodies are encoded here with protobufjs from the same schema, so
// these tests check the JSON conversion, not the field numbers: decode.test.ts checks those on real bytes.
import { readFile } from "node:fs/promises";
import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import { buildDescriptorJson, descriptorPath } from "./generate-descriptor";
import { decodeKubernetesProtobuf, isKubernetesProtobuf, supportedKinds } from "./index";
import { schemaRoot } from "./schema";
import { convertMessage } from "./to-json";

const meta = "k8s.io.apimachinery.pkg.apis.meta.v1";

function encode(messageName: string, object: Record<string, unknown>): Uint8Array {
  const type = schemaRoot.lookupType(messageName);
  return type.encode(type.fromObject(object)).finish();
}

function envelope(apiVersion: string, kind: string, raw: Uint8Array, contentEncoding = ""): Buffer {
  const unknown = encode("k8s.io.apimachinery.pkg.runtime.Unknown", {
    typeMeta: { apiVersion, kind },
    raw,
    contentEncoding,
    contentType: "",
  });
  return Buffer.concat([Buffer.from("k8s\0", "latin1"), unknown]);
}

function decodeAs(apiVersion: string, kind: string, messageName: string, object: Record<string, unknown>) {
  return decodeKubernetesProtobuf(envelope(apiVersion, kind, encode(messageName, object)));
}

describe("conversion to Kubernetes JSON", () => {
  it("drops zero values of non-pointer fields, which go-to-protobuf always writes", () => {
    const decoded = decodeAs(
      "authorization.k8s.io/v1",
      "SubjectAccessReview",
      "k8s.io.api.authorization.v1.SubjectAccessReview",
      {
        metadata: { name: "", generateName: "", namespace: "", generation: 0, creationTimestamp: {} },
        spec: {
          resourceAttributes: {
            namespace: "",
            verb: "delete",
            group: "apps",
            version: "",
            resource: "deployments",
            name: "",
          },
          user: "bob",
          groups: ["devs", "system:authenticated"],
          uid: "",
          extra: { "scopes.example.com": { items: ["read", "write"] } },
        },
        status: { allowed: false, denied: false, reason: "", evaluationError: "" },
      },
    );
    expect(decoded).toEqual({
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: {
        resourceAttributes: { verb: "delete", group: "apps", resource: "deployments" },
        user: "bob",
        groups: ["devs", "system:authenticated"],
        extra: { "scopes.example.com": ["read", "write"] },
      },
    });
  });

  it("keeps zero values of pointer fields that were sent (false, 0, empty structs)", () => {
    const decoded = decodeAs("v1", "ServiceAccount", "k8s.io.api.core.v1.ServiceAccount", {
      metadata: { name: "builder", namespace: "ci" },
      automountServiceAccountToken: false,
      secrets: [{ name: "builder-token", kind: "", namespace: "" }],
      imagePullSecrets: [{ name: "registry" }],
    });
    expect(decoded).toEqual({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "builder", namespace: "ci" },
      secrets: [{ name: "builder-token" }],
      imagePullSecrets: [{ name: "registry" }],
      automountServiceAccountToken: false,
    });
  });

  it("converts metadata: maps, owner references, RFC 3339 times and managed fields", () => {
    const decoded = decodeAs("v1", "Namespace", "k8s.io.api.core.v1.Namespace", {
      metadata: {
        name: "team",
        labels: { "kubernetes.io/metadata.name": "team" },
        annotations: { owner: "alice@example.com" },
        creationTimestamp: { seconds: 1704164645 },
        deletionTimestamp: { seconds: 1704164705, nanos: 0 },
        deletionGracePeriodSeconds: 0,
        ownerReferences: [
          {
            apiVersion: "v1",
            kind: "ConfigMap",
            name: "cm",
            uid: "u-1",
            controller: true,
            blockOwnerDeletion: false,
          },
        ],
        managedFields: [
          {
            manager: "kubectl-create",
            operation: "Update",
            apiVersion: "v1",
            time: { seconds: 1704164645 },
            fieldsType: "FieldsV1",
            fieldsV1: { Raw: Buffer.from('{"f:metadata":{"f:labels":{".":{}}}}') },
          },
        ],
        finalizers: ["example.com/cleanup"],
      },
      spec: { finalizers: ["kubernetes"] },
      status: { phase: "Terminating" },
    });
    expect(decoded).toEqual({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name: "team",
        creationTimestamp: "2024-01-02T03:04:05Z",
        deletionTimestamp: "2024-01-02T03:05:05Z",
        deletionGracePeriodSeconds: 0,
        labels: { "kubernetes.io/metadata.name": "team" },
        annotations: { owner: "alice@example.com" },
        ownerReferences: [
          {
            apiVersion: "v1",
            kind: "ConfigMap",
            name: "cm",
            uid: "u-1",
            controller: true,
            blockOwnerDeletion: false,
          },
        ],
        finalizers: ["example.com/cleanup"],
        managedFields: [
          {
            manager: "kubectl-create",
            operation: "Update",
            apiVersion: "v1",
            time: "2024-01-02T03:04:05Z",
            fieldsType: "FieldsV1",
            fieldsV1: { "f:metadata": { "f:labels": { ".": {} } } },
          },
        ],
      },
      spec: { finalizers: ["kubernetes"] },
      status: { phase: "Terminating" },
    });
  });

  it("converts a Pod's identity-relevant spec: service account, env from secrets, token volumes, quantities", () => {
    const decoded = decodeAs("v1", "Pod", "k8s.io.api.core.v1.Pod", {
      metadata: { name: "api", namespace: "shop" },
      spec: {
        serviceAccountName: "api-sa",
        automountServiceAccountToken: false,
        containers: [
          {
            name: "app",
            image: "registry.example.com/api:1.2",
            command: ["/bin/api"],
            args: ["--port", "8080"],
            env: [
              { name: "MODE", value: "prod" },
              {
                name: "DB_PASSWORD",
                valueFrom: { secretKeyRef: { localObjectReference: { name: "db" }, key: "password" } },
              },
            ],
            resources: { limits: { cpu: { string: "500m" }, memory: { string: "128Mi" } } },
            volumeMounts: [{ name: "token", mountPath: "/var/run/secrets/tokens", readOnly: true }],
            stdin: false,
          },
        ],
        volumes: [
          {
            name: "token",
            volumeSource: {
              projected: {
                sources: [
                  {
                    serviceAccountToken: { audience: "vault", expirationSeconds: 3600, path: "vault-token" },
                  },
                ],
              },
            },
          },
          { name: "scratch", volumeSource: { emptyDir: {} } },
          {
            name: "db",
            volumeSource: {
              secret: { secretName: "db", items: [{ key: "password", path: "pw", mode: 256 }] },
            },
          },
        ],
        hostNetwork: false,
      },
      status: {},
    });
    expect(decoded).toEqual({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "api", namespace: "shop" },
      spec: {
        volumes: [
          {
            name: "token",
            projected: {
              sources: [
                { serviceAccountToken: { audience: "vault", expirationSeconds: 3600, path: "vault-token" } },
              ],
            },
          },
          { name: "scratch", emptyDir: {} },
          { name: "db", secret: { secretName: "db", items: [{ key: "password", path: "pw", mode: 256 }] } },
        ],
        containers: [
          {
            name: "app",
            image: "registry.example.com/api:1.2",
            command: ["/bin/api"],
            args: ["--port", "8080"],
            env: [
              { name: "MODE", value: "prod" },
              { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } },
            ],
            resources: { limits: { cpu: "500m", memory: "128Mi" } },
            volumeMounts: [{ name: "token", readOnly: true, mountPath: "/var/run/secrets/tokens" }],
          },
        ],
        serviceAccountName: "api-sa",
        automountServiceAccountToken: false,
      },
    });
  });

  it("decodes DeleteOptions under any group version, keeping an explicit zero grace period", () => {
    const options = {
      gracePeriodSeconds: 0,
      preconditions: { uid: "u-1" },
      propagationPolicy: "Foreground",
      dryRun: ["All"],
    };
    for (const apiVersion of ["v1", "meta.k8s.io/v1", "rbac.authorization.k8s.io/v1"]) {
      expect(decodeAs(apiVersion, "DeleteOptions", `${meta}.DeleteOptions`, options)).toEqual({
        apiVersion,
        kind: "DeleteOptions",
        ...options,
      });
    }
  });

  it("decodes TokenReview and LocalSubjectAccessReview", () => {
    expect(
      decodeAs("authentication.k8s.io/v1", "TokenReview", "k8s.io.api.authentication.v1.TokenReview", {
        spec: { token: "eyJhbGciOi.x.y", audiences: ["https://kubernetes.default.svc"] },
      }),
    ).toEqual({
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenReview",
      spec: { token: "eyJhbGciOi.x.y", audiences: ["https://kubernetes.default.svc"] },
    });
    expect(
      decodeAs(
        "authorization.k8s.io/v1",
        "LocalSubjectAccessReview",
        "k8s.io.api.authorization.v1.LocalSubjectAccessReview",
        {
          metadata: { namespace: "shop" },
          spec: {
            resourceAttributes: { namespace: "shop", verb: "get", resource: "secrets" },
            user: "system:serviceaccount:shop:api",
          },
        },
      ),
    ).toEqual({
      apiVersion: "authorization.k8s.io/v1",
      kind: "LocalSubjectAccessReview",
      metadata: { namespace: "shop" },
      spec: {
        resourceAttributes: { namespace: "shop", verb: "get", resource: "secrets" },
        user: "system:serviceaccount:shop:api",
      },
    });
  });

  it("converts IntOrString to a number or a string, MicroTime to RFC 3339 with microseconds", () => {
    const intOrString = schemaRoot.lookupType("k8s.io.apimachinery.pkg.util.intstr.IntOrString");
    expect(convertMessage(intOrString, { type: 0, intVal: 8080 })).toBe(8080);
    expect(convertMessage(intOrString, { type: 1, strVal: "http" })).toBe("http");
    const microTime = schemaRoot.lookupType(`${meta}.MicroTime`);
    expect(convertMessage(microTime, { seconds: 1704164645, nanos: 123456789 })).toBe(
      "2024-01-02T03:04:05.123456Z",
    );
    expect(convertMessage(microTime, {})).toBeUndefined();
  });

  it("resolves a message for every supported kind", () => {
    for (const { apiVersion, kind } of supportedKinds) {
      const messageName = `k8s.io.api.${apiVersion === "v1" ? "core" : apiVersion.split(".")[0]}.v1.${kind}`;
      expect(decodeAs(apiVersion, kind, messageName, { metadata: { name: "n" } })).toEqual({
        apiVersion,
        kind,
        metadata: { name: "n" },
      });
    }
  });
});

describe("errors name what could not be decoded", () => {
  it("rejects a body without the k8s magic", () => {
    expect(() => decodeKubernetesProtobuf(Buffer.from('{"kind":"Namespace"}'))).toThrow(/k8s\\0/);
  });

  it("rejects kinds it has no schema for", () => {
    expect(() => decodeKubernetesProtobuf(envelope("apps/v1", "Deployment", new Uint8Array()))).toThrow(
      /apps\/v1 Deployment/,
    );
  });

  it("rejects compressed payloads", () => {
    const raw = encode("k8s.io.api.core.v1.Namespace", { metadata: { name: "z" } });
    expect(() => decodeKubernetesProtobuf(envelope("v1", "Namespace", raw, "gzip"))).toThrow(
      /v1 Namespace.*gzip/,
    );
  });

  it("rejects fields the trimmed schema lacks instead of dropping them, naming where they were", () => {
    const metadata = encode(`${meta}.ObjectMeta`, { name: "x" });
    // Field 15 was ObjectMeta.clusterName, removed upstream.
    const metadataWithUnknown = Buffer.concat([
      metadata,
      protobuf.Writer.create()
        .uint32((15 << 3) | 2)
        .string("c1")
        .finish(),
    ]);
    const serviceAccount = protobuf.Writer.create()
      .uint32((1 << 3) | 2)
      .bytes(metadataWithUnknown)
      .finish();
    expect(() => decodeKubernetesProtobuf(envelope("v1", "ServiceAccount", serviceAccount))).toThrow(
      /v1 ServiceAccount: ServiceAccount\.metadata has field number 15/,
    );
    const topLevelUnknown = protobuf.Writer.create()
      .uint32(99 << 3)
      .uint32(1)
      .finish();
    expect(() => decodeKubernetesProtobuf(envelope("v1", "Secret", topLevelUnknown))).toThrow(
      /v1 Secret: .*99/,
    );
  });
});

describe("isKubernetesProtobuf", () => {
  it("matches the protobuf media type with or without parameters", () => {
    expect(isKubernetesProtobuf("application/vnd.kubernetes.protobuf")).toBe(true);
    expect(isKubernetesProtobuf("Application/VND.Kubernetes.Protobuf; charset=binary")).toBe(true);
    expect(isKubernetesProtobuf("application/json")).toBe(false);
    expect(isKubernetesProtobuf("application/vnd.kubernetes.protobuf+json")).toBe(false);
    expect(isKubernetesProtobuf(undefined)).toBe(false);
  });
});

it("descriptor.generated.json matches the .proto files", async () => {
  // Compared as data, so that reformatting the committed JSON does not matter.
  expect(JSON.parse(await readFile(descriptorPath, "utf8"))).toEqual(JSON.parse(await buildDescriptorJson()));
});
