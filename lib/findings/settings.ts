// The per-cluster settings analysis reads from Cluster.settings (a JSON column other features add keys to):
// unknown keys are ignored, invalid values fall back to the defaults rather than failing a sync.
import { z } from "zod";

export const DEFAULT_OWNER_ANNOTATION_KEY = "keyward.io/owner";

const CIDR_ERROR = "Enter a network in CIDR notation, e.g. 10.0.0.0/8 or fd00::/8.";

// What each setting may be: the reader below falls back to the default on anything else, the input schema refuses it.
const settingFields = {
  ownerAnnotationKey: z.string().min(1),
  /** Credentials older than this are due for rotation. */
  rotationDays: z.number().int().positive(),
  /** Certificates valid for longer than this break the rotation policy; defaults to rotationDays. */
  maxCertificateValidityDays: z.number().int().positive(),
  expiryWarningDays: z.number().int().positive(),
  /** A service account run by at least this many distinct workloads is shared. */
  sharedServiceAccountWorkloads: z.number().int().min(2),
  /** Usage findings look back this many days: no event in it is "unused". */
  usageWindowDays: z.number().int().positive().max(3650),
  /**
   * The cluster's own networks (nodes, pods): a service account token used from elsewhere is human use. Empty
   * means unknown, and then only user agents tell. One invalid entry voids the list, as for every other setting.
   */
  clusterCidrs: z.array(z.union([z.cidrv4({ error: CIDR_ERROR }), z.cidrv6({ error: CIDR_ERROR })], { error: CIDR_ERROR })),
  /** Usage rollups older than this are deleted. */
  usageRetentionDays: z.number().int().positive().max(3650),
};

const analysisSettingsSchema = z.object({
  ownerAnnotationKey: settingFields.ownerAnnotationKey.catch(DEFAULT_OWNER_ANNOTATION_KEY).default(DEFAULT_OWNER_ANNOTATION_KEY),
  rotationDays: settingFields.rotationDays.catch(90).default(90),
  maxCertificateValidityDays: settingFields.maxCertificateValidityDays.optional().catch(undefined),
  expiryWarningDays: settingFields.expiryWarningDays.catch(30).default(30),
  sharedServiceAccountWorkloads: settingFields.sharedServiceAccountWorkloads.catch(3).default(3),
  usageWindowDays: settingFields.usageWindowDays.catch(90).default(90),
  clusterCidrs: settingFields.clusterCidrs.catch([]).default([]),
  usageRetentionDays: settingFields.usageRetentionDays.catch(400).default(400),
});

type SettingKey = keyof typeof settingFields;

/** A complete set of valid settings, as the analysis runs with them (described in the API). */
export const effectiveAnalysisSettings = z.object(settingFields);

/**
 * A change to the analysis settings as a person makes it: every key optional, null resets the setting to its
 * default, and an invalid value or an unknown key is refused (with the field) instead of falling back.
 */
export const analysisSettingsInput = z.strictObject(
  Object.fromEntries(Object.entries(settingFields).map(([key, field]) => [key, field.nullable().optional()])) as {
    [K in SettingKey]: z.ZodOptional<z.ZodNullable<(typeof settingFields)[K]>>;
  },
);
export type AnalysisSettingsInput = z.infer<typeof analysisSettingsInput>;

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
