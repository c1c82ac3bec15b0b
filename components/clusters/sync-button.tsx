"use client";

import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { RefreshCw } from "lucide-react";
import { syncClusterNow } from "@/app/(dashboard)/clusters/actions";
import { formatDuration } from "@/components/ui/format";

export function SyncButton({ clusterId, clusterName }: { clusterId: string; clusterName: string }) {
  const router = useRouter();
  const sync = useMutation({
    mutationFn: async () => {
      const result = await syncClusterNow({ clusterId });
      if (!result.ok) throw new Error(result.error);
      return result.data;
    },
    onSettled: () => router.refresh(),
  });
  return (
    <div className="flex items-center gap-3">
      {sync.isError ? (
        <span role="alert" className="text-sm text-red-700">
          {sync.error.message}
        </span>
      ) : null}
      {sync.isSuccess ? (
        <span role="status" className="text-sm text-emerald-700">
          Synced {sync.data.counts.serviceaccounts ?? 0} service accounts in {formatDuration(sync.data.durationMs)}
        </span>
      ) : null}
      <button
        type="button"
        onClick={() => sync.mutate()}
        disabled={sync.isPending}
        aria-label={`Sync ${clusterName} now`}
        className="inline-flex items-center gap-1.5 rounded-md bg-brand-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-brand-700 disabled:opacity-60"
      >
        <RefreshCw className={`h-4 w-4 ${sync.isPending ? "animate-spin" : ""}`} aria-hidden />
        {sync.isPending ? "Syncing…" : "Sync now"}
      </button>
    </div>
  );
}
