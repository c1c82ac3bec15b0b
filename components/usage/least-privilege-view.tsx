import { Download, Minus, Plus } from "lucide-react";
import type { EffectiveRule } from "@/lib/rbac";
import { compactRule, grantProvenance } from "@/lib/findings/usage-rules";
import { Badge } from "@/components/ui/badge";

function RuleLine({ rule, change }: { rule: EffectiveRule; change: "kept" | "removed" }) {
  const removed = change === "removed";
  const Icon = removed ? Minus : Plus;
  const provenance = grantProvenance(rule);
  return (
    <li className={`flex items-start gap-2 px-3 py-1.5 ${removed ? "bg-red-50" : "bg-emerald-50"}`} data-change={change}>
      <Icon className={`mt-0.5 h-3.5 w-3.5 shrink-0 ${removed ? "text-red-700" : "text-emerald-700"}`} aria-label={removed ? "removed" : "kept"} />
      <span className="min-w-0 flex-1">
        <span className={`font-mono text-xs [overflow-wrap:anywhere] ${removed ? "text-red-900 line-through decoration-red-300" : "text-emerald-900"}`}>{compactRule(rule)}</span>
        <span className="ml-2 text-xs text-slate-500">
          {provenance.role} via {provenance.binding}
        </span>
      </span>
    </li>
  );
}

/**
 * The role the identity would need for what it did in the window: which of today's rules it keeps and which it
 * loses (removed first: that is the access to take away), then the generated manifests to download.
 */
export function LeastPrivilegeView({
  kept,
  removed,
  yaml,
  downloadHref,
  days,
  sharedRules,
}: {
  kept: EffectiveRule[];
  removed: EffectiveRule[];
  /** Rules it holds through Kubernetes' system groups: every identity has them, so they are not its to give up. */
  sharedRules: number;
  yaml: string;
  downloadHref: string;
  days: number;
}) {
  const total = kept.length + removed.length;
  const removedShare = total ? Math.round((removed.length / total) * 100) : 0;
  return (
    <div className="grid grid-cols-1 gap-6 xl:grid-cols-2" data-testid="least-privilege">
      <div>
        <p className="text-sm text-slate-700">
          {total === 0 ? (
            "It holds no RBAC rule today, so there is nothing to shrink."
          ) : removed.length === 0 ? (
            <>It used every rule it holds in the last {days} days: the generated role keeps them all, narrowed to what was requested.</>
          ) : (
            <>
              <span className="font-semibold text-red-700">{removed.length}</span> of {total} rules it holds were not used in the last {days} days and can go;{" "}
              <span className="font-semibold text-emerald-700">{kept.length}</span> stay.
            </>
          )}
        </p>
        {sharedRules ? (
          <p className="mt-1 text-xs text-slate-500">
            Not counted: {sharedRules} rules it holds through system groups (system:authenticated, system:serviceaccounts…), which every
            such identity shares; the used-vs-granted grid shows them too.
          </p>
        ) : null}
        {total ? (
          <div className="mt-2 flex h-2 overflow-hidden rounded bg-emerald-400" role="img" aria-label={`${removedShare}% of the rules removed`}>
            <div className="bg-red-500" style={{ width: `${removedShare}%` }} />
          </div>
        ) : null}
        {total ? (
          <ul className="mt-4 max-h-[32rem] divide-y divide-white overflow-y-auto rounded-md border border-slate-200" aria-label="Rules kept and removed">
            {removed.map((r, i) => (
              <RuleLine key={`r${i}`} rule={r} change="removed" />
            ))}
            {kept.map((r, i) => (
              <RuleLine key={`k${i}`} rule={r} change="kept" />
            ))}
          </ul>
        ) : null}
      </div>
      <div>
        <div className="mb-2 flex items-center justify-between gap-2">
          <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">
            Generated manifests <Badge tone="blue">last {days} days</Badge>
          </h3>
          {yaml ? (
            <a href={downloadHref} download className="inline-flex items-center gap-1 rounded-md bg-brand-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-brand-700">
              <Download className="h-4 w-4" aria-hidden /> Download YAML
            </a>
          ) : null}
        </div>
        {yaml ? (
          <pre className="max-h-96 overflow-auto rounded-md bg-slate-900 p-3 text-xs leading-relaxed text-slate-100" data-testid="least-privilege-yaml">
            {yaml}
          </pre>
        ) : (
          <p className="rounded-md border border-dashed border-slate-300 p-4 text-sm text-slate-600" data-testid="least-privilege-yaml">
            It made no request in the window, so it needs no role at all: remove its bindings (or the identity) instead.
          </p>
        )}
        <p className="mt-2 text-xs text-slate-500">Review it, apply it, then remove the old bindings: RBAC only adds, so the old grants stay until you delete them.</p>
      </div>
    </div>
  );
}
