// The per-cluster settings analysis reads from Cluster.settings (a JSON column other features add keys to):
// unknown keys are ignored, invalid values fall back to the defaults rather than failing a sync.
import { z } from "zod";

export const DEFAULT_OWNER_ANNOTATION_KEY = "keyward.io/owner";

const analysisSettingsSchema = z.object({
  ownerAnnotationKey: z.string().min(1).catch(DEFAULT_OWNER_ANNOTATION_KEY).default(DEFAULT_OWNER_ANNOTATION_KEY),
  /** Credentials older than this are due for rotation. */
  rotationDays: z.number().int().positive().catch(90).default(90),
  /** Certificates valid for longer than this break the rotation policy; defaults to rotationDays. */
  maxCertificateValidityDays: z.number().int().positive().optional().catch(undefined),
  expiryWarningDays: z.number().int().positive().catch(30).default(30),
  /** A service account run by at least this many distinct workloads is shared. */
  sharedServiceAccountWorkloads: z.number().int().min(2).catch(3).default(3),
  /** Usage findings look back this many days: no event in it is "unused". */
  usageWindowDays: z.number().int().positive().max(3650).catch(90).default(90),
  /**
   * The cluster's own networks (nodes, pods): a service account token used from elsewhere is human use. Empty
   * means unknown, and then only user agents tell. One invalid entry voids the list, as for every other setting.
   */
  clusterCidrs: z.array(z.union([z.cidrv4(), z.cidrv6()])).catch([]).default([]),
  /** Usage rollups older than this are deleted. */
  usageRetentionDays: z.number().int().positive().max(3650).catch(400).default(400),
});

export interface AnalysisSettings {
  ownerAnnotationKey: string;
  rotationDays: number;
  maxCertificateValidityDays: number;
  expiryWarningDays: number;
  sharedServiceAccountWorkloads: number;
  usageWindowDays: number;
  clusterCidrs: string[];
  usageRetentionDays: number;
}

export function analysisSettings(settings: unknown): AnalysisSettings {
  const record = typeof settings === "object" && settings !== null && !Array.isArray(settings) ? settings : {};
  const parsed = analysisSettingsSchema.parse(record);
  return { ...parsed, maxCertificateValidityDays: parsed.maxCertificateValidityDays ?? parsed.rotationDays };
}
