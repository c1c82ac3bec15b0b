"use client";

import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState, type ReactNode } from "react";
import { createCampaignServerAction } from "@/app/(dashboard)/campaigns/actions";
import type { CampaignInput } from "@/lib/campaigns/schemas";
import { identityKinds, severities } from "@/lib/inventory/filters";

const inputClass = "w-full rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm disabled:bg-slate-100 disabled:text-slate-400";
const labelClass = "text-xs font-medium text-slate-700";
const helpClass = "mt-1 text-xs text-slate-500";
const submitClass =
  "inline-flex items-center gap-1.5 rounded-md bg-brand-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-brand-700 disabled:opacity-60";

/** The form's fields, by the input path their errors come back under ("scope.namespaces.2" → "scope.namespaces"). */
const fieldPaths = [
  "name",
  "scope.clusterIds",
  "scope.namespaces",
  "scope.kinds",
  "scope.minSeverity",
  "scope.onlyUnowned",
  "scope.onlyUnusedAccess",
  "defaultReviewerTeamId",
  "schedule.cron",
  "durationDays",
  "deadline",
  "reminderDaysBefore",
  "escalateAfterDeadline",
  "undecidedPolicy",
] as const;
type FieldPath = (typeof fieldPaths)[number];

function errorsByField(fieldErrors: Record<string, string[]>) {
  const byField: Partial<Record<FieldPath | "_", string[]>> = {};
  for (const [path, messages] of Object.entries(fieldErrors)) {
    const field = fieldPaths.find((f) => path === f || path.startsWith(`${f}.`)) ?? "_";
    (byField[field] ??= []).push(...messages);
  }
  return byField;
}

/** Words and numbers typed as a list: "7, 1" or "payments web". */
const listOf = (text: string) => text.split(/[\s,]+/).filter(Boolean);

type Schedule = "once" | "quarterly" | "monthly" | "custom";

function FieldError({ id, errors }: { id: string; errors?: string[] }) {
  return errors ? (
    <p id={`${id}-error`} role="alert" className="mt-1 text-xs text-red-700">
      {errors.join(" ")}
    </p>
  ) : null;
}

function Field({ id, label, help, errors, children }: { id: string; label: string; help?: ReactNode; errors?: string[]; children: ReactNode }) {
  return (
    <div>
      <label htmlFor={id} className={labelClass}>
        {label}
      </label>
      <div className="mt-1">{children}</div>
      {help ? <p className={helpClass}>{help}</p> : null}
      <FieldError id={id} errors={errors} />
    </div>
  );
}

function Check({ id, label, checked, onChange, help }: { id: string; label: string; checked: boolean; onChange: (checked: boolean) => void; help?: string }) {
  return (
    <div>
      <label htmlFor={id} className="flex items-center gap-2 text-sm text-slate-800">
        <input id={id} type="checkbox" checked={checked} onChange={(event) => onChange(event.target.checked)} className="h-4 w-4 rounded border-slate-300" />
        {label}
      </label>
      {help ? <p className={`${helpClass} ml-6`}>{help}</p> : null}
    </div>
  );
}

