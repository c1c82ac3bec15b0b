"use client";

import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { updateClusterSettingsAction } from "@/app/(dashboard)/clusters/[id]/actions";
import type { AnalysisSettings } from "@/lib/findings/settings";

type Key = keyof AnalysisSettings;

/** Every setting, in the order shown, with what it does. */
const fields: { key: Key; label: string; help: string; unit?: string; min?: number; list?: boolean }[] = [
  { key: "ownerAnnotationKey", label: "Owner annotation or label", help: "The annotation (or label) on a service account whose value names its owning team." },
  { key: "rotationDays", label: "Rotation period", unit: "days", help: "Credentials older than this are flagged as due for rotation." },
  {
    key: "maxCertificateValidityDays",
    label: "Longest certificate validity",
    unit: "days",
    help: "Client certificates valid for longer than this break the rotation policy. Empty: the rotation period.",
  },
  { key: "expiryWarningDays", label: "Expiry warning", unit: "days", help: "Credentials expiring within this many days are flagged." },
  { key: "sharedServiceAccountWorkloads", label: "Shared service account", unit: "workloads", min: 2, help: "A service account run by at least this many distinct workloads is flagged as shared." },
  { key: "usageWindowDays", label: "Usage window", unit: "days", help: "Usage findings look back this far: an identity or a grant with no use in it is unused." },
  {
    key: "clusterCidrs",
    label: "Cluster networks",
    list: true,
    help: "Cluster networks: a service account token used from outside these is flagged as human use. One CIDR a line (IPv4 or IPv6); empty: only kubectl-like user agents tell.",
  },
  { key: "usageRetentionDays", label: "Usage retention", unit: "days", help: "Usage older than this is deleted. At least the usage window." },
];

const asText = (value: string | number | string[]) => (Array.isArray(value) ? value.join("\n") : String(value));

/** The form's text as the setting's value: empty resets it to its default (null). */
function fromText(field: (typeof fields)[number], text: string): string | number | string[] | null {
  const trimmed = text.trim();
  if (trimmed === "") return null;
  if (field.list) return trimmed.split(/[\s,]+/);
  if (field.unit) return Number(trimmed);
  return trimmed;
}

const inputClass = "w-full rounded-md border border-slate-300 px-2 py-1.5 text-sm";
const submitClass =
  "inline-flex items-center gap-1.5 rounded-md bg-brand-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-brand-700 disabled:opacity-60";

/**
 * The cluster's analysis settings: a form for those who may change them (only the settings changed are sent, and
 * the server checks the role again), a read-only list for the others.
 */
export function ClusterSettingsForm({
  clusterId,
  settings,
  defaults,
  canEdit,
}: {
  clusterId: string;
  /** In effect now. */
  settings: AnalysisSettings;
  defaults: AnalysisSettings;
  canEdit: boolean;
}) {
  const router = useRouter();
  const textOf = (current: AnalysisSettings) => Object.fromEntries(fields.map(({ key }) => [key, asText(current[key])])) as Record<Key, string>;
  const initial = textOf(settings);
  const [values, setValues] = useState(initial);
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<string, string[]>>>({});
  const save = useMutation({
    mutationFn: async () => {
      const changed = fields.filter(({ key }) => values[key] !== initial[key]);
      const patch = Object.fromEntries(changed.map((field) => [field.key, fromText(field, values[field.key])]));
      const result = await updateClusterSettingsAction({ clusterId, ...patch });
      // "clusterCidrs.1" is the list's second line: shown under the list.
      const byField: Record<string, string[]> = {};
      for (const [path, messages] of Object.entries(result.ok ? {} : (result.fieldErrors ?? {}))) (byField[path.split(".")[0]] ??= []).push(...messages);
      setFieldErrors(byField);
      if (!result.ok) throw new Error(result.fieldErrors ? "Some settings are not valid: see below." : result.error);
      return result.data;
    },
    onSuccess: (saved) => {
      // A reset field shows its default again.
      setValues(textOf(saved.settings));
      router.refresh();
    },
  });

  if (!canEdit) {
    return (
      <dl className="grid grid-cols-1 gap-x-6 gap-y-3 text-sm md:grid-cols-2" data-testid="cluster-settings">
        {fields.map(({ key, label, help, unit }) => (
          <div key={key}>
            <dt className="font-medium text-slate-700">{label}</dt>
            <dd className="font-mono text-xs text-slate-900">
              {[settings[key]].flat().join(", ") || "none"}
              {unit ? ` ${unit}` : ""}
            </dd>
            <dd className="text-xs text-slate-500">{help}</dd>
          </div>
        ))}
      </dl>
    );
  }

  return (
    <form
      className="space-y-4"
      data-testid="cluster-settings-form"
      onSubmit={(event) => {
        event.preventDefault();
        save.mutate();
      }}
    >
      <div className="grid grid-cols-1 gap-x-6 gap-y-4 md:grid-cols-2">
        {fields.map((field) => {
          const id = `setting-${field.key}`;
          const errors = fieldErrors[field.key];
          const placeholder = field.key === "maxCertificateValidityDays" ? "the rotation period" : asText(defaults[field.key]);
          return (
            <div key={field.key} className={field.list ? "md:row-span-2" : undefined}>
              <label htmlFor={id} className="text-xs font-medium text-slate-700">
                {field.label}
                {field.unit ? ` (${field.unit})` : ""}
              </label>
              {field.list ? (
                <textarea
                  id={id}
                  rows={4}
                  value={values[field.key]}
                  placeholder={"10.0.0.0/8\nfd00::/8"}
                  onChange={(event) => setValues({ ...values, [field.key]: event.target.value })}
                  aria-invalid={errors ? true : undefined}
                  aria-describedby={`${id}-help`}
                  className={`${inputClass} font-mono`}
                />
              ) : (
                <input
                  id={id}
                  type={field.unit ? "number" : "text"}
                  min={field.unit ? (field.min ?? 1) : undefined}
                  step={field.unit ? 1 : undefined}
                  value={values[field.key]}
                  placeholder={`default: ${placeholder}`}
                  onChange={(event) => setValues({ ...values, [field.key]: event.target.value })}
                  aria-invalid={errors ? true : undefined}
                  aria-describedby={`${id}-help`}
                  className={inputClass}
                />
              )}
              <p id={`${id}-help`} className="mt-1 text-xs text-slate-500">
                {field.help}
              </p>
              {errors ? (
                <p role="alert" className="mt-1 text-xs text-red-700">
                  {errors.join(" ")}
                </p>
              ) : null}
            </div>
          );
        })}
      </div>
      <div className="flex items-center gap-3">
        <button type="submit" disabled={save.isPending} className={submitClass}>
          {save.isPending ? "Saving and re-analysing…" : "Save settings"}
        </button>
        {save.isSuccess ? (
          <span role="status" className="text-sm text-emerald-700">
            {save.data.changed.length === 0
              ? "Nothing changed."
              : `Saved; re-analysed: ${save.data.analysis?.opened ?? 0} findings opened, ${save.data.analysis?.resolved ?? 0} resolved.`}
          </span>
        ) : null}
        {save.error ? (
          <span role="alert" className="text-sm text-red-700">
            {save.error.message}
          </span>
        ) : null}
      </div>
    </form>
  );
}
