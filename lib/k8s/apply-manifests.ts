import { readFile } from "node:fs/promises";
import { parseAllDocuments } from "yaml";
import { KubernetesObjectApi, type KubeConfig, type KubernetesObject } from "@kubernetes/client-node";

/** Creates each object of a YAML file, or replaces it when it exists (like `kubectl apply`, without the merge). */
export async function applyManifestFile(kc: KubeConfig, file: string): Promise<KubernetesObject[]> {
  const docs = parseAllDocuments(await readFile(file, "utf8"))
    .map((d) => d.toJS() as KubernetesObject | null)
    .filter((d): d is KubernetesObject => !!d && !!d.kind);
  const api = KubernetesObjectApi.makeApiClient(kc);
  const applied: KubernetesObject[] = [];
  for (const obj of docs) {
    try {
      const existing = await api.read({ apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: obj.metadata!.name!, namespace: obj.metadata?.namespace } });
      applied.push(await api.replace({ ...obj, metadata: { ...obj.metadata, resourceVersion: existing.metadata?.resourceVersion } }));
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
      applied.push(await api.create(obj));
    }
  }
  return applied;
}
