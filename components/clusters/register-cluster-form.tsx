"use client";

import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Plus, Upload } from "lucide-react";
import { inspectKubeconfig, registerClusterFromForm } from "@/app/(dashboard)/clusters/actions";

type Source = "token" | "clientCertificate" | "kubeconfig";
type KubeconfigUser = { name: string; auth: string; supported: boolean };

const sources: Source[] = ["kubeconfig", "token", "clientCertificate"];
const sourcesWithNone: (Source | "none")[] = ["none", ...sources];
const field = "rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm";
const label = "flex flex-col gap-1 text-xs font-medium text-slate-600";

async function unwrap<T>(result: { ok: true; data: T } | { ok: false; error: string; fieldErrors?: Record<string, string[]> }): Promise<T> {
  if (!result.ok) throw new Error(result.fieldErrors ? `${result.error} ${Object.entries(result.fieldErrors).map(([k, v]) => `${k}: ${v.join(", ")}`).join("; ")}` : result.error);
  return result.data;
}

/** One of the cluster's two credentials: a token, a client certificate, or a user from an uploaded kubeconfig. */
function CredentialFields({ purpose, optional }: { purpose: "sync" | "remediation"; optional?: boolean }) {
  const [source, setSource] = useState<Source | "none">(optional ? "none" : "kubeconfig");
  const [users, setUsers] = useState<KubeconfigUser[]>([]);
  const [kubeconfig, setKubeconfig] = useState("");
  const [selected, setSelected] = useState("");
  const inspect = useMutation({
    mutationFn: async (text: string) => unwrap(await inspectKubeconfig({ kubeconfig: text })),
    onSuccess: (data) => {
      setUsers(data.users);
      setSelected(data.currentUser ?? data.users.find((u) => u.supported)?.name ?? "");
    },
  });
  const title = purpose === "sync" ? "Sync credential (read-only)" : "Remediation credential";
  return (
    <fieldset className="rounded-lg border border-slate-200 p-4">
      <legend className="px-1 text-sm font-semibold text-slate-800">{title}</legend>
      <div className="flex flex-wrap gap-4 text-sm" role="radiogroup" aria-label={`${title}: kind`}>
        {(optional ? sourcesWithNone : sources).map((s) => (
          <label key={s} className="flex items-center gap-1.5">
            <input type="radio" name={`${purpose}.source`} value={s} checked={source === s} onChange={() => setSource(s)} />
            {{ none: "None for now", kubeconfig: "Upload a kubeconfig", token: "Bearer token", clientCertificate: "Client certificate" }[s]}
          </label>
        ))}
      </div>
      {source === "token" ? (
        <label className={`${label} mt-3`}>
          Token
          <textarea name={`${purpose}.token`} rows={3} className={`${field} font-mono`} autoComplete="off" />
        </label>
      ) : null}
      {source === "clientCertificate" ? (
        <div className="mt-3 grid grid-cols-1 gap-3 md:grid-cols-2">
          <label className={label}>
            Certificate (PEM)
            <textarea name={`${purpose}.certificatePem`} rows={4} className={`${field} font-mono text-xs`} />
          </label>
          <label className={label}>
            Private key (PEM)
            <textarea name={`${purpose}.privateKeyPem`} rows={4} className={`${field} font-mono text-xs`} autoComplete="off" />
          </label>
        </div>
      ) : null}
      {source === "kubeconfig" ? (
        <div className="mt-3 flex flex-wrap items-end gap-3">
          <label className={label}>
            <span className="inline-flex items-center gap-1"><Upload className="h-3.5 w-3.5" aria-hidden /> Kubeconfig file for the {purpose} credential</span>
            <input
              type="file"
              accept=".yaml,.yml,.kubeconfig,.conf,text/*"
              onChange={async (event) => {
                const file = event.target.files?.[0];
                if (!file) return;
                const text = await file.text();
                setKubeconfig(text);
                inspect.mutate(text);
              }}
              className="text-sm"
            />
          </label>
          <input type="hidden" name={`${purpose}.kubeconfig`} value={kubeconfig} />
          {users.length ? (
            <label className={label}>
              User
              <select name={`${purpose}.user`} value={selected} onChange={(e) => setSelected(e.target.value)} className={field}>
                {users.map((u) => (
                  <option key={u.name} value={u.name} disabled={!u.supported}>
                    {u.name} ({u.auth}{u.supported ? "" : ": not supported"})
                  </option>
                ))}
              </select>
            </label>
          ) : null}
          {inspect.isPending ? <span className="text-sm text-slate-600">Reading…</span> : null}
          {inspect.isError ? <span role="alert" className="text-sm text-red-700">{inspect.error.message}</span> : null}
        </div>
      ) : null}
    </fieldset>
  );
}

