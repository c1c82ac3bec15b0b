import type { CampaignStatus, ReviewDecision, ReviewItemStatus } from "@/lib/db";
import type { CampaignScope } from "@/lib/campaigns/scope";
import { SCHEDULE_PRESETS } from "@/lib/campaigns/schemas";
import { Badge, type Tone } from "@/components/ui/badge";
import { formatDateTime, timeAgo } from "@/components/ui/format";
import { itemStatusTone, statusLabel } from "@/components/reviews/review-view";

// Small pieces the campaign pages share: statuses, progress, deadline, schedule and scope as text.

const campaignTone: Record<CampaignStatus, Tone> = { draft: "gray", active: "blue", closed: "green", cancelled: "amber" };

export function CampaignStatusBadge({ status }: { status: CampaignStatus }) {
  return (
    <span data-testid="campaign-status" data-status={status}>
      <Badge tone={campaignTone[status]}>{status}</Badge>
    </span>
  );
}

export function ItemStatusBadge({ status, flagged }: { status: ReviewItemStatus; flagged?: boolean }) {
  return (
    <span className="inline-flex gap-1">
      <Badge tone={itemStatusTone[status]}>{statusLabel[status]}</Badge>
      {flagged ? <Badge tone="amber">flagged</Badge> : null}
    </span>
  );
}

const decisionTone: Record<ReviewDecision, Tone> = { approve: "green", shrink: "amber", revoke: "red" };

export function DecisionBadge({ decision }: { decision: ReviewDecision | null }) {
  return decision ? <Badge tone={decisionTone[decision]}>{decision}</Badge> : <span className="text-slate-400">—</span>;
}

/** Decided out of total, as a bar with its numbers (an accessible progressbar). */
export function ProgressBar({ decided, total, label }: { decided: number; total: number; label: string }) {
  const percent = total === 0 ? 0 : Math.round((decided / total) * 100);
  return (
    <div className="min-w-40">
      <div
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={decided}
        aria-valuetext={`${decided} of ${total} decided`}
        className="h-2 overflow-hidden rounded-full bg-slate-100"
      >
        <div className={`h-full ${percent === 100 ? "bg-emerald-500" : "bg-brand-600"}`} style={{ width: `${percent}%` }} />
      </div>
      <p className="mt-1 text-xs text-slate-600 tabular-nums">
        {decided} of {total} decided{total > 0 ? ` (${percent}%)` : ""}
      </p>
    </div>
  );
}

/** The deadline, and "overdue" once it has passed with items still undecided in an active campaign. */
export function Deadline({ deadline, status, pending, now }: { deadline: Date | null; status: CampaignStatus; pending: number; now: Date }) {
  if (!deadline) return <span className="text-slate-500">{status === "draft" ? "set at launch" : "—"}</span>;
  const overdue = status === "active" && deadline < now && pending > 0;
  return (
    <span className="inline-flex flex-wrap items-center gap-1" title={formatDateTime(deadline)}>
      <span>{deadline.toISOString().slice(0, 10)}</span>
      {status === "active" ? <span className="text-xs text-slate-500">({timeAgo(deadline, now)})</span> : null}
      {overdue ? (
        <span data-testid="overdue">
          <Badge tone="red">overdue</Badge>
        </span>
      ) : null}
    </span>
  );
}

const presetNames = new Map(Object.entries(SCHEDULE_PRESETS).map(([name, cron]) => [cron, name]));

export function ScheduleText({ schedule }: { schedule: { cron: string; nextRunAt: Date; enabled: boolean } | null }) {
  if (!schedule) return <span className="text-slate-500">one-off</span>;
  return (
    <span className="inline-flex flex-col">
      <span>
        {presetNames.get(schedule.cron) ?? "custom"} <code className="text-xs text-slate-500">{schedule.cron}</code>
      </span>
      <span className="text-xs text-slate-500">{schedule.enabled ? `next run ${formatDateTime(schedule.nextRunAt)}` : "stopped"}</span>
    </span>
  );
}

/** The scope in words: "every identity" when nothing narrows it. */
export function scopeText(scope: CampaignScope, clusterNames: Map<string, string>): string {
  const parts: string[] = [];
  if (scope.clusterIds.length) parts.push(`clusters ${scope.clusterIds.map((id) => clusterNames.get(id) ?? id).join(", ")}`);
  if (scope.namespaces.length) parts.push(`namespaces ${scope.namespaces.join(", ")}`);
  if (scope.kinds.length) parts.push(scope.kinds.join(", "));
  if (scope.minSeverity) parts.push(`risk ${scope.minSeverity} or higher`);
  if (scope.onlyUnowned) parts.push("only unowned");
  if (scope.onlyUnusedAccess) parts.push("only with unused access");
  return parts.length ? parts.join(" · ") : "every identity in every cluster";
}
