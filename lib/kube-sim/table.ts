import type { ResourceType } from "./resources";
import type { KubeObject } from "./types";

interface Column {
  name: string;
  type: string;
  format?: string;
  description: string;
  priority: number;
  cell: (obj: KubeObject, now: number) => unknown;
}

/** kubectl's short age format (k8s.io/apimachinery/pkg/util/duration.HumanDuration). */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 24 * 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (h < 24 * 365 * 2) return `${d}d`;
  const y = Math.floor(d / 365);
  if (h < 24 * 365 * 8) return d % 365 === 0 ? `${y}y` : `${y}y${d % 365}d`;
  return `${y}y`;
}

const field = (obj: KubeObject, ...path: string[]): unknown => {
  let v: unknown = obj;
  for (const p of path) v = v && typeof v === "object" ? (v as Record<string, unknown>)[p] : undefined;
  return v;
};

const nameColumn: Column = { name: "Name", type: "string", format: "name", description: "Name of the object", priority: 0, cell: (o) => o.metadata.name };
const ageColumn: Column = {
  name: "Age",
  type: "string",
  description: "Time since creation",
  priority: 0,
  cell: (o, now) => (o.metadata.creationTimestamp ? humanDuration((now - Date.parse(o.metadata.creationTimestamp)) / 1000) : "<unknown>"),
};
const createdAtColumn: Column = { name: "Created At", type: "date", description: "", priority: 0, cell: (o) => o.metadata.creationTimestamp };
const subjectsOf = (o: KubeObject, kind: string) =>
  ((o.subjects ?? []) as Array<{ kind?: string; name?: string; namespace?: string }>)
    .filter((s) => s.kind === kind)
    .map((s) => (kind === "ServiceAccount" ? `${s.namespace ?? ""}/${s.name}` : s.name))
    .join(", ");
const bindingColumns: Column[] = [
  nameColumn,
  { name: "Role", type: "string", description: "", priority: 0, cell: (o) => `${field(o, "roleRef", "kind")}/${field(o, "roleRef", "name")}` },
  ageColumn,
  { name: "Users", type: "string", description: "", priority: 1, cell: (o) => subjectsOf(o, "User") },
  { name: "Groups", type: "string", description: "", priority: 1, cell: (o) => subjectsOf(o, "Group") },
  { name: "ServiceAccounts", type: "string", description: "", priority: 1, cell: (o) => subjectsOf(o, "ServiceAccount") },
];

const COLUMNS: Record<string, Column[]> = {
  Namespace: [nameColumn, { name: "Status", type: "string", description: "", priority: 0, cell: (o) => field(o, "status", "phase") ?? "" }, ageColumn],
  ServiceAccount: [nameColumn, { name: "Secrets", type: "integer", description: "", priority: 0, cell: (o) => ((o.secrets as unknown[]) ?? []).length }, ageColumn],
  Secret: [
    nameColumn,
    { name: "Type", type: "string", description: "", priority: 0, cell: (o) => o.type ?? "" },
    { name: "Data", type: "integer", description: "", priority: 0, cell: (o) => Object.keys((o.data as object) ?? {}).length },
    ageColumn,
  ],
  Pod: [
    nameColumn,
    {
      name: "Ready",
      type: "string",
      description: "",
      priority: 0,
      cell: (o) => {
        const containers = (field(o, "spec", "containers") as unknown[] | undefined) ?? [];
        const ready = ((field(o, "status", "containerStatuses") as Array<{ ready?: boolean }> | undefined) ?? []).filter((c) => c.ready).length;
        return `${ready}/${containers.length}`;
      },
    },
    { name: "Status", type: "string", description: "", priority: 0, cell: (o) => field(o, "status", "phase") ?? "Pending" },
    { name: "Restarts", type: "string", description: "", priority: 0, cell: () => "0" },
    ageColumn,
    { name: "Service Account", type: "string", description: "", priority: 1, cell: (o) => field(o, "spec", "serviceAccountName") ?? "" },
  ],
  Role: [nameColumn, createdAtColumn],
  ClusterRole: [nameColumn, createdAtColumn],
  RoleBinding: bindingColumns,
  ClusterRoleBinding: bindingColumns,
  CertificateSigningRequest: [
    nameColumn,
    ageColumn,
    { name: "SignerName", type: "string", description: "", priority: 0, cell: (o) => field(o, "spec", "signerName") ?? "" },
    { name: "Requestor", type: "string", description: "", priority: 0, cell: (o) => field(o, "spec", "username") ?? "" },
    {
      name: "RequestedDuration",
      type: "string",
      description: "",
      priority: 0,
      cell: (o) => {
        const seconds = field(o, "spec", "expirationSeconds");
        return typeof seconds === "number" ? humanDuration(seconds) : "<none>";
      },
    },
    {
      name: "Condition",
      type: "string",
      description: "",
      priority: 0,
      cell: (o) => {
        const conditions = ((field(o, "status", "conditions") as Array<{ type: string }> | undefined) ?? []).map((c) => c.type);
        if ((field(o, "status", "certificate") as string | undefined) && conditions.includes("Approved")) conditions.push("Issued");
        return conditions.length > 0 ? conditions.join(",") : "Pending";
      },
    },
  ],
};

/** A meta.k8s.io/v1 Table, the server-side printing `kubectl get` asks for. */
export function toTable(type: ResourceType, objects: KubeObject[], listMetadata: Record<string, unknown>, includeObject: string): Record<string, unknown> {
  const columns = COLUMNS[type.kind] ?? [nameColumn, ageColumn];
  const now = Date.now();
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: listMetadata,
    columnDefinitions: columns.map(({ name, type: columnType, format, description, priority }) => ({ name, type: columnType, format: format ?? "", description, priority })),
    rows: objects.map((o) => ({
      cells: columns.map((c) => c.cell(o, now)),
      object:
        includeObject === "Object"
          ? o
          : includeObject === "None"
            ? undefined
            : { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata },
    })),
  };
}
