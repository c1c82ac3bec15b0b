import type { ReactNode } from "react";

const tones = {
  gray: "bg-slate-100 text-slate-700",
  green: "bg-emerald-50 text-emerald-700 ring-emerald-600/20",
  amber: "bg-amber-50 text-amber-800 ring-amber-600/20",
  red: "bg-red-50 text-red-700 ring-red-600/20",
  blue: "bg-brand-50 text-brand-700 ring-brand-600/20",
};
export type Tone = keyof typeof tones;

export function Badge({ tone = "gray", children }: { tone?: Tone; children: ReactNode }) {
  return <span className={`inline-flex items-center rounded-md px-2 py-0.5 text-xs font-medium ring-1 ring-inset ring-slate-500/10 ${tones[tone]}`}>{children}</span>;
}

export const statusTone: Record<string, Tone> = {
  healthy: "green",
  succeeded: "green",
  success: "green",
  running: "blue",
  pending: "gray",
  degraded: "amber",
  denied: "amber",
  failed: "red",
  failure: "red",
  error: "red",
};

export const severityTone: Record<string, Tone> = { critical: "red", high: "red", medium: "amber", low: "blue", info: "gray" };

/** A finding's or identity's severity; "none" when it has no open finding. */
export function SeverityBadge({ severity }: { severity: string | null }) {
  if (!severity) return <Badge tone="green">none</Badge>;
  return (
    <span data-severity={severity} className={severity === "critical" ? "font-semibold" : undefined}>
      <Badge tone={severityTone[severity] ?? "gray"}>{severity}</Badge>
    </span>
  );
}
