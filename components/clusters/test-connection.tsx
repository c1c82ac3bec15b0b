"use client";

import { useMutation } from "@tanstack/react-query";
import { AlertTriangle, CheckCircle2, PlugZap, XCircle } from "lucide-react";
import { testClusterConnectionNow } from "@/app/(dashboard)/clusters/actions";

/** "Test connection": what each of Keyward's credentials can and cannot do in the cluster, with warnings. */
export function TestConnection({ clusterId, clusterName }: { clusterId: string; clusterName: string }) {
  const test = useMutation({
    mutationFn: async () => {
      const result = await testClusterConnectionNow({ clusterId });
      if (!result.ok) throw new Error(result.error);
      return result.data;
    },
  });
  return (
    <div>
      <button
        type="button"
        onClick={() => test.mutate()}
        disabled={test.isPending}
        aria-label={`Test connection to ${clusterName}`}
        className="inline-flex items-center gap-1.5 rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50 disabled:opacity-60"
      >
        <PlugZap className="h-4 w-4" aria-hidden /> {test.isPending ? "Testing…" : "Test connection"}
      </button>
      {test.isError ? <p role="alert" className="mt-2 text-sm text-red-700">{test.error.message}</p> : null}
      {test.data ? (
        <div className="mt-3 space-y-3" data-testid="connection-test">
          {test.data.credentials.map((c) => (
            <div key={c.purpose} className="rounded-lg border border-slate-200 p-3 text-sm">
              <p className="flex items-center gap-2 font-medium">
                {c.ok ? <CheckCircle2 className="h-4 w-4 text-emerald-600" aria-hidden /> : <XCircle className="h-4 w-4 text-red-600" aria-hidden />}
                {c.purpose} credential ({c.authType}){c.subject ? <span className="font-mono text-xs text-slate-600">as {c.subject.username}</span> : null}
              </p>
              {c.error ? <p className="mt-1 text-red-700">{c.error}</p> : null}
              {c.warnings.map((w) => (
                <p key={w} role="alert" className="mt-1 flex items-start gap-1.5 rounded bg-amber-50 px-2 py-1 text-amber-800">
                  <AlertTriangle className="mt-0.5 h-4 w-4 shrink-0" aria-hidden /> {w}
                </p>
              ))}
              {c.canDo.length ? (
                <details className="mt-2">
                  <summary className="cursor-pointer text-xs text-slate-600">Can do ({c.canDo.length} rules in {c.namespaces.join(", ")})</summary>
                  <ul className="mt-1 list-disc pl-5 font-mono text-xs">
                    {c.canDo.map((line) => (
                      <li key={line}>{line}</li>
                    ))}
                  </ul>
                </details>
              ) : null}
              {c.cannot.length ? <p className="mt-1 text-xs text-red-700">Cannot: {c.cannot.join(", ")}</p> : c.ok && c.purpose === "sync" ? <p className="mt-1 text-xs text-emerald-700">Can read everything a sync needs.</p> : null}
            </div>
          ))}
        </div>
      ) : null}
    </div>
  );
}
