"use client";

import { useRouter } from "next/navigation";
import { useRef, useState } from "react";
import { Upload, X } from "lucide-react";
import type { IngestOutcome } from "@/lib/usage/types";

type UploadState =
  | { phase: "idle" }
  | { phase: "uploading"; sent: number; total: number }
  | { phase: "done"; fileName: string; outcome: IngestOutcome }
  | { phase: "failed"; message: string };

const number = new Intl.NumberFormat("en");
const megabytes = (bytes: number) => `${(bytes / 1_048_576).toFixed(bytes < 10_485_760 ? 1 : 0)} MB`;

/**
 * Sends the file as the raw body, as the API takes it: the server streams it into the ingester. XMLHttpRequest
 * rather than fetch because only it reports upload progress over HTTP/1.1 (fetch can stream a body up only on HTTP/2).
 */
function send(url: string, file: File, onProgress: (sent: number) => void, register: (abort: () => void) => void) {
  return new Promise<{ status: number; body: unknown }>((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", url);
    request.setRequestHeader("Content-Type", "application/octet-stream");
    request.responseType = "json";
    request.upload.onprogress = (event) => onProgress(event.loaded);
    request.onload = () => resolve({ status: request.status, body: request.response as unknown });
    request.onerror = () => reject(new Error("The connection to Keyward was lost during the upload. Nothing after the last committed batch was counted; upload the file again (what was counted comes back as duplicates)."));
    request.onabort = () => reject(new Error("Upload cancelled. Events counted before that are kept; uploading the file again counts them as duplicates."));
    register(() => request.abort());
    request.send(file);
  });
}

function errorMessage(status: number, body: unknown): string {
  const message = (body as { error?: { message?: string } } | null)?.error?.message;
  return message ?? `The upload failed (HTTP ${status}).`;
}

/** Upload an audit log file (JSON lines, or gzip of them) to the cluster's imports endpoint, with progress and the counts. */
export function AuditUploadForm({ clusterId }: { clusterId: string }) {
  const router = useRouter();
  const [file, setFile] = useState<File | null>(null);
  const [state, setState] = useState<UploadState>({ phase: "idle" });
  const abort = useRef<(() => void) | null>(null);

  async function upload(selected: File) {
    setState({ phase: "uploading", sent: 0, total: selected.size });
    const url = `/api/v1/clusters/${encodeURIComponent(clusterId)}/audit/imports?fileName=${encodeURIComponent(selected.name)}`;
    try {
      const { status, body } = await send(
        url,
        selected,
        (sent) => setState({ phase: "uploading", sent, total: selected.size }),
        (cancel) => (abort.current = cancel),
      );
      if (status !== 200) setState({ phase: "failed", message: errorMessage(status, body) });
      else setState({ phase: "done", fileName: selected.name, outcome: body as IngestOutcome });
    } catch (error) {
      setState({ phase: "failed", message: error instanceof Error ? error.message : String(error) });
    } finally {
      abort.current = null;
      router.refresh();
    }
  }

  const uploading = state.phase === "uploading";
  return (
    <form
      className="space-y-3"
      onSubmit={(event) => {
        event.preventDefault();
        if (file) void upload(file);
      }}
    >
      <p className="text-sm text-slate-600">
        An API server&apos;s audit log file (<code className="text-xs">--audit-log-path</code>) or a cloud provider&apos;s export: JSON lines, one{" "}
        <code className="text-xs">audit.k8s.io/v1</code> Event per line, plain or gzip. Events already counted are skipped as duplicates.
      </p>
      <div className="flex flex-wrap items-center gap-2">
        <label className="text-sm">
          <span className="sr-only">Audit log file</span>
          <input
            type="file"
            name="file"
            accept=".json,.jsonl,.ndjson,.log,.gz,application/x-ndjson,application/gzip"
            disabled={uploading}
            onChange={(event) => {
              setFile(event.target.files?.[0] ?? null);
              setState({ phase: "idle" });
            }}
            className="text-sm file:mr-2 file:rounded-md file:border file:border-slate-300 file:bg-white file:px-3 file:py-1.5 file:text-sm file:font-medium hover:file:bg-slate-50"
          />
        </label>
        <button
          type="submit"
          disabled={!file || uploading}
          className="inline-flex items-center gap-1.5 rounded-md bg-brand-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-brand-700 disabled:opacity-60"
        >
          <Upload className="h-4 w-4" aria-hidden /> {uploading ? "Uploading…" : "Upload"}
        </button>
        {uploading ? (
          <button
            type="button"
            onClick={() => abort.current?.()}
            className="inline-flex items-center gap-1 rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm hover:bg-slate-50"
          >
            <X className="h-4 w-4" aria-hidden /> Cancel
          </button>
        ) : null}
      </div>
      {state.phase === "uploading" ? (
        <div role="status" aria-live="polite">
          <progress className="h-2 w-full max-w-md accent-brand-600" value={state.sent} max={Math.max(state.total, 1)} />
          <p className="text-xs text-slate-600">
            {state.sent < state.total
              ? `${megabytes(state.sent)} of ${megabytes(state.total)} sent; counting as it arrives`
              : "Sent; committing the last events…"}
          </p>
        </div>
      ) : null}
      {state.phase === "failed" ? (
        <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700">
          {state.message}
        </p>
      ) : null}
      {state.phase === "done" ? (
        <div role="status" className="rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-900" data-testid="upload-result">
          <p>
            <span className="font-mono text-xs">{state.fileName}</span>: accepted {number.format(state.outcome.accepted)}, duplicates{" "}
            {number.format(state.outcome.duplicates)}, rejected {number.format(state.outcome.rejected)}
          </p>
          {state.outcome.sampleReasons.length ? (
            <ul className="mt-1 font-mono text-xs text-red-800">
              {state.outcome.sampleReasons.slice(0, 5).map((r) => (
                <li key={`${r.line}:${r.reason}`}>
                  line {r.line}: {r.reason}
                </li>
              ))}
              {state.outcome.rejected > 5 ? <li>… the history below shows the first {state.outcome.sampleReasons.length}</li> : null}
            </ul>
          ) : null}
        </div>
      ) : null}
    </form>
  );
}