function credentialFrom(data: FormData, purpose: string) {
  const get = (key: string) => String(data.get(`${purpose}.${key}`) ?? "");
  const source = get("source");
  if (source === "token") return { source, token: get("token") } as const;
  if (source === "clientCertificate") return { source, certificatePem: get("certificatePem"), privateKeyPem: get("privateKeyPem") } as const;
  if (source === "kubeconfig") return { source, kubeconfig: get("kubeconfig"), user: get("user") } as const;
  return undefined;
}

export function RegisterClusterForm() {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const register = useMutation({
    mutationFn: async (data: FormData) => {
      const sync = credentialFrom(data, "sync");
      if (!sync) throw new Error("Choose how Keyward authenticates for the sync.");
      return unwrap(
        await registerClusterFromForm({
          name: String(data.get("name") ?? "").trim(),
          apiServerUrl: String(data.get("apiServerUrl") ?? "").trim() || undefined,
          caCertPem: String(data.get("caCertPem") ?? "").trim() || undefined,
          sync,
          remediation: credentialFrom(data, "remediation"),
        }),
      );
    },
    onSuccess: (cluster) => router.push(`/clusters/${cluster.id}?registered=1`),
  });
  if (!open) {
    return (
      <button type="button" onClick={() => setOpen(true)} className="inline-flex items-center gap-1.5 rounded-md bg-brand-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-brand-700">
        <Plus className="h-4 w-4" aria-hidden /> Register a cluster
      </button>
    );
  }
  return (
    <form
      aria-label="Register a cluster"
      className="space-y-4 rounded-xl border border-slate-200 bg-white p-5 shadow-sm"
      onSubmit={(event) => {
        event.preventDefault();
        register.mutate(new FormData(event.currentTarget));
      }}
    >
      <h2 className="text-sm font-semibold text-slate-800">Register a cluster</h2>
      <p className="text-sm text-slate-600">
        Keyward needs a read-only identity to sync (apply <code>deploy/keyward-sync.yaml</code>), and optionally a separate one for remediation. Both are encrypted at rest and never sent back to the browser. With a kubeconfig, the API server and CA come from it unless you type them.
      </p>
      <div className="grid grid-cols-1 gap-3 md:grid-cols-2">
        <label className={label}>
          Name
          <input name="name" required pattern="[a-z0-9]([-a-z0-9]*[a-z0-9])?" maxLength={63} placeholder="prod-eu-1" className={field} />
        </label>
        <label className={label}>
          API server URL
          <input name="apiServerUrl" type="url" placeholder="https://api.example.com:6443 (or from the kubeconfig)" className={field} />
        </label>
        <label className={`${label} md:col-span-2`}>
          CA certificate (PEM)
          <textarea name="caCertPem" rows={3} placeholder="-----BEGIN CERTIFICATE----- (or from the kubeconfig)" className={`${field} font-mono text-xs`} />
        </label>
      </div>
      <CredentialFields purpose="sync" />
      <CredentialFields purpose="remediation" optional />
      <div className="flex items-center gap-3">
        <button type="submit" disabled={register.isPending} className="rounded-md bg-brand-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-brand-700 disabled:opacity-60">
          {register.isPending ? "Registering…" : "Register"}
        </button>
        <button type="button" onClick={() => setOpen(false)} className="text-sm text-slate-600 hover:underline">
          Cancel
        </button>
        {register.isError ? <p role="alert" className="text-sm text-red-700">{register.error.message}</p> : null}
      </div>
    </form>
  );
}
