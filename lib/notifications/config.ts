// Which notification senders this deployment has, read from the environment once and validated: a typo in a URL
// fails loudly at start instead of silently dropping every reminder.
import { z } from "zod";

/** Unset and empty are the same: an env file with `KEYWARD_SMTP_URL=` means "no email". */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess(
    (value) => (typeof value === "string" && value.trim() === "" ? undefined : value),
    schema.optional(),
  );

const envSchema = z
  .object({
    KEYWARD_SMTP_URL: optional(
      z.url({ protocol: /^smtps?$/, error: "KEYWARD_SMTP_URL must be an smtp:// or smtps:// URL" }),
    ),
    KEYWARD_SMTP_FROM: optional(z.string().trim().min(3).max(320)),
    KEYWARD_NOTIFY_WEBHOOK_URL: optional(
      z.url({ protocol: /^https?$/, error: "KEYWARD_NOTIFY_WEBHOOK_URL must be an http(s):// URL" }),
    ),
    KEYWARD_URL: optional(z.url({ protocol: /^https?$/ })),
    AUTH_URL: optional(z.url({ protocol: /^https?$/ })),
  })
  .refine((env) => !env.KEYWARD_SMTP_URL || env.KEYWARD_SMTP_FROM, {
    message: "KEYWARD_SMTP_FROM (the sender address) is required with KEYWARD_SMTP_URL",
    path: ["KEYWARD_SMTP_FROM"],
  });

export interface NotificationConfig {
  email: { url: string; from: string } | null;
  webhook: { url: string } | null;
  /** Keyward's public URL, for links in messages; null when unknown (messages then carry no link). */
  linkBase: string | null;
}

export class NotificationConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotificationConfigError";
  }
}

export function notificationConfig(
  env: Record<string, string | undefined> = process.env,
): NotificationConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success)
    throw new NotificationConfigError(parsed.error.issues.map((issue) => issue.message).join("; "));
  const values = parsed.data;
  const linkBase = values.KEYWARD_URL ?? values.AUTH_URL ?? null;
  return {
    email: values.KEYWARD_SMTP_URL ? { url: values.KEYWARD_SMTP_URL, from: values.KEYWARD_SMTP_FROM! } : null,
    webhook: values.KEYWARD_NOTIFY_WEBHOOK_URL ? { url: values.KEYWARD_NOTIFY_WEBHOOK_URL } : null,
    linkBase: linkBase?.replace(/\/+$/, "") ?? null,
  };
}