export function NewCampaignForm({ clusters, teams }: { clusters: { id: string; name: string }[]; teams: { id: string; name: string }[] }) {
  const router = useRouter();
  const [name, setName] = useState("");
  const [clusterIds, setClusterIds] = useState<string[]>([]);
  const [namespaces, setNamespaces] = useState("");
  const [kinds, setKinds] = useState<(typeof identityKinds)[number][]>([]);
  const [minSeverity, setMinSeverity] = useState<(typeof severities)[number] | "">("");
  const [onlyUnowned, setOnlyUnowned] = useState(false);
  const [onlyUnusedAccess, setOnlyUnusedAccess] = useState(false);
  const [reviewer, setReviewer] = useState("");
  const [schedule, setSchedule] = useState<Schedule>("once");
  const [cron, setCron] = useState("");
  const [ends, setEnds] = useState<"duration" | "deadline">("duration");
  const [duration, setDuration] = useState("14");
  const [deadline, setDeadline] = useState("");
  const [reminders, setReminders] = useState("7, 1");
  const [escalate, setEscalate] = useState(true);
  const [policy, setPolicy] = useState<"keep" | "revoke">("keep");
  const [launch, setLaunch] = useState(false);
  const [errors, setErrors] = useState<ReturnType<typeof errorsByField>>({});
  // A recurring campaign runs for its duration from each launch: it has no fixed deadline.
  const byDeadline = ends === "deadline" && schedule === "once";

  const create = useMutation({
    mutationFn: async () => {
      const input: CampaignInput = {
        name,
        scope: {
          clusterIds,
          namespaces: listOf(namespaces),
          kinds,
          minSeverity: minSeverity || undefined,
          onlyUnowned,
          onlyUnusedAccess,
        },
        defaultReviewerTeamId: reviewer || undefined,
        schedule: schedule === "once" ? undefined : { cron: schedule === "custom" ? cron : schedule },
        durationDays: byDeadline || duration.trim() === "" ? undefined : Number(duration),
        // The end of the chosen day, UTC.
        deadline: byDeadline && deadline ? `${deadline}T23:59:59Z` : undefined,
        reminderDaysBefore: listOf(reminders).map(Number),
        escalateAfterDeadline: escalate,
        undecidedPolicy: policy,
        launch,
      };
      const result = await createCampaignServerAction(input);
      setErrors(result.ok ? {} : errorsByField(result.fieldErrors ?? {}));
      if (!result.ok) throw new Error(result.fieldErrors ? "Some fields are not valid: see the messages next to them." : result.error);
      return result.data;
    },
    onSuccess: ({ id }) => router.push(`/campaigns/${id}`),
  });

  const toggle = <T,>(list: T[], value: T, on: boolean) => (on ? [...list, value] : list.filter((v) => v !== value));

  return (
    <form
      className="space-y-6"
      data-testid="new-campaign-form"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        create.mutate();
      }}
    >
      <section className="space-y-4">
        <Field id="campaign-name" label="Campaign name" errors={errors.name}>
          <input id="campaign-name" value={name} onChange={(e) => setName(e.target.value)} maxLength={200} placeholder="e.g. Q1 production access review" className={inputClass} aria-invalid={errors.name ? true : undefined} />
        </Field>
      </section>

      <fieldset className="space-y-4 rounded-lg border border-slate-200 p-4">
        <legend className="px-1 text-sm font-semibold text-slate-800">Scope</legend>
        <div>
          <p className={labelClass} id="campaign-clusters-label">Clusters</p>
          <div role="group" aria-labelledby="campaign-clusters-label" className="mt-1 flex flex-wrap gap-x-4 gap-y-1">
            {clusters.length === 0 ? <span className="text-sm text-slate-500">No cluster registered yet.</span> : null}
            {clusters.map((cluster) => (
              <label key={cluster.id} className="flex items-center gap-2 text-sm">
                <input type="checkbox" checked={clusterIds.includes(cluster.id)} onChange={(e) => setClusterIds(toggle(clusterIds, cluster.id, e.target.checked))} className="h-4 w-4 rounded border-slate-300" />
                {cluster.name}
              </label>
            ))}
          </div>
          <p className={helpClass}>None checked: every cluster, including those registered later.</p>
          <FieldError id="campaign-clusters" errors={errors["scope.clusterIds"]} />
        </div>
        <div className="grid grid-cols-1 gap-4 md:grid-cols-2">
          <Field id="campaign-namespaces" label="Namespaces" help="Separated by commas or spaces. Empty: every namespace." errors={errors["scope.namespaces"]}>
            <input id="campaign-namespaces" value={namespaces} onChange={(e) => setNamespaces(e.target.value)} placeholder="payments, web" className={inputClass} />
          </Field>
          <Field id="campaign-min-severity" label="Minimum risk" help="Only identities whose open findings reach this severity." errors={errors["scope.minSeverity"]}>
            <select id="campaign-min-severity" value={minSeverity} onChange={(e) => setMinSeverity(e.target.value as (typeof severities)[number] | "")} className={inputClass}>
              <option value="">Any risk</option>
              {[...severities].reverse().map((severity) => (
                <option key={severity} value={severity}>
                  {severity}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <div>
          <p className={labelClass} id="campaign-kinds-label">Identity kinds</p>
          <div role="group" aria-labelledby="campaign-kinds-label" className="mt-1 flex flex-wrap gap-x-4 gap-y-1">
            {identityKinds.map((kind) => (
              <label key={kind} className="flex items-center gap-2 text-sm">
                <input type="checkbox" checked={kinds.includes(kind)} onChange={(e) => setKinds(toggle(kinds, kind, e.target.checked))} className="h-4 w-4 rounded border-slate-300" />
                {kind}
              </label>
            ))}
          </div>
          <p className={helpClass}>None checked: every kind.</p>
          <FieldError id="campaign-kinds" errors={errors["scope.kinds"]} />
        </div>
        <Check id="campaign-only-unowned" label="Only unowned identities" checked={onlyUnowned} onChange={setOnlyUnowned} />
        <Check id="campaign-only-unused" label="Only identities with unused access" checked={onlyUnusedAccess} onChange={setOnlyUnusedAccess} help="An open “unused” or “unused permissions” finding." />
      </fieldset>

      <fieldset className="space-y-4 rounded-lg border border-slate-200 p-4">
        <legend className="px-1 text-sm font-semibold text-slate-800">Reviewers and timing</legend>
        <div className="grid grid-cols-1 gap-4 md:grid-cols-2">
          <Field id="campaign-reviewer" label="Default reviewer team" help="Reviews the identities that have no owner team." errors={errors.defaultReviewerTeamId}>
            <select id="campaign-reviewer" value={reviewer} onChange={(e) => setReviewer(e.target.value)} className={inputClass}>
              <option value="">The security team</option>
              {teams.map((team) => (
                <option key={team.id} value={team.id}>
                  {team.name}
                </option>
              ))}
            </select>
          </Field>
          <Field id="campaign-schedule" label="Schedule" errors={schedule === "custom" ? undefined : errors["schedule.cron"]}>
            <select id="campaign-schedule" value={schedule} onChange={(e) => setSchedule(e.target.value as Schedule)} className={inputClass}>
              <option value="once">One-off</option>
              <option value="quarterly">Quarterly (1 Jan, Apr, Jul, Oct)</option>
              <option value="monthly">Monthly (the 1st)</option>
              <option value="custom">Custom cron expression</option>
            </select>
          </Field>
          {schedule === "custom" ? (
            <Field id="campaign-cron" label="Cron expression" help="minute hour day month weekday, in UTC (e.g. 0 9 1 */2 *)." errors={errors["schedule.cron"]}>
              <input id="campaign-cron" value={cron} onChange={(e) => setCron(e.target.value)} placeholder="0 9 1 */2 *" className={`${inputClass} font-mono`} aria-invalid={errors["schedule.cron"] ? true : undefined} />
            </Field>
          ) : null}
        </div>
        <div role="radiogroup" aria-label="Ends" className="space-y-2">
          <p className={labelClass}>Ends</p>
          <div className="flex flex-wrap items-start gap-6">
            <div>
              <label className="flex items-center gap-2 text-sm">
                <input type="radio" name="ends" checked={!byDeadline} onChange={() => setEnds("duration")} /> After a number of days
              </label>
              <div className="ml-6 mt-1 w-40">
                <label htmlFor="campaign-duration" className="sr-only">Duration in days</label>
                <input id="campaign-duration" type="number" min={1} max={365} value={duration} disabled={byDeadline} onChange={(e) => setDuration(e.target.value)} className={inputClass} aria-invalid={errors.durationDays ? true : undefined} />
                <FieldError id="campaign-duration" errors={errors.durationDays} />
              </div>
            </div>
            <div>
              <label className="flex items-center gap-2 text-sm">
                <input type="radio" name="ends" checked={byDeadline} disabled={schedule !== "once"} onChange={() => setEnds("deadline")} /> On a date
              </label>
              <div className="ml-6 mt-1 w-48">
                <label htmlFor="campaign-deadline" className="sr-only">End date</label>
                <input id="campaign-deadline" type="date" value={deadline} disabled={!byDeadline} onChange={(e) => setDeadline(e.target.value)} className={inputClass} aria-invalid={errors.deadline ? true : undefined} />
                <FieldError id="campaign-deadline" errors={errors.deadline} />
              </div>
            </div>
          </div>
          <p className={helpClass}>
            {schedule === "once" ? "Days count from the launch; a date ends at midnight UTC." : "A recurring campaign runs for this many days from each launch."}
          </p>
        </div>
        <div className="grid grid-cols-1 gap-4 md:grid-cols-2">
          <Field id="campaign-reminders" label="Reminders (days before the deadline)" help="Separated by commas, e.g. 7, 1. Empty: no reminder." errors={errors.reminderDaysBefore}>
            <input id="campaign-reminders" value={reminders} onChange={(e) => setReminders(e.target.value)} placeholder="7, 1" className={inputClass} aria-invalid={errors.reminderDaysBefore ? true : undefined} />
          </Field>
          <div className="pt-5">
            <Check id="campaign-escalate" label="Escalate to the security team after the deadline" checked={escalate} onChange={setEscalate} />
          </div>
        </div>
        <div role="radiogroup" aria-label="Undecided at the deadline">
          <p className={labelClass}>Undecided at the deadline</p>
          <label className="mt-1 flex items-center gap-2 text-sm">
            <input type="radio" name="undecidedPolicy" checked={policy === "keep"} onChange={() => setPolicy("keep")} /> Keep access and flag the item
          </label>
          <label className="mt-1 flex items-center gap-2 text-sm">
            <input type="radio" name="undecidedPolicy" checked={policy === "revoke"} onChange={() => setPolicy("revoke")} /> Revoke access
          </label>
          <FieldError id="campaign-policy" errors={errors.undecidedPolicy} />
        </div>
      </fieldset>

      <Check
        id="campaign-launch"
        label="Launch now"
        checked={launch}
        onChange={setLaunch}
        help="Creates the review items at once and notifies the reviewers. Otherwise the campaign stays a draft you launch later."
      />
      {errors._ ? <FieldError id="campaign-form" errors={errors._} /> : null}
      <div className="flex items-center gap-3">
        <button type="submit" disabled={create.isPending} className={submitClass}>
          {create.isPending ? (launch ? "Creating and launching…" : "Creating…") : "Create campaign"}
        </button>
        {create.error ? (
          <span role="alert" className="text-sm text-red-700" data-testid="form-error">
            {create.error.message}
          </span>
        ) : null}
      </div>
    </form>
  );
}
