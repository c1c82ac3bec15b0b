import "server-only";
import type { z } from "zod";
import { recordAudit, type Actor } from "@/lib/audit/log";
import { UserFacingError } from "@/lib/auth/errors";
import type { Prisma, PrismaClient } from "@/lib/db";
import { analyzeCluster, type AnalysisOutcome } from "@/lib/findings/analyze-cluster";
import { analysisSettings, analysisSettingsInput, type AnalysisSettings } from "@/lib/findings/settings";

// A cluster's analysis settings as people change them: validated strictly (the analysis itself reads them
// leniently), merged into Cluster.settings beside the keys other features keep there, audited, and applied at once.

/** A change: only the settings named; null resets one to its default; a wrong value or an unknown key is refused. */
export const clusterSettingsInput = analysisSettingsInput;
export type ClusterSettingsInput = z.input<typeof clusterSettingsInput>;

export interface ClusterSettingsView {
  clusterId: string;
  /** What the analysis uses: the stored values, with the defaults for the rest. */
  settings: AnalysisSettings;
}

export interface ClusterSettingsUpdate extends ClusterSettingsView {
  /** The settings whose stored value changed (none: nothing was written, audited or re-analysed). */
  changed: string[];
  analysis: AnalysisOutcome | null;
}

type JsonRecord = Record<string, Prisma.InputJsonValue>;

function storedObject(settings: unknown): JsonRecord {
  return typeof settings === "object" && settings !== null && !Array.isArray(settings) ? { ...(settings as JsonRecord) } : {};
}

export async function getClusterSettings(db: PrismaClient, clusterId: string): Promise<ClusterSettingsView> {
  const cluster = await db.cluster.findUnique({ where: { id: clusterId }, select: { settings: true } });
  if (!cluster) throw new UserFacingError("This cluster does not exist.", 404);
  return { clusterId, settings: analysisSettings(cluster.settings) };
}

const pick = (settings: AnalysisSettings, keys: string[]) =>
  Object.fromEntries(keys.map((key) => [key, settings[key as keyof AnalysisSettings]]));

export async function updateClusterSettings(
  db: PrismaClient,
  actor: Actor,
  clusterId: string,
  input: ClusterSettingsInput,
): Promise<ClusterSettingsUpdate> {
  const patch = clusterSettingsInput.parse(input);
  const { before, after, changed } = await db.$transaction(async (tx) => {
    // Other features write their own keys into this column: the row lock keeps a concurrent write from being lost.
    const [row] = await tx.$queryRaw<{ settings: unknown }[]>`SELECT settings FROM "Cluster" WHERE id = ${clusterId} FOR UPDATE`;
    if (!row) throw new UserFacingError("This cluster does not exist.", 404);
    const stored = storedObject(row.settings);
    const next = { ...stored };
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete next[key];
      else if (value !== undefined) next[key] = value;
    }
    const changedKeys = Object.keys(patch)
      .filter((key) => JSON.stringify(stored[key]) !== JSON.stringify(next[key]))
      .sort();
    const effective = analysisSettings(next);
    // Rollups deleted inside the window would make identities look unused that were not.
    if (effective.usageRetentionDays < effective.usageWindowDays) {
      throw new UserFacingError(
        `Keep usage for at least the usage window (${effective.usageWindowDays} days): retention is ${effective.usageRetentionDays} days.`,
        422,
      );
    }
    if (changedKeys.length > 0) await tx.cluster.update({ where: { id: clusterId }, data: { settings: next } });
    return { before: analysisSettings(stored), after: effective, changed: changedKeys };
  });
  if (changed.length === 0) return { clusterId, settings: after, changed, analysis: null };

  await recordAudit(db, {
    actor,
    action: "cluster.settings_change",
    target: { type: "cluster", id: clusterId },
    outcome: "success",
    details: { before: pick(before, changed), after: pick(after, changed) },
  });
  // Findings follow the settings now rather than at the next sync, as for a changed ownership rule.
  const analysis = await analyzeCluster(db, clusterId);
  return { clusterId, settings: after, changed, analysis };
}
