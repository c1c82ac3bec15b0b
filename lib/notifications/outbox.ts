// The notification outbox: use cases enqueue (in their own flow, idempotently by dedupe key), a worker delivers.
// Delivery claims due rows with FOR UPDATE SKIP LOCKED and leases them (nextAttemptAt moves past the send), so
// several workers share the queue without sending one message twice; a failed send is retried with exponential
// backoff and given up after MAX_ATTEMPTS, with the last error kept for the admin to see.
import { z } from "zod";
import type { NotificationChannel, PrismaClient } from "@/lib/db";
import { NOTIFICATION_KINDS, type NotificationKind } from "./messages";

export const MAX_ATTEMPTS = 6;
const BASE_BACKOFF_MS = 60_000;
const MAX_BACKOFF_MS = 6 * 3_600_000;
/** A claimed row is invisible to other workers this long: far longer than a send may take (senders time out). */
const LEASE_MS = 5 * 60_000;
const DEFAULT_BATCH = 20;

const bodySchema = z.object({
  text: z.string().min(1).max(20_000),
  link: z.string().max(2_000).nullable().optional(),
});
export type NotificationBody = z.infer<typeof bodySchema>;

/** The plain text, ending with the link when the text does not carry it already. */
export function withLink(body: NotificationBody): string {
  return body.link && !body.text.includes(body.link) ? `${body.text}\n\n${body.link}` : body.text;
}

const newNotificationSchema = z
  .object({
    kind: z.enum(NOTIFICATION_KINDS),
    channel: z.enum(["email", "webhook"]),
    recipient: z.string().trim().min(1).max(320),
    subject: z.string().trim().min(1).max(500),
    body: bodySchema,
    dedupeKey: z.string().min(1).max(500),
  })
  .refine((n) => n.channel !== "email" || z.email().safeParse(n.recipient).success, {
    message: "An email notification needs an email address as recipient",
    path: ["recipient"],
  });
export type NewNotification = z.input<typeof newNotificationSchema>;

/** What a sender gets: one claimed notification. */
export interface OutgoingNotification {
  id: string;
  kind: NotificationKind;
  channel: NotificationChannel;
  recipient: string;
  subject: string;
  body: NotificationBody;
  /** Including this one. */
  attempts: number;
}

/** Sends one notification or throws; a throw is a failed attempt (retried later). */
export type Sender = (notification: OutgoingNotification) => Promise<void>;
/** Only channels with a sender are delivered; the others wait until one is configured. */
export type Senders = Partial<Record<NotificationChannel, Sender>>;

/** Queues a notification; false when one with the same dedupe key exists already (nothing changes then). */
export async function enqueueNotification(db: PrismaClient, notification: NewNotification): Promise<boolean> {
  const data = newNotificationSchema.parse(notification);
  // createMany with skipDuplicates is INSERT … ON CONFLICT DO NOTHING: a concurrent twin is no error.
  // Due from now, by this clock (the column's database default would follow the session's time zone).
  const { count } = await db.notificationOutbox.createMany({
    data: [{ ...data, nextAttemptAt: new Date() }],
    skipDuplicates: true,
  });
  return count === 1;
}

/** Delay before the attempt after `attempts` failed ones: 1 min, 2, 4, … capped at 6 h. */
export function backoffMs(attempts: number): number {
  return Math.min(BASE_BACKOFF_MS * 2 ** Math.max(0, attempts - 1), MAX_BACKOFF_MS);
}

export interface DeliveryOptions {
  now?: Date;
  batchSize?: number;
  maxAttempts?: number;
}

export interface DeliveryReport {
  sent: number;
  /** Failed this time, to be tried again after the backoff. */
  retrying: number;
  /** Failed for the last time. */
  failed: number;
}

/** Leases up to `batchSize` due rows of the given channels; rows another worker holds are skipped, not waited for. */
async function claim(
  db: PrismaClient,
  channels: readonly NotificationChannel[],
  now: Date,
  batchSize: number,
): Promise<string[]> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    UPDATE "NotificationOutbox" AS o
    SET "attempts" = o."attempts" + 1, "nextAttemptAt" = ${new Date(now.getTime() + LEASE_MS).toISOString()}::timestamp(3)
    FROM (
      SELECT "id" FROM "NotificationOutbox"
      WHERE "status" = 'pending' AND "nextAttemptAt" <= ${now.toISOString()}::timestamp(3)
        AND "channel"::text = ANY(${[...channels]}::text[])
      ORDER BY "nextAttemptAt", "id"
      LIMIT ${batchSize}
      FOR UPDATE SKIP LOCKED
    ) AS due
    WHERE o."id" = due."id"
    RETURNING o."id"`;
  return rows.map((row) => row.id);
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 1_000);
}

/** Delivers every due notification (batch by batch) through the configured senders. */
export async function deliverDueNotifications(
  db: PrismaClient,
  senders: Senders,
  options: DeliveryOptions = {},
): Promise<DeliveryReport> {
  const now = options.now ?? new Date();
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  const maxAttempts = options.maxAttempts ?? MAX_ATTEMPTS;
  const channels = (Object.keys(senders) as NotificationChannel[]).filter((channel) => senders[channel]);
  const report: DeliveryReport = { sent: 0, retrying: 0, failed: 0 };
  if (channels.length === 0) return report;
  // Each claimed row's lease is in the future, so a batch is never claimed twice and the loop ends.
  for (;;) {
    const ids = await claim(db, channels, now, batchSize);
    if (ids.length === 0) return report;
    const rows = await db.notificationOutbox.findMany({ where: { id: { in: ids } } });
    await Promise.all(
      rows.map(async (row) => {
        try {
          const notification: OutgoingNotification = {
            id: row.id,
            kind: z.enum(NOTIFICATION_KINDS).parse(row.kind),
            channel: row.channel,
            recipient: row.recipient,
            subject: row.subject,
            body: bodySchema.parse(row.body),
            attempts: row.attempts,
          };
          await senders[row.channel]!(notification);
        } catch (error) {
          const last = row.attempts >= maxAttempts;
          await db.notificationOutbox.update({
            where: { id: row.id },
            data: last
              ? { status: "failed", lastError: errorText(error) }
              : {
                  nextAttemptAt: new Date(now.getTime() + backoffMs(row.attempts)),
                  lastError: errorText(error),
                },
          });
          report[last ? "failed" : "retrying"] += 1;
          return;
        }
        await db.notificationOutbox.update({
          where: { id: row.id },
          data: { status: "sent", sentAt: now, lastError: null },
        });
        report.sent += 1;
      }),
    );
  }
}
