// Test helper: asks the real kubectl whether an identity may do something (`kubectl auth can-i --as …`).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { serviceAccountUsername } from "@/lib/rbac";
import type { PolicyIdentity } from "../cluster-policy";

const run = promisify(execFile);

export interface AccessCheck {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  /** "" = all namespaces (`-A`), also used for cluster-scoped resources. */
  namespace: string;
}

/** The impersonation flags that make the API server authenticate the request as `identity`. */
function impersonationArgs(identity: PolicyIdentity): string[] {
  switch (identity.kind) {
    case "ServiceAccount":
      // The API server adds the service account groups itself when impersonating an SA username.
      return [`--as=${serviceAccountUsername(identity.namespace, identity.name)}`];
    case "CertificateUser":
      return [`--as=${identity.username}`, ...identity.groups.map((group) => `--as-group=${group}`)];
    case "User":
      return [`--as=${identity.username}`];
    case "Group":
      throw new Error("kubectl cannot impersonate a group without a user");
  }
}

export async function kubectlCanI(kubeconfig: string, identity: PolicyIdentity, check: AccessCheck): Promise<boolean> {
  const resource = check.group ? `${check.resource}.${check.group}` : check.resource;
  const args = [
    "--kubeconfig",
    kubeconfig,
    "auth",
    "can-i",
    check.verb,
    resource,
    ...(check.subresource ? [`--subresource=${check.subresource}`] : []),
    ...(check.namespace ? ["-n", check.namespace] : ["-A"]),
    ...impersonationArgs(identity),
  ];
  const answer = await run("kubectl", args, { timeout: 20_000 }).then(
    ({ stdout }) => stdout,
    (error: { stdout?: string; stderr?: string }) => {
      // "no" exits 1 too; anything else is a failure of the check itself.
      if (error.stdout?.trim() === "no") return error.stdout;
      throw new Error(`kubectl ${args.slice(2).join(" ")}: ${error.stderr ?? String(error)}`);
    },
  );
  return answer.trim() === "yes";
}

/** Runs `task` over `items` with at most `limit` at a time (kubectl processes are costly on a 2-core machine). */
export async function mapLimited<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
