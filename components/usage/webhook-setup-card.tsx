"use client";

import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Download, KeyRound } from "lucide-react";
import { issueAuditWebhookToken } from "@/app/(dashboard)/clusters/[id]/actions";
import { formatDateTime } from "@/components/ui/format";

const yamlHref = (text: string) => `data:application/yaml;charset=utf-8,${encodeURIComponent(text)}`;

function DownloadLink({ text, fileName, children }: { text: string; fileName: string; children: React.ReactNode }) {
  return (
    <a
      href={yamlHref(text)}
      download={fileName}
      className="inline-flex items-center gap-1.5 rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50"
    >
      <Download className="h-4 w-4" aria-hidden /> {children}
    </a>
  );
}

/**
 * How to make a cluster's API server send its audit events to Keyward: the two kube-apiserver flags, the audit
 * policy to download, and a webhook kubeconfig carrying a fresh ingest token, shown once.
 */
export function WebhookSetupCard({
  clusterId,
  clusterName,
  defaultKeywardUrl,
  setup,
  token,
}: {
  clusterId: string;
  clusterName: string;
  /** Keyward's address as this page was reached; the API server may need another one. */
  defaultKeywardUrl: string;
  /** lib/usage/webhook-setup's policy, file paths and flags, passed in so the browser does not load that module. */
  setup: { auditPolicyYaml: string; policyPath: string; kubeconfigPath: string; flags: string };
  /** The cluster's current ingest token, if one was issued. */
  token: { createdAt: Date; lastUsedAt: Date | null } | null;
}) {
  const router = useRouter();
  const [keywardUrl, setKeywardUrl] = useState(defaultKeywardUrl);
  const [caPem, setCaPem] = useState("");
  const issue = useMutation({
    mutationFn: async () => {
      const result = await issueAuditWebhookToken({ clusterId, keywardUrl, caPem });
      if (!result.ok) throw new Error(result.fieldErrors ? `${result.error} ${Object.values(result.fieldErrors).flat().join(" ")}` : result.error);
      return result.data;
    },
    onSuccess: () => router.refresh(),
  });

  return (
    <div className="space-y-4 text-sm">
      <p className="text-slate-600">
        The API server sends every request&apos;s audit event to Keyward as it happens. On each control-plane node, save the two files below and start{" "}
        <code className="text-xs">kube-apiserver</code> with two more flags (mount the files into its static Pod too):
      </p>
      <dl className="space-y-2">
        <div>
          <dt className="font-mono text-xs">--audit-policy-file={setup.policyPath}</dt>
          <dd className="text-slate-600">
            which requests are recorded: everything but the control plane&apos;s own chatter, at the <code className="text-xs">Metadata</code> level (who,
            verb, resource, namespace, user agent, source IP), never request or response bodies, so Secrets&apos; contents never leave the cluster.
          </dd>
        </div>
        <div>
          <dt className="font-mono text-xs">--audit-webhook-config-file={setup.kubeconfigPath}</dt>
          <dd className="text-slate-600">where to send them: a kubeconfig naming Keyward&apos;s audit endpoint for this cluster and the ingest token it checks.</dd>
        </div>
      </dl>
      <details>
        <summary className="cursor-pointer text-xs text-slate-600">All the flags, with batching that delivers within seconds</summary>
        <pre className="mt-1 overflow-x-auto rounded bg-slate-50 p-2 font-mono text-xs">{setup.flags}</pre>
      </details>
      <p className="text-xs text-slate-500">
        Managed control planes (EKS, GKE, AKS) do not take these flags: export their audit logs and upload the files instead.
      </p>
      <div className="flex flex-wrap gap-2">
        <DownloadLink text={setup.auditPolicyYaml} fileName="audit-policy.yaml">
          Audit policy
        </DownloadLink>
      </div>

      <form
        className="space-y-2 border-t border-slate-100 pt-4"
        onSubmit={(event) => {
          event.preventDefault();
          issue.mutate();
        }}
      >
        <p className="text-slate-600">
          {token
            ? `An ingest token was issued ${formatDateTime(token.createdAt)}; last used ${token.lastUsedAt ? formatDateTime(token.lastUsedAt) : "never"}. A new one revokes it: the API server with the old kubeconfig is refused until it gets the new one.`
            : "No ingest token yet: issue one to get the webhook kubeconfig."}
        </p>
        <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
          Keyward URL, as the API server reaches it
          <input
            type="url"
            required
            value={keywardUrl}
            onChange={(e) => setKeywardUrl(e.target.value)}
            className="rounded-md border border-slate-300 px-2 py-1.5 font-mono text-sm"
          />
        </label>
        <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
          CA certificate of that URL (PEM), if it is not publicly trusted
          <textarea
            rows={2}
            value={caPem}
            onChange={(e) => setCaPem(e.target.value)}
            placeholder="-----BEGIN CERTIFICATE-----"
            className="rounded-md border border-slate-300 px-2 py-1.5 font-mono text-xs"
          />
        </label>
        <button
          type="submit"
          disabled={issue.isPending}
          className="inline-flex items-center gap-1.5 rounded-md bg-brand-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-brand-700 disabled:opacity-60"
        >
          <KeyRound className="h-4 w-4" aria-hidden /> {issue.isPending ? "Issuing…" : token ? "Issue a new token" : "Issue token"}
        </button>
        {issue.isError ? (
          <p role="alert" className="text-sm text-red-700">
            {issue.error.message}
          </p>
        ) : null}
      </form>
      {issue.data ? (
        <div role="status" className="space-y-2 rounded-md bg-amber-50 px-3 py-2 text-amber-900" data-testid="webhook-kubeconfig">
          <p>
            Download the webhook kubeconfig now: it holds the token in clear and is shown only this once (Keyward keeps a hash). Save it as{" "}
            <code className="text-xs">{setup.kubeconfigPath}</code>, readable by the API server only.
          </p>
          <DownloadLink text={issue.data.kubeconfig} fileName={`${clusterName}-audit-webhook.kubeconfig`}>
            Webhook kubeconfig
          </DownloadLink>
        </div>
      ) : null}
    </div>
  );
}
