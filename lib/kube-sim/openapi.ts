import { createHash } from "node:crypto";
import { RESOURCE_TYPES, groupVersion, groupVersions, type ResourceType } from "./resources";

type Schema = Record<string, unknown>;

const META = "io.k8s.apimachinery.pkg.apis.meta.v1";
const string: Schema = { type: "string" };
const integer: Schema = { type: "integer", format: "int32" };
const int64: Schema = { type: "integer", format: "int64" };
const boolean: Schema = { type: "boolean" };
const time: Schema = { type: "string", format: "date-time" };
const stringMap: Schema = { type: "object", additionalProperties: { type: "string", default: "" } };
const stringList: Schema = { type: "array", items: { type: "string", default: "" } };
const freeForm: Schema = { type: "object", "x-kubernetes-preserve-unknown-fields": true };
const ref = (name: string): Schema => ({ allOf: [{ $ref: `#/components/schemas/${name}` }], default: {} });
const object = (properties: Record<string, Schema>, required?: string[], extra: Schema = {}): Schema => ({
  type: "object",
  properties,
  ...(required ? { required } : {}),
  ...extra,
});
/** A list merged by key in strategic merge patches (patchStrategy:"merge" patchMergeKey:<key>). */
const mergedList = (items: Schema, key: string, listType: "map" | "atomic" = "map"): Schema => ({
  type: "array",
  items,
  "x-kubernetes-patch-merge-key": key,
  "x-kubernetes-patch-strategy": "merge",
  ...(listType === "map" ? { "x-kubernetes-list-map-keys": [key], "x-kubernetes-list-type": "map" } : {}),
});
const atomicList = (items: Schema): Schema => ({ type: "array", items, "x-kubernetes-list-type": "atomic" });

function kind(type: { group: string; version: string; kind: string }, properties: Record<string, Schema>, required?: string[]): Schema {
  return object(
    { apiVersion: string, kind: string, metadata: ref(`${META}.ObjectMeta`), ...properties },
    required,
    { "x-kubernetes-group-version-kind": [{ group: type.group, version: type.version, kind: type.kind }] },
  );
}

const review = (group: string, kindName: string, spec: Schema, status: Schema): Schema =>
  kind({ group, version: "v1", kind: kindName }, { spec, status }, ["spec"]);

const resourceAttributes = object({ namespace: string, verb: string, group: string, version: string, resource: string, subresource: string, name: string });
const nonResourceAttributes = object({ path: string, verb: string });
const accessStatus = object({ allowed: boolean, denied: boolean, reason: string, evaluationError: string });
const userExtra: Schema = { type: "object", additionalProperties: stringList };
const container = object(
  {
    name: string,
    image: string,
    command: atomicList(string),
    args: atomicList(string),
    workingDir: string,
    ports: mergedList(object({ containerPort: integer, name: string, protocol: string, hostPort: integer, hostIP: string }), "containerPort"),
    env: mergedList(object({ name: string, value: string, valueFrom: freeForm }, ["name"]), "name"),
    envFrom: atomicList(freeForm),
    resources: freeForm,
    volumeMounts: mergedList(object({ name: string, mountPath: string, readOnly: boolean, subPath: string, subPathExpr: string, mountPropagation: string, recursiveReadOnly: string }), "mountPath"),
    imagePullPolicy: string,
    securityContext: freeForm,
    livenessProbe: freeForm,
    readinessProbe: freeForm,
    startupProbe: freeForm,
    lifecycle: freeForm,
    terminationMessagePath: string,
    terminationMessagePolicy: string,
    stdin: boolean,
    tty: boolean,
    restartPolicy: string,
  },
  ["name"],
);
const labelSelector = object({
  matchLabels: stringMap,
  matchExpressions: atomicList(object({ key: string, operator: string, values: atomicList(string) }, ["key", "operator"])),
});
const policyRule = object({
  verbs: atomicList(string),
  apiGroups: atomicList(string),
  resources: atomicList(string),
  resourceNames: atomicList(string),
  nonResourceURLs: atomicList(string),
}, ["verbs"]);
const subject = object({ kind: string, apiGroup: string, name: string, namespace: string }, ["kind", "name"]);
const roleRef = object({ apiGroup: string, kind: string, name: string }, ["apiGroup", "kind", "name"], { "x-kubernetes-map-type": "atomic" });

const t = (group: string, kindName: string) => ({ group, version: "v1", kind: kindName });
const rbacGroup = "rbac.authorization.k8s.io";

