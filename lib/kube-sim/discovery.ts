import { RESOURCE_TYPES, groupVersion, groupVersions, type ResourceType } from "./resources";

export const KUBERNETES_VERSION = { major: "1", minor: "32", gitVersion: "v1.32.0-kube-sim" };

export function versionInfo(): Record<string, string> {
  return {
    ...KUBERNETES_VERSION,
    gitCommit: "0000000000000000000000000000000000000000",
    gitTreeState: "clean",
    buildDate: "2026-01-01T00:00:00Z",
    goVersion: "go1.23.0",
    compiler: "gc",
    platform: "linux/amd64",
  };
}

export function coreVersions(serverAddress: string): Record<string, unknown> {
  return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }] };
}

function apiGroup(group: string): Record<string, unknown> {
  const versions = groupVersions()
    .filter((gv) => gv.group === group)
    .map((gv) => ({ groupVersion: groupVersion(gv), version: gv.version }));
  return { name: group, versions, preferredVersion: versions[0] };
}

export function groupList(): Record<string, unknown> {
  const groups = [...new Set(groupVersions().map((gv) => gv.group))].filter((g) => g !== "");
  return { kind: "APIGroupList", apiVersion: "v1", groups: groups.map(apiGroup) };
}

export function groupDocument(group: string): Record<string, unknown> | undefined {
  if (!RESOURCE_TYPES.some((t) => t.group === group)) return undefined;
  return { kind: "APIGroup", apiVersion: "v1", ...apiGroup(group) };
}

/** Subresources that have their own kind in discovery. */
const SUBRESOURCE_KINDS: Record<string, { group?: string; version?: string; kind: string; verbs: string[] }> = {
  "serviceaccounts/token": { group: "authentication.k8s.io", version: "v1", kind: "TokenRequest", verbs: ["create"] },
  "certificatesigningrequests/approval": { kind: "CertificateSigningRequest", verbs: ["get", "patch", "update"] },
};

function resourceEntries(type: ResourceType): Array<Record<string, unknown>> {
  const main: Record<string, unknown> = {
    name: type.resource,
    singularName: type.singularName,
    namespaced: type.namespaced,
    kind: type.kind,
    verbs: type.verbs,
  };
  if (type.shortNames.length > 0) main.shortNames = type.shortNames;
  if (type.categories) main.categories = type.categories;
  const subresources = type.subresources.map((sub) => {
    const name = `${type.resource}/${sub}`;
    const special = SUBRESOURCE_KINDS[name];
    return {
      name,
      singularName: "",
      namespaced: type.namespaced,
      ...(special?.group ? { group: special.group, version: special.version } : {}),
      kind: special?.kind ?? type.kind,
      verbs: special?.verbs ?? ["get", "patch", "update"],
    };
  });
  return [main, ...subresources];
}

export function resourceList(group: string, version: string): Record<string, unknown> | undefined {
  const types = RESOURCE_TYPES.filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: groupVersion({ group, version }),
    resources: types.flatMap(resourceEntries),
  };
}
