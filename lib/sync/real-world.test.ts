// Every real-world RBAC manifest in shared/fixtures, loaded into the simulator with the real kubectl, synced
// with only the read-only identity from deploy/, and counted against what kubectl lists.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeConfig } from "@kubernetes/client-node";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments, stringify } from "yaml";
import { startKubeSim, type KubeSim } from "@/lib/kube-sim";
import { setupTestDatabase } from "@/lib/testing/database";
import { registerCluster } from "@/lib/clusters/register-cluster";
import { issueSyncToken } from "@/lib/demo/connect-cluster";
import { syncCluster } from "./sync-cluster";

const FIXTURES = path.resolve(import.meta.dirname, "../../../shared/fixtures/real-world/rbac");
// The kinds Keyward inventories from these manifests (Deployments, CRDs and the like are not RBAC objects).
const INVENTORIED_KINDS = new Set([
  "ServiceAccount",
  "Role",
  "ClusterRole",
  "RoleBinding",
  "ClusterRoleBinding",
]);
const NAMESPACED_KINDS = new Set(["ServiceAccount", "Role", "RoleBinding"]);

process.env.KEYWARD_SECRET_KEY = randomBytes(32).toString("base64");
const db = setupTestDatabase();
const run = promisify(execFile);
let sim: KubeSim;
let dir: string;
let adminKubeconfig: string;
let clusterId: string;

beforeAll(async () => {
  sim = await startKubeSim({ port: 0 });
  dir = await mkdtemp(path.join(tmpdir(), "keyward-real-world-"));
  adminKubeconfig = path.join(dir, "admin.kubeconfig");
  await writeFile(adminKubeconfig, sim.adminKubeconfig());
  const admin = new KubeConfig();
  admin.loadFromString(sim.adminKubeconfig());
  const token = await issueSyncToken(admin, 3600);
  ({ id: clusterId } = await registerCluster({
    name: "real-world",
    apiServerUrl: sim.url,
    caCertPem: sim.caPem,
    sync: { type: "token", token },
  }));
});
afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const kubectl = (...args: string[]) =>
  run("kubectl", ["--kubeconfig", adminKubeconfig, ...args], {
    timeout: 120_000,
    maxBuffer: 256 * 1024 * 1024,
  });

type ManifestObject = Record<string, unknown> & {
  kind: string;
  metadata: { name: string; namespace?: string };
  subjects?: Array<{ kind: string; namespace?: string }>;
};

/**
 * The objects of a group of fixture files, their namespaces first. As the fixtures' README asks, namespaced
 * objects (and service account subjects) without a namespace go to the add-on's namespace (the file name).
 */
async function objectsOf(files: string[]): Promise<ManifestObject[]> {
  const namespaces = new Set<string>();
  const objects: ManifestObject[] = [];
  for (const file of files) {
    const addOn = file.replace(/\.ya?ml$/, "");
    for (const document of parseAllDocuments(await readFile(path.join(FIXTURES, file), "utf8"))) {
      const object = document.toJS() as ManifestObject | null;
      if (!object || !INVENTORIED_KINDS.has(object.kind) || !object.metadata?.name) continue;
      if (NAMESPACED_KINDS.has(object.kind)) {
        object.metadata.namespace ??= addOn;
        namespaces.add(object.metadata.namespace);
      } else {
        delete object.metadata.namespace;
      }
      for (const subject of object.subjects ?? []) {
        if (subject.kind === "ServiceAccount") subject.namespace ??= addOn;
      }
      objects.push(object);
    }
  }
  const namespaceObjects = [...namespaces].map((name) => ({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name },
  }));
  return [...namespaceObjects, ...objects];
}

/** Written as YAML 1.1, which kubectl reads: there an unquoted `yes` or `on` would be a boolean, so they get quoted. */
const asManifest = (objects: ManifestObject[]) =>
  objects.map((object) => stringify(object, { version: "1.1" })).join("---\n");

const LISTED = ["serviceaccounts", "roles", "clusterroles", "rolebindings", "clusterrolebindings"] as const;

/** What kubectl lists, per resource, in one call. */
async function kubectlCounts(): Promise<Record<(typeof LISTED)[number], number>> {
  const { stdout } = await kubectl("get", LISTED.join(","), "-A", "-o", "json");
  const items = (JSON.parse(stdout) as { items: Array<{ kind: string }> }).items;
  const count = (kind: string) => items.filter((item) => item.kind === kind).length;
  return {
    serviceaccounts: count("ServiceAccount"),
    roles: count("Role"),
    clusterroles: count("ClusterRole"),
    rolebindings: count("RoleBinding"),
    clusterrolebindings: count("ClusterRoleBinding"),
  };
}

async function expectSyncMatchesKubectl(): Promise<Record<string, number>> {
  const outcome = await syncCluster(clusterId, "manual");
  if (!outcome.ok) throw new Error(outcome.error);
  const alive = { clusterId, deletedAt: null };
  const ours = {
    serviceaccounts: await db.prisma.identity.count({ where: { ...alive, kind: "ServiceAccount" } }),
    roles: await db.prisma.rbacRole.count({ where: { ...alive, kind: "Role" } }),
    clusterroles: await db.prisma.rbacRole.count({ where: { ...alive, kind: "ClusterRole" } }),
    rolebindings: await db.prisma.rbacBinding.count({ where: { ...alive, kind: "RoleBinding" } }),
    clusterrolebindings: await db.prisma.rbacBinding.count({
      where: { ...alive, kind: "ClusterRoleBinding" },
    }),
  };
  const theirs = await kubectlCounts();
  expect(ours).toEqual(theirs);
  expect(outcome.counts).toMatchObject(theirs);
  return theirs;
}

describe("real-world RBAC manifests, loaded with kubectl and synced", async () => {
  const files = (await readdir(FIXTURES)).filter((file) => /\.ya?ml$/.test(file)).sort();
  const groups = [0, 1].map((g) => files.filter((_, index) => index % 2 === g));

  it.each(groups.map((group, index) => [index + 1, group] as const))(
    "group %i: counts match what kubectl lists",
    async (_, group) => {
      const before = await db.prisma.rbacRole.count({
        where: { clusterId, kind: "ClusterRole", deletedAt: null },
      });
      const manifest = path.join(dir, `group-${before}.yaml`);
      await writeFile(manifest, asManifest(await objectsOf(group)));
      await kubectl("apply", "--server-side", "--force-conflicts", "-f", manifest);
      const counts = await expectSyncMatchesKubectl();
      expect(counts.clusterroles).toBeGreaterThan(before);
    },
  );

  it("every add-on's service accounts and bindings are in the inventory", async () => {
    const allObjects = await objectsOf(files);
    const serviceAccounts = allObjects.filter((o) => o.kind === "ServiceAccount");
    expect(serviceAccounts.length).toBeGreaterThan(20);
    const stored = new Set(
      (
        await db.prisma.identity.findMany({ where: { clusterId, kind: "ServiceAccount", deletedAt: null } })
      ).map((i) => `${i.namespace}/${i.name}`),
    );
    expect(
      serviceAccounts
        .map((o) => `${o.metadata.namespace}/${o.metadata.name}`)
        .filter((key) => !stored.has(key)),
    ).toEqual([]);
    const bindings = new Set(
      (await db.prisma.rbacBinding.findMany({ where: { clusterId, deletedAt: null } })).map(
        (b) => `${b.kind}/${b.namespace}/${b.name}`,
      ),
    );
    const expectedBindings = allObjects
      .filter((o) => o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding")
      .map((o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`);
    expect(expectedBindings.filter((key) => !bindings.has(key))).toEqual([]);
  });
});