/** Schemas by OpenAPI name, with the patch metadata kubectl's strategic merge needs. */
export const SCHEMAS: Record<string, Schema> = {
  [`${META}.ObjectMeta`]: object({
    name: string,
    generateName: string,
    namespace: string,
    selfLink: string,
    uid: string,
    resourceVersion: string,
    generation: int64,
    creationTimestamp: time,
    deletionTimestamp: time,
    deletionGracePeriodSeconds: int64,
    labels: stringMap,
    annotations: stringMap,
    ownerReferences: mergedList(
      object({ apiVersion: string, kind: string, name: string, uid: string, controller: boolean, blockOwnerDeletion: boolean }, ["apiVersion", "kind", "name", "uid"], { "x-kubernetes-map-type": "atomic" }),
      "uid",
    ),
    finalizers: { type: "array", items: string, "x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "set" },
    managedFields: atomicList(freeForm),
  }),
  "io.k8s.api.core.v1.Namespace": kind(t("", "Namespace"), {
    spec: object({ finalizers: atomicList(string) }),
    status: object({ phase: string, conditions: mergedList(freeForm, "type") }),
  }),
  "io.k8s.api.core.v1.ServiceAccount": kind(t("", "ServiceAccount"), {
    secrets: mergedList(object({ apiVersion: string, kind: string, name: string, namespace: string, uid: string, resourceVersion: string, fieldPath: string }), "name", "atomic"),
    imagePullSecrets: atomicList(object({ name: string })),
    automountServiceAccountToken: boolean,
  }),
  "io.k8s.api.core.v1.Secret": kind(t("", "Secret"), {
    data: { type: "object", additionalProperties: { type: "string", format: "byte" } },
    stringData: stringMap,
    type: string,
    immutable: boolean,
  }),
  "io.k8s.api.core.v1.Pod": kind(t("", "Pod"), {
    spec: object(
      {
        containers: mergedList(container, "name"),
        initContainers: mergedList(container, "name"),
        ephemeralContainers: mergedList(freeForm, "name"),
        volumes: mergedList(object({ name: string }, ["name"], { "x-kubernetes-preserve-unknown-fields": true }), "name"),
        serviceAccountName: string,
        serviceAccount: string,
        automountServiceAccountToken: boolean,
        nodeName: string,
        nodeSelector: stringMap,
        restartPolicy: string,
        imagePullSecrets: mergedList(object({ name: string }), "name"),
        tolerations: atomicList(freeForm),
        hostAliases: mergedList(freeForm, "ip"),
      },
      ["containers"],
      { "x-kubernetes-preserve-unknown-fields": true },
    ),
    status: freeForm,
  }),
  "io.k8s.api.rbac.v1.Role": kind(t(rbacGroup, "Role"), { rules: atomicList(policyRule) }),
  "io.k8s.api.rbac.v1.ClusterRole": kind(t(rbacGroup, "ClusterRole"), {
    rules: atomicList(policyRule),
    aggregationRule: object({ clusterRoleSelectors: atomicList(labelSelector) }),
  }),
  "io.k8s.api.rbac.v1.RoleBinding": kind(t(rbacGroup, "RoleBinding"), { subjects: atomicList(subject), roleRef }, ["roleRef"]),
  "io.k8s.api.rbac.v1.ClusterRoleBinding": kind(t(rbacGroup, "ClusterRoleBinding"), { subjects: atomicList(subject), roleRef }, ["roleRef"]),
  "io.k8s.api.certificates.v1.CertificateSigningRequest": kind(
    t("certificates.k8s.io", "CertificateSigningRequest"),
    {
      spec: object(
        {
          request: { type: "string", format: "byte", "x-kubernetes-list-type": "atomic" },
          signerName: string,
          expirationSeconds: integer,
          usages: atomicList(string),
          username: string,
          uid: string,
          groups: atomicList(string),
          extra: userExtra,
        },
        ["request", "signerName"],
      ),
      status: object({
        conditions: mergedList(object({ type: string, status: string, reason: string, message: string, lastUpdateTime: time, lastTransitionTime: time }, ["type", "status"]), "type"),
        certificate: { type: "string", format: "byte", "x-kubernetes-list-type": "atomic" },
      }),
    },
    ["spec"],
  ),
  "io.k8s.api.authentication.v1.TokenRequest": kind(t("authentication.k8s.io", "TokenRequest"), {
    spec: object({ audiences: atomicList(string), expirationSeconds: int64, boundObjectRef: object({ kind: string, apiVersion: string, name: string, uid: string }) }),
    status: object({ token: string, expirationTimestamp: time }),
  }),
  "io.k8s.api.authorization.v1.SubjectAccessReview": review(
    "authorization.k8s.io",
    "SubjectAccessReview",
    object({ resourceAttributes, nonResourceAttributes, user: string, groups: atomicList(string), extra: userExtra, uid: string }),
    accessStatus,
  ),
  "io.k8s.api.authorization.v1.LocalSubjectAccessReview": review(
    "authorization.k8s.io",
    "LocalSubjectAccessReview",
    object({ resourceAttributes, nonResourceAttributes, user: string, groups: atomicList(string), extra: userExtra, uid: string }),
    accessStatus,
  ),
  "io.k8s.api.authorization.v1.SelfSubjectAccessReview": review("authorization.k8s.io", "SelfSubjectAccessReview", object({ resourceAttributes, nonResourceAttributes }), accessStatus),
  "io.k8s.api.authorization.v1.SelfSubjectRulesReview": review("authorization.k8s.io", "SelfSubjectRulesReview", object({ namespace: string }), freeForm),
  "io.k8s.api.authentication.v1.SelfSubjectReview": kind(t("authentication.k8s.io", "SelfSubjectReview"), { status: freeForm }),
  "io.k8s.api.authentication.v1.TokenReview": review("authentication.k8s.io", "TokenReview", object({ token: string, audiences: atomicList(string) }), freeForm),
};

function schemaNameFor(kindName: string): string | undefined {
  return Object.keys(SCHEMAS).find((name) => name.endsWith(`.${kindName}`) && name !== `${META}.ObjectMeta`);
}

function resolve(schema: Schema): Schema {
  const allOf = schema.allOf as Schema[] | undefined;
  const target = (allOf?.[0]?.$ref ?? schema.$ref) as string | undefined;
  return target ? SCHEMAS[target.replace("#/components/schemas/", "")] : schema;
}

/** Fields of `value` that the schema does not declare: what `fieldValidation=Strict` rejects. */
export function unknownFields(kindName: string, value: unknown): string[] {
  const name = schemaNameFor(kindName);
  if (!name) return [];
  const found: string[] = [];
  const walk = (schema: Schema, v: unknown, path: string) => {
    const s = resolve(schema);
    if (!s || v === null || typeof v !== "object") return;
    if (Array.isArray(v)) {
      if (s.items) v.forEach((item, i) => walk(s.items as Schema, item, `${path}[${i}]`));
      return;
    }
    const properties = s.properties as Record<string, Schema> | undefined;
    if (s.additionalProperties && typeof s.additionalProperties === "object") {
      for (const [k, child] of Object.entries(v)) walk(s.additionalProperties as Schema, child, `${path}.${k}`);
      return;
    }
    if (!properties) return;
    for (const [k, child] of Object.entries(v)) {
      const childPath = path ? `${path}.${k}` : k;
      if (properties[k]) walk(properties[k], child, childPath);
      else if (!s["x-kubernetes-preserve-unknown-fields"]) found.push(childPath);
    }
  };
  walk(SCHEMAS[name], value, "");
  return found;
}

const queryParameter = (name: string): Schema => ({ name, in: "query", schema: { type: "string", uniqueItems: true } });
const writeParameters = [queryParameter("dryRun"), queryParameter("fieldManager"), queryParameter("fieldValidation")];
const PATCH_TYPES = ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"];

function pathsFor(type: ResourceType): Record<string, Schema> {
  const schemaName = schemaNameFor(type.kind);
  const body = schemaName ? { $ref: `#/components/schemas/${schemaName}` } : freeForm;
  const gvk = { group: type.group, version: type.version, kind: type.kind };
  const operation = (verb: string, extra: Schema = {}): Schema => ({
    operationId: `${verb}${type.kind}`,
    "x-kubernetes-action": verb,
    "x-kubernetes-group-version-kind": gvk,
    responses: { "200": { description: "OK", content: { "application/json": { schema: body } } } },
    ...extra,
  });
  const prefix = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
  const collection = `${prefix}${type.namespaced ? "/namespaces/{namespace}" : ""}/${type.resource}`;
  const jsonBody = { requestBody: { content: { "application/json": { schema: body } }, required: true } };
  if (type.virtual) return { [collection]: { post: operation("post", { ...jsonBody, parameters: writeParameters }) } };
  return {
    [collection]: {
      get: operation("list"),
      post: operation("post", { ...jsonBody, parameters: writeParameters }),
      delete: operation("deletecollection"),
    },
    [`${collection}/{name}`]: {
      get: operation("get"),
      put: operation("put", { ...jsonBody, parameters: writeParameters }),
      patch: operation("patch", {
        parameters: [...writeParameters, queryParameter("force")],
        requestBody: { content: Object.fromEntries(PATCH_TYPES.map((p) => [p, { schema: { type: "object" } }])), required: true },
      }),
      delete: operation("delete", { parameters: [queryParameter("dryRun")] }),
    },
  };
}

function documentFor(group: string, version: string): Schema {
  const paths = Object.assign({}, ...RESOURCE_TYPES.filter((t) => t.group === group && t.version === version).map(pathsFor));
  return { openapi: "3.0.0", info: { title: "Kubernetes", version: "v1.32.0" }, paths, components: { schemas: SCHEMAS } };
}

const documents = new Map<string, { json: string; hash: string }>();
for (const gv of groupVersions()) {
  const json = JSON.stringify(documentFor(gv.group, gv.version));
  const path = gv.group ? `apis/${groupVersion(gv)}` : `api/${gv.version}`;
  documents.set(path, { json, hash: createHash("sha512").update(json).digest("hex").slice(0, 128).toUpperCase() });
}

export function openApiIndex(): Record<string, unknown> {
  return {
    paths: Object.fromEntries([...documents].map(([path, doc]) => [path, { serverRelativeURL: `/openapi/v3/${path}?hash=${doc.hash}` }])),
  };
}

/** The serialized OpenAPI v3 document for `api/v1` or `apis/<group>/<version>`. */
export function openApiDocument(path: string): string | undefined {
  return documents.get(path)?.json;
}
