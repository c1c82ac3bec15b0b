import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import type { ClusterEndpoint, ClusterSecret } from "./credentials";

/** The only place that turns a stored cluster and credential into a Kubernetes client configuration. */
export function kubeConfigFor(endpoint: ClusterEndpoint, secret: ClusterSecret, userName = "keyward"): KubeConfig {
  const kc = new KubeConfig();
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  kc.loadFromOptions({
    clusters: [
      {
        name: "cluster",
        server: endpoint.apiServerUrl,
        caData: endpoint.caCertPem ? b64(endpoint.caCertPem) : undefined,
        skipTLSVerify: false,
      },
    ],
    users: [
      secret.type === "token"
        ? { name: userName, token: secret.token }
        : { name: userName, certData: b64(secret.certificatePem), keyData: b64(secret.privateKeyPem) },
    ],
    contexts: [{ name: "keyward", cluster: "cluster", user: userName }],
    currentContext: "keyward",
  });
  return kc;
}

export function coreApi(kc: KubeConfig): CoreV1Api {
  return kc.makeApiClient(CoreV1Api);
}

/** Lists every page of a paged Kubernetes list call (`limit`/`continue`). */
export async function listAllPages<T>(
  fetchPage: (page: { limit: number; _continue?: string }) => Promise<{ items: T[]; metadata?: { _continue?: string } }>,
  limit = 500,
): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const page = await fetchPage({ limit, _continue: token });
    items.push(...page.items);
    token = page.metadata?._continue || undefined;
  } while (token);
  return items;
}
