"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { authorizedAction } from "@/lib/auth/server-action";
import { UserFacingError } from "@/lib/auth/errors";
import { getPrisma } from "@/lib/db";
import { syncCluster } from "@/lib/sync/sync-cluster";

const syncInput = z.object({ clusterId: z.string().min(1).max(64) });

const syncNow = authorizedAction({
  name: "cluster.sync",
  permission: "clusters:sync",
  input: syncInput,
  target: (input) => ({ type: "cluster", id: input.clusterId }),
  async handler({ clusterId }) {
    const exists = await getPrisma().cluster.findUnique({ where: { id: clusterId }, select: { id: true } });
    if (!exists) throw new UserFacingError("This cluster does not exist.", 404);
    const outcome = await syncCluster(clusterId, "manual");
    revalidatePath("/clusters");
    revalidatePath("/");
    if (!outcome.ok) throw new UserFacingError(`Sync failed: ${outcome.error}`, 502);
    return { counts: outcome.counts, durationMs: outcome.durationMs };
  },
});

export async function syncClusterNow(input: z.input<typeof syncInput>) {
  return syncNow(input);
}
