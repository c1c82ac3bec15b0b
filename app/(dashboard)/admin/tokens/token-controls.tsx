"use client";

import { useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { KeyRound } from "lucide-react";
import { createApiTokenAction, revokeApiTokenAction } from "./actions";

const inputClass = "rounded-md border border-slate-300 px-2 py-1.5 text-sm";

export function CreateTokenForm({ defaultExpiresOn, maxExpiresOn, minExpiresOn }: { defaultExpiresOn: string; maxExpiresOn: string; minExpiresOn: string }) {
  const router = useRouter();
  const [copied, setCopied] = useState(false);
  const create = useMutation({
    mutationFn: async (form: FormData) => {
      const result = await createApiTokenAction({
        name: String(form.get("name") ?? ""),
        scope: form.get("scope") === "write" ? "write" : "read",
        expiresOn: String(form.get("expiresOn") ?? ""),
      });
      if (!result.ok) throw new Error(result.fieldErrors ? Object.values(result.fieldErrors).flat().join(" ") : result.error);
      return result.data;
    },
    onMutate: () => setCopied(false),
    onSuccess: () => router.refresh(),
  });
  return (
    <div className="space-y-4">
      <form
        className="flex flex-wrap items-end gap-3"
        onSubmit={(event) => {
          event.preventDefault();
          create.mutate(new FormData(event.currentTarget));
        }}
      >
        <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
          Client
          <input name="name" required maxLength={100} placeholder="e.g. grafana, terraform-ci" className={inputClass} />
        </label>
        <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
          Scope
          <select name="scope" defaultValue="read" className={inputClass}>
            <option value="read">read</option>
            <option value="write">read + write</option>
          </select>
        </label>
        <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
          Expires on
          <input name="expiresOn" type="date" required defaultValue={defaultExpiresOn} min={minExpiresOn} max={maxExpiresOn} className={inputClass} />
        </label>
        <button
          type="submit"
          disabled={create.isPending}
          className="inline-flex items-center gap-1.5 rounded-md bg-brand-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-brand-700 disabled:opacity-60"
        >
          <KeyRound className="h-4 w-4" aria-hidden />
          {create.isPending ? "Creating…" : "Create token"}
        </button>
      </form>
      {create.isError ? (
        <p role="alert" className="text-sm text-red-700">
          {create.error.message}
        </p>
      ) : null}
      {create.isSuccess ? (
        <div role="status" className="rounded-md border border-amber-300 bg-amber-50 p-3 text-sm">
          <p className="font-medium text-amber-900">Copy this token now: it is shown only once and Keyward keeps only its hash.</p>
          <div className="mt-2 flex items-center gap-2">
            <code data-testid="new-token" className="break-all rounded bg-white px-2 py-1 font-mono text-xs ring-1 ring-amber-200">
              {create.data.token}
            </code>
            <button
              type="button"
              className="rounded-md border border-amber-300 px-2 py-1 text-xs hover:bg-amber-100"
              onClick={() => void navigator.clipboard.writeText(create.data.token).then(() => setCopied(true))}
            >
              {copied ? "Copied" : "Copy"}
            </button>
          </div>
        </div>
      ) : null}
    </div>
  );
}

export function RevokeTokenButton({ id, name }: { id: string; name: string }) {
  const router = useRouter();
  const revoke = useMutation({
    mutationFn: async () => {
      const result = await revokeApiTokenAction({ id });
      if (!result.ok) throw new Error(result.error);
    },
    onSuccess: () => router.refresh(),
  });
  return (
    <span className="inline-flex items-center gap-2">
      {revoke.isError ? (
        <span role="alert" className="text-xs text-red-700">
          {revoke.error.message}
        </span>
      ) : null}
      <button
        type="button"
        disabled={revoke.isPending}
        aria-label={`Revoke ${name}`}
        onClick={() => {
          if (window.confirm(`Revoke the token "${name}"? Clients using it stop working at once.`)) revoke.mutate();
        }}
        className="rounded-md border border-red-200 px-2 py-1 text-xs font-medium text-red-700 hover:bg-red-50 disabled:opacity-60"
      >
        {revoke.isPending ? "Revoking…" : "Revoke"}
      </button>
    </span>
  );
}
